"""`logzio-archive logzio-test --stack NAME`: Logz.io's own archive test, on demand.

Reads the deployed stack's outputs (BucketName; SecretArn for keys or RoleArn for a role;
LogzioApiUrl and LogzioApiTokenSecret, present when the stack hands the archive to
Logz.io's API), reads the API token from its secret and, with keys, the access key from the
stack's secret (both with your credentials), builds the settings body (logzio_api.archive_body)
and POSTs it to Logz.io's /v2/archive/settings/test as Logz.io's TestStorageRequest
(``archiveSettings``, and ``id``: the LogzioArchiveSettingsId output, when the stack has one). Logz.io then writes a test object to
the bucket as that principal (for a role: as Logz.io's AWS account, with its external id).
Nothing is created or changed at Logz.io: the account's archive setting stays as it is.

Exit status: 0 Logz.io's test passed; 1 Logz.io's test failed (its message and the fix);
2 no verdict (a stack without the hand-off, a token or key that cannot be read, Logz.io's
API unreachable or refusing the token). The token and the secret key are never printed:
every string shown is cleaned of both.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .handoff import HandoffFailed, describe_test, parse_token
from .logzio_api import LogzioApi, LogzioApiError, archive_body
from .names import Output

EXIT_PASSED, EXIT_TEST_FAILED, EXIT_NO_VERDICT = 0, 1, 2
#: The whole conversation with Logz.io (retries of 429/5xx included) ends by then.
DEADLINE_SECONDS = 60.0
#: HTTP status of a test Logz.io ran and that failed (any other error is no verdict).
TEST_FAILED_STATUS = 400


@dataclass
class LogzioTest:
    stack: str
    bucket: str | None = None
    #: "KEYS" or "IAM"
    credentials_type: str | None = None
    access_key_id: str | None = None
    role_arn: str | None = None
    api_url: str | None = None
    token_secret: str | None = None
    #: True passed, False Logz.io's test failed, None no verdict.
    passed: bool | None = None
    #: Logz.io's HTTP status and its own words.
    http_status: int | None = None
    logzio_message: str | None = None
    error: dict[str, Any] | None = None
    notes: list[str] | None = None

    @property
    def exit_code(self) -> int:
        if self.passed is True:
            return EXIT_PASSED
        if self.passed is False:
            return EXIT_TEST_FAILED
        return EXIT_NO_VERDICT

    @property
    def principal(self) -> str | None:
        if self.credentials_type == "KEYS":
            return f"access key {self.access_key_id}"
        if self.credentials_type == "IAM":
            return f"role {self.role_arn}"
        return None

    def verdict(self) -> str:
        if self.passed is True:
            return (f"PASSED: Logz.io wrote its test object to bucket {self.bucket} as {self.principal}: "
                    "Logz.io can archive there.")
        if self.passed is False:
            return (f"FAILED: Logz.io's archive test could not write to bucket {self.bucket} as "
                    f"{self.principal}: Logz.io cannot archive there.")
        what = self.error["what"] if self.error else "unknown"
        return f"No verdict from Logz.io's archive test for stack {self.stack}: {what}"

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "bucket": self.bucket, "credentials_type": self.credentials_type,
                "access_key_id": self.access_key_id, "role_arn": self.role_arn, "api_url": self.api_url,
                "token_secret": self.token_secret, "passed": self.passed, "http_status": self.http_status,
                "logzio_message": self.logzio_message, "error": self.error, "notes": self.notes or [],
                "exit_code": self.exit_code, "summary": self.verdict()}


class _NoVerdict(Exception):
    def __init__(self, what: str, fix: str, status: int | None = None):
        super().__init__(what)
        self.what, self.fix, self.status = what, fix, status


def run(stack: str, region: str | None, profile: str | None, endpoint_url: str | None,
        api_factory: Any = None) -> LogzioTest:
    """Never raises: whatever goes wrong is the result's error (exit 2), cleaned of secrets."""
    result = LogzioTest(stack)
    secrets: set[str] = set()
    try:
        _run(result, secrets, stack, region, profile, endpoint_url, api_factory or LogzioApi)
    except _NoVerdict as failed:
        result.passed = None
        result.error = {"what": failed.what, "fix": failed.fix, "http_status": failed.status}
    except Exception as error:  # noqa: BLE001 - one answer, text or JSON, whatever happens
        result.passed = None
        result.error = {"what": f"The Logz.io test failed unexpectedly: {type(error).__name__}: {error}.",
                        "fix": "Check the credentials, --region and --endpoint-url; if it repeats, report "
                               "it with this message.", "http_status": None}
    return _cleaned(result, secrets)


