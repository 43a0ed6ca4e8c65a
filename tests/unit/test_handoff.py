"""logzio_s3_archive_runtime/handoff.py with Logz.io's API and Secrets Manager replaced: the order of
calls (the account's setting read, Logz.io's test naming it, then create or update), every failure answered FAILED with what, status
and fix, Delete never failing, the token never in an answer or a log line."""

from __future__ import annotations

import json
import logging
import time

import pytest
from botocore.exceptions import ClientError

from logzio_s3_archive_runtime import aws, handler, handoff
from logzio_s3_archive_runtime.cfn import CustomResourceRequest
from logzio_s3_archive_runtime.logzio_api import LogzioApiError
from logzio_s3_archive_runtime.names import HANDOFF_RESOURCE_TYPE, Attribute, Property

TOKEN = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:LogzioAccessKeySecret-AbCdEf"
PROPS = {Property.BUCKET_NAME: "acme-logs", Property.REGION: "us-east-1",
         Property.SECRET_ARN: KEY_SECRET, Property.ACCESS_KEY_ID: "AKIANEWKEY",
         Property.TOKEN_SECRET_ARN: "logzio-api-token", Property.API_URL: "https://api-eu.logz.io",
         Property.ON_DELETE: "disable"}
ROLE_ARN = "arn:aws:iam::123456789012:role/LogzioRole"


class FakeApi:
    """Logz.io's archive settings API in memory; `fail` maps a method to the error it raises."""

    instances: list["FakeApi"] = []

    def __init__(self, base_url, token, deadline=None, settings=None, fail=None):
        self.base_url, self.token, self.deadline = base_url, token, deadline
        self.calls: list[tuple] = []
        self.settings = settings if settings is not None else {}
        self.fail = fail or {}
        FakeApi.instances.append(self)

    def _maybe_fail(self, name):
        if name in self.fail:
            raise self.fail[name]

    def list_settings(self):
        self.calls.append(("list",))
        self._maybe_fail("list")
        return [{"id": i, "settings": s} for i, s in self.settings.items()]

    def get_settings(self, settings_id):
        self.calls.append(("get", int(settings_id)))
        self._maybe_fail("get")
        if int(settings_id) not in self.settings:
            raise LogzioApiError("read failed: HTTP 404", "Fix: ...", 404, "not found")
        return {"id": int(settings_id), "settings": self.settings[int(settings_id)]}

    def create_settings(self, body):
        self.calls.append(("create", body))
        self._maybe_fail("create")
        self.settings[1001] = body
        return {"id": 1001, "settings": body}

    def update_settings(self, settings_id, body):
        self.calls.append(("update", int(settings_id), body))
        self._maybe_fail("update")
        self.settings[int(settings_id)] = body
        return {"id": int(settings_id), "settings": body}

    #: What the next test answers (a 2xx body).
    test_answer = {"status": "SUCCESS", "message": "Logz.io wrote logzio-verified to acme-logs"}

    def test_settings(self, body, settings_id=None):
        self.calls.append(("test", body, settings_id))
        self._maybe_fail("test")
        return self.test_answer


class FakeSecrets:
    def __init__(self, values, errors=None):
        self.values, self.errors, self.asked = values, list(errors or []), []

    def get_secret_value(self, SecretId):  # noqa: N803 - boto3's spelling
        self.asked.append(SecretId)
        if self.errors:
            raise self.errors.pop(0)
        return {"SecretString": self.values[SecretId]}


def client_error(code):
    return ClientError({"Error": {"Code": code, "Message": "nope"}}, "GetSecretValue")


@pytest.fixture
def world(monkeypatch):
    """Secrets Manager holding the token and the key; the API as FakeApi."""
    FakeApi.instances.clear()
    secrets = FakeSecrets({"logzio-api-token": TOKEN,
                           KEY_SECRET: json.dumps({"accessKeyId": "AKIANEWKEY", "secretAccessKey": SECRET_KEY})})
    monkeypatch.setattr(aws, "client", lambda service, region=None, *a, **k: secrets)
    monkeypatch.setattr(aws, "secretsmanager_client", lambda arn, *a, **k: secrets)
    state = {"settings": {}, "fail": {}}
    monkeypatch.setattr(handoff, "LogzioApi",
                        lambda url, token, deadline=None: FakeApi(url, token, deadline, state["settings"], state["fail"]))
    return state


