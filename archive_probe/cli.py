"""The operator command: check a bucket's Logz.io permissions as the principal Logz.io uses.

    python -m archive_probe check --bucket BUCKET [--region R] [--profile P] [--json]
    python -m archive_probe check --stack STACK_NAME [--region R] [--profile P] [--json]

It replaces the manual test of Logz.io's guide (a dummy file, then `aws s3 mv`, `aws s3 ls`,
`aws s3 cp`) with the probe the deploy-time Lambda runs (probe.run_probe), so both say the
same thing. This module only parses arguments and formats results; every network call goes
through aws.py.

Exit status: 0 every permission granted, 1 one or more missing, 2 no verdict possible
(bad arguments included: every argument is validated while parsing). With --json, stdout
holds exactly one JSON document whatever happens; with --help, the plain help text.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import re
import shlex
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, NoReturn, Sequence, TextIO
from urllib.parse import urlsplit

from botocore.exceptions import (BotoCoreError, ClientError, NoCredentialsError, NoRegionError,
                                 PartialCredentialsError, ProfileNotFound)

from . import aws, checks
from .checks import ProbeAborted, ProbeReport, Status
from .probe import Clock, Patience, error_code, error_message, run_probe

EXIT_OK = 0
EXIT_MISSING = 1
EXIT_NO_VERDICT = 2

#: Defaults for a principal that already exists (the usual case for an operator).
#: A key that still answers InvalidAccessKeyId after 10 s is almost surely wrong or deleted
#: (almost no fresh key fails 10 s after creation: docs/facts.md); a policy in place for a while has
#: settled, so AccessDenied is final at once. Right after creating a key or editing a
#: policy, raise them (e.g. --key-deadline-seconds 90 --settle-seconds 30, the Lambda's).
DEFAULT_KEY_DEADLINE = 10.0
DEFAULT_SETTLE = 0.0

#: Codes that mean "these credentials are not accepted at all" rather than "not allowed".
CREDENTIALS_REJECTED = checks.KEY_NOT_PROPAGATED | checks.BAD_SECRET | checks.SESSION_REJECTED


EPILOG = """\
examples:
  # check the bucket as your current AWS credentials (environment or default profile)
  python -m archive_probe check --bucket my-logzio-archive

  # check as the IAM user whose keys you gave Logz.io, stored as profile "logzio"
  python -m archive_probe check --bucket my-logzio-archive --region eu-west-1 --profile logzio

  # check the deployed stack's bucket as its IAM user (key read from the stack's secret)
  python -m archive_probe check --stack LogzioArchive --region eu-west-1 --profile admin

  # remove the probe object with other credentials when the checked user may not delete
  python -m archive_probe check --bucket my-logzio-archive --profile logzio --cleanup-profile admin

  # machine-readable result, against a local emulator, right after creating the key
  python -m archive_probe check --bucket b --endpoint-url http://localhost:5000 --json \\
      --key-deadline-seconds 90 --settle-seconds 30

what it does:
  As the checked principal it writes one new object logzio-archive-probe/<time>-<uuid>.txt
  (If-None-Match: *, so nothing is ever overwritten), lists it, reads it back and asks for
  the bucket's location: s3:PutObject, s3:ListBucket, s3:GetObject, s3:GetBucketLocation.
  Then it deletes that object, and only that object version: with the checked credentials,
  then with --cleanup-profile (or, with --stack, your own credentials). Logz.io needs no
  delete permission, so the object may stay; the command then prints its key and the
  `aws s3api delete-object` command that removes it.

exit status:
  0  every permission is granted
  1  one or more permissions are missing (each line says which, the AWS error code and the fix)
  2  no check was possible: bad arguments, no credentials, credentials AWS rejects,
     a bucket or stack that does not exist, S3 unreachable
