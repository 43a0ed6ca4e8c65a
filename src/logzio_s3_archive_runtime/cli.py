"""The operator command: check a bucket for Logz.io as the principal Logz.io uses.

    logzio-archive check --bucket BUCKET [--region R] [--profile P] [--strict] [--json]
    logzio-archive check --stack STACK_NAME [--region R] [--profile P] [--strict] [--json]
    logzio-archive status --stack STACK_NAME ...         (status.py)
    logzio-archive logzio-test --stack STACK_NAME ...    (logzio_test.py: Logz.io's own test)

It replaces the manual test of Logz.io's guide (a dummy file, then `aws s3 mv`, `aws s3 ls`,
`aws s3 cp`) with the probe the deploy-time Lambda runs (probe.run_probe), so both say the
same thing: the probe returns one Diagnosis, and this module only parses arguments, finds
the target (a bucket and credentials, or a stack's outputs, secret or role) and renders
that Diagnosis as text or JSON (docs/json-output.md). Every network call goes through
aws.py; every verdict is worded by diagnosis.py.

Exit status: 0 every permission granted and no error finding, 1 a permission missing or an
error finding (with --strict, a warning too), 2 no verdict possible (bad arguments
included: every argument is validated while parsing). With --json, stdout holds exactly
one JSON document whatever happens; with --help, the plain help text.
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
from typing import Any, Callable, Iterator, NoReturn, Sequence, TextIO
from urllib.parse import urlsplit

from botocore.exceptions import (BotoCoreError, ClientError, NoCredentialsError, NoRegionError,
                                 PartialCredentialsError, ProfileNotFound)

from . import __version__, aws, checks
from .checks import Status
from .diagnosis import EXIT_FAILED, EXIT_NO_VERDICT, EXIT_OK, Abort, Diagnosis
from .findings import OVER_PRIVILEGED, SettingsReader
from .names import Output
from .probe import BY_PRINCIPAL, Clock, Patience, error_code, error_message, run_probe

#: A permission missing or an error finding (or, with --strict, a warning).
EXIT_MISSING = EXIT_FAILED

#: Defaults for a principal that already exists (the usual case for an operator).
#: A key that still answers InvalidAccessKeyId after 10 s is almost surely wrong or deleted
#: (almost no fresh key fails 10 s after creation: docs/facts.md); a policy in place for a while has
#: settled, so AccessDenied is final at once. Right after creating a key or editing a
#: policy, raise them (e.g. --key-deadline-seconds 90 --settle-seconds 30, the Lambda's).
DEFAULT_KEY_DEADLINE = 10.0
DEFAULT_SETTLE = 0.0

#: Codes that mean "these credentials are not accepted at all" rather than "not allowed".
CREDENTIALS_REJECTED = checks.KEY_NOT_PROPAGATED | checks.BAD_SECRET | checks.SESSION_REJECTED

#: Who the probe object is removed by, and the bucket's settings read with.
CHECKED = "the checked credentials"
OWN = "your own credentials"


EPILOG = """\
examples:
  # check the bucket as your current AWS credentials (environment or default profile)
  logzio-archive check --bucket my-logzio-archive

  # check as the IAM user whose keys you gave Logz.io, stored as profile "logzio"; read the
  # bucket's settings and remove the probe object with profile "admin"
  logzio-archive check --bucket my-logzio-archive --region eu-west-1 --profile logzio \\
      --cleanup-profile admin

  # check the deployed stack's bucket as its IAM user (key read from the stack's secret)
  logzio-archive check --stack LogzioArchive --region eu-west-1 --profile admin

  # machine-readable result (docs/json-output.md), warnings failing too, against a local
  # emulator, right after creating the key
  logzio-archive check --bucket b --endpoint-url http://localhost:5000 --json --strict \\
      --key-deadline-seconds 90 --settle-seconds 30

what it does:
  As the checked principal it writes one new object logzio-archive-probe/<time>-<uuid>.txt
  (If-None-Match: *, so nothing is ever overwritten), lists it, reads it back and asks for
  the bucket's location: s3:PutObject, s3:ListBucket, s3:GetObject, s3:GetBucketLocation.
  Then it tries what Logz.io never needs, with calls that change nothing else: deleting
  its own probe object, reading the bucket policy, listing the account's buckets; any
  that works is an over-privileged warning. Whatever is left of the probe object is
  removed by exact version with --cleanup-profile (with --stack, or your own credentials);
  if nothing may delete it, the command prints the `aws s3api delete-object` command.
  It reads the bucket's settings (object ownership, lifecycle rules, Intelligent-Tiering,
  request payment) with the checked credentials then --cleanup-profile (with --stack, your
  own credentials); a setting nobody may read is reported as not checked, never as passed.

