"""Custom::LogzioArchiveSettings: the hand-off to Logz.io's API (handler.py routes it here).

Create/Update: read the API token from its secret, the principal's key from the key's
secret (or take the role ARN), read the account's archive setting, run Logz.io's own test of
the settings (Logz.io writes a test object to the bucket as the principal: for a role, as
Logz.io's AWS account with its external id; the request names the setting it would replace),
and only when it passes (a 2xx whose body reports no failure) create or update the account's one archive setting
with this bucket and principal. A failed test leaves Logz.io's setting as it was (a working
one is never replaced by one that fails). Any API error answers FAILED with what happened,
Logz.io's HTTP status and message, and the fix. SUCCESS answers SettingsId and LogzioTest.

A failed Create in a bucket this deploy created (BucketCreated) removes every version of
Logz.io's test object (``logzio-verified``, written by a test that passed before a later
step failed) with the function's own role: the rollback must delete that bucket, which S3
refuses while it holds an object. Never in an existing bucket, never on an update.

During an update's rollback the old properties are written back without the test and the
rollback never fails (the old principal is being restored; an error is only reported).

Delete: unless OnDelete=keep, the setting is disabled (PUT enabled=false) if it still
archives to this bucket as this principal; a Delete never fails, its reason says what
happened.

The token is never logged, answered or put in an exception; the LogzioApi client redacts
it and any secret key from Logz.io's messages too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .cfn import PUT_TIMEOUT, PUT_TRIES, BadRequest, CustomResourceRequest, Responder, required_property
from .freshness import VERIFIED_MARKER
from .logzio_api import LogzioApi, LogzioApiError, archive_body, find_s3_setting, test_failure
from .names import Attribute, Property

log = logging.getLogger("logzio_s3_archive_runtime.handoff")

#: The watchdog answers this long before the Lambda would be killed (every try of the PUT).
WATCHDOG_MARGIN = PUT_TIMEOUT * PUT_TRIES + 3.0
#: The work stops this long before the Lambda would be killed: the watchdog's margin plus a
#: Secrets Manager call that may be under way (the API client stops at the deadline itself).
ANSWER_MARGIN = WATCHDOG_MARGIN + aws.CALL_SECONDS
#: New grants (the token's secret) may take a moment to reach every IAM endpoint.
TOKEN_GRANT_PATIENCE = 30.0
PHYSICAL_PREFIX = "logzio-archive-settings:"
#: Where a Create failed before any setting was made: a Delete of it touches nothing.
NO_SETTING = PHYSICAL_PREFIX + "none"
#: Field names a JSON token secret may use (the console's key/value form makes JSON).
TOKEN_FIELDS = ("token", "apiToken", "api_token", "LOGZIO_API_TOKEN", "logzioApiToken")
VERDICT_LIMIT = 300


class HandoffFailed(Exception):
    """The hand-off cannot go on: what happened and the fix, never a secret."""

    def __init__(self, what: str, fix: str, status: int | None = None):
        super().__init__(f"{what} {fix}")
        self.what, self.fix, self.status = what, fix, status

    @classmethod
    def of(cls, error: LogzioApiError) -> "HandoffFailed":
        what = error.what if error.status is None or f"HTTP {error.status}" in error.what else \
            f"{error.what} (HTTP {error.status})"
        return cls(what, error.fix, error.status)


@dataclass(frozen=True)
class HandoffProperties:
    bucket_name: str
    region: str
    token_secret: str
    api_url: str
    on_delete: str = "disable"
    #: This deploy created the bucket (BucketCreated): only then may a failed Create clean up.
    bucket_created: bool = False
    secret_arn: str | None = None
    access_key_id: str | None = None
    role_arn: str | None = None

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> "HandoffProperties":
        def required(name: str) -> str:
            return required_property(props, name)

        on_delete = str(props.get(Property.ON_DELETE) or "disable").strip().lower()
        if on_delete not in ("disable", "keep"):
            raise BadRequest(f"resource property {Property.ON_DELETE}={props.get(Property.ON_DELETE)!r} is not "
                             "disable or keep: redeploy the stack as synthesized")
        common = dict(bucket_name=required(Property.BUCKET_NAME), region=required(Property.REGION),
                      token_secret=required(Property.TOKEN_SECRET_ARN), api_url=required(Property.API_URL),
                      on_delete=on_delete,
                      bucket_created=str(props.get(Property.BUCKET_CREATED, "")).strip().lower() == "true")
        if props.get(Property.ROLE_ARN):
            return cls(**common, role_arn=required(Property.ROLE_ARN))
        return cls(**common, secret_arn=required(Property.SECRET_ARN),
                   access_key_id=str(props.get(Property.ACCESS_KEY_ID) or "") or None)

    @property
    def principal(self) -> str:
        return self.role_arn or self.access_key_id or self.secret_arn or ""


def physical_id(settings_id: Any) -> str:
    return f"{PHYSICAL_PREFIX}{settings_id}"


def settings_id_of(physical: str | None) -> str | None:
    """The Logz.io setting id a physical id names, or None (a Create that failed first)."""
    if not physical or not physical.startswith(PHYSICAL_PREFIX):
        return None
    tail = physical[len(PHYSICAL_PREFIX):]
    return tail if tail.isdigit() else None


# --------------------------------------------------------------------------- the frame

def serve(request: CustomResourceRequest, context: Any, rolling_back: Callable[[], bool],
          send: Callable[[str, bytes, float], int] | None = None) -> None:
    """Answer one Custom::LogzioArchiveSettings request, once, before the Lambda's timeout."""
    started = time.monotonic()
    remaining = context.get_remaining_time_in_millis() / 1000.0
    responder = Responder(request, send or aws.put_response, NO_SETTING)
    log_hint = f" Details: CloudWatch log stream {getattr(context, 'log_stream_name', '?')}."
    hard_deadline = started + remaining - ANSWER_MARGIN

    def give_up(reason: str) -> None:
        if request.request_type == "Delete":
            log.warning("delete: %s", reason)
            responder.succeed({}, reason="Logz.io's archive setting left as it was: " + reason)
        else:
            responder.fail(reason + log_hint)

    watchdog = threading.Timer(max(remaining - WATCHDOG_MARGIN, 0.0), give_up, [
        "The hand-off to Logz.io's API ran out of time (Logz.io or Secrets Manager did not answer in "
        "time). Deploy again; if it repeats, check https://status.logz.io and the function's network "
        "path to Logz.io."])
    watchdog.daemon = True
    if remaining > WATCHDOG_MARGIN:
        watchdog.start()
    try:
        if (malformed := request.malformed()) is not None:
            responder.fail(malformed + ".")
        elif remaining <= ANSWER_MARGIN:
            give_up(f"The hand-off to Logz.io's API was started with {remaining:.0f} s left, too little to "
                    "call Logz.io and answer. Deploy again.")
        elif request.request_type == "Delete":
            _delete(request, responder, hard_deadline)
        else:
            _create_or_update(request, responder, hard_deadline, log_hint, rolling_back)
    except BadRequest as error:
        give_up(f"{error}.")
    except Exception as error:  # noqa: BLE001 - CloudFormation must get an answer on every path
        log.exception("hand-off failed unexpectedly")
        give_up(f"The hand-off to Logz.io's API failed unexpectedly: {type(error).__name__}. Deploy again; "
                "if it repeats, report it with the traceback from the log.")
    finally:
        watchdog.cancel()
        if not responder.answered:
            give_up("The hand-off to Logz.io's API ended without an answer.")
        responder.wait_delivered(PUT_TIMEOUT * PUT_TRIES + 1)