"""


class UsageError(Exception):
    """No verdict possible: `what` happened; `fix` says what to do next."""

    def __init__(self, what: str, fix: str, error_code: str | None = None):
        super().__init__(f"{what} {fix}")
        self.what = what
        self.fix = fix
        self.error_code = error_code


# --------------------------------------------------------------------------- arguments

def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text!r}")
    return value


#: S3's general purpose bucket naming rules, as (rule holds, what it requires):
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
#: The command checks buckets that exist, and a bucket created in us-east-1 before March 2018
#: may have capitals, underscores and up to 255 characters (S3's legacy rules, as
#: existingBucket in stacks/settings.py): those are accepted.
LEGACY = "in a bucket created in us-east-1 before March 2018"
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = {"-s3alias": "access point aliases", "--ol-s3": "Object Lambda access point aliases",
                      ".mrap": "Multi-Region Access Points", "--x-s3": "directory buckets",
                      "--table-s3": "table buckets"}
_BUCKET_RULES = (
    (lambda n: 3 <= len(n) <= 255 and (len(n) <= 63 or _legacy_name(n)),
     f"must be 3 to 63 characters long (up to 255 {LEGACY})"),
    (lambda n: re.fullmatch(r"[A-Za-z0-9._-]+", n) is not None,
     f"may contain only lowercase letters, digits, dots and hyphens (also capitals and underscores "
     f"{LEGACY})"),
    (lambda n: n[0].isalnum() and n[-1].isalnum(), "must begin and end with a letter or digit"),
    (lambda n: ".." not in n, "must not contain two adjacent dots"),
    (lambda n: not _is_ipv4(n), "must not be formatted as an IP address"),
    *((lambda n, p=prefix: not n.lower().startswith(p), f"must not start with {prefix} (reserved by S3)")
      for prefix in _RESERVED_PREFIXES),
    *((lambda n, s=suffix: not n.lower().endswith(s), f"must not end with {suffix} (S3 reserves it for {what})")
      for suffix, what in _RESERVED_SUFFIXES.items()),
)


def _legacy_name(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9._-]{3,255}", name) is not None


def _is_ipv4(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        return False


def _bucket_name(text: str) -> str:
    name = text[len("s3://"):] if text.startswith("s3://") else text
    name = name.rstrip("/")
    if not name:
        raise argparse.ArgumentTypeError("empty bucket name")
    if "/" in name:
        raise argparse.ArgumentTypeError(
            f"{text!r} has a path: Logz.io archives to the bucket root, give the bucket name only")
    for rule, requirement in _BUCKET_RULES:
        if not rule(name):
            raise argparse.ArgumentTypeError(f"{text!r} is not an S3 bucket name: it {requirement}")
    return name


ENDPOINT_EXAMPLE = "e.g. http://localhost:5000"
_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"


def _endpoint_problem(text: str) -> str | None:
    """Why `text` cannot be an endpoint URL (what botocore accepts, with an http(s) scheme and
    a valid port), or None."""
    if any(c.isspace() for c in text):
        return f"is not a URL: it contains white space; give scheme and host, {ENDPOINT_EXAMPLE}"
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as error:  # an unclosed [IPv6 or a port that is no number 0-65535
        return f"is not a URL ({error}): give scheme and host, {ENDPOINT_EXAMPLE}"
    if not parts.scheme or not host:
        return f"is not a URL: give scheme and host, {ENDPOINT_EXAMPLE}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"is not an http or https URL: give scheme and host, {ENDPOINT_EXAMPLE}"
    if port == 0:
        return f"is not a URL: port 0 is no port; give a port from 1 to 65535, {ENDPOINT_EXAMPLE}"
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            return f"is not a URL: {host!r} is not an IPv6 address, {ENDPOINT_EXAMPLE}"
    elif not re.fullmatch(rf"({_HOST_LABEL}\.)*{_HOST_LABEL}\.?", host) or len(host) > 255:
        return f"is not a URL: {host!r} is not a host name or IP address, {ENDPOINT_EXAMPLE}"
    return None


def _endpoint_url(text: str) -> str:
    problem = _endpoint_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return text


#: Endpoint variables botocore reads for the services the command calls (when
#: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is not true); --endpoint-url overrides them.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDFORMATION",
                      "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_STS")


def _environment_endpoints(args: argparse.Namespace) -> None:
    if args.endpoint_url or os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return
    for variable in ENDPOINT_VARIABLES:
        value = os.environ.get(variable)
        problem = _endpoint_problem(value) if value else None
        if problem:
            raise UsageError(f"{variable} {value!r} {problem}.",
                             f"Correct or unset {variable}, or pass --endpoint-url URL, which "
                             "overrides it.")


class ArgumentsRefused(Exception):
    """The command line cannot be parsed: argparse's message, and the (sub)parser that refused."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """Raises ArgumentsRefused instead of printing and exiting, so that main() can answer a
    usage error like any other no-verdict outcome (with --json: one JSON document)."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentsRefused(self, message)


