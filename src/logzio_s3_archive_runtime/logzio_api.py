"""Logz.io's archive settings API, and nothing else (standard library only: ships in the Lambda).

Endpoints (https://api-docs.logz.io/docs/logz/archive-logs; the public OpenAPI file and
logzio/logzio_terraform_client archive_logs/*.go for the shapes):

    GET    /v2/archive/settings          the account's settings: [{"id": 1234, "settings": {...}}]
    POST   /v2/archive/settings          create (one archive per Logz.io account)
    GET    /v2/archive/settings/{id}     one setting
    PUT    /v2/archive/settings/{id}     update (also switches KEYS <-> IAM)
    DELETE /v2/archive/settings/{id}     delete
    POST   /v2/archive/settings/test     Logz.io writes a test object to the bucket as the principal

Authentication: the ``X-API-TOKEN`` header (an API token: Pro and Enterprise plans only).
The settings body is built in ``archive_body`` and the test request in ``test_request_body``,
each in one place. The test request follows Logz.io's published schema (the "Archive logs
API" OpenAPI description, ``TestStorageRequest``): ``{"archiveSettings": <the settings>}``,
plus ``"id"`` when the account already has the setting the test is for. A test passes only
on a 2xx whose body reports no failure (``test_failure``: the real server's failure body is
not public, so the reading is defensive; docs/facts.md).

Every request has a bounded timeout; 429 and 5xx are retried with exponential backoff and
jitter (Retry-After honoured) but never past the caller's deadline (a ``time.monotonic()``
value). The API token and any secret key never appear in a log line or an exception.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

#: Region code -> API host (logzioRegion). "us" is the default region (api.logz.io).
REGION_HOSTS = {
    "us": "https://api.logz.io",
    "au": "https://api-au.logz.io",
    "ca": "https://api-ca.logz.io",
    "eu": "https://api-eu.logz.io",
    "uk": "https://api-uk.logz.io",
    "nl": "https://api-nl.logz.io",
    "wa": "https://api-wa.logz.io",
}

SETTINGS_PATH = "/v2/archive/settings"
TEST_PATH = "/v2/archive/settings/test"

#: connect + read of one request, at most (less when the deadline is nearer).
REQUEST_TIMEOUT = 10.0
#: A request is not started with less time than this left before the deadline.
MIN_REQUEST_SECONDS = 1.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
#: Attempts of one call when the caller gave no deadline.
MAX_ATTEMPTS = 5
#: Logz.io's own text is cut to this many characters in messages.
MESSAGE_LIMIT = 500

_SECRET_FIELD = re.compile(r'("(?:secretKey|clientSecret)"\s*:\s*)"(?:[^"\\]|\\.)*"')


# --------------------------------------------------------------------------- settings

def api_url(region: str | None = None, url: str | None = None) -> str:
    """The API's base URL from ``logzioRegion`` or ``logzioApiUrl`` (not both; neither: us)."""
    if region and url:
        raise ValueError("logzioRegion and logzioApiUrl are both set: set only one (logzioApiUrl is "
                         "for a region not listed, or a local stand-in).")
    if url:
        parsed = urllib.parse.urlsplit(url.strip())
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError(f"logzioApiUrl {url!r} is not a URL: set a full URL such as "
                             f"https://api-eu.logz.io (https, or http for a local stand-in).")
        if parsed.username or parsed.password or parsed.query or parsed.fragment:
            raise ValueError("logzioApiUrl must be a plain base URL (no user, query or fragment): "
                             "the token goes in the API token secret, e.g. https://api-eu.logz.io.")
        return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))
    code = (region or "us").strip().lower()
    if code not in REGION_HOSTS:
        raise ValueError(f"logzioRegion {region!r} is not a known Logz.io region: use one of "
                         f"{', '.join(REGION_HOSTS)} (your account's region, shown in Logz.io's "
                         f"settings), or set logzioApiUrl to the full API URL instead.")
    return REGION_HOSTS[code]