# --------------------------------------------------------------------------- create / update

def _create_or_update(request: CustomResourceRequest, responder: Responder, hard_deadline: float,
                      log_hint: str, rolling_back: Callable[[], bool]) -> None:
    props = HandoffProperties.parse(request.properties)
    rollback = request.request_type == "Update" and rolling_back()
    try:
        settings_id, verdict = register(props, hard_deadline, test=not rollback)
    except HandoffFailed as failed:
        log.warning("hand-off failed: %s", failed)
        reason = f"Logz.io hand-off failed for bucket {props.bucket_name}: {failed.what} {failed.fix}"
        if rollback:
            # Failing now would leave the stack in UPDATE_ROLLBACK_FAILED: report it instead.
            responder.succeed({Attribute.SETTINGS_ID: settings_id_of(request.physical_resource_id) or "",
                               Attribute.LOGZIO_TEST: "not restored during rollback: " + failed.what},
                              reason=reason[:1000])
        else:
            if request.request_type == "Create" and props.bucket_created:
                reason += " " + remove_test_object(props, hard_deadline)
            responder.fail(reason + log_hint)
        return
    log.info("Logz.io archive setting %s archives to %s as %s; test: %s", settings_id, props.bucket_name,
             props.principal, verdict)
    responder.succeed({Attribute.SETTINGS_ID: str(settings_id), Attribute.LOGZIO_TEST: verdict},
                      physical_id(settings_id))


