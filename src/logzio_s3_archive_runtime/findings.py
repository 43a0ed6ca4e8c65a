"""Bucket findings: what breaks Logz.io's archive or restore beyond the four grants.

One function per finding, each pure over what S3 answered, so the Lambda and the command
judge a bucket the same way. Settings are read through a SettingsReader: the credentials
that may read them (the Lambda's own role; the operator's), tried in order. A setting no
candidate may read gives NotChecked, never a pass. Sources: docs/facts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .aws import S3Access
from .checks import PROBE_PREFIX
from .diagnosis import Finding, NotChecked, Severity

T = TypeVar("T")

OBJECT_OWNERSHIP = "object-ownership-enforced"
LIFECYCLE = "lifecycle-unrestorable"
INTELLIGENT_TIERING = "intelligent-tiering-archive"
REQUESTER_PAYS = "requester-pays"
OBJECT_LOCK_RETENTION = "object-lock-retention"
REGION_MISMATCH = "bucket-region-mismatch"
OVER_PRIVILEGED = "over-privileged"

#: Storage classes Logz.io cannot restore from (objects must be restored by hand first).
UNRESTORABLE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
#: Intelligent-Tiering tiers whose objects must be restored before they can be read.
ARCHIVE_TIERS = frozenset({"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"})
#: The scheduled re-check's default (the construct's DEFAULT_WATCH_SCHEDULE): the runtime is
#: not told the schedule, so what a lock leaves behind is counted at this rate.
DEFAULT_RECHECK = "rate(6 hours)"
DEFAULT_RECHECKS_PER_DAY = 4


@dataclass(frozen=True)
class Note:
    """Something worth knowing about the bucket that breaks nothing; rendered with the
    Diagnosis's notes, as "<id>: <text>"."""

    id: str
    text: str

    def __str__(self) -> str:
        return f"{self.id}: {self.text}"


#: The account of the principal Logz.io uses, when it can be had (STS GetCallerIdentity).
AccountLookup = Callable[[], str]


class Unreadable(Exception):
    """No candidate could read a setting; the message says why, for each."""


@dataclass(frozen=True)
class SettingsReader:
    """Reads bucket settings with the first candidate allowed to."""

    candidates: Sequence[tuple[str, S3Access]]

    def read(self, fn: Callable[[S3Access], T]) -> T:
        tried = []
        for label, access in self.candidates:
            try:
                return fn(access)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code") or "Error"
                tried.append(f"{code} as {label}")
            except BotoCoreError as error:
                tried.append(f"{type(error).__name__} as {label}")
        raise Unreadable("; ".join(tried) or "no credentials to read it with")


def _not_checked(finding_id: str, setting: str, permission: str, why: Unreadable, bucket: str,
                 command: str) -> NotChecked:
    return NotChecked(finding_id, f"could not read the {setting} of bucket {bucket} ({why})",
                      f"allow {permission} to the credentials that read the settings (deploy: the probe "
                      "function's role; command: --cleanup-profile, or your own with --stack), or look "
                      f"by hand: aws s3api {command} --bucket {bucket}")


def object_ownership(reader: SettingsReader, bucket: str) -> Finding | NotChecked | None:
    """Logz.io's archive requires ACLs enabled; BucketOwnerEnforced disables them."""
    try:
        ownership = reader.read(lambda s3: s3.object_ownership())
    except Unreadable as why:
        return _not_checked(OBJECT_OWNERSHIP, "object ownership setting", "s3:GetBucketOwnershipControls",
                            why, bucket, "get-bucket-ownership-controls")
    if ownership != "BucketOwnerEnforced":
        return None
    return Finding(OBJECT_OWNERSHIP, Severity.ERROR,
                   f"bucket {bucket} has object ownership BucketOwnerEnforced (ACLs disabled), but "
                   "Logz.io's archive requires ACLs enabled",
                   f"set it to BucketOwnerPreferred: aws s3api put-bucket-ownership-controls --bucket "
                   f"{bucket} --ownership-controls 'Rules=[{{ObjectOwnership=BucketOwnerPreferred}}]'")


