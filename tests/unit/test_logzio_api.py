"""logzio_s3_archive_runtime/logzio_api.py against a local http.server stub (loopback only)."""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from logzio_s3_archive_runtime import logzio_api
from logzio_s3_archive_runtime.logzio_api import (LogzioApi, LogzioApiError, api_url, archive_body, find_s3_setting,
                                      test_failure, test_request_body)

TOKEN = "tok-5ecret-api-token-value"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecretKEY"


class Stub:
    """Answers queued (status, body, headers) in order; records every request."""

    def __init__(self):
        self.answers = []
        self.requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                stub.requests.append({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}, "body": json.loads(raw) if raw else None})
                status, body, headers = stub.answers.pop(0) if stub.answers else (200, {}, {})
                data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, status, body=None, headers=None, times=1):
        self.answers.extend([(status, body, headers)] * times)


@pytest.fixture
def stub():
    server = Stub()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(logzio_api.random, "uniform", lambda a, b: 1.0)
    return slept


def client(stub, deadline=None, slept=None):
    api = LogzioApi(stub.url, TOKEN, deadline=deadline)
    if slept is not None:
        api._sleep = slept.append
    return api


KEYS = archive_body("acme-logs", access_key="AKIAEXAMPLE", secret_key=SECRET)
ROLE = archive_body("acme-logs", role_arn="arn:aws:iam::123456789012:role/logzio")


# ------------------------------------------------------------------ settings