findings:
  ERROR   object-ownership-enforced, lifecycle-unrestorable, intelligent-tiering-archive,
          requester-pays: archive or restore fails (a rule or configuration limited to a
          prefix or tag is a warning)
  warning bucket-region-mismatch, over-privileged: works, but not as it should

exit status:
  0  every permission is granted and there is no error finding (warnings are printed)
  1  a permission is missing or an error finding is present (with --strict, a warning too);
     each line says which, the AWS error code and the fix
  2  no check was possible: bad arguments, no credentials, credentials AWS rejects,
     a bucket or stack that does not exist, S3 unreachable
"""


class _NoVerdict(Exception):
    """Finding the target failed: no check is possible. Carries the Abort to render."""

    def __init__(self, what: str, fix: str, error_code: str | None = None):
        super().__init__(f"{what} {fix}")
        self.abort = Abort(what, fix, error_code)


# --------------------------------------------------------------------------- arguments

def _concurrency(text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()) or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64, not {text!r}")
    return int(text)


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
            raise _NoVerdict(f"{variable} {value!r} {problem}.",
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="logzio-archive",
        description="Check that an S3 bucket works for Logz.io's archive and restore: the "
                    "permissions they need, acting as the principal Logz.io uses, and the "
                    "bucket settings that break them.")
    # One version for the distribution, the command and the constructs (pyproject reads it too).
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    check = commands.add_parser(
        "check", help="check a bucket for Logz.io: the four S3 permissions and the bucket's settings",
        description="Check s3:PutObject, s3:ListBucket, s3:GetObject and s3:GetBucketLocation "
                    "on a bucket, as the principal Logz.io uses, with the probe the deploy-time "
                    "Lambda runs, and the bucket settings that break archive or restore. Prints "
                    "one line per permission, one per finding and a summary line.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.check_parser = check  # type: ignore[attr-defined]  # its options, for _given()
    target = check.add_mutually_exclusive_group(required=True)
    target.add_argument("--bucket", type=_bucket_name, metavar="BUCKET",
                        help="bucket to check, as the credentials of --profile or the standard "
                             "AWS chain (environment, AWS_PROFILE, default profile). "
                             "Example: --bucket my-logzio-archive")
    target.add_argument("--stack", metavar="STACK_NAME",
                        help="deployed stack to check: reads its outputs (BucketName, Region, "
                             "UserName, AccessKeyId, SecretArn or RoleArn) and the user's key "
                             "from its secret (or assumes its role) with your credentials, then "
                             "checks as that principal. Example: --stack LogzioArchive")
    check.add_argument("--region", metavar="REGION",
                       help="region of the bucket (with --bucket) or of the stack (with "
                            "--stack); default: the profile's or AWS_REGION. With --bucket, a "
                            "bucket found elsewhere is a bucket-region-mismatch warning. "
                            "Example: --region eu-west-1")
    check.add_argument("--profile", metavar="PROFILE",
                       help="named profile from ~/.aws/config or ~/.aws/credentials to use "
                            "instead of the default chain. Example: --profile logzio")
    check.add_argument("--endpoint-url", type=_endpoint_url, metavar="URL",
                       help="S3/CloudFormation/Secrets Manager/STS endpoint, e.g. an emulator "
                            "(AWS_ENDPOINT_URL works too). Example: --endpoint-url "
                            "http://localhost:5000")
    check.add_argument("--cleanup-profile", metavar="PROFILE",
                       help="profile allowed to delete the probe object (s3:DeleteObject and, "
                            "on a versioned bucket, s3:DeleteObjectVersion) and to read the "
                            "bucket's settings when the checked credentials may not. "
                            "Example: --cleanup-profile admin")
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
    check.add_argument("--strict", action="store_true",
                       help="warnings fail too (exit status 1): a lifecycle rule or "
                            "Intelligent-Tiering archive tier under a prefix, a bucket in another "
                            "region, an over-privileged principal. Example: --strict")
    check.add_argument("--json", action="store_true",
                       help="print one JSON document instead of text lines, errors and bad "
                            "arguments included ({\"ok\": false, \"exit_code\": 2, \"error\": "
                            "{...}}); the contract is docs/json-output.md. Example: --json")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="log retries (IAM propagation, throttling) to stderr. Example: -v")
    watch = commands.add_parser(
        "status", help="the latest scheduled re-check of a deployed stack and its alarm",
        description="Print the latest scheduled re-check of a deployed stack (time, result, age of "
                    "the newest archive) and the state of its alarms, from CloudWatch; changes "
                    "nothing. Exit status: 0 no alarm, 1 an alarm in ALARM, 2 no status.",
        epilog="example:\n  logzio-archive status --stack LogzioArchive --region eu-west-1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    watch.add_argument("--stack", metavar="STACK_NAME", required=True,
                       help="deployed stack. Example: --stack LogzioArchive")
    watch.add_argument("--region", metavar="REGION", help="the stack's region. Example: --region eu-west-1")
    watch.add_argument("--profile", metavar="PROFILE", help="named profile to use. Example: --profile admin")
    watch.add_argument("--endpoint-url", type=_endpoint_url, metavar="URL",
                       help="endpoint, e.g. an emulator. Example: --endpoint-url http://localhost:5000")
    watch.add_argument("--json", action="store_true", help="print one JSON document. Example: --json")
    logzio = commands.add_parser(
        "logzio-test", help="run Logz.io's own archive test for a deployed stack (API hand-off on)",
        description="Run Logz.io's own archive test (POST /v2/archive/settings/test) for a deployed "
                    "stack's bucket and principal: Logz.io writes a test object to the bucket as the "
                    "stack's access key, or as its role (from Logz.io's AWS account, with the external "
                    "id). Reads the stack's outputs, the API token from its secret and the access key "
                    "from the stack's secret with your credentials; creates or changes nothing at "
                    "Logz.io. Never prints the token or the secret key. Exit status: 0 Logz.io's test "
                    "passed, 1 it failed (Logz.io's message and the fix), 2 no verdict (a stack "
                    "without the hand-off, a secret that cannot be read, the API unreachable or "
                    "refusing the token).",
        epilog="example:\n  logzio-archive logzio-test --stack LogzioArchive --region eu-west-1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    logzio.add_argument("--stack", metavar="STACK_NAME", required=True,
                        help="deployed stack with the hand-off to Logz.io's API (logzioApiTokenSecret). "
                             "Example: --stack LogzioArchive")
    logzio.add_argument("--region", metavar="REGION", help="the stack's region. Example: --region eu-west-1")
    logzio.add_argument("--profile", metavar="PROFILE", help="named profile to use. Example: --profile admin")
    logzio.add_argument("--endpoint-url", type=_endpoint_url, metavar="URL",
                        help="AWS endpoint (CloudFormation, Secrets Manager), e.g. an emulator; Logz.io's "
                             "API URL comes from the stack. Example: --endpoint-url http://localhost:5000")
    logzio.add_argument("--json", action="store_true", help="print one JSON document. Example: --json")
    fleet = commands.add_parser(
        "fleet", help="every archive this project deployed, in the given accounts and regions",
        description="Find every archive this project deployed (stacks whose description has the "
                    "logzio-s3-archive marker) in each --profile (account) and --region given, without "
                    "naming stacks, and print, worst first, each archive's deploy-time verdict and "
                    "findings, the latest scheduled re-check, the alarm states, the newest archive's "
                    "age and, with the Logz.io hand-off, whether Logz.io's setting still matches the "
                    "stack (logzio-setting-drift). Reads in batches (stack pages, GetMetricData, "
                    "DescribeAlarms by name lists), changes nothing; --probe also runs the real check "
                    "of each archive as its principal. One archive that cannot be read is a 'not "
                    "checked' row; it never stops the others.",
        epilog="examples:\n"
               "  logzio-archive fleet --region eu-west-1 --region us-east-1\n"
               "  logzio-archive fleet --profile prod --profile staging --json\n"
               "  logzio-archive fleet --junit fleet.xml --probe --concurrency 8\n\n"
               "exit status:\n"
               "  0  every archive found is healthy\n"
               "  1  an archive is failing (deploy-time probe, an error finding, drift, --probe),\n"
               "     unhealthy (alarm in ALARM, latest re-check unhealthy) or stale (no re-check\n"
               "     within two schedule periods)\n"
               "  2  no verdict: nothing found (the searched accounts and regions are named), or an\n"
               "     archive or a search could not be read",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    fleet.add_argument("--region", metavar="REGION", action="append",
                       help="a region to search; repeat for several (default: the profile's). "
                            "Example: --region eu-west-1 --region us-east-1")
    fleet.add_argument("--profile", metavar="PROFILE", action="append",
                       help="a named profile (an account) to search; repeat for several (default: your "
                            "default credentials). Example: --profile prod --profile staging")
    fleet.add_argument("--endpoint-url", type=_endpoint_url, metavar="URL",
                       help="AWS endpoint, e.g. an emulator. Example: --endpoint-url http://localhost:5000")
    fleet.add_argument("--json", action="store_true", help="print one JSON document (docs/fleet.md). "
                                                             "Example: --json")
    fleet.add_argument("--junit", metavar="FILE",
                       help="also write a JUnit XML report: one test case per archive. Example: --junit fleet.xml")
    fleet.add_argument("--probe", action="store_true",
                       help="also run the real check of each archive as its principal (as check --stack). "
                            "Example: --probe")
    fleet.add_argument("--concurrency", type=_concurrency, default=8, metavar="N",
                       help="with --probe: archives checked at the same time (1-64, default 8). "
                            "Example: --concurrency 16")
    fleet.add_argument("--key-deadline-seconds", type=_seconds, default=10.0, metavar="SECONDS",
                       help="with --probe: how long a key may still be propagating (default 10). "
                            "Example: --key-deadline-seconds 30")
    return parser


# --------------------------------------------------------------------------- the target

@dataclass
class Target:
    """What is checked, as whom, and who removes the probe object and reads the bucket's
    settings. Filled in as it is found, so that a failure half way still renders what was
    known (the bucket, the principal, the notes)."""

    bucket: str | None = None
    stack: str | None = None
    #: The clients' region (with --stack, the stack's Region output).
    region: str | None = None
    #: Where the bucket should be (--region; the stack's region): elsewhere is a warning.
    expected_region: str | None = None
    #: Who is checked, for the header line and the JSON's `principal`.
    principal: str | None = None
    notes: list[str] = field(default_factory=list)
    user: aws.S3Access | None = None
    cleaners: list[tuple[str, aws.S3Access]] = field(default_factory=list)
    readers: list[tuple[str, aws.S3Access]] = field(default_factory=list)
    #: The checked principal's AWS account, looked up when needed (a Requester Pays bucket).
    account: Callable[[], str] | None = None


def _profile_label(profile: str | None, default: str) -> str:
    return f"profile {profile}" if profile else default


def _resolve_bucket(args: argparse.Namespace, target: Target) -> None:
    """--bucket: the checked credentials read the settings first (a least-privilege user may
    not), then --cleanup-profile. What is left of the probe object after the principal's own
    delete (run_probe tries it) is removed by exact version with --cleanup-profile, then with
    the checked credentials: on a versioned bucket a principal that may delete leaves a
    delete marker, which it may be allowed to remove too."""
    target.expected_region = args.region
    target.principal = _profile_label(args.profile, "your default AWS credentials")
    client = aws.s3_client(args.region, profile=args.profile, endpoint_url=args.endpoint_url)
    target.region = args.region or client.meta.region_name
    target.user = aws.S3Access(client, args.bucket)
    target.account = lambda: aws.caller_account(target.region, profile=args.profile, endpoint_url=args.endpoint_url)
    target.readers.append((CHECKED, target.user))
    if args.cleanup_profile:
        other = (_profile_label(args.cleanup_profile, ""), aws.S3Access(
            aws.s3_client(target.region, profile=args.cleanup_profile, endpoint_url=args.endpoint_url),
            args.bucket))
        target.cleaners.append(other)
        target.readers.append(other)
    target.cleaners.append((CHECKED, target.user))


def _resolve_stack(args: argparse.Namespace, target: Target) -> None:
    """--stack: the outputs, then the principal's key (secret) or the role's credentials, read
    with your credentials, which also read the settings (the Logz.io principal may not) and
    remove the probe object (or --cleanup-profile does)."""
    outputs = _stack_outputs(args)
    credential = Output.ROLE_ARN if outputs.get(Output.ROLE_ARN) else Output.SECRET_ARN
    missing = [name for name in (Output.BUCKET_NAME, credential) if not outputs.get(name)]
    if missing:
        raise _NoVerdict(f"Stack {args.stack} has no output {' or '.join(missing)}: it is not a "
                         "Logz.io archive stack, or an old version of it.",
                         "Deploy the current version, or use --bucket with --profile instead.")
    target.bucket = outputs[Output.BUCKET_NAME]
    target.region = target.expected_region = outputs.get(Output.REGION) or args.region
    if credential == Output.ROLE_ARN:
        role_arn = outputs[Output.ROLE_ARN]
        target.principal = f"IAM role {role_arn}"
        key = _assume_stack_role(role_arn, outputs.get(Output.EXTERNAL_ID, ""), target.region, args)
    else:
        target.principal = f"IAM user {outputs.get(Output.USER_NAME) or '?'}"
        key = _read_stack_key(outputs[Output.SECRET_ARN], args)
    target.principal += f" (access key {key.access_key_id}, from stack {args.stack})"
    stack_key = outputs.get(Output.ACCESS_KEY_ID)
    if stack_key and stack_key != key.access_key_id:
        target.notes.append(f"the secret holds access key {key.access_key_id}, not the stack's "
                            f"{stack_key}: Logz.io must use the key in the secret")
    target.user = aws.S3Access(aws.s3_client(target.region, key=key, endpoint_url=args.endpoint_url),
                               target.bucket)
    target.account = lambda: aws.caller_account(target.region, key=key, endpoint_url=args.endpoint_url)
    own = (_profile_label(args.profile, OWN), aws.S3Access(
        aws.s3_client(target.region, profile=args.profile, endpoint_url=args.endpoint_url), target.bucket))
    target.readers.append(own)
    if args.cleanup_profile and args.cleanup_profile != args.profile:
        target.cleaners.append((_profile_label(args.cleanup_profile, ""), aws.S3Access(
            aws.s3_client(target.region, profile=args.cleanup_profile, endpoint_url=args.endpoint_url),
            target.bucket)))
    else:
        target.cleaners.append(own)


@contextmanager
def _calling(doing: str, permission: str) -> Iterator[None]:
    """An AWS call that finds the target: its failure is no verdict, naming what was being done."""
    try:
        yield
    except ClientError as error:
        raise _caller_error(error, doing, permission) from error
    except (ProfileNotFound, NoCredentialsError, PartialCredentialsError, NoRegionError):
        raise  # said the same way wherever they strike: check()
    except BotoCoreError as error:
        raise _NoVerdict(f"Could not reach AWS to {doing}: {error}.",
                         "Check the network path, --endpoint-url and --region, then retry.",
                         type(error).__name__) from error


def _stack_outputs(args: argparse.Namespace) -> dict[str, str]:
    with _calling(f"read the outputs of stack {args.stack}", "cloudformation:DescribeStacks"):
        try:
            outputs = aws.stack_outputs(args.stack, args.region, args.profile, args.endpoint_url)
            # One archive of several in a stack (LogzioArchive.add_outputs(prefix=...)): the fleet's
            # --probe checks each by its prefix.
            prefix = getattr(args, "outputs_prefix", "")
            return {key[len(prefix):]: value for key, value in outputs.items() if key.startswith(prefix)}
        except ClientError as error:
            if error_code(error) != "ValidationError" or "does not exist" not in error_message(error):
                raise
            raise _NoVerdict(f"Stack {args.stack} does not exist in {args.region or 'the default region'}.",
                             "Check the stack name, or pass the stack's --region.", "ValidationError") from error


def _read_stack_key(secret_arn: str, args: argparse.Namespace) -> aws.AccessKey:
    """The principal's key; aws.MalformedSecret (what and fix) when the secret holds none."""
    with _calling(f"read the access key from secret {secret_arn}", "secretsmanager:GetSecretValue"):
        return aws.read_access_key(secret_arn, aws.secretsmanager_client(
            secret_arn, args.profile, args.endpoint_url))


