"""The app's settings: read once from CDK context, validated, frozen, passed down whole.

Every bad value stops synth here, before any AWS call, with a message that names the
setting and the fix. Context values come as strings from `-c key=value` and as JSON
values from cdk.json; both are accepted.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Mapping


class SettingsError(ValueError):
    """A context setting is invalid; the message names it and says how to fix it."""


class Verify(str, Enum):
    #: Re-run the probe whenever the policy, the key or the bucket changes.
    ON_CHANGE = "on-change"
    #: Re-run it on every deploy.
    ALWAYS = "always"


#: Storage classes restore can read (CloudFormation's spelling), and the refused ones with why.
RESTORABLE_STORAGE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR")
UNRESTORABLE_STORAGE_CLASSES = {
    "GLACIER": "Glacier Flexible Retrieval",
    "DEEP_ARCHIVE": "Glacier Deep Archive",
}

#: Settings this app reads; any other plain key is a typo and is refused.
KNOWN_KEYS = ("stackName", "bucketName", "verify", "keyDeadlineSeconds", "settleSeconds",
              "transitionDays", "storageClass")


@dataclass(frozen=True)
class Lifecycle:
    transition_days: int
    storage_class: str


@dataclass(frozen=True)
class ArchiveSettings:
    stack_name: str = "LogzioArchive"
    #: None: CloudFormation generates a unique name.
    bucket_name: str | None = None
    verify: Verify = Verify.ON_CHANGE
    key_deadline_seconds: int = 90
    settle_seconds: int = 30
    lifecycle: Lifecycle | None = None

    @property
    def probe_timeout_seconds(self) -> int:
        """The Lambda's timeout: both IAM deadlines run from the probe's start, plus a margin
        for the S3 calls themselves and for answering CloudFormation."""
        return min(max(self.key_deadline_seconds, self.settle_seconds) + 60, 900)

    @classmethod
    def from_context(cls, get: Callable[[str], Any], context_keys: Mapping[str, Any] | None = None
                     ) -> "ArchiveSettings":
        """`get` is `node.try_get_context`; `context_keys` every key given, to catch typos."""
        if context_keys is not None:
            _refuse_unknown(context_keys)
        settings = cls(
            stack_name=_stack_name(get("stackName")),
            bucket_name=_bucket_name(get("bucketName")),
            verify=_choice("verify", get("verify"), Verify, Verify.ON_CHANGE),
            key_deadline_seconds=_integer("keyDeadlineSeconds", get("keyDeadlineSeconds"), 90, 1, 600),
            settle_seconds=_integer("settleSeconds", get("settleSeconds"), 30, 0, 300),
            lifecycle=_lifecycle(get("transitionDays"), get("storageClass")),
        )
        return settings


def _refuse_unknown(keys: Mapping[str, Any]) -> None:
    for key in keys:
        # Feature flags and the CLI's own keys are namespaced ("@aws-cdk/...", "aws:cdk:...").
        if any(mark in key for mark in ":/@") or key in KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        suggestion = f" Did you mean '{close[0]}'?" if close else ""
        raise SettingsError(f"Unknown setting '{key}'.{suggestion} Known settings: "
                            f"{', '.join(KNOWN_KEYS)} (see the README's settings table).")


def _stack_name(value: Any) -> str:
    if value in (None, ""):
        return "LogzioArchive"
    name = str(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", name):
        raise SettingsError(f"stackName '{name}' is not a valid CloudFormation stack name: use letters, "
                            "digits and hyphens, starting with a letter, at most 128 characters.")
    return name


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


def _bucket_name(value: Any) -> str | None:
    if value in (None, ""):
        return None
    name = str(value)
    for rule, requirement in _BUCKET_RULES:
        if not rule(name):
            raise SettingsError(f"bucketName '{name}' is not a valid S3 bucket name: it {requirement}. "
                                "Pass another name with -c bucketName=..., or leave it out to get a "
                                "generated one.")
    return name


def _choice(setting: str, value: Any, kind: type[Enum], default: Enum):
    if value in (None, ""):
        return default
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SettingsError(f"{setting} '{value}' is not one of: {allowed}.") from None


def _integer(setting: str, value: Any, default: int | None, low: int, high: int) -> int | None:
    if value in (None, ""):
        return default
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value).strip()):
        raise SettingsError(f"{setting} '{value}' is not a whole number: give a number from {low} to {high}.")
    number = int(str(value).strip())
    if not low <= number <= high:
        raise SettingsError(f"{setting} {number} is out of range: give a number from {low} to {high}.")
    return number


def _lifecycle(days: Any, storage_class: Any) -> Lifecycle | None:
    if days in (None, "") and storage_class in (None, ""):
        return None
    if storage_class not in (None, ""):
        name = str(storage_class).strip().upper()
        if name in UNRESTORABLE_STORAGE_CLASSES:
            raise SettingsError(
                f"storageClass {name} ({UNRESTORABLE_STORAGE_CLASSES[name]}) would break restore: "
                "Logz.io cannot restore archives from it. Use one of "
                f"{', '.join(RESTORABLE_STORAGE_CLASSES)}, or leave storageClass out.")
        if name not in RESTORABLE_STORAGE_CLASSES:
            raise SettingsError(f"storageClass '{storage_class}' is not a storage class restore can read: "
                                f"use one of {', '.join(RESTORABLE_STORAGE_CLASSES)} "
                                "(CloudFormation's spelling).")
    else:
        raise SettingsError("transitionDays is set but storageClass is not: add -c storageClass=..., "
                            f"one of {', '.join(RESTORABLE_STORAGE_CLASSES)}.")
    if days in (None, ""):
        raise SettingsError(f"storageClass {name} is set but transitionDays is not: add "
                            "-c transitionDays=N (days after upload to move archives).")
    # S3 refuses transitions to the infrequent-access classes before 30 days.
    minimum = 30 if name in ("STANDARD_IA", "ONEZONE_IA") else 0
    number = _integer("transitionDays", days, None, minimum, 36500)
    return Lifecycle(transition_days=number, storage_class=name)