def _wants_json(argv: Sequence[str]) -> bool:
    """--json (or an abbreviation argparse would take for it) among the arguments, for a
    command line that could not be parsed."""
    for arg in argv:
        if arg == "--":
            return False
        if len(arg) >= 3 and "--json".startswith(arg):
            return True
    return False


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m archive_probe",
        description="Check that an S3 bucket grants the permissions Logz.io's archive and "
                    "restore need, acting as the principal Logz.io uses.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    check = commands.add_parser(
        "check", help="check the four S3 permissions Logz.io needs on a bucket",
        description="Check s3:PutObject, s3:ListBucket, s3:GetObject and s3:GetBucketLocation "
                    "on a bucket, as the principal Logz.io uses, with the probe the deploy-time "
                    "Lambda runs. Prints one line per permission and a summary line.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = check.add_mutually_exclusive_group(required=True)
    target.add_argument("--bucket", type=_bucket_name, metavar="BUCKET",
                        help="bucket to check, as the credentials of --profile or the standard "
                             "AWS chain (environment, AWS_PROFILE, default profile). "
                             "Example: --bucket my-logzio-archive")
    target.add_argument("--stack", metavar="STACK_NAME",
                        help="deployed stack to check: reads its outputs (BucketName, Region, "
                             "UserName, AccessKeyId, SecretArn) and the user's key from its "
                             "secret with your credentials, then checks as that user. "
                             "Example: --stack LogzioArchive")
    check.add_argument("--region", metavar="REGION",
                       help="region of the bucket (with --bucket) or of the stack (with "
                            "--stack); default: the profile's or AWS_REGION. With --bucket, a "
                            "bucket found elsewhere is reported. Example: --region eu-west-1")
    check.add_argument("--profile", metavar="PROFILE",
                       help="named profile from ~/.aws/config or ~/.aws/credentials to use "
                            "instead of the default chain. Example: --profile logzio")
    check.add_argument("--endpoint-url", type=_endpoint_url, metavar="URL",
                       help="S3/CloudFormation/Secrets Manager endpoint, e.g. an emulator "
                            "(AWS_ENDPOINT_URL works too). Example: --endpoint-url "
                            "http://localhost:5000")
    check.add_argument("--cleanup-profile", metavar="PROFILE",
                       help="profile allowed to delete the probe object (s3:DeleteObject and, "
                            "on a versioned bucket, s3:DeleteObjectVersion), tried when the "
                            "checked credentials may not delete. Example: --cleanup-profile admin")
    check.add_argument("--key-deadline-seconds", type=_seconds, default=DEFAULT_KEY_DEADLINE,
                       metavar="S",
                       help="how long InvalidAccessKeyId is taken for a new key still "
                            "propagating in IAM before the key is declared rejected "
                            f"(default {DEFAULT_KEY_DEADLINE:g}; a key created just now: 90). "
                            "Example: --key-deadline-seconds 90")
    check.add_argument("--settle-seconds", type=_seconds, default=DEFAULT_SETTLE, metavar="S",
                       help="how long AccessDenied is retried in case a policy was changed a "
                            f"moment ago (default {DEFAULT_SETTLE:g}: an existing policy has "
                            "settled, so a denial is final at once). Example: --settle-seconds 30")
    check.add_argument("--json", action="store_true",
                       help="print one JSON document instead of text lines, errors and bad "
                            "arguments included ({\"ok\": false, \"exit_code\": 2, \"error\": "
                            "{...}}). Example: --json")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="log retries (IAM propagation, throttling) to stderr. Example: -v")
    return parser


# --------------------------------------------------------------------------- principals

@dataclass
class _CleanupChain:
    """Deletes the probe object with the first principal that may; records every attempt."""

    candidates: list[tuple[str, aws.S3Access]]
    removed_by: str | None = None
    attempts: list[str] = field(default_factory=list)

    def delete_object(self, key: str, version_id: str | None) -> None:
        last: Exception | None = None
        for label, access in self.candidates:
            try:
                access.delete_object(key, version_id)
                self.removed_by = label
                return
            except (ClientError, BotoCoreError) as error:
                self.attempts.append(f"{label}: {error_code(error)}")
                last = error
        if last is None:
            raise RuntimeError("no credentials to delete with")  # not reached: never empty
        raise last


