"""One archive's settings: validated once, frozen, passed down whole to every construct.

Every bad value raises SettingsError here, before any AWS call, with a message that names
the setting and the fix. The same validation serves both edges: the props of
`LogzioArchive` (Python names, e.g. `transition_days`) and the app's cdk.json context
(camelCase, e.g. `transitionDays`, as strings from `-c key=value` or JSON values); a
`Naming` says which spelling a message uses.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping


class SettingsError(ValueError):
    """A setting or prop is invalid; the message names it and says how to fix it."""


class Verify(str, Enum):
    #: Re-run the probe whenever the policy, the principal or the bucket changes.
    ON_CHANGE = "on-change"
    #: Re-run it on every deploy.
    ALWAYS = "always"


class Encryption(str, Enum):
    S3 = "s3"
    KMS = "kms"


class Principal(str, Enum):
    #: An IAM user with an access key, kept in Secrets Manager (Logz.io's "KEYS").
    USER = "user"
    #: An IAM role that Logz.io's account assumes with an external id (Logz.io's "IAM").
    ROLE = "role"


#: Storage classes restore can read (CloudFormation's spelling), and the refused ones with why.
RESTORABLE_STORAGE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR")
UNRESTORABLE_STORAGE_CLASSES = {
    "GLACIER": "Glacier Flexible Retrieval",
    "DEEP_ARCHIVE": "Glacier Deep Archive",
}

#: The settings of one archive, by their cdk.json names (the props are their snake_case).
ARCHIVE_KEYS = ("bucketName", "existingBucket", "encryption", "kmsKeyArn",
                "principal", "logzioAccountId", "externalId", "keySerial", "verify", "keyDeadlineSeconds",
                "settleSeconds", "transitionDays", "storageClass", "expireDays", "allowBucketChange", "strict",
                "watchSchedule", "maxArchiveAgeHours", "alarmEmail", "logzioApiTokenSecret", "logzioRegion",
                "logzioApiUrl", "logzioOnDelete")
LIFECYCLE_KEYS = ("transitionDays", "storageClass", "expireDays")


class OnDelete(str, Enum):
    #: Stack delete turns the Logz.io archive setting off (its principal is being deleted).
    DISABLE = "disable"
    #: Stack delete leaves the Logz.io archive setting as it is.
    KEEP = "keep"


#: Logz.io's API hosts by account region (Logz.io's "Regions and URLs" page): us is
#: api.logz.io, every other one api-<region>.logz.io. Another region: give logzioApiUrl.
LOGZIO_REGIONS = ("us", "au", "ca", "eu", "uk", "nl", "wa")


def logzio_region_url(region: str) -> str:
    return "https://api.logz.io" if region == "us" else f"https://api-{region}.logz.io"


@dataclass(frozen=True)
class LogzioHandoff:
    """The hand-off to Logz.io's API: register the archive, run Logz.io's test."""

    #: Name or ARN of the Secrets Manager secret whose value is the API token (never the token).
    token_secret: str
    #: The API's base URL, e.g. https://api-eu.logz.io (no trailing slash).
    api_url: str
    on_delete: OnDelete = OnDelete.DISABLE

    @property
    def token_secret_is_arn(self) -> bool:
        return self.token_secret.startswith("arn:")


@dataclass(frozen=True)
class Lifecycle:
    transition_days: int | None = None
    storage_class: str | None = None
    expire_days: int | None = None


@dataclass(frozen=True)
class WatchSchedule:
    """When the scheduled re-check runs, and the health alarm's period that follows from it."""

    #: An EventBridge Scheduler expression, as the schedule gets it: rate(...) or cron(...).
    expression: str
    #: The alarm's period: the rate's interval, or one day for a cron expression (which must
    #: run every day). Never more than a day: a re-check that stops is noticed within a day.
    period_seconds: int


#: The default: four re-checks a day.
DEFAULT_WATCH_SCHEDULE = WatchSchedule("rate(6 hours)", 6 * 3600)
#: The longest interval between re-checks: the health alarm's period is the interval, at most a
#: day, and it counts a period without a re-check as breaching.
MAX_WATCH_PERIOD_SECONDS = 86400
MAX_ARCHIVE_AGE_HOURS = 8760