def _assume_stack_role(role_arn: str, external_id: str, region: str | None,
                       args: argparse.Namespace) -> aws.AccessKey:
    with _calling(f"assume role {role_arn}", "sts:AssumeRole"):
        try:
            return aws.assume_role(role_arn, external_id, region, args.profile, args.endpoint_url)
        except ClientError as error:
            if error_code(error) not in checks.DENIED:
                raise
            raise _NoVerdict(
                f"Your credentials may not assume role {role_arn} ({error_code(error)}): it trusts "
                "Logz.io's account and the stack's own probe only.",
                "The deploy-time probe already checked it as that role (see the stack's "
                f"{Output.PROBE_CHECKS} output); to check again by hand, use --bucket with "
                "credentials the role trusts.", error_code(error)) from error


def _caller_error(error: ClientError, doing: str, permission: str) -> _NoVerdict:
    code = error_code(error)
    if code in CREDENTIALS_REJECTED:
        return _NoVerdict(f"AWS rejects your credentials ({code}) when trying to {doing}.",
                          "Check --profile / AWS_ACCESS_KEY_ID; refresh expired session "
                          "credentials (aws sso login, aws sts get-session-token).", code)
    if code in checks.DENIED:
        return _NoVerdict(f"Your credentials may not {doing} ({code}).",
                          f"Use credentials allowed {permission}, e.g. --profile ADMIN, or check "
                          "with --bucket and the user's own profile.", code)
    if code == "ResourceNotFoundException":
        return _NoVerdict(f"Could not {doing}: it does not exist ({code}).",
                          "Check the stack outputs, or redeploy the stack.", code)
    return _NoVerdict(f"Could not {doing}: {code}: {error_message(error)}",
                      "Check the region (--region) and the endpoint, then retry.", code)