@dataclass
class Target:
    bucket: str
    region: str | None  # the client's region (bucket region with --stack)
    expected_region: str | None  # reported when the bucket turns out to be elsewhere
    principal: str  # who is checked, for the header line
    user: aws.S3Access
    cleanup: _CleanupChain
    notes: list[str] = field(default_factory=list)
    stack: str | None = None


def _session_label(profile: str | None) -> str:
    return f"profile {profile}" if profile else "your default AWS credentials"


def _resolve_bucket(args: argparse.Namespace) -> Target:
    client = aws.s3_client(args.region, profile=args.profile, endpoint_url=args.endpoint_url)
    region = args.region or client.meta.region_name
    label = _session_label(args.profile)
    user = aws.S3Access(client, args.bucket)
    candidates: list[tuple[str, aws.S3Access]] = [("the checked credentials", user)]
    if args.cleanup_profile:
        cleanup_client = aws.s3_client(region, profile=args.cleanup_profile,
                                       endpoint_url=args.endpoint_url)
        candidates.append((f"profile {args.cleanup_profile}", aws.S3Access(cleanup_client, args.bucket)))
    return Target(bucket=args.bucket, region=region, expected_region=args.region, principal=label,
                  user=user, cleanup=_CleanupChain(candidates))


def _resolve_stack(args: argparse.Namespace) -> Target:
    try:
        outputs = aws.stack_outputs(args.stack, args.region, args.profile, args.endpoint_url)
    except ClientError as error:
        code = error_code(error)
        if code == "ValidationError" and "does not exist" in error_message(error):
            raise UsageError(f"Stack {args.stack} does not exist in "
                             f"{args.region or 'the default region'}.",
                             "Check the stack name, or pass the stack's --region.", code) from error
        raise _caller_error(error, f"read the outputs of stack {args.stack}",
                            "cloudformation:DescribeStacks") from error
    credential = "RoleArn" if outputs.get("RoleArn") else "SecretArn"
    missing = [name for name in ("BucketName", credential) if not outputs.get(name)]
    if missing:
        raise UsageError(f"Stack {args.stack} has no output {' or '.join(missing)}: it is not a "
                         "Logz.io archive stack, or an old version of it.",
                         "Deploy the current version, or use --bucket with --profile instead.")
    bucket = outputs["BucketName"]
    region = outputs.get("Region") or args.region
    if credential == "RoleArn":
        key, who = _assume_stack_role(outputs, region, args), f"IAM role {outputs['RoleArn']}"
    else:
        key, who = _read_stack_key(outputs["SecretArn"], args), f"IAM user {outputs.get('UserName') or '?'}"
    notes = []
    if outputs.get("AccessKeyId") and outputs["AccessKeyId"] != key.access_key_id:
        notes.append(f"the secret holds access key {key.access_key_id}, not the stack's "
                     f"{outputs['AccessKeyId']}: Logz.io must use the key in the secret")
    user = aws.S3Access(aws.s3_client(region, key=key, endpoint_url=args.endpoint_url), bucket)
    candidates: list[tuple[str, aws.S3Access]] = [("the checked credentials", user)]
    cleanup_profile = args.cleanup_profile or args.profile
    cleanup_label = f"profile {cleanup_profile}" if cleanup_profile else "your own credentials"
    candidates.append((cleanup_label, aws.S3Access(
        aws.s3_client(region, profile=cleanup_profile, endpoint_url=args.endpoint_url), bucket)))
    return Target(bucket=bucket, region=region, expected_region=region,
                  principal=f"{who} (access key {key.access_key_id}, from stack {args.stack})",
                  user=user, cleanup=_CleanupChain(candidates), notes=notes, stack=args.stack)