def _scope(filter_: dict | None, legacy_prefix: str | None) -> str | None:
    """The part of the bucket a rule or configuration applies to; None for the whole bucket.
    Size conditions do not narrow it (archives come in every size); prefixes and tags do."""
    filter_ = filter_ or {}
    conditions = filter_.get("And", filter_)
    prefix = conditions.get("Prefix", legacy_prefix) or ""
    tags = conditions.get("Tags") or ([conditions["Tag"]] if conditions.get("Tag") else [])
    scope = []
    if prefix:
        scope.append(f"prefix {prefix!r}")
    if tags:
        scope.append("tags " + ", ".join(f"{t.get('Key')}={t.get('Value')}" for t in tags))
    return " and ".join(scope) or None


def lifecycle(reader: SettingsReader, bucket: str) -> list[Finding] | NotChecked:
    """A rule moving current objects to GLACIER or DEEP_ARCHIVE: Logz.io cannot restore them."""
    try:
        rules = reader.read(lambda s3: s3.lifecycle_rules())
    except Unreadable as why:
        return _not_checked(LIFECYCLE, "lifecycle configuration", "s3:GetLifecycleConfiguration", why,
                            bucket, "get-bucket-lifecycle-configuration")
    found = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        classes = sorted({t.get("StorageClass") for t in rule.get("Transitions", [])} & UNRESTORABLE_CLASSES)
        if not classes:
            continue
        name = rule.get("ID") or "(no id)"
        scope = _scope(rule.get("Filter"), rule.get("Prefix"))
        where = f"objects under {scope}" if scope else "every object in the bucket"
        fix = (f"change rule {name!r} to a class Logz.io can read (STANDARD_IA, ONEZONE_IA, "
               "INTELLIGENT_TIERING, GLACIER_IR) or remove it: aws s3api "
               f"put-bucket-lifecycle-configuration --bucket {bucket} ...")
        found.append(Finding(LIFECYCLE, Severity.WARNING if scope else Severity.ERROR,
                             f"lifecycle rule {name!r} moves {where} to {' and '.join(classes)}, "
                             "from which Logz.io cannot restore", fix))
    return found


def intelligent_tiering(reader: SettingsReader, bucket: str) -> list[Finding] | NotChecked:
    """An Intelligent-Tiering configuration with an archive tier: archived objects must be
    restored by hand before Logz.io can read them."""
    try:
        configurations = reader.read(lambda s3: s3.intelligent_tiering_configurations())
    except Unreadable as why:
        return _not_checked(INTELLIGENT_TIERING, "Intelligent-Tiering configurations",
                            "s3:GetIntelligentTieringConfiguration", why, bucket,
                            "list-bucket-intelligent-tiering-configurations")
    found = []
    for configuration in configurations:
        if configuration.get("Status") != "Enabled":
            continue
        tiers = sorted({t.get("AccessTier") for t in configuration.get("Tierings", [])} & ARCHIVE_TIERS)
        if not tiers:
            continue
        name = configuration.get("Id") or "(no id)"
        scope = _scope(configuration.get("Filter"), None)
        where = f"objects under {scope}" if scope else "the bucket's objects"
        found.append(Finding(
            INTELLIGENT_TIERING, Severity.WARNING if scope else Severity.ERROR,
            f"Intelligent-Tiering configuration {name!r} moves {where} to {' and '.join(tiers)}, "
            "from which Logz.io cannot restore",
            f"remove the archive tiers: aws s3api delete-bucket-intelligent-tiering-configuration "
            f"--bucket {bucket} --id {name}"))
    return found