def archive_body(bucket: str, *, access_key: str | None = None, secret_key: str | None = None,
                 role_arn: str | None = None, enabled: bool = True) -> dict:
    """The settings body of create, update and test: the bucket's root, keys or a role.

    {"storageType": "S3", "enabled": true, "compressed": true,
     "amazonS3StorageSettings": {"credentialsType": "KEYS", "path": "<bucket>",
                                 "s3SecretCredentials": {"accessKey": "...", "secretKey": "..."}}}
    or with ``"credentialsType": "IAM", "s3IamCredentials": {"arn": "<role arn>"}``.
    """
    if not bucket or "/" in bucket:
        raise ValueError(f"bucket {bucket!r}: the archive path is the bucket's name (its root; "
                         f"Logz.io cannot restore from a sub-path).")
    keys = access_key is not None or secret_key is not None
    if keys == (role_arn is not None):
        raise ValueError("archive_body needs either access_key and secret_key, or role_arn.")
    s3: dict[str, Any] = {"path": bucket}
    if role_arn is not None:
        s3.update(credentialsType="IAM", s3IamCredentials={"arn": role_arn})
    else:
        if not access_key or not secret_key:
            raise ValueError("archive_body needs both access_key and secret_key.")
        s3.update(credentialsType="KEYS",
                  s3SecretCredentials={"accessKey": access_key, "secretKey": secret_key})
    return {"storageType": "S3", "enabled": bool(enabled), "compressed": True, "amazonS3StorageSettings": s3}


def test_request_body(body: dict, settings_id: int | str | None = None) -> dict:
    """What POST /v2/archive/settings/test is sent: Logz.io's ``TestStorageRequest``,
    ``{"id": <int32>, "archiveSettings": <ArchiveSettings>}``, the settings to test (as
    create/update) and, when the account already has the setting they would replace, its id.

    (The public OpenAPI file lists ``id`` and ``archiveSettings`` under ``TestStorageRequest``
    next to a ``properties: null``: read as that object's two properties.)"""
    request: dict[str, Any] = {"archiveSettings": body}
    if settings_id is not None:
        request["id"] = int(settings_id)
    return request


test_request_body.__test__ = False  # not a pytest test

#: ``status`` values of a test answer that say it passed (any case).
TEST_PASSED_STATUSES = ("SUCCESS", "SUCCEEDED", "OK", "PASSED", "PASS", "TRUE")
#: Words of a ``message`` (or a bare string answer) that say the test did not pass, when
#: nothing in the answer says it did.
_FAILURE_WORDS = re.compile(r"\b(fail(s|ed|ure)?|error|denied|invalid|unable|could ?not|cannot|can't|"
                            r"forbidden|not (allowed|authori[sz]ed|found|permitted))\b", re.IGNORECASE)


def test_failure(answer: Any) -> str | None:
    """Why a 2xx answer of /test still reports a failed test, or None when it does not.

    Logz.io's schema gives the answer no body ("returns the status code"), and the real
    server's failure body is not public: this reads it defensively. A failure is a JSON
    answer that is ``false``; an object with ``success`` false (or "false"), a ``status``
    that is a number outside 200-299 or a string not in TEST_PASSED_STATUSES, or a non-empty
    ``errorCode``, ``error`` or ``errorMessage``; or, when neither ``success`` true nor a
    passed ``status`` says otherwise, a ``message`` (or a bare string answer) with a word of
    failure ("failed", "denied", "error", "invalid", "cannot", ...). An empty body, ``true``,
    an object with none of these fields, or a plain confirmation passes."""
    if answer is False:
        return "Logz.io answered false"
    if isinstance(answer, str):
        return f"Logz.io answered {answer!r}" if _FAILURE_WORDS.search(answer) else None
    if not isinstance(answer, dict):
        return None
    message = answer.get("message") or answer.get("errorMessage") or ""
    said = f": {message}" if message else ""
    success = answer.get("success")
    if success is False or (isinstance(success, str) and success.strip().lower() == "false"):
        return f"success is false{said}"
    status = answer.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and not 200 <= status < 300:
        return f"status {status}{said}"
    if isinstance(status, str) and status.strip() and status.strip().upper() not in TEST_PASSED_STATUSES:
        return f"status {status}{said}"
    for field in ("errorCode", "error", "errorMessage"):
        if answer.get(field) not in (None, "", False, [], {}):
            return f"{field} {answer[field]}{': ' + str(answer['message']) if answer.get('message') else ''}"
    passed = success is True or (isinstance(success, str) and success.strip().lower() == "true") or (
        isinstance(status, str) and status.strip().upper() in TEST_PASSED_STATUSES) or (
        isinstance(status, int) and 200 <= status < 300)
    if not passed and isinstance(message, str) and _FAILURE_WORDS.search(message):
        return f"message: {message}"
    return None