def _read_stack_key(secret_arn: str, args: argparse.Namespace) -> aws.AccessKey:
    try:
        return aws.read_access_key(secret_arn, aws.secretsmanager_client(
            secret_arn, args.profile, args.endpoint_url))
    except ClientError as error:
        raise _caller_error(error, f"read the access key from secret {secret_arn}",
                            "secretsmanager:GetSecretValue") from error
    except (ValueError, KeyError) as error:
        raise UsageError(f"Secret {secret_arn} does not hold JSON with accessKeyId and "
                         "secretAccessKey.", "Restore the secret from the stack, or redeploy.") from error


def _assume_stack_role(outputs: dict, region: str | None, args: argparse.Namespace) -> aws.AccessKey:
    role_arn = outputs["RoleArn"]
    try:
        return aws.assume_role(role_arn, outputs.get("ExternalId", ""), region, args.profile,
                               args.endpoint_url)
    except ClientError as error:
        if error_code(error) in checks.DENIED:
            raise UsageError(
                f"Your credentials may not assume role {role_arn} ({error_code(error)}): it trusts "
                "Logz.io's account and the stack's own probe only.",
                "The deploy-time probe already checked it as that role (see the stack's ProbeChecks "
                "output); to check again by hand, use --bucket with credentials the role trusts.",
                error_code(error)) from error
        raise _caller_error(error, f"assume role {role_arn}", "sts:AssumeRole") from error


def _caller_error(error: ClientError, doing: str, permission: str) -> UsageError:
    code = error_code(error)
    if code in CREDENTIALS_REJECTED:
        return UsageError(f"AWS rejects your credentials ({code}) when trying to {doing}.",
                          "Check --profile / AWS_ACCESS_KEY_ID; refresh expired session "
                          "credentials (aws sso login, aws sts get-session-token).", code)
    if code in checks.DENIED or code == "AccessDeniedException":
        return UsageError(f"Your credentials may not {doing} ({code}).",
                          f"Use credentials allowed {permission}, e.g. --profile ADMIN, or check "
                          "with --bucket and the user's own profile.", code)
    if code in ("ResourceNotFoundException",):
        return UsageError(f"Could not {doing}: it does not exist ({code}).",
                          "Check the stack outputs, or redeploy the stack.", code)
    return UsageError(f"Could not {doing}: {code}: {error_message(error)}",
                      "Check the region (--region) and the endpoint, then retry.", code)


# --------------------------------------------------------------------------- running

@dataclass
class Outcome:
    target: Target | None
    report: ProbeReport | None
    error: UsageError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None or self.report is None:
            return EXIT_NO_VERDICT
        return EXIT_OK if self.report.ok else EXIT_MISSING


def _aborted(aborted: ProbeAborted, target: Target, args: argparse.Namespace) -> UsageError:
    if isinstance(aborted.__cause__, (NoCredentialsError, PartialCredentialsError)):
        return _no_credentials(args)
    what = aborted.what
    if aborted.error_code in CREDENTIALS_REJECTED:
        what = what.replace("the credentials", f"the credentials of {target.principal}", 1)
    return UsageError(what, aborted.fix, aborted.error_code)


def _no_credentials(args: argparse.Namespace) -> UsageError:
    return UsageError("No AWS credentials found" + (f" in profile {args.profile}." if args.profile else "."),
                      "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile PROFILE "
                      "(aws configure --profile PROFILE), or use --stack STACK_NAME.")


def check(args: argparse.Namespace) -> Outcome:
    target: Target | None = None
    try:
        _environment_endpoints(args)
        target = _resolve_stack(args) if args.stack else _resolve_bucket(args)
        patience = Patience(key_propagation=args.key_deadline_seconds,
                            policy_settling=args.settle_seconds)
        report = run_probe(target.user, target.cleanup, target.expected_region, patience, Clock())
    except UsageError as error:
        return Outcome(target, None, error)
    except ProbeAborted as aborted:
        assert target is not None
        error = _aborted(aborted, target, args)
        if aborted.left_behind:
            cmd = _delete_command(target.bucket, aborted.left_behind,
                                  aborted.left_behind_version_id, target.region, args)
            error.fix += f" The probe object is left in the bucket; remove it with: {cmd}"
        return Outcome(target, None, error)
    except ProfileNotFound as error:
        return Outcome(target, None, UsageError(
            f"{error}.", "Create it (aws configure --profile NAME) or pass an existing --profile."))
    except (NoCredentialsError, PartialCredentialsError):
        return Outcome(target, None, _no_credentials(args))
    except NoRegionError:
        return Outcome(target, None, UsageError(
            "No AWS region given.", "Pass --region REGION (the stack's region with --stack), or "
            "set AWS_REGION or the profile's region."))
    except BotoCoreError as error:
        return Outcome(target, None, UsageError(
            f"Could not reach AWS: {error}.", "Check the network path, --endpoint-url and --region."))
    except ValueError as error:
        if not str(error).startswith("Invalid endpoint"):
            raise
        # botocore refuses an endpoint_url from the profile (~/.aws/config) this way.
        return Outcome(target, None, UsageError(
            f"An endpoint URL in your AWS configuration is not a URL ({error}).",
            f"Correct endpoint_url in the profile's section of ~/.aws/config (or its services "
            f"section), or pass --endpoint-url URL, {ENDPOINT_EXAMPLE}."))
    return Outcome(target, report)


