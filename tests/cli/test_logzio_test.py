"""`logzio_s3_archive_runtime logzio-test`: Logz.io's own archive test, against the embedded Logz.io API
(emulator.logzio_api) on the session's emulator, with the stack's outputs given and real
secrets, keys and a role in the emulator (IAM enforced). Logz.io's test writes
`logzio-verified` to the bucket: a bucket of its own here, not the seeded ones."""

from __future__ import annotations

import io
import json
import logging

import pytest
from botocore.exceptions import ClientError

from logzio_s3_archive_runtime import aws
from logzio_s3_archive_runtime.cli import main
from logzio_s3_archive_runtime.names import Output
from emulator.logzio_api import LogzioApiServer
from tests.cli.conftest import policy

BUCKET = "logzio-cli-logzio-test"
TOKEN = "cli-logzio-token-5f0e3c1a9b7d4e2f"
WRONG_TOKEN = "cli-logzio-token-revoked-000000000"
TOKEN_SECRET = "cli/logzio-api-token"
WRONG_TOKEN_SECRET = "cli/logzio-api-token-revoked"
STACK = "LogzioCliHandoff"


@pytest.fixture(scope="module")
def logzio(emu, emulator):
    """A Logz.io account (its API, its token in a secret), a bucket, a user that may write
    to it, one that may not, and roles trusting Logz.io's account with and without its
    external id."""
    iam, s3, sm = emulator.client("iam"), emulator.client("s3"), emulator.client("secretsmanager")
    s3.create_bucket(Bucket=BUCKET)
    world = {"keys": {}, "secrets": {}, "roles": {}}
    for user, document in (("lz-writer", policy([BUCKET])),
                           ("lz-reader", policy([BUCKET], ["s3:ListBucket", "s3:GetObject"]))):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="archive", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        world["keys"][user] = (key["AccessKeyId"], key["SecretAccessKey"])
        world["secrets"][user] = sm.create_secret(
            Name=f"cli/{user}-key", SecretString=json.dumps(
                {"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}))["ARN"]
    sm.create_secret(Name=TOKEN_SECRET, SecretString=TOKEN)
    world["wrong_token_arn"] = sm.create_secret(Name=WRONG_TOKEN_SECRET,
                                                SecretString=json.dumps({"token": WRONG_TOKEN}))["ARN"]
    with LogzioApiServer(emu, token=TOKEN) as server:
        for name, external_id in (("trusting", server.external_id), ("other-id", "logzio:aws:extid:not-it")):
            world["roles"][name] = iam.create_role(
                RoleName=f"lz-cli-{name}", AssumeRolePolicyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": f"arn:aws:iam::{server.account_id}:root"},
                        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]}))["Role"]["Arn"]
            iam.put_role_policy(RoleName=f"lz-cli-{name}", PolicyName="archive",
                                PolicyDocument=json.dumps(policy([BUCKET])))
        world["server"] = server
        yield world


@pytest.fixture
def stack(monkeypatch, logzio):
    """The deployed stack's outputs, as aws.stack_outputs answers them (keys, lz-writer)."""
    key_id, _ = logzio["keys"]["lz-writer"]
    outputs = {Output.BUCKET_NAME: BUCKET, Output.REGION: "us-east-1", Output.USER_NAME: "lz-writer",
               Output.ACCESS_KEY_ID: key_id, Output.SECRET_ARN: logzio["secrets"]["lz-writer"],
               Output.LOGZIO_SETTINGS_ID: "1001", Output.LOGZIO_TEST: "passed",
               Output.LOGZIO_API_URL: logzio["server"].url, Output.LOGZIO_API_TOKEN_SECRET: TOKEN_SECRET}
    asked = []

    def stack_outputs(name, region=None, profile=None, endpoint_url=None):
        asked.append((name, region, profile, endpoint_url))
        if name != STACK:
            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Stack with id {name} does not exist"}}, "DescribeStacks")
        return dict(outputs)

    monkeypatch.setattr(aws, "stack_outputs", stack_outputs)
    return {"outputs": outputs, "asked": asked}


@pytest.fixture
def run(emulator):
    def _run(*args: str, stack_name: str = STACK):
        out, err = io.StringIO(), io.StringIO()
        code = main(["logzio-test", "--stack", stack_name, "--profile", "admin", "--region", "us-east-1",
                     "--endpoint-url", emulator.endpoint_url, *args], out=out, err=err)
        return code, out.getvalue(), err.getvalue()
    return _run


def secrets_of(logzio) -> list[str]:
    return [TOKEN, WRONG_TOKEN, *(secret for _, secret in logzio["keys"].values())]