def _run(result: LogzioTest, secrets: set[str], stack: str, region: str | None, profile: str | None,
         endpoint_url: str | None, api_factory: Any) -> None:
    outputs = _outputs(stack, region, profile, endpoint_url)
    result.bucket = outputs.get(Output.BUCKET_NAME)
    result.api_url = outputs.get(Output.LOGZIO_API_URL)
    result.token_secret = outputs.get(Output.LOGZIO_API_TOKEN_SECRET)
    if not result.api_url or not result.token_secret:
        older = Output.LOGZIO_SETTINGS_ID in outputs
        raise _NoVerdict(
            f"Stack {stack} has no {Output.LOGZIO_API_URL} and {Output.LOGZIO_API_TOKEN_SECRET} outputs"
            + (" (deployed by a version before them)." if older else
               " (the hand-off to Logz.io's API is off: no logzioApiTokenSecret)."),
            "Deploy the current version with logzioApiTokenSecret and logzioRegion (or logzioApiUrl); "
            "without API access, use Logz.io's archive page and its Test connection button."
            if not older else "Deploy the current version of this project (cdk deploy) and run again.")
    if not result.bucket:
        raise _NoVerdict(f"Stack {stack} has no {Output.BUCKET_NAME} output.",
                         "Check that the stack is one of this project's archive stacks.")

    role_arn, secret_arn = outputs.get(Output.ROLE_ARN), outputs.get(Output.SECRET_ARN)
    if role_arn:
        result.credentials_type, result.role_arn = "IAM", role_arn
        body = archive_body(result.bucket, role_arn=role_arn)
    elif secret_arn:
        key = _access_key(secret_arn, profile, endpoint_url)
        secrets.add(key.secret_access_key)
        result.credentials_type, result.access_key_id = "KEYS", key.access_key_id
        listed = outputs.get(Output.ACCESS_KEY_ID)
        if listed and listed != key.access_key_id:
            result.notes = [f"The stack's {Output.ACCESS_KEY_ID} output names {listed}, but its secret holds "
                            f"{key.access_key_id}: the key in the secret is tested (what the deploy hands "
                            "to Logz.io)."]
        body = archive_body(result.bucket, access_key=key.access_key_id, secret_key=key.secret_access_key)
    else:
        raise _NoVerdict(f"Stack {stack} has neither a {Output.SECRET_ARN} nor a {Output.ROLE_ARN} output.",
                         "Check that the stack is one of this project's archive stacks.")

    token = _token(result.token_secret, region, profile, endpoint_url)
    secrets.add(token)
    api = api_factory(result.api_url, token, time.monotonic() + DEADLINE_SECONDS)
    # The setting the deploy registered, if any: Logz.io's test request names it (TestStorageRequest.id).
    settings_id = outputs.get(Output.LOGZIO_SETTINGS_ID)
    settings_id = int(settings_id) if settings_id and str(settings_id).isdigit() else None
    try:
        answer = api.test_settings(body, settings_id)
    except LogzioApiError as error:
        result.http_status, result.logzio_message = error.status, error.logzio_message or None
        if error.status == TEST_FAILED_STATUS:
            result.passed = False
            result.error = {"what": error.what, "fix": error.fix, "http_status": error.status}
            return
        if error.status is None:  # no HTTP answer at all: say so plainly
            result.logzio_message = None
            retry = error.fix.removeprefix("Fix: ")
            raise _NoVerdict(f"Logz.io's API at {result.api_url} did not answer "
                             f"({error.logzio_message or error.what}).",
                             "Check the stack's LogzioApiUrl (logzioRegion/logzioApiUrl) and the network "
                             f"path to it; {retry[0].lower() + retry[1:]}") from None
        raise _NoVerdict(error.what, error.fix, error.status) from None
    result.http_status = 200
    result.logzio_message = _answer_text(answer)
    try:
        describe_test(answer)
    except HandoffFailed as failed:
        result.passed = False
        result.error = {"what": failed.what, "fix": failed.fix, "http_status": 200}
        return
    result.passed = True