def requester_pays(reader: SettingsReader, bucket: str,
                   principal_account: AccountLookup | None = None) -> Finding | NotChecked | Note | None:
    """Requester Pays makes every request without x-amz-request-payer fail with AccessDenied,
    except the bucket owner's: principals of the owner's account need no header (docs/facts.md).
    So it breaks Logz.io only for a principal of another account. Whether the principal's
    account (`principal_account`, looked up only for a Requester Pays bucket) owns the bucket
    is asked with ExpectedBucketOwner, by the same credentials that read the setting. When the
    account cannot be had, the principal is taken to be the owner's (this project creates it
    in the bucket's account), and the note says so."""
    looked_up: list[tuple[str | None, str]] = []

    def account() -> tuple[str | None, str]:
        if not looked_up:
            looked_up.append(_account_of(principal_account))
        return looked_up[0]

    def read(s3: S3Access) -> tuple[str, str | None, bool | None]:
        payer = s3.request_payer()
        if payer != "Requester":
            return payer, None, None
        found, _ = account()
        return payer, found, (s3.owned_by(found) if found else None)

    try:
        payer, found, owned = reader.read(read)
    except Unreadable as why:
        return _not_checked(REQUESTER_PAYS, "request payment setting", "s3:GetBucketRequestPayment", why,
                            bucket, "get-bucket-request-payment")
    if payer != "Requester":
        return None
    make_owner_pay = (f"aws s3api put-bucket-request-payment --bucket {bucket} "
                      "--request-payment-configuration Payer=BucketOwner")
    if owned is False:
        return Finding(REQUESTER_PAYS, Severity.ERROR,
                       f"bucket {bucket} is Requester Pays and belongs to another account than the principal "
                       f"Logz.io uses ({found}): S3 denies that principal's requests unless they agree to pay "
                       "(x-amz-request-payer), and Logz.io's do not",
                       f"make the bucket owner pay: {make_owner_pay}; or give Logz.io a user or role of the "
                       "bucket owner's account")
    if owned:
        return Note(REQUESTER_PAYS, f"bucket {bucket} is Requester Pays, but the principal Logz.io uses belongs "
                    f"to the bucket owner's account ({found}), whose requests need no x-amz-request-payer "
                    "header: archive and restore work, billed to the owner as on any other bucket; nothing "
                    "to change")
    return Note(REQUESTER_PAYS, f"bucket {bucket} is Requester Pays; the principal's account could not be "
                f"read ({account()[1]}), so it is taken to be the bucket owner's, whose requests need no "
                "x-amz-request-payer header (this project creates the principal in the bucket's account). "
                f"If the principal is of another account, archive and restore fail: then {make_owner_pay}")


def _account_of(lookup: AccountLookup | None) -> tuple[str | None, str]:
    """(the principal's account, or None and why not)."""
    if lookup is None:
        return None, "no way to look it up was given"
    try:
        return lookup(), ""
    except ClientError as error:
        return None, f"STS GetCallerIdentity answered {error.response.get('Error', {}).get('Code') or 'Error'}"
    except BotoCoreError as error:
        return None, f"STS GetCallerIdentity failed: {type(error).__name__}"


def object_lock_retention(reader: SettingsReader, bucket: str) -> Finding | NotChecked | None:
    """An Object Lock default retention: each probe object's version is locked as it is
    written, so no delete removes it before the retention ends, and every check, the scheduled
    re-check included, leaves one behind."""
    try:
        retention = reader.read(lambda s3: s3.object_lock_retention())
    except Unreadable as why:
        return _not_checked(OBJECT_LOCK_RETENTION, "Object Lock configuration",
                            "s3:GetBucketObjectLockConfiguration", why, bucket, "get-object-lock-configuration")
    if not retention:
        return None
    days, years = int(retention.get("Days") or 0), int(retention.get("Years") or 0)
    period = f"{years} year{'s' * (years != 1)}" if years else f"{days} day{'s' * (days != 1)}"
    expire_after = years * 366 if years else days  # a year of the retention is at most 366 days
    mode = retention.get("Mode") or "a mode S3 did not name"
    return Finding(
        OBJECT_LOCK_RETENTION, Severity.WARNING,
        f"bucket {bucket} has an Object Lock default retention ({mode}, {period}): no probe object can "
        f"be removed before its retention ends, so every check leaves one behind under {PROBE_PREFIX}, "
        f"one per check: {DEFAULT_RECHECKS_PER_DAY} per day at the scheduled re-check's default "
        f"{DEFAULT_RECHECK}",
        f"Object Lock cannot exempt a prefix: re-check less often or not at all (watchSchedule in cdk.json, "
        f"e.g. rate(1 day), or off), and let S3 remove the probe objects once their retention ends with a "
        f"lifecycle rule on prefix {PROBE_PREFIX} that expires current versions after {expire_after + 1} "
        f"days and noncurrent versions after 1 day (aws s3api put-bucket-lifecycle-configuration --bucket "
        f"{bucket} ..., keeping the bucket's other rules)")