def assert_no_secret(logzio, *texts: str) -> None:
    for text in texts:
        for secret in secrets_of(logzio):
            assert secret not in text


def test_a_key_that_may_write_passes(run, stack, logzio, caplog):
    caplog.set_level(logging.INFO)
    server = logzio["server"]
    tests_before, changes_before = len(server.tests), list(server.changes)
    code, out, err = run()
    key_id = logzio["keys"]["lz-writer"][0]
    assert code == 0, out + err
    assert f"  bucket:        {BUCKET}" in out
    assert f"  credentials:   KEYS, access key id {key_id}" in out
    assert f"  Logz.io API:   {server.url} (token from secret {TOKEN_SECRET})" in out
    assert f"  Logz.io said:  HTTP 200: SUCCESS: Logz.io wrote logzio-verified to {BUCKET}" in out
    assert out.splitlines()[-1].startswith(f"PASSED: Logz.io wrote its test object to bucket {BUCKET} "
                                           f"as access key {key_id}")
    assert err == ""
    # Logz.io's test ran, as that key, and nothing was created or changed at Logz.io.
    [test] = server.tests[tests_before:]
    assert (test["principal"], test["bucket"], test["ok"]) == (key_id, BUCKET, True)
    # Sent as Logz.io's TestStorageRequest, naming the stack's setting (LogzioArchiveSettingsId).
    assert test["id"] == 1001
    assert server.changes == changes_before and not server.settings
    assert stack["asked"][-1][:3] == (STACK, "us-east-1", "admin")
    assert_no_secret(logzio, out, err, caplog.text)


def test_a_stack_without_a_setting_id_is_tested_without_one(run, stack, logzio):
    del stack["outputs"][Output.LOGZIO_SETTINGS_ID]
    code, out, err = run()
    assert code == 0, out + err
    assert logzio["server"].tests[-1]["id"] is None and logzio["server"].tests[-1]["ok"]


def test_a_key_that_may_not_write_fails_with_logzios_message_and_the_fix(run, stack, logzio, caplog):
    caplog.set_level(logging.INFO)
    key_id, _ = logzio["keys"]["lz-reader"]
    stack["outputs"].update({Output.ACCESS_KEY_ID: key_id, Output.SECRET_ARN: logzio["secrets"]["lz-reader"]})
    code, out, err = run()
    assert code == 1, out + err
    assert f"  credentials:   KEYS, access key id {key_id}" in out
    assert "  Logz.io said:  HTTP 400: archive/TEST_FAILED: Failed to write a test file to bucket " \
           f"{BUCKET}: AccessDenied" in out
    assert out.splitlines()[-1].startswith(f"FAILED: Logz.io's archive test could not write to bucket {BUCKET} "
                                           f"as access key {key_id}")
    assert "error: Logz.io's archive test failed: Logz.io answered HTTP 400" in err
    assert "next: Fix: Logz.io could not write to the bucket as the principal" in err
    assert_no_secret(logzio, out, err, caplog.text)


def test_a_role_is_tested_as_logzios_account_with_its_external_id(run, stack, logzio):
    for key in (Output.SECRET_ARN, Output.ACCESS_KEY_ID, Output.USER_NAME):
        del stack["outputs"][key]
    stack["outputs"][Output.ROLE_ARN] = logzio["roles"]["trusting"]
    code, out, err = run()
    assert code == 0, out + err
    assert f"  credentials:   IAM, role ARN {logzio['roles']['trusting']}" in out

    stack["outputs"][Output.ROLE_ARN] = logzio["roles"]["other-id"]
    code, out, err = run()
    assert code == 1, out + err
    assert f"Failed to assume role {logzio['roles']['other-id']} as Logz.io's AWS account" in out
    assert "sts:ExternalId" in err


def test_a_bad_token_is_no_verdict(run, stack, logzio, caplog):
    caplog.set_level(logging.INFO)
    stack["outputs"][Output.LOGZIO_API_TOKEN_SECRET] = logzio["wrong_token_arn"]
    tests_before = len(logzio["server"].tests)
    code, out, err = run()
    assert code == 2, out + err
    assert "  Logz.io said:  HTTP 401: UNAUTHORIZED: Insufficient privileges" in out
    assert "error: Logz.io's archive test failed: Logz.io answered HTTP 401" in err
    assert "next: Fix: the API token is wrong, revoked" in err
    assert out.splitlines()[-1].startswith(f"No verdict from Logz.io's archive test for stack {STACK}")
    assert len(logzio["server"].tests) == tests_before  # Logz.io never ran it
    assert_no_secret(logzio, out, err, caplog.text)


