"""The embedded Logz.io archive API (emulator/logzio_api.py), through HTTP and the AWS API,
and the two extensions its IAM test needs (caller_account, cross_account_trust)."""

import json
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from emulator.logzio_api import LOGZIO_AWS_ACCOUNT, TEST_OBJECT_KEY, LogzioApiServer

TOKEN = "emulated-logzio-token"


def call(url, method, path, body=None, token=TOKEN):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-API-TOKEN"] = token
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def keys_body(bucket, key_id, secret, enabled=True):
    return {"storageType": "S3", "enabled": enabled, "compressed": True,
            "amazonS3StorageSettings": {"credentialsType": "KEYS", "path": bucket,
                                        "s3SecretCredentials": {"accessKey": key_id, "secretKey": secret}}}


def role_body(bucket, role_arn):
    return {"storageType": "S3", "enabled": True, "compressed": True,
            "amazonS3StorageSettings": {"credentialsType": "IAM", "path": bucket,
                                        "s3IamCredentials": {"arn": role_arn}}}


@pytest.fixture
def logzio(emu):
    with LogzioApiServer(emu, TOKEN) as server:
        yield server


@pytest.fixture
def bucket(emu):
    name = f"logzio-test-{uuid.uuid4().hex[:10]}"
    emu.client("s3").create_bucket(Bucket=name)
    return name


def writer(emu, bucket, name):
    """A user allowed to write to the bucket, with an access key."""
    iam = emu.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                               "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def role(emu, bucket, name, trust_statement):
    iam = emu.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [trust_statement]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                               "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    return arn


def trust(account, external_id):
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return statement


def storage_request(settings, settings_id=None):
    """Logz.io's TestStorageRequest {"id"?, "archiveSettings"} around the settings to test."""
    return {"archiveSettings": settings, **({} if settings_id is None else {"id": settings_id})}


def test_token_is_checked(logzio):
    assert call(logzio.url, "GET", "/v2/archive/settings", token=None)[0] == 401
    status, body = call(logzio.url, "GET", "/v2/archive/settings", token="wrong")
    assert status == 401 and body["errorCode"] == "UNAUTHORIZED" and "wrong" not in json.dumps(body)
    assert call(logzio.url, "GET", "/v2/archive/settings") == (200, [])


def test_create_list_update_delete_and_history(logzio):
    status, created = call(logzio.url, "POST", "/v2/archive/settings", keys_body("b1", "AKIAONE", "s1"))
    assert status == 200 and isinstance(created["id"], int)
    settings_id = created["id"]
    s3 = created["settings"]["amazonS3StorageSettings"]
    assert s3["credentialsType"] == "KEYS" and s3["path"] == "b1" and s3["s3SecretCredentials"]["accessKey"] == "AKIAONE"

    # One archive per account.
    status, body = call(logzio.url, "POST", "/v2/archive/settings", keys_body("b2", "AKIATWO", "s2"))
    assert status == 400 and "only one archive" in body["message"]

    assert call(logzio.url, "GET", "/v2/archive/settings")[1] == [created]
    assert call(logzio.url, "GET", f"/v2/archive/settings/{settings_id}") == (200, created)

    status, updated = call(logzio.url, "PUT", f"/v2/archive/settings/{settings_id}",
                           role_body("b1", "arn:aws:iam::123456789012:role/r"))
    iam = updated["settings"]["amazonS3StorageSettings"]["s3IamCredentials"]
    assert status == 200 and iam == {"arn": "arn:aws:iam::123456789012:role/r", "externalId": logzio.external_id}
    assert logzio.external_id.startswith("logzio:aws:extid:")

    assert call(logzio.url, "DELETE", f"/v2/archive/settings/{settings_id}") == (200, None)
    assert call(logzio.url, "GET", f"/v2/archive/settings/{settings_id}") == (404, f"archive id {settings_id} not found")
    assert call(logzio.url, "PUT", f"/v2/archive/settings/{settings_id}", keys_body("b1", "A", "s"))[0] == 404

    assert [held for _, held in logzio.history] == ["AKIAONE", "arn:aws:iam::123456789012:role/r", None]
    assert [c["operation"] for c in logzio.changes] == ["create", "update", "delete"]
    times = [t for t, _ in logzio.history]
    assert times == sorted(times)


def test_invalid_settings_are_refused(logzio):
    status, body = call(logzio.url, "POST", "/v2/archive/settings",
                        {"storageType": "S3", "amazonS3StorageSettings": {"credentialsType": "KEYS", "path": "b"}})
    assert status == 400 and "secretKey" in body["message"]
    assert not logzio.history