# --------------------------------------------------------------------------- running

@dataclass(frozen=True)
class Outcome:
    target: Target
    diagnosis: Diagnosis


def _no_credentials(args: argparse.Namespace) -> Abort:
    return Abort("No AWS credentials found" + (f" in profile {args.profile}." if args.profile else "."),
                 "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile PROFILE "
                 "(aws configure --profile PROFILE)" + (", or use --stack STACK_NAME." if not args.stack else "."))


def _unchecked(target: Target, abort: Abort) -> Diagnosis:
    """The Diagnosis of a check that could not even start (the bucket may not be known yet)."""
    return Diagnosis(bucket=target.bucket, region=target.expected_region, notes=tuple(target.notes),
                     abort=abort)


def check(args: argparse.Namespace) -> Outcome:
    """Find the target and run the probe; never raises: every failure is a Diagnosis with
    `abort` set (exit status 2)."""
    target = Target(bucket=args.bucket, stack=args.stack)
    try:
        _environment_endpoints(args)
        if args.stack:
            _resolve_stack(args, target)
        else:
            _resolve_bucket(args, target)
        assert target.user is not None
        patience = Patience(key_propagation=args.key_deadline_seconds, policy_settling=args.settle_seconds)
        return Outcome(target, run_probe(target.user, target.cleaners, target.expected_region, patience,
                                         Clock(), settings=SettingsReader(target.readers),
                                         notes=target.notes, principal_account=target.account))
    except _NoVerdict as refused:
        abort = refused.abort
    except aws.MalformedSecret as error:
        abort = Abort(error.what, error.fix, "MalformedSecret")
    except ProfileNotFound as error:
        abort = Abort(f"{error}.", "Create it (aws configure --profile NAME) or pass an existing --profile.",
                      "ProfileNotFound")
    except (NoCredentialsError, PartialCredentialsError):
        abort = _no_credentials(args)
    except NoRegionError:
        abort = Abort("No AWS region given.", "Pass --region REGION (the stack's region with --stack), or "
                      "set AWS_REGION or the profile's region.", "NoRegionError")
    except BotoCoreError as error:
        abort = Abort(f"Could not reach AWS: {error}.", "Check the network path, --endpoint-url and --region.",
                      type(error).__name__)
    except ValueError as error:
        if not str(error).startswith("Invalid endpoint"):
            abort = _crashed(error)
        else:  # botocore refuses an endpoint_url from the profile (~/.aws/config) this way
            abort = Abort(f"An endpoint URL in your AWS configuration is not a URL ({error}).",
                          f"Correct endpoint_url in the profile's section of ~/.aws/config (or its "
                          f"services section), or pass --endpoint-url URL, {ENDPOINT_EXAMPLE}.")
    except Exception as error:  # noqa: BLE001 - a crash is "no verdict" (2), not "failed" (1)
        abort = _crashed(error)
    return Outcome(target, _unchecked(target, abort))