class Context:
    log_stream_name = "2026/01/01/[$LATEST]abc"

    def __init__(self, seconds=120.0):
        self.end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self):
        return int((self.end - time.monotonic()) * 1000)


def event(request_type="Create", props=None, physical=None, old=None):
    found = {"RequestType": request_type, "ResponseURL": "https://cfn.example/answer",
             "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/S/1", "RequestId": "r1",
             "LogicalResourceId": "LogzioSettings", "ResourceType": HANDOFF_RESOURCE_TYPE,
             "ResourceProperties": {"ServiceToken": "arn:fn", **(props or PROPS)}}
    if physical:
        found["PhysicalResourceId"] = physical
    if old:
        found["OldResourceProperties"] = old
    return found


def run(monkeypatch, evt, rolling_back=False, seconds=120.0):
    sent = []
    monkeypatch.setattr(aws, "put_response", lambda url, body, timeout: sent.append(json.loads(body)) or 200)
    monkeypatch.setattr(handler, "_rolling_back", lambda request, doing: rolling_back)
    handler.handler(evt, Context(seconds))
    assert len(sent) == 1, sent
    return sent[0]


def keys_body(enabled=True, key="AKIANEWKEY"):
    return {"storageType": "S3", "enabled": enabled, "compressed": True, "amazonS3StorageSettings": {
        "path": "acme-logs", "credentialsType": "KEYS",
        "s3SecretCredentials": {"accessKey": key, "secretKey": SECRET_KEY}}}