# --------------------------------------------------------------------------- output

def _leftover(outcome: Outcome, args: argparse.Namespace) -> dict | None:
    report, target = outcome.report, outcome.target
    if report is None or target is None or not report.left_behind:
        return None
    version_id = report.probe_version_id
    return {"key": report.left_behind, "version_id": version_id,
            "tried": list(target.cleanup.attempts) or [report.cleanup_error or ""],
            "command": _delete_command(report.bucket, report.left_behind, version_id,
                                       target.region, args)}


def _delete_command(bucket: str, key: str, version_id: str | None, region: str | None,
                    args: argparse.Namespace) -> str:
    """The aws CLI command that removes exactly the probe object's version."""
    cmd = ["aws", "s3api", "delete-object", "--bucket", bucket, "--key", key]
    if version_id:
        cmd += ["--version-id", version_id]
    if region:
        cmd += ["--region", region]
    if args.endpoint_url:
        cmd += ["--endpoint-url", args.endpoint_url]
    return shlex.join(cmd)


def _summary(report: ProbeReport) -> str:
    total = len(report.checks)
    if report.ok:
        return (f"OK: all {total} permissions Logz.io needs are granted on bucket {report.bucket} "
                "(archive and restore will work).")
    missing = [c.action for c in report.checks if c.status is Status.MISSING]
    unverified = [c.action for c in report.checks if c.status is Status.UNVERIFIED]
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if unverified:
        parts.append("not verifiable yet " + ", ".join(unverified))
    granted = total - len(report.failed)
    uses = []
    if checks.PUT_OBJECT in missing or checks.PUT_OBJECT in unverified:
        uses.append("archive")
    if {checks.LIST_BUCKET, checks.GET_OBJECT} & set(missing + unverified):
        uses.append("restore")
    broken = f" ({' and '.join(uses)} will fail)" if uses else ""
    return (f"FAILED: {granted} of {total} permissions granted on bucket {report.bucket}; "
            + "; ".join(parts) + f"{broken}.")