def _crashed(error: Exception) -> Abort:
    return Abort(f"The check failed unexpectedly: {type(error).__name__}: {error}.",
                 "Run again with -v; if it repeats, report it with that output.")


# --------------------------------------------------------------------------- output

def _delete_command(outcome: Outcome, args: argparse.Namespace) -> str | None:
    """The aws CLI command(s) that remove exactly what the probe left behind: its object's
    version and, when the principal's own delete made one, that delete marker."""
    diagnosis, left = outcome.diagnosis, outcome.diagnosis.left_behind
    if left is None:
        return None
    commands = []
    for version in [left.version_id] + ([left.marker_version_id] if left.marker_version_id else []):
        cmd = ["aws", "s3api", "delete-object", "--bucket", diagnosis.bucket or "", "--key", left.key]
        if version:
            cmd += ["--version-id", version]
        region = diagnosis.bucket_region or outcome.target.region
        if region:
            cmd += ["--region", region]
        if args.endpoint_url:
            cmd += ["--endpoint-url", args.endpoint_url]
        commands.append(shlex.join(cmd))
    return " && ".join(commands)


def document(outcome: Outcome, strict: bool, delete_command: str | None = None) -> dict[str, Any]:
    """The JSON document (docs/json-output.md): Diagnosis.as_dict plus what the command knows
    of the target: the bucket named (null before a stack's outputs were read), the stack,
    the principal, and the probe object's cleanup."""
    diagnosis, target = outcome.diagnosis, outcome.target
    body = diagnosis.as_dict(strict)
    body.pop("bucket")
    removed = diagnosis.removed_by is not None and diagnosis.left_behind is None
    return {"bucket": target.bucket, "stack": target.stack, "principal": target.principal, **body,
            "cleanup": {"removed": removed, "removed_by": diagnosis.removed_by,
                        "delete_command": delete_command}}