test_failure.__test__ = False  # not a pytest test


def find_s3_setting(settings_list: Any) -> dict | None:
    """The account's one archive setting ({"id", "settings"}), the enabled one first, then S3.

    Accepts the list GET /v2/archive/settings answers, or a single setting object. A
    BLOB (Azure) setting is returned too: updating it is how an account switches to S3."""
    if not settings_list:
        return None
    items = [settings_list] if isinstance(settings_list, dict) else list(settings_list)
    items = [item for item in items if isinstance(item, dict) and item.get("id") is not None]
    if not items:
        return None

    def rank(item: dict) -> tuple[int, int]:
        settings = item.get("settings") or {}
        return (0 if settings.get("enabled") else 1, 0 if settings.get("storageType") == "S3" else 1)

    return sorted(items, key=rank)[0]


# --------------------------------------------------------------------------- errors

class LogzioApiError(Exception):
    """A call to Logz.io's API failed: what happened (operation, HTTP status, Logz.io's own
    message) and the fix. Never holds the token or a secret key."""

    def __init__(self, what: str, fix: str, status: int | None = None, logzio_message: str = ""):
        super().__init__(f"{what} {fix}".strip())
        self.what = what
        self.fix = fix
        self.status = status
        self.logzio_message = logzio_message


def _fix_for(operation: str, status: int | None, test: bool, by_id: bool) -> str:
    if status in (401, 403):
        return ("Fix: the API token is wrong, revoked, or belongs to another region or account "
                "(put a valid API token of the Logz.io account into the token secret; set "
                "logzioRegion/logzioApiUrl to the account's region), or the plan has no API access "
                "(Pro and Enterprise plans only).")
    if status == 404 and by_id:
        return ("Fix: the archive setting was deleted meanwhile (in Logz.io's page or by another "
                "deploy); deploy again to create it.")
    if test and status == 400:
        return ("Fix: Logz.io could not write to the bucket as the principal. With keys: the key "
                "is wrong, inactive or deleted, or lacks s3:PutObject on the bucket. With a role: "
                "its trust policy must allow sts:AssumeRole for Logz.io's AWS account with the "
                "external id Logz.io shows for this account (sts:ExternalId), and its policy must "
                "allow writing to the bucket. Check also the bucket policy and its KMS key.")
    if status == 400:
        return "Fix: correct the settings named in Logz.io's message and deploy again."
    if status == 429 or (status is not None and status >= 500) or status is None:
        return ("Fix: Logz.io is busy or unreachable (retried until the deadline); try again "
                "later, and check https://status.logz.io.")
    return "Fix: see Logz.io's message."


# --------------------------------------------------------------------------- client

