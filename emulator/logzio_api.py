"""An embedded Logz.io archive settings API for the emulator (same process, a thread, 127.0.0.1).

    with Emulator() as emu, LogzioApiServer(emu, token="t0ken") as logzio:
        url = logzio.url            # give it to the stack as logzioApiUrl
        ...
        logzio.history              # [(time, access key id | role ARN | None), ...]

Endpoints, as Logz.io documents them (X-API-TOKEN header; JSON):

    GET    /v2/archive/settings          [{"id": 1001, "settings": {...}}] (the terraform client's shape)
    POST   /v2/archive/settings          create; 400 when the account already has one
    GET    /v2/archive/settings/{id}     404 "archive id N not found" (a JSON string, as Logz.io)
    PUT    /v2/archive/settings/{id}     update (KEYS <-> IAM too)
    DELETE /v2/archive/settings/{id}     200, empty body
    POST   /v2/archive/settings/test     Logz.io's test (below)

A wrong or missing token answers 401. Responses carry the settings as stored (the secret
key too, as the terraform client's fixtures show) and, for IAM, ``s3IamCredentials.externalId``.

``/test`` does what Logz.io does, through the emulator's AWS endpoint with IAM enforced:
KEYS: PutObject ``logzio-verified`` at the bucket's root as that key; IAM: as Logz.io's AWS
account (an IAM user in moto's IAM backend of ``account_id``), sts:AssumeRole with the role
ARN and the account's external id, then PutObject with the temporary credentials. 200
``{"status": "SUCCESS", ...}`` or 400 with the reason (AccessDenied, InvalidAccessKeyId,
NoSuchBucket...). The test request's body is Logz.io's published ``TestStorageRequest``
(the "Archive logs API" OpenAPI description): ``{"archiveSettings": {...}}`` with an optional
integer ``id``, and nothing else; any other body (the bare settings included) is refused with
400, as a server that validates against that schema would. Whether the real server checks
that ``id`` names an existing setting is not public: not checked here.

``history`` records, at each settings change, which credentials Logz.io then held (None
after a delete); ``changes`` the same with the operation, id and enabled flag; ``requests``
every (method, path, status). ``fail_next(status, times, retry_after)`` makes the next
answers fail (429/5xx) to exercise a client's retries; ``refuse_next_create(status)`` makes
the next POST /v2/archive/settings (only that) answer a 4xx, after Logz.io's test passed.

Not modelled: Azure BLOB storage (400), restore, sub-accounts and several Logz.io accounts
(one token, one account), Logz.io's own validation of fields beyond the S3 shape, the real
error texts (Logz.io's are not public: the errorCode/message/requestId shape is that of its
other APIs), and archiving itself (nothing is written except by /test).
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("emulator.logzio")

LOGZIO_AWS_ACCOUNT = "406095609952"
LOGZIO_USER = "logzio-archiver"
TEST_OBJECT_KEY = "logzio-verified"
SETTINGS_PATH = "/v2/archive/settings"

# Logz.io's IAM user is process-wide, as moto's state: its key is shared by every server.
_LOGZIO_KEYS: dict[str, tuple[str, str]] = {}
_KEYS_LOCK = threading.Lock()


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, code: str, message: str, **parameters: Any) -> _Reply:
    return _Reply(status, {"errorCode": code, "message": message, "requestId": str(uuid.uuid4()),
                           "parameters": parameters})


class LogzioApiServer:
    """Logz.io's archive settings API for one Logz.io account, served on 127.0.0.1."""

    def __init__(self, emu: Any, token: str, account_id: str = LOGZIO_AWS_ACCOUNT,
                 external_id: str | None = None):
        self.emu = emu
        self.token = token
        #: Logz.io's AWS account: the one a role's trust policy must name.
        self.account_id = account_id
        #: One per Logz.io account, as Logz.io generates it; shown in IAM settings responses.
        self.external_id = external_id or f"logzio:aws:extid:{secrets.token_hex(8)}"
        self.settings: dict[int, dict] = {}
        self.history: list[tuple[float, str | None]] = []
        self.changes: list[dict] = []
        self.requests: list[tuple[str, str, int]] = []
        self.tests: list[dict] = []
        self.url = ""
        self._next_id = 1001
        self._faults: list[tuple[int, str | None]] = []
        self._refused_creates: list[int] = []
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> str:
        if self._httpd is None:
            server = self

            class Handler(_Handler):
                api = server

            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self._httpd.daemon_threads = True
            self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                            name="logzio-api", daemon=True)
            self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "LogzioApiServer":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----------------------------------------------------------------- test helpers
    def fail_next(self, status: int = 503, times: int = 1, retry_after: str | None = None) -> None:
        """The next ``times`` requests (token checked first) answer ``status``."""
        with self._lock:
            self._faults.extend([(status, retry_after)] * times)

    def refuse_next_create(self, status: int = 400, times: int = 1) -> None:
        """The next ``times`` creates (POST /v2/archive/settings) answer ``status`` (a 4xx, not
        retried by a client) and store nothing; other requests are served as usual."""
        with self._lock:
            self._refused_creates.extend([status] * times)

    def held(self) -> str | None:
        """The credentials Logz.io holds now (access key id or role ARN), None without a setting."""
        return self.history[-1][1] if self.history else None

    # ----------------------------------------------------------------- the API
    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> _Reply:
        if headers.get("X-API-TOKEN") != self.token:
            return _error(401, "UNAUTHORIZED", "Insufficient privileges: invalid or missing API token")
        with self._lock:
            if self._faults:
                status, retry_after = self._faults.pop(0)
                return _Reply(status, "server error occurred",
                              {"Retry-After": retry_after} if retry_after else None)
        path = path.split("?", 1)[0].rstrip("/")
        body = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                return _error(400, "BAD_REQUEST", "Request body is not valid JSON")
        if path == SETTINGS_PATH:
            if method == "GET":
                with self._lock:
                    return _Reply(200, [self._view(i) for i in sorted(self.settings)])
            if method == "POST":
                return self._create(body)
        elif path == SETTINGS_PATH + "/test":
            if method == "POST":
                return self._test(body)
        elif path.startswith(SETTINGS_PATH + "/"):
            tail = path[len(SETTINGS_PATH) + 1:]
            if not tail.isdigit():
                return _error(400, "BAD_REQUEST", f"Invalid archive id: {tail}")
            settings_id = int(tail)
            with self._lock:
                if settings_id not in self.settings:
                    return _Reply(404, f"archive id {settings_id} not found")
                if method == "GET":
                    return _Reply(200, self._view(settings_id))
                if method == "PUT":
                    settings = self._validate(body)
                    self.settings[settings_id] = settings
                    self._record("update", settings_id, settings)
                    return _Reply(200, self._view(settings_id))
                if method == "DELETE":
                    del self.settings[settings_id]
                    self._record("delete", settings_id, None)
                    return _Reply(200, None)
        return _error(404, "NOT_FOUND", f"No such endpoint: {method} {path}")

    def _create(self, body: Any) -> _Reply:
        settings = self._validate(body)
        with self._lock:
            if self._refused_creates:
                raise _error(self._refused_creates.pop(0), "archive/CREATE_REFUSED",
                             "Archive settings could not be created (refused by the emulator's test hook)")
            if self.settings:
                existing = next(iter(self.settings))
                raise _error(400, "archive/ARCHIVE_ALREADY_EXISTS",
                             f"Account already has an archive settings (id {existing}); "
                             f"only one archive can be configured per account", archiveId=existing)
            settings_id = self._next_id
            self._next_id += 1
            self.settings[settings_id] = settings
            self._record("create", settings_id, settings)
            return _Reply(200, self._view(settings_id))

    def _validate(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise _error(400, "BAD_REQUEST", "Archive settings are required")
        if body.get("storageType") != "S3":
            raise _error(400, "BAD_REQUEST", f"storageType {body.get('storageType')!r} is not supported "
                                             f"by the emulator (S3 only)")
        s3 = body.get("amazonS3StorageSettings") or {}
        if not s3.get("path"):
            raise _error(400, "BAD_REQUEST", "amazonS3StorageSettings.path must be set")
        kind = s3.get("credentialsType")
        settings = {"storageType": "S3", "enabled": body.get("enabled", True) is not False,
                    "compressed": body.get("compressed", True) is not False,
                    "amazonS3StorageSettings": {"credentialsType": kind, "path": s3["path"],
                                                "s3SecretCredentials": None, "s3IamCredentials": None},
                    "azureBlobStorageSettings": None}
        if kind == "KEYS":
            keys = s3.get("s3SecretCredentials") or {}
            if not keys.get("accessKey") or not keys.get("secretKey"):
                raise _error(400, "BAD_REQUEST", "s3SecretCredentials.accessKey and secretKey must be set")
            settings["amazonS3StorageSettings"]["s3SecretCredentials"] = {
                "accessKey": keys["accessKey"], "secretKey": keys["secretKey"]}
        elif kind == "IAM":
            arn = (s3.get("s3IamCredentials") or {}).get("arn")
            if not arn:
                raise _error(400, "BAD_REQUEST", "s3IamCredentials.arn must be set")
            settings["amazonS3StorageSettings"]["s3IamCredentials"] = {"arn": arn, "externalId": self.external_id}
        else:
            raise _error(400, "BAD_REQUEST", "credentialsType must be one of [IAM KEYS]")
        return settings

    def _view(self, settings_id: int) -> dict:
        return {"id": settings_id, "settings": copy.deepcopy(self.settings[settings_id])}

    @staticmethod
    def _principal(settings: dict | None) -> str | None:
        if settings is None:
            return None
        s3 = settings["amazonS3StorageSettings"]
        if s3["credentialsType"] == "IAM":
            return s3["s3IamCredentials"]["arn"]
        return s3["s3SecretCredentials"]["accessKey"]

    def _record(self, operation: str, settings_id: int, settings: dict | None) -> None:
        now = time.time()
        principal = self._principal(settings)
        self.history.append((now, principal))
        self.changes.append({"time": now, "operation": operation, "id": settings_id, "principal": principal,
                             "enabled": None if settings is None else settings["enabled"],
                             "path": None if settings is None else settings["amazonS3StorageSettings"]["path"]})
        log.info("Logz.io archive setting %s %s: %s", operation, settings_id, principal)

    # ----------------------------------------------------------------- /test
    def _test(self, body: Any) -> _Reply:
        settings_id = body.get("id") if isinstance(body, dict) else None
        body = self._test_storage_request(body)
        settings = self._validate(body)
        s3 = settings["amazonS3StorageSettings"]
        bucket = s3["path"]
        principal = self._principal(settings)
        try:
            if s3["credentialsType"] == "KEYS":
                creds = {"aws_access_key_id": s3["s3SecretCredentials"]["accessKey"],
                         "aws_secret_access_key": s3["s3SecretCredentials"]["secretKey"]}
            else:
                creds = self._assume(s3["s3IamCredentials"]["arn"])
            self.emu.client("s3", **creds).put_object(
                Bucket=bucket, Key=TEST_OBJECT_KEY, Body=b"Logz.io archive settings test\n")
        except _TestFailure as failure:
            self.tests.append({"time": time.time(), "principal": principal, "bucket": bucket, "ok": False,
                               "reason": failure.reason, "id": settings_id})
            raise _error(400, "archive/TEST_FAILED", failure.reason, bucket=bucket) from None
        except Exception as error:  # botocore ClientError and kin
            reason = _aws_reason(error)
            self.tests.append({"time": time.time(), "principal": principal, "bucket": bucket, "ok": False,
                               "reason": reason, "id": settings_id})
            raise _error(400, "archive/TEST_FAILED",
                         f"Failed to write a test file to bucket {bucket}: {reason}", bucket=bucket) from None
        self.tests.append({"time": time.time(), "principal": principal, "bucket": bucket, "ok": True,
                           "reason": "", "id": settings_id})
        return _Reply(200, {"status": "SUCCESS", "message": f"Logz.io wrote {TEST_OBJECT_KEY} to {bucket}"})

    @staticmethod
    def _test_storage_request(body: Any) -> Any:
        """The ``archiveSettings`` of a TestStorageRequest ``{"id"?: int32, "archiveSettings": {...}}``;
        400 for any other body."""
        shape = 'a TestStorageRequest {"id": <integer, optional>, "archiveSettings": {...}}'
        if not isinstance(body, dict):
            raise _error(400, "BAD_REQUEST", f"The test request must be {shape}")
        unknown = sorted(set(body) - {"id", "archiveSettings"})
        if unknown:
            raise _error(400, "BAD_REQUEST", f"Unrecognized field(s) {', '.join(map(repr, unknown))} in the test "
                                             f"request: it must be {shape}")
        if not isinstance(body.get("archiveSettings"), dict):
            raise _error(400, "BAD_REQUEST", f"archiveSettings is required: the test request must be {shape}")
        settings_id = body.get("id")
        if settings_id is not None and (isinstance(settings_id, bool) or not isinstance(settings_id, int)
                                        or not -2**31 <= settings_id < 2**31):
            raise _error(400, "BAD_REQUEST", f"id {settings_id!r} is not an int32: the test request must be {shape}")
        return body["archiveSettings"]

    def _assume(self, role_arn: str) -> dict[str, str]:
        key_id, secret = self._logzio_credentials()
        sts = self.emu.client("sts", aws_access_key_id=key_id, aws_secret_access_key=secret)
        try:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="logzio-archive-test",
                                    ExternalId=self.external_id)["Credentials"]
        except Exception as error:
            raise _TestFailure(
                f"Failed to assume role {role_arn} as Logz.io's AWS account {self.account_id} with external "
                f"id {self.external_id}: {_aws_reason(error)}") from None
        return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"]}

    def _logzio_credentials(self) -> tuple[str, str]:
        """Logz.io's own IAM user in moto's IAM backend of its account (re-made after a reset)."""
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        with _KEYS_LOCK:
            iam = iam_backends[self.account_id][get_partition(self.emu.region)]
            cached = _LOGZIO_KEYS.get(self.account_id)
            if cached is not None and LOGZIO_USER in iam.users and cached[0] in iam.access_keys:
                return cached
            if LOGZIO_USER not in iam.users:
                iam.create_user(self.emu.region, LOGZIO_USER)
            iam.put_user_policy(LOGZIO_USER, "assume-customer-roles", json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
            for old in list(iam.users[LOGZIO_USER].access_keys):  # secrets unknown: replaced
                iam.delete_access_key(old.access_key_id, LOGZIO_USER)
            key = iam.create_access_key(LOGZIO_USER)
            _LOGZIO_KEYS[self.account_id] = (key.access_key_id, key.secret_access_key)
            return _LOGZIO_KEYS[self.account_id]


class _TestFailure(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _aws_reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        err = response["Error"]
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


class _Handler(BaseHTTPRequestHandler):
    api: LogzioApiServer
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            reply = self.api.handle(method, self.path, self.headers, raw)
        except _Reply as raised:
            reply = raised
        except Exception as error:  # a bug here must still answer
            log.exception("Logz.io emulator failed")
            reply = _Reply(500, f"server error occurred: {type(error).__name__}")
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if data:
            self.send_header("Content-Type", "application/json")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.api._lock:
            self.api.requests.append((method, self.path, reply.status))

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # quiet; never logs headers
        pass
