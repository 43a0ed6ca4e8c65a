"""A first deploy whose hand-off fails after Logz.io's test passed, end to end (the real
`cdk deploy` into the session's emulator and its embedded Logz.io API): Logz.io's test writes
`logzio-verified` to the new bucket, Logz.io refuses the create (the API's
refuse_next_create hook, a 4xx), the hand-off removes that object from the bucket this
deploy created, the create rolls back to nothing (the bucket, which S3 cannot delete while
it holds an object, included), and the retry with the same bucketName succeeds."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.logzio_api import TEST_OBJECT_KEY, LogzioApiServer
from tests.e2e.support import outputs, stack_of
from tests.e2e.test_day_two import assembly, buckets, deploy, failed_reasons

pytestmark = pytest.mark.e2e

STACK, BUCKET = "E2eLogzioRollback", "acme-e2e-logzio-rollback"


@pytest.fixture(scope="module")
def rolled_back(bootstrapped, tmp_path_factory):
    emu = bootstrapped
    with LogzioApiServer(emu, token="token-rollback-0123456789abcdef") as server:
        emu.client("secretsmanager").create_secret(Name=f"e2e/{STACK}/logzio-api-token", SecretString=server.token)
        directory = assembly(tmp_path_factory, emu, "logzio-rollback", {
            "settleSeconds": "0", "watchSchedule": "off", "stackName": STACK, "bucketName": BUCKET,
            "logzioApiTokenSecret": f"e2e/{STACK}/logzio-api-token", "logzioApiUrl": server.url})
        server.refuse_next_create(409)
        seen = {"first": deploy(emu, directory, STACK)}
        seen["status"] = stack_of(emu, STACK)["StackStatus"]
        seen["reasons"] = failed_reasons(emu, STACK)
        seen["buckets"] = buckets(emu)
        seen["tests"] = list(server.tests)
        seen["settings-after-first"] = dict(server.settings)
        seen["retry"] = deploy(emu, directory, STACK)
        seen["outputs"] = outputs(emu, STACK) if seen["retry"][0] == 0 else {}
        seen["server"] = server
        yield seen


def test_logzios_test_passed_and_its_create_was_refused(rolled_back):
    code, log = rolled_back["first"]
    assert code != 0, log
    first = rolled_back["tests"][0]
    assert (first["ok"], first["bucket"]) == (True, BUCKET)  # Logz.io wrote logzio-verified
    assert rolled_back["settings-after-first"] == {}
    assert "HTTP 409" in rolled_back["reasons"] and "archive/CREATE_REFUSED" in rolled_back["reasons"]
    assert f"{TEST_OBJECT_KEY} was removed from bucket {BUCKET}, which this deploy created" in rolled_back["reasons"]


def test_the_create_rolls_back_to_nothing(rolled_back):
    # Not ROLLBACK_FAILED: the bucket, emptied of Logz.io's test object, was deleted.
    assert rolled_back["status"] == "ROLLBACK_COMPLETE", rolled_back["reasons"]
    assert BUCKET not in rolled_back["buckets"]


def test_the_retry_with_the_same_bucket_name_succeeds(rolled_back, emu):
    code, log = rolled_back["retry"]
    assert code == 0, log
    found = rolled_back["outputs"]
    assert found["BucketName"] == BUCKET and found["LogzioTest"].startswith("passed")
    assert list(rolled_back["server"].settings) == [int(found["LogzioArchiveSettingsId"])]
    try:
        emu.client("s3").head_object(Bucket=BUCKET, Key=TEST_OBJECT_KEY)
    except ClientError as error:  # the retry's own test wrote it again, and it stays
        pytest.fail(f"logzio-verified missing after the retry: {error}")