def test_injected_faults_then_success(logzio):
    logzio.fail_next(429, times=1, retry_after="1")
    assert call(logzio.url, "GET", "/v2/archive/settings")[0] == 429
    assert call(logzio.url, "GET", "/v2/archive/settings")[0] == 200


def test_test_with_good_keys_writes_logzio_verified(emu, logzio, bucket):
    key_id, secret = writer(emu, bucket, f"w-{uuid.uuid4().hex[:8]}")
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(keys_body(bucket, key_id, secret)))
    assert status == 200, body
    assert emu.client("s3").head_object(Bucket=bucket, Key=TEST_OBJECT_KEY)["ContentLength"] > 0
    assert logzio.tests[-1]["ok"] and logzio.tests[-1]["principal"] == key_id and logzio.tests[-1]["id"] is None
    # With the id of the setting the test is for.
    status, _ = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(keys_body(bucket, key_id, secret), 1001))
    assert status == 200 and logzio.tests[-1]["id"] == 1001


@pytest.mark.parametrize("body, says", [
    ("SETTINGS", "must be a TestStorageRequest"),            # the bare settings: what we sent before
    ({"id": 1001}, "archiveSettings is required"),
    ({"archiveSettings": "SETTINGS-AS-TEXT"}, "archiveSettings is required"),
    ({"id": "1001", "archiveSettings": "SETTINGS"}, "is not an int32"),
    ({"id": True, "archiveSettings": "SETTINGS"}, "is not an int32"),
    ({"id": 2**31, "archiveSettings": "SETTINGS"}, "is not an int32"),
    ({"archiveSettings": "SETTINGS", "settings": "SETTINGS"}, "Unrecognized field(s) 'settings'"),
    ([], "must be a TestStorageRequest"),
])
def test_test_refuses_what_is_not_a_test_storage_request(emu, logzio, bucket, body, says):
    key_id, secret = writer(emu, bucket, f"w-{uuid.uuid4().hex[:8]}")
    settings = keys_body(bucket, key_id, secret)

    def fill(value):
        if value == "SETTINGS":
            return settings
        if value == "SETTINGS-AS-TEXT":
            return json.dumps(settings)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    status, answer = call(logzio.url, "POST", "/v2/archive/settings/test", fill(body))
    assert status == 400 and answer["errorCode"] == "BAD_REQUEST" and says in answer["message"], answer
    assert not logzio.tests
    with pytest.raises(ClientError):
        emu.client("s3").head_object(Bucket=bucket, Key=TEST_OBJECT_KEY)


def test_a_refused_create_stores_nothing_and_the_next_one_is_served(logzio):
    logzio.refuse_next_create(409)
    assert call(logzio.url, "GET", "/v2/archive/settings") == (200, [])  # other requests: as usual
    status, body = call(logzio.url, "POST", "/v2/archive/settings", keys_body("b1", "AKIAONE", "s1"))
    assert status == 409 and body["errorCode"] == "archive/CREATE_REFUSED"
    assert not logzio.settings and not logzio.history
    status, created = call(logzio.url, "POST", "/v2/archive/settings", keys_body("b1", "AKIAONE", "s1"))
    assert status == 200 and list(logzio.settings) == [created["id"]]


def test_test_with_bad_keys_fails(emu, logzio, bucket):
    key_id, secret = writer(emu, bucket, f"w-{uuid.uuid4().hex[:8]}")
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(keys_body(bucket, key_id, "not-the-secret")))
    assert status == 400 and "SignatureDoesNotMatch" in body["message"] and bucket in body["message"]
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test",
                        storage_request(keys_body(bucket, "AKIAIOSFODNN7EXAMPLE", secret)))
    assert status == 400 and "InvalidAccessKeyId" in body["message"]
    # A key without s3:PutObject on the bucket: AccessDenied.
    other = f"other-{uuid.uuid4().hex[:8]}"
    emu.client("s3").create_bucket(Bucket=other)
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(keys_body(other, key_id, secret)))
    assert status == 400 and "AccessDenied" in body["message"]
    # A deleted key fails (an inactive one is not refused: moto accepts inactive keys).
    iam = emu.client("iam")
    iam.delete_access_key(UserName=iam.get_access_key_last_used(AccessKeyId=key_id)["UserName"], AccessKeyId=key_id)
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(keys_body(bucket, key_id, secret)))
    assert status == 400 and "InvalidAccessKeyId" in body["message"]
    with pytest.raises(ClientError):
        emu.client("s3").head_object(Bucket=other, Key=TEST_OBJECT_KEY)