class LogzioApi:
    """Logz.io's archive settings API. Thin: one method per endpoint, parsed JSON back."""

    def __init__(self, base_url: str, token: str, deadline: float | None = None):
        if not token:
            raise ValueError("The Logz.io API token is empty: put the API token into the token secret.")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.deadline = deadline
        # Secrets this client has seen (the token, secret keys it sent): redacted in messages.
        self._secrets: set[str] = {token}
        self._sleep = time.sleep
        self._clock = time.monotonic

    def __repr__(self) -> str:
        return f"LogzioApi(base_url={self.base_url!r}, token='***')"

    # ----------------------------------------------------------------- endpoints
    def list_settings(self) -> list:
        result = self._call("list archive settings", "GET", SETTINGS_PATH)
        if isinstance(result, dict):  # the OpenAPI file documents one object
            return [result]
        return result or []

    def get_settings(self, settings_id: int | str) -> dict:
        return self._call(f"read archive setting {settings_id}", "GET", f"{SETTINGS_PATH}/{int(settings_id)}",
                          by_id=True)

    def create_settings(self, body: dict) -> dict:
        return self._call("create the archive setting", "POST", SETTINGS_PATH, body)

    def update_settings(self, settings_id: int | str, body: dict) -> dict:
        return self._call(f"update archive setting {settings_id}", "PUT", f"{SETTINGS_PATH}/{int(settings_id)}",
                          body, by_id=True)

    def delete_settings(self, settings_id: int | str) -> Any:
        return self._call(f"delete archive setting {settings_id}", "DELETE",
                          f"{SETTINGS_PATH}/{int(settings_id)}", by_id=True)

    def test_settings(self, body: dict, settings_id: int | str | None = None) -> Any:
        """Logz.io's test of ``body``; ``settings_id``: the account's setting it would replace."""
        return self._call("Logz.io's archive test", "POST", TEST_PATH, test_request_body(body, settings_id),
                          test=True)

    # ----------------------------------------------------------------- plumbing
    def _redact(self, text: str) -> str:
        text = _SECRET_FIELD.sub(r'\1"***"', text)
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _remember_secrets(self, body: Any) -> None:
        if isinstance(body, dict):
            for key, value in body.items():
                if key in ("secretKey", "clientSecret") and isinstance(value, str):
                    self._secrets.add(value)
                else:
                    self._remember_secrets(value)

    def _logzio_message(self, raw: bytes) -> str:
        text = raw.decode("utf-8", "replace").strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, str):  # Logz.io answers some errors with a JSON string
            text = parsed
        elif isinstance(parsed, dict):
            parts = [str(parsed[k]) for k in ("errorCode", "message", "errorMessage", "error")
                     if parsed.get(k) not in (None, "")]
            if parts:
                text = ": ".join(dict.fromkeys(parts))
        text = self._redact(text)
        return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "..."

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self._clock()

    def _call(self, operation: str, method: str, path: str, body: Any = None, *,
              test: bool = False, by_id: bool = False) -> Any:
        self._remember_secrets(body)
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-API-TOKEN": self._token, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        # A create is not repeated after a lost answer (it may have been stored): only an
        # answer of 429/5xx is retried for POST; the others also retry a connection failure.
        retry_network = method in ("GET", "PUT", "DELETE")
        attempt = 0
        while True:
            attempt += 1
            remaining = self._remaining()
            if remaining is not None and remaining < MIN_REQUEST_SECONDS:
                raise LogzioApiError(
                    f"{operation}: no time left before the deadline (attempt {attempt}).",
                    _fix_for(operation, None, test, by_id), None, "")
            timeout = REQUEST_TIMEOUT if remaining is None else min(REQUEST_TIMEOUT, remaining)
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            status: int | None
            retry_after: str | None = None
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    raw = response.read()
                    log.info("Logz.io %s %s -> %s (attempt %d)", method, path, response.status, attempt)
                    if not raw.strip():
                        return None
                    try:
                        return json.loads(raw)
                    except ValueError:
                        raise LogzioApiError(
                            f"{operation}: Logz.io answered HTTP {response.status} with a body that is not "
                            f"JSON: {self._logzio_message(raw)!r}.",
                            "Fix: check logzioApiUrl points at Logz.io's API (e.g. https://api-eu.logz.io).",
                            response.status, self._logzio_message(raw)) from None
            except urllib.error.HTTPError as error:
                status = error.code
                raw = error.read() or b""
                retry_after = error.headers.get("Retry-After") if error.headers else None
                message = self._logzio_message(raw)
                log.warning("Logz.io %s %s -> %s (attempt %d): %s", method, path, status, attempt, message)
                retryable = status == 429 or status >= 500
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
                status = None
                reason = getattr(error, "reason", error)
                message = self._redact(f"{type(error).__name__}: {reason}")
                log.warning("Logz.io %s %s failed (attempt %d): %s", method, path, attempt, message)
                retryable = retry_network
            if not retryable:
                shown = f"HTTP {status}" if status is not None else "no answer"
                raise LogzioApiError(f"{operation} failed: Logz.io answered {shown}: {message}.",
                                     _fix_for(operation, status, test, by_id), status, message)
            wait = self._backoff(attempt, retry_after)
            remaining = self._remaining()
            if (remaining is None and attempt >= MAX_ATTEMPTS) or (
                    remaining is not None and wait + MIN_REQUEST_SECONDS > remaining):
                shown = f"HTTP {status}" if status is not None else "no answer"
                raise LogzioApiError(
                    f"{operation} failed: Logz.io answered {shown} ({message}) after {attempt} attempt(s); "
                    f"{'the deadline leaves no time for another' if remaining is not None else 'giving up'}.",
                    _fix_for(operation, status, test, by_id), status, message)
            self._sleep(wait)

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> float:
        wait = random.uniform(0.5, 1.0) * min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        if retry_after:
            try:
                wait = max(wait, float(retry_after))
            except ValueError:
                try:
                    wait = max(wait, email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time())
                except (TypeError, ValueError, IndexError):
                    pass  # unreadable: the backoff stands
        return max(0.0, wait)