def register(props: HandoffProperties, deadline: float, test: bool = True,
             api_factory: Callable[[str, str, float], Any] | None = None) -> tuple[str, str]:
    """Test the settings with Logz.io, then create or update the account's archive setting.
    Returns (setting id, the test's verdict). HandoffFailed on any failure."""
    token = read_token(props.token_secret, props.region, deadline)
    body = _body(props, enabled=True)
    api = (api_factory or LogzioApi)(props.api_url, token, deadline)
    try:
        verdict = "not run (rollback)"
        # The account's setting first: Logz.io's test request names the one it would replace.
        found = find_s3_setting(api.list_settings())
        if test:
            log.info("running Logz.io's archive test for bucket %s as %s", props.bucket_name, props.principal)
            verdict = describe_test(api.test_settings(body, found["id"] if found else None))
        if found is None:
            created = api.create_settings(body) or {}
            settings_id = created.get("id") if isinstance(created, dict) else None
            if settings_id is None:  # an answer without the id: look it up
                found = find_s3_setting(api.list_settings())
                settings_id = found["id"] if found else None
            if settings_id is None:
                raise HandoffFailed("Logz.io accepted the archive setting but did not answer its id.",
                                    "Fix: check Logz.io's archive page; deploy again to update it.")
            log.info("created Logz.io archive setting %s", settings_id)
        else:
            settings_id = found["id"]
            before = (found.get("settings") or {}).get("amazonS3StorageSettings") or {}
            log.info("updating Logz.io archive setting %s (was bucket %s)", settings_id, before.get("path"))
            api.update_settings(settings_id, body)
    except LogzioApiError as error:
        raise HandoffFailed.of(error) from None
    return str(settings_id), verdict


def remove_test_object(props: HandoffProperties, deadline: float, s3: aws.S3Access | None = None) -> str:
    """After a failed Create in a bucket this deploy created: every version (and delete
    marker) of Logz.io's test object, which Logz.io's passed test wrote, removed by version
    id with the function's own role, so that the rollback can delete the bucket (a bucket
    that holds an object cannot be deleted: the stack would end ROLLBACK_FAILED). Never
    raises; returns what happened, for the reason. Never called for an existing bucket or
    an update."""
    if not props.bucket_created:
        return ""
    s3 = s3 or aws.S3Access(aws.s3_client(props.region), props.bucket_name)
    removed = 0
    try:
        for key, version_id in s3.list_versions(VERIFIED_MARKER):
            if key != VERIFIED_MARKER or not version_id:
                continue  # only that exact key, only by version id
            if time.monotonic() >= deadline:
                raise TimeoutError("out of time")
            s3.delete_object(key, version_id)
            removed += 1
    except (ClientError, BotoCoreError, TimeoutError) as error:
        log.warning("could not remove %s from %s: %s", VERIFIED_MARKER, props.bucket_name, error)
        return (f"Logz.io's test object {VERIFIED_MARKER} could not be removed from bucket {props.bucket_name} "
                f"({_code(error) if not isinstance(error, TimeoutError) else 'out of time'}): if the rollback "
                f"cannot delete the bucket, delete every version of {VERIFIED_MARKER} in it, then delete the "
                "stack and deploy again.")
    log.info("removed %d version(s) of %s from %s", removed, VERIFIED_MARKER, props.bucket_name)
    if not removed:
        return ""
    return (f"Logz.io's test object {VERIFIED_MARKER} was removed from bucket {props.bucket_name}, which this "
            "deploy created, so the rollback can delete the bucket.")