def test_test_with_role_trusting_logzio_and_its_external_id_passes(emu, logzio, bucket):
    arn = role(emu, bucket, f"logzio-{uuid.uuid4().hex[:8]}", trust(LOGZIO_AWS_ACCOUNT, logzio.external_id))
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(role_body(bucket, arn)))
    assert status == 200, body
    emu.client("s3").head_object(Bucket=bucket, Key=TEST_OBJECT_KEY)


@pytest.mark.parametrize("account, external_id", [
    ("111111111111", "LOGZIO"),                        # another account than Logz.io's
    (LOGZIO_AWS_ACCOUNT, "logzio:aws:extid:someone"),  # another external id
])
def test_test_with_role_not_trusting_logzio_fails(emu, logzio, bucket, account, external_id):
    external_id = logzio.external_id if external_id == "LOGZIO" else external_id
    arn = role(emu, bucket, f"logzio-{uuid.uuid4().hex[:8]}", trust(account, external_id))
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(role_body(bucket, arn)))
    assert status == 400 and "AccessDenied" in body["message"] and LOGZIO_AWS_ACCOUNT in body["message"]
    with pytest.raises(ClientError):
        emu.client("s3").head_object(Bucket=bucket, Key=TEST_OBJECT_KEY)


def test_role_without_write_permission_fails_at_the_write(emu, logzio, bucket):
    name = f"logzio-{uuid.uuid4().hex[:8]}"
    arn = role(emu, bucket, name, trust(LOGZIO_AWS_ACCOUNT, logzio.external_id))
    emu.client("iam").delete_role_policy(RoleName=name, PolicyName="write")
    status, body = call(logzio.url, "POST", "/v2/archive/settings/test", storage_request(role_body(bucket, arn)))
    assert status == 400 and "AccessDenied" in body["message"] and "assume" not in body["message"]


# ------------------------------------------------------------------ the extensions, directly

@pytest.fixture
def logzio_user(emu):
    """An IAM user of Logz.io's account (moto's IAM backend of 406095609952) allowed to assume roles."""
    from moto.iam.models import iam_backends

    iam = iam_backends[LOGZIO_AWS_ACCOUNT]["aws"]
    name = f"lz-{uuid.uuid4().hex[:8]}"
    iam.create_user(emu.region, name)
    iam.put_user_policy(name, "p", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(name)
    return emu.client("sts", aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key)


def test_caller_account_a_user_of_another_account_is_served_in_its_account(logzio_user):
    # moto: MOTO_ACCOUNT_ID pinned the request to the emulator's account: InvalidClientTokenId.
    identity = logzio_user.get_caller_identity()
    assert identity["Account"] == LOGZIO_AWS_ACCOUNT and ":user/lz-" in identity["Arn"]


def test_cross_account_trust_policy_is_read_in_the_roles_account(emu, logzio_user):
    iam = emu.client("iam")
    n = uuid.uuid4().hex[:8]

    def make(name, statement):
        return iam.create_role(RoleName=f"{name}-{n}", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))["Role"]["Arn"]

    trusted = make("trusted", trust(LOGZIO_AWS_ACCOUNT, "ext-1"))
    bare_id = make("bare", {**trust(LOGZIO_AWS_ACCOUNT, "ext-1"), "Principal": {"AWS": LOGZIO_AWS_ACCOUNT}})
    other = make("other", trust("111111111111", "ext-1"))
    lambda_only = make("lambda", {"Effect": "Allow", "Action": "sts:AssumeRole",
                                  "Principal": {"Service": "lambda.amazonaws.com"}})

    def assume(arn, **kw):
        return logzio_user.assume_role(RoleArn=arn, RoleSessionName="check", **kw)["AssumedRoleUser"]["Arn"]

    assert f"assumed-role/trusted-{n}/check" in assume(trusted, ExternalId="ext-1")
    assert assume(bare_id, ExternalId="ext-1")
    # moto: the role was looked up in the caller's account, not found, and the trust policy
    # never read: each of these was allowed.
    for arn, kw in [(trusted, {"ExternalId": "ext-2"}), (trusted, {}), (other, {"ExternalId": "ext-1"}),
                    (lambda_only, {})]:
        with pytest.raises(ClientError) as denied:
            assume(arn, **kw)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
