"""The app's settings: read once from CDK context (cdk.json or -c), validated, frozen.

One archive is configured by the top-level keys. Several are a list under `archives`
(in cdk.json, or `-c archives='[...]'`): each entry takes the same keys, and the
top-level keys are the defaults of every entry. `dashboard` is the app's own, top-level
only: one CloudWatch dashboard per account and region with every archive there.

What an archive is made of is validated by the library (logzio_s3_archive.settings, the
same validation as LogzioArchive's props); this module adds what only the app has: the
stack of each archive, its environment, and an existing bucket or key given by name.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from logzio_s3_archive.settings import (ARCHIVE_KEYS as LIBRARY_KEYS, CONTEXT, ArchiveSettings, Naming,
                                        SettingsError, _given, parse_archive)

__all__ = ["AppSettings", "ArchiveEntry", "SettingsError"]

#: Settings of one archive; any other plain key is a typo and is refused.
ARCHIVE_KEYS = ("stackName", "account", "region", *LIBRARY_KEYS)
#: Of the app as a whole, not of an archive: top-level only.
APP_KEYS = ("dashboard",)
KNOWN_KEYS = ARCHIVE_KEYS + ("archives",) + APP_KEYS
#: Keys the CDK command line itself keeps in cdk.context.json (`cdk acknowledge`,
#: `cdk cli-telemetry`): not ours, not typos.
CLI_KEYS = ("acknowledged-issue-numbers", "cli-telemetry")


@dataclass(frozen=True)
class ArchiveEntry:
    """One archive of the app: its stack and, for the library, its settings."""

    stack_name: str = "LogzioArchive"
    #: None: the CDK command line's default account (CDK_DEFAULT_ACCOUNT, from the credentials).
    account: str | None = None
    #: None: the CDK command line's default region (CDK_DEFAULT_REGION).
    region: str | None = None
    #: Set: the stack creates no bucket and changes nothing in this one.
    existing_bucket: str | None = None
    #: With encryption=kms: the key to use; None makes a new key.
    kms_key_arn: str | None = None
    settings: ArchiveSettings = field(default_factory=ArchiveSettings)

    @property
    def bucket(self) -> str | None:
        """The bucket's name when it is known at synth (given or existing)."""
        return self.existing_bucket or self.settings.bucket_name


class _EntryNaming(Naming):
    """An entry of `archives`: a value it inherits is fixed at the top level, not in it."""

    def __init__(self, entry: Mapping[str, Any], where: str):
        self.entry, self.where = entry, where

    def __call__(self, key: str) -> str:
        return f"{self.where}.{key}" if key in self.entry else f"{key} (top-level, used by {self.where})"


@dataclass(frozen=True)
class AppSettings:
    archives: tuple[ArchiveEntry, ...]
    #: One CloudWatch dashboard per account and region, with every archive there (dashboard).
    dashboard: bool = True

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "AppSettings":
        _refuse_unknown(context, KNOWN_KEYS, "")
        defaults = {key: context.get(key) for key in ARCHIVE_KEYS}
        entries = _archive_list(context.get("archives"))
        if entries is None:
            archives = (_entry(defaults, CONTEXT),)
        else:
            parsed = []
            for index, entry in enumerate(entries):
                where = f"archives[{index}]"
                _refuse_app_keys(entry, where)
                _refuse_unknown(entry, ARCHIVE_KEYS, where + ".")
                merged = {key: entry.get(key, defaults[key]) for key in ARCHIVE_KEYS}
                if "stackName" not in entry:
                    raise SettingsError(f"{where}.stackName is missing: every archive needs its own "
                                        "stack name, e.g. {\"stackName\": \"LogzioArchiveProd\", ...}.")
                parsed.append(_entry(merged, _EntryNaming(entry, where)))
            archives = tuple(parsed)
        _refuse_duplicates(archives)
        return cls(archives, dashboard=_dashboard(context.get("dashboard")))


def _dashboard(value: Any) -> bool:
    """dashboard: true/false from cdk.json (JSON booleans) or from -c (strings, any case)."""
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SettingsError(f"dashboard '{value}' is not one of: true, false (leave it out for true: one "
                        "CloudWatch dashboard per account and region, see docs/dashboard.md).")