def _write_text(outcome: Outcome, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    target, report = outcome.target, outcome.report
    if outcome.error is not None:
        code = f" [{outcome.error.error_code}]" if outcome.error.error_code else ""
        print(f"error: {outcome.error.what}{code}", file=err)
        print(f"next: {outcome.error.fix}", file=err)
        for note in target.notes if target is not None else []:
            print(f"note: {note}", file=out)
        print("No verdict: the permissions could not be checked.", file=out)
        return
    assert target is not None and report is not None
    where = f" ({target.region})" if target.region else ""
    print(f"Checking s3://{report.bucket}{where} as {target.principal}", file=out)
    width = max(len(a) for a in checks.ACTIONS)
    for check in report.checks:
        label = {Status.GRANTED: "granted", Status.MISSING: "MISSING",
                 Status.UNVERIFIED: "UNVERIFIED"}[check.status]
        if check.ok:
            print(f"  {label:<10} {check.action:<{width}}  {check.detail}".rstrip(), file=out)
        else:
            print(f"  {label:<10} {check.action:<{width}}  {check.error_code or '-'}: "
                  f"{check.hint or check.detail}", file=out)
    for note in [*target.notes, *report.notes]:
        print(f"  note: {note}", file=out)
    leftover = _leftover(outcome, args)
    if leftover is not None:
        print(f"  note: the probe object s3://{report.bucket}/{leftover['key']} is left in the "
              f"bucket (delete tried as {'; '.join(leftover['tried'])}). Logz.io needs no delete "
              "permission, so this is expected. Remove it with:", file=out)
        print(f"    {leftover['command']}", file=out)
        if target.stack is None:
            print("    or run the check again with --cleanup-profile PROFILE (credentials allowed "
                  f"s3:DeleteObject{'Version' if leftover['version_id'] else ''} on "
                  f"arn:aws:s3:::{report.bucket}/{checks.PROBE_PREFIX}*).", file=out)
    elif target.cleanup.removed_by:
        print(f"  probe object {report.probe_key} removed with {target.cleanup.removed_by}.", file=out)
        if target.cleanup.removed_by == "the checked credentials":
            print("  note: the checked credentials may delete objects; Logz.io does not need "
                  "s3:DeleteObject (consider removing it).", file=out)
    print(_summary(report), file=out)


def _write_usage_error(refused: ArgumentsRefused, as_json: bool, out: TextIO, err: TextIO) -> None:
    """What argparse prints for a usage error (on stderr), and with --json the document every
    no-verdict outcome has, on stdout."""
    refused.parser.print_usage(err)
    print(f"{refused.parser.prog}: error: {refused.message}", file=err)
    if as_json:
        doc = {"bucket": None, "ok": False, "exit_code": EXIT_NO_VERDICT, "checks": [], "notes": [],
               "error": {"what": refused.message,
                         "fix": f"Correct the command line: `{refused.parser.prog} --help` lists "
                                "every option with an example.",
                         "error_code": None}}
        json.dump(doc, out, indent=2)
        out.write("\n")


def _document(outcome: Outcome, args: argparse.Namespace) -> dict:
    target, report = outcome.target, outcome.report
    bucket = report.bucket if report else (target.bucket if target else args.bucket)
    doc: dict[str, Any] = {"bucket": bucket, "ok": outcome.exit_code == EXIT_OK,
                           "exit_code": outcome.exit_code}
    if report is not None:
        doc.update(report.as_dict())
        doc["ok"] = outcome.exit_code == EXIT_OK
        leftover = _leftover(outcome, args)
        doc["cleanup"] = {"removed": report.left_behind is None and target.cleanup.removed_by is not None,
                          "removed_by": target.cleanup.removed_by,
                          "delete_command": leftover["command"] if leftover else None}
        doc["region"] = target.region
        doc["notes"] = [*target.notes, *report.notes]
        doc["summary"] = _summary(report)
    else:
        doc["checks"] = []
        doc["notes"] = list(target.notes) if target is not None else []
    if args.stack:
        doc["stack"] = args.stack
    if target is not None:
        doc["principal"] = target.principal
    if outcome.error is not None:
        doc["error"] = {"what": outcome.error.what, "fix": outcome.error.fix,
                        "error_code": outcome.error.error_code}
    return doc


@contextmanager
def _logging(verbose: bool, err: TextIO) -> Iterator[None]:
    """Retries on stderr with -v; otherwise keep the probe's own warnings quiet (the leftover
    object is reported in the output)."""
    logger = logging.getLogger("archive_probe")
    previous_level, previous_propagate = logger.level, logger.propagate
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("archive_probe: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.ERROR)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        logger.propagate = previous_propagate


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help: argparse printed it
        return int(exit_.code or 0)
    except ArgumentsRefused as refused:
        _write_usage_error(refused, _wants_json(argv), out, err)
        return EXIT_NO_VERDICT
    with _logging(args.verbose, err):
        try:
            outcome = check(args)
        except Exception as error:  # noqa: BLE001 - a crash is "no verdict" (2), not "missing" (1)
            outcome = Outcome(None, None, UsageError(
                f"The check failed unexpectedly: {type(error).__name__}: {error}.",
                "Run again with -v; if it repeats, report it with that output."))
    if args.json:
        if outcome.error is not None:
            print(f"error: {outcome.error.what} next: {outcome.error.fix}", file=err)
        json.dump(_document(outcome, args), out, indent=2)
        out.write("\n")
    else:
        _write_text(outcome, args, out, err)
    return outcome.exit_code
