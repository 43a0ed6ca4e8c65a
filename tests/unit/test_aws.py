"""The network module's own logic: the secret's accepted shapes and the shared session."""

from __future__ import annotations

import json

import pytest

from logzio_s3_archive_runtime import aws

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logzio-archive-key-AbCdEf"
KEY_ID, SECRET = "AKIAEXAMPLEKEY000001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("stored", [
    {"accessKeyId": KEY_ID, "secretAccessKey": SECRET},  # what the stack stores
    {"AccessKeyId": KEY_ID, "SecretAccessKey": SECRET},  # `aws iam create-access-key` .AccessKey
    {"AccessKey": {"UserName": "logzio", "AccessKeyId": KEY_ID, "Status": "Active",
                   "SecretAccessKey": SECRET, "CreateDate": "2026-11-28T10:00:00Z"}},  # its whole output
], ids=["documented", "create-access-key-inner", "create-access-key-output"])
def test_accepted_secret_shapes(stored):
    key = aws.parse_access_key(ARN, {"SecretString": json.dumps(stored)})
    assert (key.access_key_id, key.secret_access_key) == (KEY_ID, SECRET)


@pytest.mark.parametrize("secret, problem", [
    ({"SecretString": f"{KEY_ID}:{SECRET}"}, "is not JSON"),
    ({"SecretBinary": SECRET.encode()}, "holds binary data"),
    ({"SecretString": json.dumps([KEY_ID, SECRET])}, "holds a JSON list, not an object"),
    ({"SecretString": json.dumps({"accessKeyId": KEY_ID})}, "fields found: accessKeyId"),
    ({"SecretString": json.dumps({"accessKeyId": KEY_ID, "secretAccessKey": ""})}, "without a non-empty"),
    ({"SecretString": json.dumps({SECRET: KEY_ID})}, "fields found: none by name"),
], ids=["not-json", "binary", "list", "no-secret", "empty-secret", "secret-as-field-name"])
def test_malformed_secret_names_the_secret_and_the_shape_never_the_value(secret, problem):
    with pytest.raises(aws.MalformedSecret) as error:
        aws.parse_access_key(ARN, secret)
    message = str(error.value)
    assert message.startswith(f"Secret {ARN} ")
    assert problem in message
    assert aws.SECRET_SHAPE in message and "put-secret-value" in message
    assert SECRET not in message and SECRET not in repr(error.value.__cause__ or "")
    assert error.value.__cause__ is None  # a JSON decoder error carries the text it read


def test_one_session_per_process_until_the_environment_changes(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFIRST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first")
    first = aws.session()
    aws.client("s3", "us-east-1")
    aws.client("sts", "us-east-1", key=aws.AccessKey(KEY_ID, SECRET))  # explicit key, same session
    assert aws.session() is first
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASECOND")
    second = aws.session()
    assert second is not first
    assert second.get_credentials().access_key == "AKIASECOND"


def test_clients_of_the_shared_session_act_as_their_own_key(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADEFAULT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "default")
    as_key = aws.s3_client("eu-west-1", key=aws.AccessKey(KEY_ID, SECRET, "token"))
    as_default = aws.s3_client("us-east-1")
    assert as_key._request_signer._credentials.access_key == KEY_ID
    assert as_key._request_signer._credentials.token == "token"
    assert as_default._request_signer._credentials.access_key == "AKIADEFAULT"
    assert (as_key.meta.region_name, as_default.meta.region_name) == ("eu-west-1", "us-east-1")
    # One try per call, with network timeouts: the deadline arithmetic relies on it.
    config = as_key.meta.config
    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == (3, 7)