def test_create_tests_first_then_creates_and_answers_the_id(world, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    answer = run(monkeypatch, event())
    assert answer["Status"] == "SUCCESS", answer
    assert answer["PhysicalResourceId"] == "logzio-archive-settings:1001"
    assert answer["Data"] == {Attribute.SETTINGS_ID: "1001",
                              Attribute.LOGZIO_TEST: "passed: Logz.io wrote logzio-verified to acme-logs"}
    [api] = FakeApi.instances
    assert api.base_url == "https://api-eu.logz.io" and api.token == TOKEN
    assert api.deadline is not None and api.deadline < time.monotonic() + 120
    assert [c[0] for c in api.calls] == ["list", "test", "create"]
    # No setting yet: the test request names none.
    assert api.calls[1] == ("test", keys_body(), None) and api.calls[2][1] == keys_body()
    assert TOKEN not in json.dumps(answer) and TOKEN not in caplog.text
    assert SECRET_KEY not in json.dumps(answer) and SECRET_KEY not in caplog.text


def test_update_replaces_the_key_in_the_existing_setting(world, monkeypatch):
    world["settings"][1001] = keys_body(key="AKIAOLDKEY")
    answer = run(monkeypatch, event("Update", physical="logzio-archive-settings:1001",
                                    old={**PROPS, Property.ACCESS_KEY_ID: "AKIAOLDKEY"}))
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "logzio-archive-settings:1001"
    [api] = FakeApi.instances
    assert [c[0] for c in api.calls] == ["list", "test", "update"]
    # The test request names the setting it would replace (TestStorageRequest.id).
    assert api.calls[1] == ("test", keys_body(), 1001)
    assert world["settings"][1001] == keys_body()


def test_role_mode_sends_the_role_arn(world, monkeypatch):
    props = {k: v for k, v in PROPS.items() if k not in (Property.SECRET_ARN, Property.ACCESS_KEY_ID)}
    answer = run(monkeypatch, event(props={**props, Property.ROLE_ARN: ROLE_ARN}))
    assert answer["Status"] == "SUCCESS"
    body = FakeApi.instances[0].calls[1][1]
    assert body["amazonS3StorageSettings"] == {"path": "acme-logs", "credentialsType": "IAM",
                                               "s3IamCredentials": {"arn": ROLE_ARN}}


def test_a_failed_test_fails_the_deploy_and_leaves_the_setting_alone(world, monkeypatch):
    world["settings"][1001] = keys_body(key="AKIAWORKING")
    world["fail"]["test"] = LogzioApiError(
        "Logz.io's archive test failed: Logz.io answered HTTP 400: archive/TEST_FAILED: AccessDenied.",
        "Fix: Logz.io could not write to the bucket as the principal.", 400, "archive/TEST_FAILED: AccessDenied")
    answer = run(monkeypatch, event())
    assert answer["Status"] == "FAILED"
    assert "Logz.io hand-off failed for bucket acme-logs" in answer["Reason"]
    assert "HTTP 400" in answer["Reason"] and "AccessDenied" in answer["Reason"]
    assert "Fix: Logz.io could not write" in answer["Reason"]
    assert "CloudWatch log stream" in answer["Reason"]
    assert [c[0] for c in FakeApi.instances[0].calls] == ["list", "test"]
    assert world["settings"][1001] == keys_body(key="AKIAWORKING")


@pytest.mark.parametrize("body", [{"success": False, "message": "Access Denied"}, {"status": "FAILED"},
                                  {"errorCode": "archive/TEST_FAILED", "message": "AccessDenied"}])
def test_a_2xx_whose_body_reports_a_failure_fails_the_deploy(world, monkeypatch, body):
    world["settings"][1001] = keys_body(key="AKIAWORKING")
    monkeypatch.setattr(FakeApi, "test_answer", body)
    answer = run(monkeypatch, event())
    assert answer["Status"] == "FAILED"
    assert "Logz.io's archive test did not pass although Logz.io answered HTTP 2xx" in answer["Reason"]
    assert "Fix: see Logz.io's message" in answer["Reason"]
    assert [c[0] for c in FakeApi.instances[0].calls] == ["list", "test"]
    assert world["settings"][1001] == keys_body(key="AKIAWORKING")


def test_a_bad_token_fails_with_status_and_fix(world, monkeypatch):
    world["fail"]["test"] = LogzioApiError(
        "Logz.io's archive test failed: Logz.io answered HTTP 401: UNAUTHORIZED.",
        "Fix: the API token is wrong, revoked, or belongs to another region", 401, "UNAUTHORIZED")
    answer = run(monkeypatch, event())
    assert answer["Status"] == "FAILED"
    assert "HTTP 401" in answer["Reason"] and "the API token is wrong" in answer["Reason"]
    assert answer["PhysicalResourceId"] == handoff.NO_SETTING


def test_an_unreadable_token_secret_names_it_and_the_fix(world, monkeypatch):
    secrets = FakeSecrets({}, [client_error("ResourceNotFoundException")])
    monkeypatch.setattr(aws, "client", lambda *a, **k: secrets)
    answer = run(monkeypatch, event())
    assert answer["Status"] == "FAILED"
    assert "Could not read the Logz.io API token from secret logzio-api-token (ResourceNotFoundException)" \
        in answer["Reason"]
    assert "create-secret" in answer["Reason"]
    assert FakeApi.instances == []


def test_a_new_token_grant_is_waited_for(monkeypatch):
    secrets = FakeSecrets({"t": TOKEN}, [client_error("AccessDeniedException")] * 2)
    waits = []
    assert handoff.read_token("t", "us-east-1", time.monotonic() + 60, client=secrets, sleep=waits.append) == TOKEN
    assert waits == [2.0, 2.0]


@pytest.mark.parametrize("stored, expected", [
    (TOKEN + "\n", TOKEN),
    (json.dumps({"token": TOKEN}), TOKEN),
    (json.dumps({"LOGZIO_API_TOKEN": TOKEN, "note": "x"}), TOKEN),
    (json.dumps({"whatever": TOKEN}), TOKEN),
])
def test_the_token_secret_may_be_plain_or_json(stored, expected):
    assert handoff.parse_token("s", {"SecretString": stored}) == expected


@pytest.mark.parametrize("stored", [{"SecretBinary": b"x"}, {"SecretString": "  "},
                                    {"SecretString": json.dumps({"a": "1", "b": "2"})}, {"SecretString": "{oops"}])
def test_a_token_secret_without_a_token_is_refused_without_its_value(stored):
    with pytest.raises(handoff.HandoffFailed) as error:
        handoff.parse_token("s", stored)
    assert "put-secret-value" in error.value.fix
    assert '"1"' not in str(error.value) and "oops" not in str(error.value)


def test_a_rollback_restores_without_the_test_and_never_fails(world, monkeypatch):
    world["settings"][1001] = keys_body(key="AKIANEWKEY")
    old = {**PROPS, Property.ACCESS_KEY_ID: "AKIAOLDKEY"}
    answer = run(monkeypatch, event("Update", props=PROPS, physical="logzio-archive-settings:1001", old=old),
                 rolling_back=True)
    assert answer["Status"] == "SUCCESS"
    assert [c[0] for c in FakeApi.instances[0].calls] == ["list", "update"]
    world["fail"]["update"] = LogzioApiError("update failed: HTTP 503", "Fix: later", 503, "busy")
    answer = run(monkeypatch, event("Update", physical="logzio-archive-settings:1001", old=old), rolling_back=True)
    assert answer["Status"] == "SUCCESS" and "HTTP 503" in answer["Reason"]


def test_delete_disables_the_setting(world, monkeypatch):
    world["settings"][1001] = keys_body()
    answer = run(monkeypatch, event("Delete", physical="logzio-archive-settings:1001"))
    assert answer["Status"] == "SUCCESS"
    assert "Logz.io archive setting 1001 disabled" in answer["Reason"]
    assert world["settings"][1001] == keys_body(enabled=False)


def test_delete_keeps_the_setting_with_on_delete_keep(world, monkeypatch):
    world["settings"][1001] = keys_body()
    answer = run(monkeypatch, event("Delete", props={**PROPS, Property.ON_DELETE: "keep"},
                                    physical="logzio-archive-settings:1001"))
    assert answer["Status"] == "SUCCESS" and "kept" in answer["Reason"]
    assert world["settings"][1001]["enabled"] is True and FakeApi.instances == []


@pytest.mark.parametrize("stored, says", [
    ({**keys_body(), "amazonS3StorageSettings": {**keys_body()["amazonS3StorageSettings"], "path": "other"}},
     "now archives to bucket other"),
    (keys_body(key="AKIASOMEONEELSE"), "now uses AKIASOMEONEELSE"),
    (keys_body(enabled=False), "already disabled"),
])
def test_delete_leaves_a_setting_that_is_no_longer_ours(world, monkeypatch, stored, says):
    world["settings"][1001] = stored
    answer = run(monkeypatch, event("Delete", physical="logzio-archive-settings:1001"))
    assert answer["Status"] == "SUCCESS" and says in answer["Reason"]
    assert world["settings"][1001] == stored


def test_delete_never_fails(world, monkeypatch):
    world["settings"][1001] = keys_body()
    world["fail"]["update"] = LogzioApiError("update failed: HTTP 401", "Fix: token", 401, "UNAUTHORIZED")
    answer = run(monkeypatch, event("Delete", physical="logzio-archive-settings:1001"))
    assert answer["Status"] == "SUCCESS" and "could not be disabled" in answer["Reason"]
    # A failed Create's Delete: no setting was made, nothing is called.
    FakeApi.instances.clear()
    answer = run(monkeypatch, event("Delete", physical=handoff.NO_SETTING))
    assert answer["Status"] == "SUCCESS" and FakeApi.instances == []
    answer = run(monkeypatch, event("Delete", physical="logzio-archive-settings:4040"))
    assert answer["Status"] == "SUCCESS" and "no longer exists" in answer["Reason"]


def test_missing_properties_fail_a_create_and_not_a_delete(world, monkeypatch):
    props = {k: v for k, v in PROPS.items() if k != Property.API_URL}
    answer = run(monkeypatch, event(props=props))
    assert answer["Status"] == "FAILED" and "ApiUrl is missing" in answer["Reason"]
    answer = run(monkeypatch, event("Delete", props=props, physical="logzio-archive-settings:1"))
    assert answer["Status"] == "SUCCESS"


def test_too_little_time_answers_at_once(world, monkeypatch):
    answer = run(monkeypatch, event(), seconds=handoff.ANSWER_MARGIN - 1)
    assert answer["Status"] == "FAILED" and "too little" in answer["Reason"]
    assert FakeApi.instances == []


def test_a_hung_api_is_answered_by_the_watchdog(world, monkeypatch):
    monkeypatch.setattr(handoff, "WATCHDOG_MARGIN", 0.5)
    monkeypatch.setattr(handoff, "ANSWER_MARGIN", 0.6)

    def hang(self, body, settings_id=None):
        time.sleep(2.5)
        return {"status": "SUCCESS"}
    monkeypatch.setattr(FakeApi, "test_settings", hang)
    answer = run(monkeypatch, event(), seconds=1.5)
    assert answer["Status"] == "FAILED" and "ran out of time" in answer["Reason"]


def test_the_probe_is_still_routed_to_the_probe(monkeypatch):
    """Only the settings resource type goes to handoff.py."""
    called = []
    monkeypatch.setattr(handoff, "serve", lambda *a, **k: called.append(a))
    monkeypatch.setattr(aws, "put_response", lambda url, body, timeout: 200)
    probe_event = {**event(), "ResourceType": "Custom::LogzioArchiveProbe", "ResourceProperties": {}}
    handler.handler(probe_event, Context())
    assert called == []
    request = CustomResourceRequest.from_event(event())
    assert request.resource_type == HANDOFF_RESOURCE_TYPE


class FakeBucket:
    """aws.S3Access of the function's role: versions of keys, deletes by version id."""

    def __init__(self, versions):
        self.versions = list(versions)  # (key, version id)
        self.listed, self.deleted = [], []

    def list_versions(self, prefix):
        self.listed.append(prefix)
        return [(k, v) for k, v in self.versions if k.startswith(prefix)]

    def delete_object(self, key, version_id):
        self.deleted.append((key, version_id))
        self.versions.remove((key, version_id))


@pytest.fixture
def bucket(monkeypatch):
    found = FakeBucket([("logzio-verified", "v1"), ("logzio-verified", "dm2"), ("logzio-verified-by-you", "x"),
                        ("2024/06/01/archive.json.gz", "a")])
    monkeypatch.setattr(aws, "s3_client", lambda region=None, *a, **k: object())
    monkeypatch.setattr(aws, "S3Access", lambda client, name: found)
    return found


CREATE_REFUSED = LogzioApiError("create the archive setting failed: Logz.io answered HTTP 409: refused.",
                                "Fix: see Logz.io's message.", 409, "refused")


def test_a_failed_create_in_a_created_bucket_removes_logzios_test_object(world, monkeypatch, bucket):
    """Logz.io's test passed (it wrote logzio-verified), the create was refused: every version
    of exactly that key goes, so the rollback can delete the bucket this deploy made."""
    world["fail"]["create"] = CREATE_REFUSED
    answer = run(monkeypatch, event(props={**PROPS, Property.BUCKET_CREATED: "true"}))
    assert answer["Status"] == "FAILED" and "HTTP 409" in answer["Reason"]
    assert "logzio-verified was removed from bucket acme-logs, which this deploy created" in answer["Reason"]
    assert bucket.deleted == [("logzio-verified", "v1"), ("logzio-verified", "dm2")]
    assert bucket.versions == [("logzio-verified-by-you", "x"), ("2024/06/01/archive.json.gz", "a")]


@pytest.mark.parametrize("case", ["existing bucket", "update"])
def test_never_in_an_existing_bucket_nor_on_update(world, monkeypatch, bucket, case):
    world["fail"]["create"] = CREATE_REFUSED
    world["fail"]["update"] = CREATE_REFUSED
    if case == "update":
        world["settings"][1001] = keys_body(key="AKIAOLDKEY")
        evt = event("Update", props={**PROPS, Property.BUCKET_CREATED: "true"},
                    physical="logzio-archive-settings:1001", old=PROPS)
    else:
        evt = event()
    answer = run(monkeypatch, evt)
    assert answer["Status"] == "FAILED"
    assert bucket.listed == [] and bucket.deleted == [] and "removed" not in answer["Reason"]


def test_a_removal_that_fails_says_what_to_do_and_still_answers(world, monkeypatch, bucket):
    world["fail"]["create"] = CREATE_REFUSED

    def denied(prefix):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListObjectVersions")
    bucket.list_versions = denied
    answer = run(monkeypatch, event(props={**PROPS, Property.BUCKET_CREATED: "true"}))
    assert answer["Status"] == "FAILED" and "HTTP 409" in answer["Reason"]
    assert "could not be removed from bucket acme-logs (AccessDenied)" in answer["Reason"]
    assert "delete every version of logzio-verified" in answer["Reason"]