@dataclass(frozen=True)
class ArchiveSettings:
    """What one archive is made of, apart from the bucket and key objects themselves (those
    are the construct's `bucket=` and `kms_key=`, or the app's existingBucket/kmsKeyArn)."""

    #: The name of the bucket the construct creates; None: CloudFormation generates one.
    bucket_name: str | None = None
    #: kms: SSE-KMS with the given key, or a new one when no key is given.
    encryption: Encryption = Encryption.S3
    principal: Principal = Principal.USER
    logzio_account_id: str | None = None
    external_id: str | None = None
    #: Raise it to replace the user's access key (rotation); None: the first key.
    key_serial: int | None = None
    verify: Verify = Verify.ON_CHANGE
    key_deadline_seconds: int = 90
    settle_seconds: int = 30
    lifecycle: Lifecycle | None = None
    #: True lets a deploy move the archive to another bucket; otherwise the probe fails any
    #: update that changes the bucket (Logz.io would go on archiving to the old one).
    allow_bucket_change: bool = False
    #: True makes warnings (an over-privileged principal, a Glacier rule under a prefix, the
    #: bucket in another region) fail the deploy like errors.
    strict: bool = False
    #: The scheduled re-check and its alarms; None (watchSchedule=off) creates none of them.
    watch_schedule: WatchSchedule | None = DEFAULT_WATCH_SCHEDULE
    #: Set: an alarm fires when the newest archive object is older than this many hours.
    max_archive_age_hours: int | None = None
    #: Set: the alarm topic mails this address (SNS asks it to confirm first).
    alarm_email: str | None = None
    #: Set (logzioApiTokenSecret): the stack registers the archive with Logz.io's API.
    logzio: LogzioHandoff | None = None

    @property
    def probe_timeout_seconds(self) -> int:
        """The Lambda's timeout: the longer IAM deadline, plus the handler's margin for the calls
        that may follow it and for answering CloudFormation (handler.ANSWER_MARGIN, 42 s)."""
        return max(self.key_deadline_seconds, self.settle_seconds) + 90


def _given(value: Any) -> bool:
    return value not in (None, "")


class Naming:
    """How a message spells a setting: the app's cdk.json names (this class) or the
    construct's props (PropNaming). `naming(key)` says where a value came from, `key(key)` is
    the bare name, `give(key, example)` how to set it."""

    def __call__(self, key: str) -> str:
        return key

    def key(self, key: str) -> str:
        return key

    def give(self, key: str, example: str) -> str:
        return f"-c {key}={example}"


def prop_name(key: str) -> str:
    """A setting's prop: existingBucket is `bucket` (an s3.IBucket), kmsKeyArn is `kms_key`
    (a kms.IKey), every other one its snake_case."""
    special = {"existingBucket": "bucket", "kmsKeyArn": "kms_key"}
    return special.get(key) or re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


class PropNaming(Naming):
    """The props of LogzioArchive."""

    def __call__(self, key: str) -> str:
        return prop_name(key)

    def key(self, key: str) -> str:
        return prop_name(key)

    def give(self, key: str, example: str) -> str:
        plain = re.fullmatch(r"\d+|N|true|false", example)
        value = {"true": "True", "false": "False"}.get(example, example)
        return f"{prop_name(key)}={value if plain else repr(example)}"


CONTEXT = Naming()
PROPS = PropNaming()