def region_mismatch(bucket: str, found_region: str | None,
                    expected_region: str | None) -> Finding | NotChecked | None:
    if not found_region and expected_region:
        return NotChecked(REGION_MISMATCH, f"the bucket's region is unknown: GetBucketLocation on {bucket} "
                          "failed (see s3:GetBucketLocation above)",
                          "fix s3:GetBucketLocation, then check again")
    if not found_region or not expected_region or found_region == expected_region:
        return None
    return Finding(REGION_MISMATCH, Severity.WARNING,
                   f"bucket {bucket} is in {found_region}, not {expected_region}",
                   f"give Logz.io the region {found_region} on its archive page")


#: Why the principal's own delete could not be tried.
NO_PROBE_OBJECT = "no probe object was written to try it on"


@dataclass(frozen=True)
class ExtraGrants:
    """What the principal could do that Logz.io never needs, from safe real calls."""

    #: Each permission the principal turned out to hold, e.g. "s3:DeleteObject".
    held: tuple[str, ...]
    #: Calls that gave no answer either way: (permission, why).
    unknown: tuple[tuple[str, str], ...] = ()


def over_privileged(extra: ExtraGrants, bucket: str) -> list[Finding | NotChecked]:
    """The extra grants found (a warning) and, separately, the calls that gave no answer
    either way (not checked): one does not hide the other."""
    found: list[Finding | NotChecked] = []
    if extra.held:
        found.append(Finding(OVER_PRIVILEGED, Severity.WARNING,
                       f"the principal Logz.io uses may also {', '.join(extra.held)} (on bucket {bucket} "
                       "or the account), which Logz.io never needs",
                       "remove those actions from the principal's policies: Logz.io needs only "
                       "s3:PutObject, s3:ListBucket, s3:GetObject and s3:GetBucketLocation"))
    if extra.unknown:
        unwritten = any(why == NO_PROBE_OBJECT for _, why in extra.unknown)
        found.append(NotChecked(OVER_PRIVILEGED, "could not tell whether the principal may " + "; ".join(
            f"{permission} ({why})" for permission, why in extra.unknown),
            "grant s3:PutObject first (the delete test needs the probe's own object), then check again"
            if unwritten else "check again later (these calls were throttled or failed in transit)"))
    return found


def bucket_findings(reader: SettingsReader, bucket: str,
                    run: Callable[..., list] = lambda *tasks: [task() for task in tasks],
                    principal_account: AccountLookup | None = None
                    ) -> tuple[list[Finding], list[NotChecked], list[Note]]:
    """Every finding read from the bucket's settings, in a fixed order, and the notes. `run`
    runs the five reads (the probe passes one that runs them at once)."""
    findings: list[Finding] = []
    not_checked: list[NotChecked] = []
    notes: list[Note] = []
    for result in run(lambda: object_ownership(reader, bucket), lambda: lifecycle(reader, bucket),
                      lambda: intelligent_tiering(reader, bucket),
                      lambda: requester_pays(reader, bucket, principal_account),
                      lambda: object_lock_retention(reader, bucket)):
        _collect(result, findings, not_checked, notes)
    return findings, not_checked, notes


def _collect(result: Any, findings: list[Finding], not_checked: list[NotChecked], notes: list[Note]) -> None:
    if isinstance(result, Note):
        notes.append(result)
    elif isinstance(result, NotChecked):
        not_checked.append(result)
    elif isinstance(result, Finding):
        findings.append(result)
    elif result:
        findings.extend(result)