STATUS_LABEL = {Status.GRANTED: "granted", Status.MISSING: "MISSING", Status.UNVERIFIED: "UNVERIFIED"}
SEVERITY_LABEL = {"error": "ERROR", "warning": "warning"}


def _write_leftover(outcome: Outcome, args: argparse.Namespace, command: str, indent: str, out: TextIO) -> None:
    diagnosis, left = outcome.diagnosis, outcome.diagnosis.left_behind
    assert left is not None
    expected = ("" if left.marker_version_id else
                " Logz.io needs no delete permission, so this is expected.")
    what = "and the delete marker the principal made are" if left.marker_version_id else "is"
    print(f"{indent}note: the probe object s3://{diagnosis.bucket}/{left.key} {what} left in the bucket "
          f"(delete tried as {left.error}).{expected} Remove {'them' if left.marker_version_id else 'it'} "
          "with:", file=out)
    print(f"{indent}  {command}", file=out)
    if outcome.target.stack is None and not args.cleanup_profile:
        print(f"{indent}  or run the check again with --cleanup-profile PROFILE (credentials allowed "
              f"s3:DeleteObject{'Version' if left.version_id else ''} on "
              f"arn:aws:s3:::{diagnosis.bucket}/{checks.PROBE_PREFIX}*).", file=out)