def parse_archive(values: Mapping[str, Any], name: Naming = CONTEXT) -> ArchiveSettings:
    """One archive's settings from `values` (cdk.json names as keys, missing ones unset).

    `existingBucket` and `kmsKeyArn` only say whether a bucket or a key is given: a name or
    an ARN from the app (checked here), a bucket or key object from the construct."""
    values = {key: values.get(key) for key in ARCHIVE_KEYS}
    existing = values["existingBucket"]
    if isinstance(existing, str):
        existing = _existing_bucket_name(existing, name("existingBucket"))
    existing = _given(existing)
    bucket_name = _bucket_name(values["bucketName"], name, "bucketName")
    if existing and bucket_name:
        raise SettingsError(f"{name('bucketName')} and {name('existingBucket')} are both set: "
                            f"{name.key('bucketName')} names a bucket the stack creates, "
                            f"{name.key('existingBucket')} one it only uses. Keep one of them.")
    lifecycle = _lifecycle(values, name)
    if existing and lifecycle:
        raise SettingsError(f"{name('transitionDays')}/{name.key('storageClass')}/{name.key('expireDays')} "
                            f"cannot be used with {name('existingBucket')}: the stack changes nothing in an "
                            "existing bucket. Set lifecycle rules on that bucket yourself (restore cannot "
                            "read GLACIER or DEEP_ARCHIVE), or let the stack create the bucket.")
    encryption = _choice(name("encryption"), values["encryption"], Encryption, Encryption.S3)
    key = values["kmsKeyArn"]
    if isinstance(key, str):
        key = _kms_key_arn(key, name("kmsKeyArn"))
    key = _given(key)
    if key and encryption is not Encryption.KMS:
        raise SettingsError(f"{name('kmsKeyArn')} is set but {name('encryption')} is not kms: add "
                            f"{name.give('encryption', 'kms')}, or leave {name.key('kmsKeyArn')} out.")
    if existing and encryption is Encryption.KMS and not key:
        raise SettingsError(f"{name('encryption')}=kms with {name('existingBucket')} needs "
                            f"{name('kmsKeyArn')}: give the key your bucket encrypts with "
                            "(a new key would not be used by an existing bucket).")
    principal = _choice(name("principal"), values["principal"], Principal, Principal.USER)
    account, external_id = values["logzioAccountId"], values["externalId"]
    if principal is Principal.ROLE:
        account = _logzio_account(account, name("logzioAccountId"))
        external_id = _external_id(external_id, name, "externalId")
    elif _given(account) or _given(external_id):
        raise SettingsError(f"{name('logzioAccountId')}/{name.key('externalId')} are for principal=role: add "
                            f"{name.give('principal', 'role')}, or leave them out.")
    key_serial = _integer(name("keySerial"), values["keySerial"], None, 1, 1_000_000)
    if key_serial is not None and principal is Principal.ROLE:
        raise SettingsError(f"{name('keySerial')} rotates the access key of principal=user; a role "
                            f"has no key. Leave {name.key('keySerial')} out.")
    watch_schedule = _watch_schedule(values["watchSchedule"], name("watchSchedule"))
    max_age = _integer(name("maxArchiveAgeHours"), values["maxArchiveAgeHours"], None, 1, MAX_ARCHIVE_AGE_HOURS)
    alarm_email = _email(values["alarmEmail"], name("alarmEmail"), name.key("alarmEmail"))
    if watch_schedule is None:
        for setting, value in (("maxArchiveAgeHours", max_age), ("alarmEmail", alarm_email)):
            if value is not None:
                raise SettingsError(f"{name(setting)} is set but {name('watchSchedule')} is off: without the "
                                    "scheduled re-check there is no alarm to use it. Leave "
                                    f"{name.key(setting)} out, or give {name.key('watchSchedule')} a schedule "
                                    "such as rate(6 hours).")
    logzio = _logzio_handoff(values, name)
    return ArchiveSettings(
        bucket_name=bucket_name,
        encryption=encryption,
        principal=principal,
        logzio_account_id=account if principal is Principal.ROLE else None,
        external_id=external_id if principal is Principal.ROLE else None,
        key_serial=key_serial,
        verify=_choice(name("verify"), values["verify"], Verify, Verify.ON_CHANGE),
        key_deadline_seconds=_integer(name("keyDeadlineSeconds"), values["keyDeadlineSeconds"], 90, 1, 600),
        settle_seconds=_integer(name("settleSeconds"), values["settleSeconds"], 30, 0, 300),
        lifecycle=lifecycle,
        allow_bucket_change=_boolean(name("allowBucketChange"), values["allowBucketChange"], False),
        strict=_boolean(name("strict"), values["strict"], False),
        watch_schedule=watch_schedule,
        max_archive_age_hours=max_age,
        alarm_email=alarm_email,
        logzio=logzio,
    )


_BUCKET_RULES = (
    (lambda n: 3 <= len(n) <= 63, "must be 3 to 63 characters long"),
    (lambda n: re.fullmatch(r"[a-z0-9.-]+", n) is not None,
     "may contain only lowercase letters, digits, dots and hyphens"),
    (lambda n: n[0].isalnum() and n[-1].isalnum(), "must begin and end with a letter or digit"),
    (lambda n: ".." not in n, "must not contain two adjacent dots"),
    (lambda n: not _is_ip(n), "must not look like an IP address"),
    (lambda n: not n.startswith(("xn--", "sthree-", "amzn-s3-demo-")),
     "must not start with xn--, sthree- or amzn-s3-demo-"),
    (lambda n: not n.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")),
     "must not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3"),
)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        return False