def describe_test(answer: Any) -> str:
    """Logz.io's test answer (a 2xx) as one line: 'passed' and Logz.io's own words;
    HandoffFailed when the body reports a failure (logzio_api.test_failure)."""
    failure = test_failure(answer)
    if failure is not None:
        raise HandoffFailed(f"Logz.io's archive test did not pass although Logz.io answered HTTP 2xx: "
                            f"{failure[:VERDICT_LIMIT]}.",
                            "Fix: see Logz.io's message; check the principal's access to the bucket (with a "
                            "role, its trust policy for Logz.io's account and external id), then deploy again.")
    detail = ""
    if isinstance(answer, Mapping):
        detail = str(answer.get("message") or answer.get("status") or "")
    elif isinstance(answer, str):
        detail = answer
    verdict = f"passed: {detail}" if detail else "passed"
    return verdict if len(verdict) <= VERDICT_LIMIT else verdict[:VERDICT_LIMIT - 3] + "..."


def _body(props: HandoffProperties, enabled: bool) -> dict:
    if props.role_arn:
        return archive_body(props.bucket_name, role_arn=props.role_arn, enabled=enabled)
    try:
        key = aws.read_access_key(props.secret_arn)
    except aws.MalformedSecret as error:
        raise HandoffFailed(error.what, error.fix) from None
    except (ClientError, BotoCoreError) as error:
        raise HandoffFailed(f"Could not read the access key from secret {props.secret_arn} "
                            f"({_code(error)}).",
                            "Fix: check that the secret exists and the probe function's role may read it "
                            "(the stack grants it), then deploy again.") from None
    return archive_body(props.bucket_name, access_key=key.access_key_id, secret_key=key.secret_access_key,
                        enabled=enabled)


# --------------------------------------------------------------------------- the token

def read_token(secret: str, region: str, deadline: float, client: Any = None,
               sleep: Callable[[float], None] = time.sleep) -> str:
    """The API token from its secret (name or ARN). The value is returned, never shown."""
    client = client or (aws.secretsmanager_client(secret) if secret.startswith("arn:")
                        else aws.client("secretsmanager", region))
    patience = min(time.monotonic() + TOKEN_GRANT_PATIENCE, deadline)
    while True:
        try:
            answer = client.get_secret_value(SecretId=secret)
            break
        except ClientError as error:
            code = _code(error)
            # A grant made by this very deploy may not have reached every IAM endpoint yet.
            if code in ("AccessDeniedException", "AccessDenied") and time.monotonic() + 2 < patience:
                sleep(2.0)
                continue
            fix = {"ResourceNotFoundException": "Fix: create the secret (aws secretsmanager create-secret "
                   f"--name {secret} --secret-string TOKEN) in the stack's region, or set "
                   "logzioApiTokenSecret to the name or ARN of the secret that holds the Logz.io API token.",
                   }.get(code, "Fix: the probe function's role is granted secretsmanager:GetSecretValue on "
                         "this secret only; a secret encrypted with a customer-managed KMS key also needs "
                         "kms:Decrypt for that role in the key's policy. Then deploy again.")
            raise HandoffFailed(f"Could not read the Logz.io API token from secret {secret} ({code}).",
                                fix) from None
        except BotoCoreError as error:
            raise HandoffFailed(f"Could not reach Secrets Manager for the Logz.io API token "
                                f"({type(error).__name__}).",
                                "Fix: check the function's network path to Secrets Manager, then deploy "
                                "again.") from None
    return parse_token(secret, answer)