def _write_text(outcome: Outcome, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    diagnosis, target = outcome.diagnosis, outcome.target
    command = _delete_command(outcome, args)
    if diagnosis.abort is not None:
        abort = diagnosis.abort
        code = f" [{abort.error_code}]" if abort.error_code else ""
        print(f"error: {abort.what}{code}", file=err)
        print(f"next: {abort.fix}", file=err)
        for note in diagnosis.notes:
            print(f"note: {note}", file=out)
        if command:
            _write_leftover(outcome, args, command, "", out)
        print(diagnosis.verdict(args.strict), file=out)
        return
    where = f" ({target.region})" if target.region else ""
    print(f"Checking s3://{diagnosis.bucket}{where} as {target.principal}", file=out)
    width = max(len(action) for action in checks.ACTIONS)
    for result in diagnosis.checks:
        label = STATUS_LABEL[result.status]
        if result.ok:
            print(f"  {label:<10} {result.action:<{width}}  {result.detail}".rstrip(), file=out)
        else:
            print(f"  {label:<10} {result.action:<{width}}  {result.error_code or '-'}: "
                  f"{result.hint or result.detail}", file=out)
    for finding in diagnosis.findings:
        print(f"  {SEVERITY_LABEL[finding.severity.value]} {finding.id}: {finding.message}", file=out)
        print(f"    fix: {finding.fix}", file=out)
    for item in diagnosis.not_checked:
        print(f"  not checked {item.id}: {item.reason}", file=out)
        print(f"    fix: {item.fix}", file=out)
    if target.stack is None and not args.cleanup_profile and any(
            item.id != OVER_PRIVILEGED for item in diagnosis.not_checked):
        print("  hint: --cleanup-profile PROFILE reads the bucket's settings (and removes the probe "
              "object) with credentials allowed to.", file=out)
    for note in diagnosis.notes:
        print(f"  note: {note}", file=out)
    if command:
        _write_leftover(outcome, args, command, "  ", out)
    elif diagnosis.removed_by:
        print(f"  probe object {diagnosis.probe_key} removed by {diagnosis.removed_by}.", file=out)
    print(diagnosis.verdict(args.strict), file=out)


def _write_json(outcome: Outcome, strict: bool, delete_command: str | None, out: TextIO, err: TextIO) -> None:
    abort = outcome.diagnosis.abort
    if abort is not None:  # a person reading the terminal still sees it
        print(f"error: {abort.what} next: {abort.fix}", file=err)
    json.dump(document(outcome, strict, delete_command), out, indent=2)
    out.write("\n")


def _given(parser: argparse.ArgumentParser, argv: Sequence[str], flag: str) -> bool:
    """`flag` (or an abbreviation argparse would take for it) among the arguments, for a
    command line that could not be parsed."""
    options = [option for action in parser.check_parser._actions  # type: ignore[attr-defined]
               for option in action.option_strings if option.startswith("--")]
    for arg in argv:
        if arg == "--":
            return False
        if arg == flag or (len(arg) >= 3 and [o for o in options if o.startswith(arg)] == [flag]):
            return True
    return False


def _write_usage_error(parser: argparse.ArgumentParser, refused: ArgumentsRefused, argv: Sequence[str],
                       out: TextIO, err: TextIO) -> None:
    """The usage of the (sub)command that refused, then the message and the fix as every
    no-verdict outcome has them on stderr; with --json, also the document on stdout."""
    refused.parser.print_usage(err)
    what = refused.message if refused.message.endswith(".") else refused.message + "."
    abort = Abort(what, f"Correct the command line: `{refused.parser.prog} --help` lists every option "
                  "with an example.")
    if not _given(parser, argv, "--json"):
        print(f"error: {abort.what}", file=err)
        print(f"next: {abort.fix}", file=err)
        return
    outcome = Outcome(Target(), Diagnosis(bucket=None, abort=abort))
    _write_json(outcome, _given(parser, argv, "--strict"), None, out, err)


@contextmanager
def _logging(verbose: bool, err: TextIO) -> Iterator[None]:
    """Retries on stderr with -v; otherwise keep the probe's own warnings quiet (the leftover
    object is reported in the output)."""
    logger = logging.getLogger("logzio_s3_archive_runtime")
    previous_level, previous_propagate = logger.level, logger.propagate
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("logzio_s3_archive_runtime: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.ERROR)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        logger.propagate = previous_propagate


def _fleet(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from . import fleet

    with _logging(False, err):
        found = fleet.run(fleet.targets(args.profile, args.region), endpoint_url=args.endpoint_url,
                          probe=args.probe, concurrency=args.concurrency,
                          key_deadline_seconds=args.key_deadline_seconds, progress=fleet.progress_stream(err))
    if args.junit:
        fleet.write_junit(found, args.junit)
    if args.json:
        fleet.write_json(found, out)
    else:
        fleet.write_text(found, out)
    return found.exit_code


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
        _write_usage_error(parser, refused, argv, out, err)
        return EXIT_NO_VERDICT
    if args.command == "fleet":
        return _fleet(args, out, err)
    if args.command in ("status", "logzio-test"):
        # Commands about a deployed stack: each module reads, then renders as text or JSON.
        from . import logzio_test, status
        module, read = ((status, status.read) if args.command == "status"
                        else (logzio_test, logzio_test.run))
        with _logging(False, err):
            result = read(args.stack, args.region, args.profile, args.endpoint_url)
        if args.json:
            module.write_json(result, out)
        else:
            module.write_text(result, out, err)
        return result.exit_code
    with _logging(args.verbose, err):
        outcome = check(args)
    if args.json:
        _write_json(outcome, args.strict, _delete_command(outcome, args), out, err)
    else:
        _write_text(outcome, args, out, err)
    return outcome.diagnosis.exit_status(args.strict)