def _bucket_name(value: Any, naming: Naming, key: str) -> str | None:
    if not _given(value):
        return None
    name = str(value)
    for rule, requirement in _BUCKET_RULES:
        if not rule(name):
            raise SettingsError(f"{naming(key)} '{name}' is not a valid S3 bucket name: it {requirement}. "
                                f"Pass another name with {naming.give(key, '...')}, or leave it out to "
                                "get a generated one.")
    return name


def _existing_bucket_name(value: Any, setting: str) -> str | None:
    """An existing bucket may predate today's naming rules (legacy us-east-1 names have
    capitals and underscores): only what S3 ever allowed is required."""
    if not _given(value):
        return None
    if not re.fullmatch(r"[A-Za-z0-9._-]{3,255}", str(value)):
        raise SettingsError(f"{setting} '{value}' is not an S3 bucket name: give the bucket's name as "
                            "S3 shows it (letters, digits, dots, hyphens, underscores).")
    return str(value)


def _kms_key_arn(value: Any, setting: str) -> str | None:
    if not _given(value):
        return None
    if not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+", str(value)):
        raise SettingsError(f"{setting} '{value}' is not a KMS key ARN: give the key's full ARN, "
                            "arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (not an alias).")
    return str(value)


def _logzio_account(value: Any, setting: str) -> str:
    if not _given(value):
        raise SettingsError(f"principal=role needs {setting}: the AWS account id that Logz.io's "
                            "archive page shows for IAM roles (12 digits).")
    if not re.fullmatch(r"\d{12}", str(value)):
        raise SettingsError(f"{setting} '{value}' is not a 12-digit AWS account id: copy it from "
                            "Logz.io's archive page.")
    return str(value)


def _external_id(value: Any, naming: Naming, key: str) -> str:
    setting = naming(key)
    if not _given(value):
        raise SettingsError(f"principal=role needs {setting}: the external id Logz.io's archive "
                            "page shows (logzio:aws:extid:...).")
    if _placeholder_external_id(str(value)):
        # The README's example and the message above show "logzio:aws:extid:..."; a role that
        # trusts it would deploy, and Logz.io could never assume it.
        raise SettingsError(f"{setting} {str(value)!r} is a placeholder, not an external id: copy "
                            "the external id from Logz.io's archive page (Settings > Archive & "
                            f"restore, IAM role) and pass it with {naming.give(key, '...')}"
                            + (" or in cdk.json." if naming is CONTEXT else "."))
    # sts:ExternalId: 2-1224 characters of [\w+=,.@:/-].
    if not re.fullmatch(r"[\w+=,.@:/-]{2,1224}", str(value), flags=re.ASCII):
        raise SettingsError(f"{setting} '{value}' is not a valid external id: 2 to 1224 letters, "
                            "digits or +=,.@:/-_; copy it from Logz.io's archive page.")
    return str(value)


#: The prefix of the external ids Logz.io's archive page shows.
EXTERNAL_ID_PREFIX = "logzio:aws:extid:"


def _placeholder_external_id(value: str) -> bool:
    """An example copied instead of the real value: an ellipsis ("logzio:aws:extid:..."),
    angle brackets ("<external-id>"), or the prefix with nothing after it."""
    return ("..." in value or "\u2026" in value or "<" in value or ">" in value
            or value == EXTERNAL_ID_PREFIX)


def _choice(setting: str, value: Any, kind: type[Enum], default: Enum):
    if not _given(value):
        return default
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SettingsError(f"{setting} '{value}' is not one of: {allowed}.") from None