def parse_token(secret: str, answer: Mapping[str, Any]) -> str:
    text = answer.get("SecretString")
    fix = (f"Fix: put the token alone into the secret: aws secretsmanager put-secret-value --secret-id "
           f"{secret} --secret-string TOKEN (or JSON {{\"token\": \"...\"}}).")
    if not isinstance(text, str) or not text.strip():
        raise HandoffFailed(f"Secret {secret} holds no Logz.io API token (empty or binary).", fix)
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            raise HandoffFailed(f"Secret {secret} starts like JSON but is not JSON.", fix) from None
        strings = {k: v for k, v in value.items() if isinstance(v, str) and v.strip()} \
            if isinstance(value, dict) else {}
        named = [strings[k] for k in TOKEN_FIELDS if k in strings]
        if named:
            return named[0].strip()
        if len(strings) == 1:
            return next(iter(strings.values())).strip()
        names = ", ".join(sorted(k for k in strings if k.isidentifier())[:8]) or "none"
        raise HandoffFailed(f"Secret {secret} holds JSON without one token field (fields: {names}).", fix)
    return text


def _code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


# --------------------------------------------------------------------------- delete

def _delete(request: CustomResourceRequest, responder: Responder, hard_deadline: float) -> None:
    """Never fails: whatever happened is in the reason and the log."""
    outcome = disable(request.properties, request.physical_resource_id, hard_deadline)
    log.info("delete: %s", outcome)
    responder.succeed({}, reason=outcome)


def disable(properties: Mapping[str, Any], physical: str | None, deadline: float,
            api_factory: Callable[[str, str, float], Any] | None = None) -> str:
    """Turn Logz.io's archive setting off if it still archives to this bucket as this
    principal; returns what happened."""
    settings_id = settings_id_of(physical)
    if settings_id is None:
        return "no Logz.io archive setting was registered by this resource: nothing to disable"
    try:
        props = HandoffProperties.parse(properties)
    except BadRequest as error:
        return f"Logz.io archive setting {settings_id} left as it was: {error}"
    if props.on_delete == "keep":
        return f"Logz.io archive setting {settings_id} kept as it is (logzioOnDelete=keep)"
    try:
        token = read_token(props.token_secret, props.region, deadline)
        api = (api_factory or LogzioApi)(props.api_url, token, deadline)
        try:
            current = api.get_settings(settings_id)
        except LogzioApiError as error:
            if error.status == 404:
                return f"Logz.io archive setting {settings_id} no longer exists: nothing to disable"
            raise
        settings = (current or {}).get("settings") or {}
        s3 = settings.get("amazonS3StorageSettings") or {}
        held = ((s3.get("s3IamCredentials") or {}).get("arn") or (s3.get("s3SecretCredentials") or {}).get("accessKey"))
        if s3.get("path") and s3.get("path") != props.bucket_name:
            return (f"Logz.io archive setting {settings_id} now archives to bucket {s3.get('path')}, not "
                    f"{props.bucket_name}: left as it is")
        if held and props.principal and held != props.principal and not held.startswith("*"):
            return (f"Logz.io archive setting {settings_id} now uses {held}, not {props.principal}: left as it is")
        if settings.get("enabled") is False:
            return f"Logz.io archive setting {settings_id} was already disabled"
        try:
            body = _body(props, enabled=False)
        except HandoffFailed as failed:
            # The key's secret may be gone already: disable what Logz.io holds.
            log.warning("disabling with Logz.io's stored settings: %s", failed.what)
            body = {**settings, "enabled": False}
        api.update_settings(settings_id, body)
        return (f"Logz.io archive setting {settings_id} disabled (its principal is deleted with the stack); "
                "the bucket and its archives stay")
    except HandoffFailed as failed:
        return f"Logz.io archive setting {settings_id} could not be disabled: {failed.what} {failed.fix}"
    except LogzioApiError as error:
        return f"Logz.io archive setting {settings_id} could not be disabled: {error.what} {error.fix}"