def _outputs(stack: str, region: str | None, profile: str | None, endpoint_url: str | None) -> dict[str, str]:
    try:
        return aws.stack_outputs(stack, region, profile, endpoint_url)
    except ClientError as error:
        code, message = _code(error), error.response.get("Error", {}).get("Message", "")
        if code == "ValidationError" and "does not exist" in message:
            raise _NoVerdict(f"Stack {stack} does not exist in {region or 'the default region'}.",
                             "Check the stack name, or pass the stack's --region.") from None
        raise _NoVerdict(f"Could not read the outputs of stack {stack} ({code}).",
                         "Use credentials allowed cloudformation:DescribeStacks on the stack.") from None
    except BotoCoreError as error:
        raise _NoVerdict(f"Could not reach CloudFormation: {type(error).__name__}.",
                         "Check the credentials, the network path, --endpoint-url and --region.") from None


def _access_key(secret_arn: str, profile: str | None, endpoint_url: str | None) -> aws.AccessKey:
    try:
        return aws.read_access_key(secret_arn, aws.secretsmanager_client(secret_arn, profile, endpoint_url))
    except aws.MalformedSecret as error:
        raise _NoVerdict(error.what, error.fix) from None
    except ClientError as error:
        raise _NoVerdict(f"Could not read the access key from secret {secret_arn} ({_code(error)}).",
                         "Use credentials allowed secretsmanager:GetSecretValue on the stack's secret "
                         "(and kms:Decrypt on its key, if it has one).") from None
    except BotoCoreError as error:
        raise _NoVerdict(f"Could not reach Secrets Manager for the access key ({type(error).__name__}).",
                         "Check the credentials, the network path, --endpoint-url and --region.") from None


def _token(secret: str, region: str | None, profile: str | None, endpoint_url: str | None) -> str:
    """The API token from its secret (name or ARN), read with your credentials; never shown."""
    try:
        client = (aws.secretsmanager_client(secret, profile, endpoint_url) if secret.startswith("arn:")
                  else aws.client("secretsmanager", region, profile, endpoint_url))
        answer = client.get_secret_value(SecretId=secret)
    except ClientError as error:
        code = _code(error)
        fix = ("Check the secret's name in the stack's setting logzioApiTokenSecret and the --region "
               "(a secret given by name lives in the stack's region)."
               if code == "ResourceNotFoundException" else
               "Use credentials allowed secretsmanager:GetSecretValue on the token's secret (and "
               "kms:Decrypt on its key, if it has one).")
        raise _NoVerdict(f"Could not read the Logz.io API token from secret {secret} ({code}).", fix) from None
    except BotoCoreError as error:
        raise _NoVerdict(f"Could not reach Secrets Manager for the Logz.io API token ({type(error).__name__}).",
                         "Check the credentials, the network path, --endpoint-url and --region.") from None
    try:
        return parse_token(secret, answer)
    except HandoffFailed as failed:
        raise _NoVerdict(failed.what, failed.fix) from None


def _answer_text(answer: Any) -> str:
    if isinstance(answer, dict):
        parts = [str(answer[k]) for k in ("status", "message") if answer.get(k) not in (None, "")]
        return ": ".join(parts) if parts else json.dumps(answer)
    return "" if answer is None else str(answer)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "ClientError")


def _cleaned(result: LogzioTest, secrets: set[str]) -> LogzioTest:
    """Every string of the result without the token or the secret key (defence in depth: the
    client redacts Logz.io's messages already)."""
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                if secret:
                    value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    for name in ("logzio_message", "error", "notes"):
        setattr(result, name, clean(getattr(result, name)))
    return result


def write_text(result: LogzioTest, out: TextIO, err: TextIO) -> None:
    print(f"Logz.io's archive test for stack {result.stack}:", file=out)
    if result.bucket:
        print(f"  bucket:        {result.bucket}", file=out)
    if result.credentials_type == "KEYS":
        print(f"  credentials:   KEYS, access key id {result.access_key_id}", file=out)
    elif result.credentials_type == "IAM":
        print(f"  credentials:   IAM, role ARN {result.role_arn}", file=out)
    if result.api_url:
        print(f"  Logz.io API:   {result.api_url} (token from secret {result.token_secret})", file=out)
    if result.http_status is not None:
        said = f": {result.logzio_message}" if result.logzio_message else ""
        print(f"  Logz.io said:  HTTP {result.http_status}{said}", file=out)
    for note in result.notes or []:
        print(f"  note: {note}", file=out)
    if result.error is not None:
        print(f"error: {result.error['what']}", file=err)
        print(f"next: {result.error['fix']}", file=err)
    print(result.verdict(), file=out)


def write_json(result: LogzioTest, out: TextIO) -> None:
    json.dump(result.as_dict(), out, indent=2)
    out.write("\n")