def _boolean(setting: str, value: Any, default: bool) -> bool:
    """true/false from cdk.json (JSON booleans) or from -c (strings, any case)."""
    if not _given(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SettingsError(f"{setting} '{value}' is not one of: true, false (leave it out for false).")


def _integer(setting: str, value: Any, default: int | None, low: int, high: int) -> int | None:
    if not _given(value):
        return default
    if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
        raise SettingsError(f"{setting} '{value}' is not a whole number: give a number from {low} to {high}.")
    number = int(str(value).strip())
    if not low <= number <= high:
        raise SettingsError(f"{setting} {number} is out of range: give a number from {low} to {high}.")
    return number


def _lifecycle(values: Mapping[str, Any], name: Naming) -> Lifecycle | None:
    days, storage_class, expire = (values[k] for k in LIFECYCLE_KEYS)
    if not any(_given(v) for v in (days, storage_class, expire)):
        return None
    class_name = None
    if _given(storage_class):
        class_name = str(storage_class).strip().upper()
        if class_name in UNRESTORABLE_STORAGE_CLASSES:
            raise SettingsError(
                f"{name('storageClass')} {class_name} ({UNRESTORABLE_STORAGE_CLASSES[class_name]}) would break "
                "restore: Logz.io cannot restore archives from it. Use one of "
                f"{', '.join(RESTORABLE_STORAGE_CLASSES)}, or leave {name.key('storageClass')} out.")
        if class_name not in RESTORABLE_STORAGE_CLASSES:
            raise SettingsError(f"{name('storageClass')} '{storage_class}' is not a storage class restore "
                                f"can read: use one of {', '.join(RESTORABLE_STORAGE_CLASSES)} "
                                "(CloudFormation's spelling).")
        if not _given(days):
            raise SettingsError(f"{name('storageClass')} {class_name} is set but {name('transitionDays')} is not: "
                                f"add {name.give('transitionDays', 'N')} (days after upload to move archives).")
    elif _given(days):
        raise SettingsError(f"{name('transitionDays')} is set but {name('storageClass')} is not: add "
                            f"{name.give('storageClass', '...')}, one of {', '.join(RESTORABLE_STORAGE_CLASSES)}.")
    transition = None
    if class_name is not None:
        # S3 refuses transitions to the infrequent-access classes before 30 days.
        minimum = 30 if class_name in ("STANDARD_IA", "ONEZONE_IA") else 0
        transition = _integer(name("transitionDays"), days, None, minimum, 36500)
    expire_days = _integer(name("expireDays"), expire, None, 1, 36500)
    if expire_days is not None and transition is not None and expire_days <= transition:
        raise SettingsError(f"{name('expireDays')} {expire_days} is not after {name('transitionDays')} "
                            f"{transition}: archives would expire before they move. Give a larger "
                            f"{name.key('expireDays')}, or leave the transition out.")
    return Lifecycle(transition_days=transition, storage_class=class_name, expire_days=expire_days)


# --- The scheduled re-check (watchSchedule, maxArchiveAgeHours, alarmEmail)

#: EventBridge Scheduler's rate units, each with the seconds it stands for.
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_SCHEDULE_EXAMPLES = ("rate(N minutes|hours|days) such as rate(6 hours), a six-field cron(...) such as "
                      "cron(0 6 * * ? *) (every day at 06:00 UTC), or off")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    #: "?" (any) is allowed: day-of-month and day-of-week only, one of them must have it.
    any: bool = False
    step: bool = True

    @property
    def values(self) -> str:
        spelled = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{spelled}"


#: EventBridge's cron fields, in order (the Scheduler user guide's "Cron-based schedules").
_CRON_FIELDS = (
    _CronField("minutes", 0, 59),
    _CronField("hours", 0, 23),
    _CronField("day-of-month", 1, 31, any=True),
    _CronField("month", 1, 12, _MONTHS),
    _CronField("day-of-week", 1, 7, _WEEKDAYS, any=True, step=False),
    _CronField("year", 1970, 2199),
)


def _watch_schedule(value: Any, setting: str) -> WatchSchedule | None:
    """rate(...) or cron(...) as EventBridge Scheduler takes them, or None for off."""
    if not _given(value):
        return DEFAULT_WATCH_SCHEDULE
    text = str(value).strip()
    if text.lower() == "off":
        return None
    rate = re.fullmatch(r"rate\(\s*(\S*)\s*(\S*)\s*\)", text)
    if rate:
        return _rate(text, *rate.groups(), setting)
    cron = re.fullmatch(r"cron\((.*)\)", text)
    if cron:
        return _cron(text, cron.group(1).split(), setting)
    if text.startswith("at("):
        raise SettingsError(f"{setting} '{text}' runs once: the re-check needs a recurring schedule. Give "
                            f"{_SCHEDULE_EXAMPLES}.")
    raise SettingsError(f"{setting} '{text}' is not a schedule: give {_SCHEDULE_EXAMPLES}.")


def _rate(text: str, number: str, unit: str, setting: str) -> WatchSchedule:
    if not re.fullmatch(r"\d+", number) or int(number) == 0:
        raise SettingsError(f"{setting} '{text}': the value must be a positive whole number, e.g. "
                            "rate(6 hours).")
    count, singular = int(number), unit.rstrip("s")
    if singular not in _RATE_UNITS:
        raise SettingsError(f"{setting} '{text}': the unit must be minute(s), hour(s) or day(s), not "
                            f"'{unit}', e.g. rate(6 hours).")
    # EventBridge wants the singular with 1 and the plural above it.
    spelled = singular if count == 1 else singular + "s"
    if unit != spelled:
        number_form = "singular" if count == 1 else "plural"
        raise SettingsError(f"{setting} '{text}': with {count} the unit is {number_form}: write "
                            f"rate({count} {spelled}).")
    seconds = count * _RATE_UNITS[singular]
    if seconds > MAX_WATCH_PERIOD_SECONDS:
        raise SettingsError(f"{setting} '{text}' runs less than once a day: the health alarm counts a day "
                            "without a re-check as broken, so it would fire between runs. Use at most "
                            "rate(1 day), a cron(...) that runs every day, or off.")
    return WatchSchedule(f"rate({count} {spelled})", seconds)


def _cron(text: str, fields: list[str], setting: str) -> WatchSchedule:
    if len(fields) != len(_CRON_FIELDS):
        raise SettingsError(
            f"{setting} '{text}' has {len(fields)} fields; EventBridge cron takes six: minutes hours "
            "day-of-month month day-of-week year, one of the two days being ?, e.g. cron(0 6 * * ? *) "
            "for every day at 06:00 UTC.")
    for field, part in zip(_CRON_FIELDS, fields):
        if not _cron_field_ok(field, part):
            wildcards = ", - * /" + (" ?" if field.any else "")
            wildcards += {"day-of-month": " L W", "day-of-week": " L #"}.get(field.name, "")
            if not field.step:
                wildcards = wildcards.replace(" /", "")
            raise SettingsError(f"{setting} '{text}': the {field.name} field '{part}' is not valid; it "
                                f"takes {field.values} and the wildcards {wildcards}.")
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise SettingsError(f"{setting} '{text}': exactly one of day-of-month and day-of-week must be ?, "
                            "e.g. cron(0 6 * * ? *) or cron(0 6 ? * * *).")
    every_day = fields[3] == "*" and fields[5] == "*" and {day_of_month, day_of_week} == {"*", "?"}
    if not every_day:
        raise SettingsError(f"{setting} '{text}' does not run every day: the health alarm counts a day "
                            "without a re-check as broken, so it would fire on the days between runs. "
                            "Use * for day-of-month (or day-of-week), month and year, e.g. "
                            "cron(0 6 * * ? *), or a rate(...).")
    return WatchSchedule(f"cron({' '.join(fields)})", MAX_WATCH_PERIOD_SECONDS)


def _cron_field_ok(field: _CronField, part: str) -> bool:
    if part == "?":
        return field.any
    if field.name == "day-of-week" and "#" in part:
        # The nth weekday of the month (3#2: the second Tuesday): the field's only expression.
        day, _, nth = part.partition("#")
        return _cron_value(field, day) and nth in ("1", "2", "3", "4", "5")
    for item in part.split(","):
        if field.name == "day-of-month" and re.fullmatch(r"L|LW|\d{1,2}W", item):
            if item[:-1].isdigit() and not _cron_value(field, item[:-1]):
                return False
            continue
        if field.name == "day-of-week" and (item == "L" or (item.endswith("L") and _cron_value(field, item[:-1]))):
            continue
        base, slash, step = item.partition("/")
        if slash and not (field.step and re.fullmatch(r"[1-9]\d*", step)):
            return False
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        if not _cron_value(field, first) or (dash and not _cron_value(field, last)):
            return False
    return True


def _cron_value(field: _CronField, value: str) -> bool:
    if value in field.names:
        return True
    return value.isdigit() and field.low <= int(value) <= field.high


_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def _email(value: Any, setting: str, key: str) -> str | None:
    if not _given(value):
        return None
    address = str(value).strip()
    if not _EMAIL.fullmatch(address) or len(address) > 254 or len(address.split("@")[0]) > 64:
        raise SettingsError(f"{setting} '{value}' is not an email address: give one address such as "
                            "ops@example.com (SNS mails it a link to confirm first), or leave "
                            f"{key} out for no mail.")
    return address


# --- The hand-off to Logz.io's API (logzioApiTokenSecret, logzioRegion, logzioApiUrl, logzioOnDelete)

_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}")