@pytest.mark.parametrize("region, url, expected", [
    (None, None, "https://api.logz.io"),
    ("us", None, "https://api.logz.io"),
    ("EU", None, "https://api-eu.logz.io"),
    ("au", None, "https://api-au.logz.io"),
    ("ca", None, "https://api-ca.logz.io"),
    ("uk", None, "https://api-uk.logz.io"),
    ("nl", None, "https://api-nl.logz.io"),
    (None, "https://api-xx.logz.io/", "https://api-xx.logz.io"),
    (None, "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
])
def test_api_url(region, url, expected):
    assert api_url(region, url) == expected


@pytest.mark.parametrize("region, url, named", [
    ("mars", None, "logzioRegion"),
    (None, "api.logz.io", "logzioApiUrl"),
    (None, "ftp://api.logz.io", "logzioApiUrl"),
    (None, "https://user:pw@api.logz.io", "logzioApiUrl"),
    (None, "https://api.logz.io?x=1", "logzioApiUrl"),
    ("eu", "https://api-eu.logz.io", "logzioApiUrl"),
])
def test_api_url_refuses_with_the_setting_and_the_fix(region, url, named):
    with pytest.raises(ValueError) as error:
        api_url(region, url)
    message = str(error.value)
    assert named in message and any(fix in message for fix in ("https://api-eu.logz.io", "one of", "set only one"))


def test_archive_body_shapes():
    assert KEYS == {"storageType": "S3", "enabled": True, "compressed": True, "amazonS3StorageSettings": {
        "credentialsType": "KEYS", "path": "acme-logs",
        "s3SecretCredentials": {"accessKey": "AKIAEXAMPLE", "secretKey": SECRET}}}
    assert ROLE["amazonS3StorageSettings"] == {"credentialsType": "IAM", "path": "acme-logs",
                                               "s3IamCredentials": {"arn": "arn:aws:iam::123456789012:role/logzio"}}
    assert archive_body("b", role_arn="arn:r", enabled=False)["enabled"] is False
    for kwargs in ({}, {"access_key": "A"}, {"access_key": "A", "secret_key": "S", "role_arn": "r"}):
        with pytest.raises(ValueError):
            archive_body("b", **kwargs)
    with pytest.raises(ValueError):
        archive_body("b/sub", role_arn="arn:r")



def test_the_test_request_is_logzios_test_storage_request():
    # Logz.io's OpenAPI description: TestStorageRequest {"id": int32, "archiveSettings": ArchiveSettings}.
    assert test_request_body(KEYS) == {"archiveSettings": KEYS}
    assert test_request_body(ROLE, 1234) == {"archiveSettings": ROLE, "id": 1234}
    assert test_request_body(ROLE, "1234") == {"archiveSettings": ROLE, "id": 1234}


@pytest.mark.parametrize("answer", [
    None, True, {}, {"status": "SUCCESS"}, {"status": "ok", "message": "written"}, {"success": True},
    {"success": "true", "message": "Test passed"}, {"status": 200}, "Archive settings are valid",
    # An explicit success outweighs a message that merely mentions a word of failure.
    {"status": "SUCCESS", "message": "no errors"},
])
def test_a_2xx_that_reports_no_failure_passes(answer):
    assert test_failure(answer) is None


@pytest.mark.parametrize("answer, says", [
    (False, "false"),
    ({"success": False, "message": "Access Denied"}, "success is false: Access Denied"),
    ({"success": "false"}, "success is false"),
    ({"status": "FAILED", "message": "could not write"}, "status FAILED: could not write"),
    ({"status": "failure"}, "status failure"),
    ({"status": 403}, "status 403"),
    ({"errorCode": "archive/TEST_FAILED", "message": "AccessDenied"}, "errorCode archive/TEST_FAILED: AccessDenied"),
    ({"error": "Forbidden"}, "error Forbidden"),
    ({"message": "Failed to write a test file to bucket b: AccessDenied"}, "message: Failed to write"),
    ("Access denied to bucket b", "Access denied"),
])
def test_a_2xx_whose_body_reports_a_failure_fails(answer, says):
    assert says in test_failure(answer)


def test_find_s3_setting():
    blob = {"id": 1, "settings": {"storageType": "BLOB", "enabled": False}}
    off = {"id": 2, "settings": {"storageType": "S3", "enabled": False}}
    on = {"id": 3, "settings": {"storageType": "S3", "enabled": True}}
    assert find_s3_setting([]) is None and find_s3_setting(None) is None
    assert find_s3_setting([blob, off, on]) == on
    assert find_s3_setting([blob, off]) == off
    assert find_s3_setting([blob]) == blob
    assert find_s3_setting(on) == on  # the OpenAPI file's single-object answer


# ------------------------------------------------------------------ requests

def test_each_operation_method_path_body_and_headers(stub):
    api = client(stub)
    stub.answer(200, [{"id": 7, "settings": {}}])
    assert api.list_settings() == [{"id": 7, "settings": {}}]
    stub.answer(200, {"id": 7, "settings": {}})
    assert api.get_settings(7)["id"] == 7
    stub.answer(200, {"id": 7})
    api.create_settings(KEYS)
    stub.answer(200, {"id": 7})
    api.update_settings("7", ROLE)
    stub.answer(200, None)
    assert api.delete_settings(7) is None
    stub.answer(200, {"status": "SUCCESS"})
    assert api.test_settings(KEYS) == {"status": "SUCCESS"}
    stub.answer(200, None)
    assert api.test_settings(ROLE, 7) is None
    seen = [(r["method"], r["path"], r["body"]) for r in stub.requests]
    assert seen == [
        ("GET", "/v2/archive/settings", None),
        ("GET", "/v2/archive/settings/7", None),
        ("POST", "/v2/archive/settings", KEYS),
        ("PUT", "/v2/archive/settings/7", ROLE),
        ("DELETE", "/v2/archive/settings/7", None),
        ("POST", "/v2/archive/settings/test", {"archiveSettings": KEYS}),
        ("POST", "/v2/archive/settings/test", {"archiveSettings": ROLE, "id": 7}),
    ]
    for request in stub.requests:
        assert request["headers"]["x-api-token"] == TOKEN
        assert request["headers"]["accept"] == "application/json"
        if request["body"] is not None:
            assert request["headers"]["content-type"] == "application/json"


def test_base_url_with_a_path_prefix(stub):
    api = LogzioApi(stub.url + "/prefix/", TOKEN)
    api.list_settings()
    assert stub.requests[0]["path"] == "/prefix/v2/archive/settings"


def test_retries_429_and_503_then_succeeds_honouring_retry_after(stub, no_sleep):
    stub.answer(429, {"message": "Too many requests"}, {"Retry-After": "3"})
    stub.answer(503, "server error occurred")
    stub.answer(200, [])
    api = client(stub, deadline=time.monotonic() + 60, slept=no_sleep)
    assert api.list_settings() == []
    assert len(stub.requests) == 3
    assert no_sleep == [3.0, 1.0]  # Retry-After, then the backoff (0.5 * 2)


def test_post_retried_on_5xx(stub, no_sleep):
    stub.answer(502, None)
    stub.answer(200, {"id": 1})
    assert client(stub, slept=no_sleep).create_settings(KEYS) == {"id": 1}
    assert len(stub.requests) == 2


def test_gives_up_at_the_deadline_without_sleeping_past_it(stub, no_sleep):
    stub.answer(503, "server error occurred", times=20)
    deadline = time.monotonic() + 5
    api = client(stub, deadline=deadline, slept=no_sleep)
    with pytest.raises(LogzioApiError) as error:
        api.list_settings()
    assert error.value.status == 503 and "try again" in error.value.fix
    assert "deadline" in str(error.value)
    # Never planned to sleep past the deadline (each sleep leaves time for one request).
    assert sum(no_sleep) + logzio_api.MIN_REQUEST_SECONDS <= 5
    assert len(stub.requests) == len(no_sleep) + 1


def test_no_request_once_the_deadline_has_passed(stub):
    with pytest.raises(LogzioApiError) as error:
        client(stub, deadline=time.monotonic() - 1).list_settings()
    assert error.value.status is None and "deadline" in str(error.value)
    assert stub.requests == []


def test_without_a_deadline_attempts_are_bounded(stub, no_sleep):
    stub.answer(500, "server error occurred", times=20)
    with pytest.raises(LogzioApiError):
        client(stub, slept=no_sleep).list_settings()
    assert len(stub.requests) == logzio_api.MAX_ATTEMPTS


def test_request_timeout_is_bounded_by_the_deadline(stub, monkeypatch):
    seen = []
    real = logzio_api.urllib.request.urlopen

    def urlopen(request, timeout):
        seen.append(timeout)
        return real(request, timeout=timeout)

    monkeypatch.setattr(logzio_api.urllib.request, "urlopen", urlopen)
    client(stub).list_settings()
    client(stub, deadline=time.monotonic() + 4).list_settings()
    assert seen[0] == logzio_api.REQUEST_TIMEOUT and seen[1] <= 4


def test_unreachable_host_is_retried_for_get_until_the_deadline(no_sleep):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there
    api = LogzioApi(f"http://127.0.0.1:{port}", TOKEN, deadline=time.monotonic() + 4)
    api._sleep = no_sleep.append
    with pytest.raises(LogzioApiError) as error:
        api.list_settings()
    assert error.value.status is None and "no answer" in str(error.value) and len(no_sleep) >= 1


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("status, body, op, fix_words", [
    (401, {"errorCode": "UNAUTHORIZED", "message": "Insufficient privileges"}, "list", ["token", "Pro and Enterprise"]),
    (403, {"message": "Forbidden"}, "list", ["revoked", "Pro and Enterprise"]),
    (404, "archive id 7 not found", "update", ["deleted meanwhile"]),
    (400, {"errorCode": "archive/TEST_FAILED", "message": "Failed to write a test file: AccessDenied"}, "test",
     ["trust policy", "external id", "key is wrong"]),
    (400, {"message": "path must be set"}, "create", ["correct the settings"]),
])
def test_error_messages(stub, status, body, op, fix_words):
    stub.answer(status, body)
    api = client(stub)
    calls = {"list": api.list_settings, "update": lambda: api.update_settings(7, KEYS),
             "test": lambda: api.test_settings(ROLE), "create": lambda: api.create_settings(KEYS)}
    with pytest.raises(LogzioApiError) as raised:
        calls[op]()
    error = raised.value
    assert error.status == status and f"HTTP {status}" in str(error)
    expected = body if isinstance(body, str) else body["message"]
    assert expected in error.logzio_message and expected in str(error)
    for word in fix_words:
        assert word in error.fix
    assert {"list": "list archive settings", "update": "update archive setting 7", "test": "Logz.io's archive test",
            "create": "create the archive setting"}[op] in error.what
    assert len(stub.requests) == 1  # not retried


def test_500_after_retries(stub, no_sleep):
    stub.answer(500, "server error occurred", times=20)
    with pytest.raises(LogzioApiError) as raised:
        client(stub, deadline=time.monotonic() + 8, slept=no_sleep).get_settings(7)
    assert raised.value.status == 500 and "server error occurred" in str(raised.value)
    assert "try again" in raised.value.fix


def test_not_json_success_body(stub):
    stub.answer(200, b"<html>hello</html>")
    with pytest.raises(LogzioApiError) as raised:
        client(stub).list_settings()
    assert "not JSON" in str(raised.value) and "logzioApiUrl" in raised.value.fix


def test_token_and_secret_never_in_errors_or_logs(stub, caplog, no_sleep):
    caplog.set_level(logging.DEBUG)
    echoed = {"message": f"bad settings {json.dumps(KEYS)} token {TOKEN}", "secretKey": SECRET}
    stub.answer(503, echoed)
    stub.answer(400, echoed)
    api = client(stub, slept=no_sleep)
    with pytest.raises(LogzioApiError) as raised:
        api.create_settings(KEYS)
    error = raised.value
    texts = [str(error), error.what, error.fix, error.logzio_message, repr(api), caplog.text]
    for text in texts:
        assert TOKEN not in text and SECRET not in text
    assert '"secretKey": "***"' in error.logzio_message

    # A secret key in a raw (non-JSON) answer is redacted too, and in a 401.
    stub.answer(401, f"no: secretKey={SECRET} X-API-TOKEN={TOKEN}".encode())
    with pytest.raises(LogzioApiError) as raised:
        api.update_settings(1, KEYS)
    assert SECRET not in str(raised.value) and TOKEN not in str(raised.value)
    assert SECRET not in caplog.text and TOKEN not in caplog.text


def test_empty_token_is_refused():
    with pytest.raises(ValueError):
        LogzioApi("https://api.logz.io", "")