def test_a_missing_token_secret_is_no_verdict(run, stack):
    stack["outputs"][Output.LOGZIO_API_TOKEN_SECRET] = "cli/no-such-secret"
    code, out, err = run()
    assert code == 2
    assert "Could not read the Logz.io API token from secret cli/no-such-secret (ResourceNotFoundException)" \
        in err


def test_an_unreachable_api_is_no_verdict(run, stack, monkeypatch):
    monkeypatch.setattr("logzio_s3_archive_runtime.logzio_test.DEADLINE_SECONDS", 2.0)
    stack["outputs"][Output.LOGZIO_API_URL] = "http://127.0.0.1:9"  # discard: nothing listens
    code, out, err = run()
    assert code == 2
    assert "error: Logz.io's API at http://127.0.0.1:9 did not answer (URLError: " in err
    assert "next: Check the stack's LogzioApiUrl" in err and "Logz.io said" not in out


@pytest.mark.parametrize("older", [False, True])
def test_a_stack_without_the_handoff_is_no_verdict(run, stack, logzio, older):
    for name in (Output.LOGZIO_API_URL, Output.LOGZIO_API_TOKEN_SECRET):
        del stack["outputs"][name]
    if not older:
        for name in (Output.LOGZIO_SETTINGS_ID, Output.LOGZIO_TEST):
            del stack["outputs"][name]
    tests_before = len(logzio["server"].tests)
    code, out, err = run()
    assert code == 2
    assert f"error: Stack {STACK} has no LogzioApiUrl and LogzioApiTokenSecret outputs" in err
    assert ("deployed by a version before them" if older else "no logzioApiTokenSecret") in err
    assert len(logzio["server"].tests) == tests_before


def test_a_missing_stack_is_no_verdict(run, stack):
    code, out, err = run(stack_name="Nope")
    assert code == 2 and "Stack Nope does not exist in us-east-1" in err


@pytest.mark.parametrize("case, exit_code", [("pass", 0), ("fail", 1), ("token", 2), ("off", 2)])
def test_json_is_one_document_always(run, stack, logzio, caplog, case, exit_code):
    caplog.set_level(logging.INFO)
    if case == "fail":
        stack["outputs"][Output.SECRET_ARN] = logzio["secrets"]["lz-reader"]
    elif case == "token":
        stack["outputs"][Output.LOGZIO_API_TOKEN_SECRET] = WRONG_TOKEN_SECRET
    elif case == "off":
        del stack["outputs"][Output.LOGZIO_API_URL]
    code, out, err = run("--json")
    doc = json.loads(out)
    assert code == exit_code == doc["exit_code"]
    assert set(doc) == {"stack", "bucket", "credentials_type", "access_key_id", "role_arn", "api_url",
                        "token_secret", "passed", "http_status", "logzio_message", "error", "notes",
                        "exit_code", "summary"}
    assert doc["stack"] == STACK and doc["bucket"] == BUCKET
    assert doc["passed"] is {0: True, 1: False, 2: None}[exit_code]
    if case in ("pass", "fail"):
        user = "lz-writer" if case == "pass" else "lz-reader"
        assert doc["credentials_type"] == "KEYS" and doc["access_key_id"] == logzio["keys"][user][0]
        assert doc["token_secret"] == TOKEN_SECRET and doc["role_arn"] is None
    assert doc["http_status"] == {"pass": 200, "fail": 400, "token": 401, "off": None}[case]
    assert (doc["error"] is None) == (case == "pass")
    if doc["error"]:
        assert set(doc["error"]) == {"what", "fix", "http_status"}
    assert doc["summary"].startswith({0: "PASSED", 1: "FAILED", 2: "No verdict"}[exit_code])
    assert err == ""
    assert_no_secret(logzio, out, caplog.text)


def test_help_lists_the_command(capsys):
    assert main(["logzio-test", "--help"]) == 0
    assert "Logz.io's own archive test" in capsys.readouterr().out


def test_a_usage_error_is_no_verdict():
    out, err = io.StringIO(), io.StringIO()
    assert main(["logzio-test"], out=out, err=err) == 2
    assert "--stack" in err.getvalue()


def test_nothing_secret_on_the_real_streams(stack, logzio, emulator, capsys, caplog):
    """Through sys.stdout/sys.stderr (capsys), pass and fail: no token, no secret key."""
    caplog.set_level(logging.INFO)
    argv = ["logzio-test", "--stack", STACK, "--profile", "admin", "--endpoint-url", emulator.endpoint_url]
    assert main(argv) == 0
    stack["outputs"][Output.SECRET_ARN] = logzio["secrets"]["lz-reader"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "PASSED" in captured.out and "FAILED" in captured.out
    assert_no_secret(logzio, captured.out, captured.err, caplog.text)