def _logzio_handoff(values: Mapping[str, Any], name: Naming) -> LogzioHandoff | None:
    secret, region = values["logzioApiTokenSecret"], values["logzioRegion"]
    url, on_delete = values["logzioApiUrl"], values["logzioOnDelete"]
    if not _given(secret):
        for key, value in (("logzioRegion", region), ("logzioApiUrl", url), ("logzioOnDelete", on_delete)):
            if _given(value):
                raise SettingsError(f"{name(key)} is set but {name('logzioApiTokenSecret')} is not: the "
                                    "hand-off to Logz.io's API needs the token. Give "
                                    f"{name.give('logzioApiTokenSecret', 'NAME-OR-ARN')} (a Secrets Manager "
                                    "secret whose value is your Logz.io API token), or leave "
                                    f"{name.key(key)} out.")
        return None
    secret = str(secret).strip()
    setting = name("logzioApiTokenSecret")
    if secret.startswith("arn:"):
        if not _SECRET_ARN.fullmatch(secret):
            raise SettingsError(f"{setting} '{secret}' is not a Secrets Manager secret ARN: give "
                                "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-abcdef, or the "
                                "secret's name.")
    elif not _SECRET_NAME.fullmatch(secret):
        # A token pasted here instead of a secret's name would end up in the template: the
        # token's shape (a UUID) passes the name rule, so say it either way.
        raise SettingsError(f"{setting} is not a Secrets Manager secret name or ARN: give the name "
                            "(letters, digits, /_+=.@-) or ARN of the secret that holds the Logz.io "
                            "API token, never the token itself.")
    if re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", secret):
        raise SettingsError(f"{setting} looks like an API token, not a secret's name: store the token "
                            "in Secrets Manager (aws secretsmanager create-secret --name logzio-api-token "
                            "--secret-string TOKEN) and give the secret's name or ARN. The token "
                            "itself must never be a setting or prop value.")
    if _given(region) and _given(url):
        raise SettingsError(f"{name('logzioRegion')} and {name('logzioApiUrl')} are both set: give one, "
                            "the region of your Logz.io account (e.g. eu) or the API's full URL.")
    if _given(region):
        code = str(region).strip().lower()
        if code not in LOGZIO_REGIONS:
            raise SettingsError(f"{name('logzioRegion')} '{region}' is not a Logz.io region this stack "
                                f"knows ({', '.join(LOGZIO_REGIONS)}): give the API's full URL with "
                                f"{name.give('logzioApiUrl', 'https://api-REGION.logz.io')} instead (Logz.io's "
                                "\"Regions and URLs\" page lists them).")
        api_url = logzio_region_url(code)
    elif _given(url):
        api_url = _api_url(str(url).strip(), name("logzioApiUrl"))
    else:
        raise SettingsError(f"{setting} is set but neither {name('logzioRegion')} nor "
                            f"{name('logzioApiUrl')} is: give your Logz.io account's region "
                            f"({name.give('logzioRegion', 'eu')}; one of {', '.join(LOGZIO_REGIONS)}) or the API's "
                            f"full URL ({name.give('logzioApiUrl', 'https://...')}). A token works in its own "
                            "region only.")
    return LogzioHandoff(token_secret=secret, api_url=api_url,
                         on_delete=_choice(name("logzioOnDelete"), on_delete, OnDelete, OnDelete.DISABLE))


def _api_url(url: str, setting: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = None
    local = parts is not None and parts.hostname in ("localhost", "127.0.0.1", "::1")
    if (parts is None or not parts.hostname or parts.query or parts.fragment or parts.username
            or not (parts.scheme == "https" or (parts.scheme == "http" and local))):
        raise SettingsError(f"{setting} '{url}' is not an API URL: give https://HOST such as "
                            "https://api-nl.logz.io (http only for localhost, e.g. the emulator), "
                            "without query or credentials.")
    return url.rstrip("/")