def _refuse_app_keys(entry: Mapping[str, Any], where: str) -> None:
    for key in APP_KEYS:
        if key in entry:
            raise SettingsError(f"{where}.{key}: {key} is a setting of the app, not of one archive (one "
                                "dashboard per account and region shows every archive there). Set it at the "
                                "top level, e.g. -c dashboard=false.")


def _entry(values: Mapping[str, Any], name: Naming) -> ArchiveEntry:
    settings = parse_archive(values, name)
    region = _region(values["region"], name("region"))
    kms_key_arn = values["kmsKeyArn"] if _given(values["kmsKeyArn"]) else None
    if kms_key_arn and region and kms_key_arn.split(":")[3] != region:
        raise SettingsError(f"{name('kmsKeyArn')} is in {kms_key_arn.split(':')[3]} but {name('region')} "
                            f"is {region}: SSE-KMS needs a key in the bucket's region. Give a key from "
                            f"{region}.")
    return ArchiveEntry(stack_name=_stack_name(values["stackName"], name("stackName")), region=region,
                        account=_account(values["account"], name("account")),
                        existing_bucket=values["existingBucket"] if _given(values["existingBucket"]) else None,
                        kms_key_arn=kms_key_arn, settings=settings)
def _archive_list(value: Any) -> list[dict] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise SettingsError(f"archives is not valid JSON ({error.msg}): give a list of objects, "
                                "e.g. -c 'archives=[{\"stackName\": \"LogzioProd\"}]'.") from None
    if not isinstance(value, list) or not value or not all(isinstance(e, dict) for e in value):
        raise SettingsError("archives must be a non-empty list of objects, one per archive, e.g. "
                            "[{\"stackName\": \"LogzioProd\", \"bucketName\": \"acme-logs-prod\"}].")
    return value


def _refuse_duplicates(archives: tuple[ArchiveEntry, ...]) -> None:
    for attribute, setting in (("stack_name", "stackName"), ("bucket", "bucketName/existingBucket")):
        seen: dict[str, int] = {}
        for index, archive in enumerate(archives):
            value = getattr(archive, attribute)
            if value is None:
                continue
            if value in seen:
                raise SettingsError(f"archives[{seen[value]}] and archives[{index}] both use "
                                    f"{setting} '{value}': every archive needs its own. Give each "
                                    "entry a different value.")
            seen[value] = index


def _refuse_unknown(keys: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in keys:
        # Feature flags and the CLI's own keys are namespaced ("@aws-cdk/...", "aws:cdk:...").
        if any(mark in key for mark in ":/@") or key in known or key in CLI_KEYS:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        suggestion = f" Did you mean '{close[0]}'?" if close else ""
        raise SettingsError(f"Unknown setting '{where}{key}'.{suggestion} Known settings: "
                            f"{', '.join(known)} (see docs/settings.md).")




def _stack_name(value: Any, setting: str) -> str:
    if not _given(value):
        return "LogzioArchive"
    name = str(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", name):
        raise SettingsError(f"{setting} '{name}' is not a valid CloudFormation stack name: use letters, "
                            "digits and hyphens, starting with a letter, at most 128 characters.")
    return name


def _account(value: Any, setting: str) -> str | None:
    if not _given(value):
        return None
    if not re.fullmatch(r"\d{12}", str(value).strip()):
        raise SettingsError(f"{setting} '{value}' is not a 12-digit AWS account id: give the account the "
                            "archive's stack deploys to (bootstrapped with cdk bootstrap aws://ACCOUNT/REGION, "
                            "see docs/fleet.md), or leave it out for the credentials' account.")
    return str(value).strip()


def _region(value: Any, setting: str) -> str | None:
    if not _given(value):
        return None
    if not re.fullmatch(r"[a-z]{2,4}(-[a-z]+)+-\d+", str(value)):
        raise SettingsError(f"{setting} '{value}' is not an AWS region name such as eu-west-1.")
    return str(value)


