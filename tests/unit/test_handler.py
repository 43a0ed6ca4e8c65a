"""The Lambda handler end to end, with S3 and Secrets Manager stubbed behind logzio_s3_archive_runtime.aws
and CloudFormation's response URL served by a real local HTTP server."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from logzio_s3_archive_runtime import aws, handler
from logzio_s3_archive_runtime.aws import AccessKey
from tests.bucket_cases import CASES, NOTES, UNREADABLE
from tests.unit.s3stub import ACCOUNT, BUCKET, Script, stubbed

EVENTS = Path(__file__).resolve().parent.parent / "events"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:LogzioAccessKeySecret-AbCdEf"
PHYSICAL_ID = f"logzio-archive-probe:{BUCKET}"


class ResponseServer:
    """Stands in for CloudFormation's pre-signed S3 URL: records every PUT."""

    def __init__(self, fail_first: int = 0):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.fail_first = fail_first
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if server.fail_first > 0:
                    server.fail_first -= 1
                    self.send_response(500)
                else:
                    server.bodies.append(json.loads(body))
                    server.headers.append(dict(self.headers))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/cfn-response?X-Amz-Signature=secret"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def only(self) -> dict:
        assert len(self.bodies) == 1, self.bodies
        return self.bodies[0]


@pytest.fixture
def responses():
    server = ResponseServer()
    yield server
    server.httpd.shutdown()


class Context:
    log_stream_name = "2026/11/27/[$LATEST]abc"

    def __init__(self, seconds: float = 150):
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def event(kind: str, url: str, **properties) -> dict:
    data = json.loads((EVENTS / f"{kind}.json").read_text())
    data["ResponseURL"] = url
    data["ResourceProperties"].update(properties)
    return data


@pytest.fixture
def network(monkeypatch):
    """Replaces logzio_s3_archive_runtime.aws's factories: user and role S3 clients are stubbed."""
    user, user_stub = stubbed()
    role, role_stub = stubbed()
    secret_reads = []
    real_read_access_key = aws.read_access_key

    def fake_s3_client(region, key=None, profile=None, endpoint_url=None):
        assert region == "us-east-1"
        return user.client if key is not None else role.client

    def fake_read_access_key(secret_arn, client=None):
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        with Stubber(sm) as stub:
            stub.add_response("get_secret_value", {"SecretString": json.dumps(
                {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG"})},
                {"SecretId": SECRET_ARN})
            secret_reads.append(secret_arn)
            return real_read_access_key(secret_arn, client=sm)

    def fake_caller_account(region=None, key=None, profile=None, endpoint_url=None):
        assert key is not None and key.access_key_id == "AKIAIOSFODNN7EXAMPLE", key  # the principal's own
        return ACCOUNT

    monkeypatch.setattr(aws, "s3_client", fake_s3_client)
    monkeypatch.setattr(aws, "read_access_key", fake_read_access_key)
    monkeypatch.setattr(aws, "caller_account", fake_caller_account)
    monkeypatch.setattr(aws, "cloudformation_client", _stack_status("UPDATE_IN_PROGRESS"))
    yield Script(user_stub), Script(role_stub), secret_reads
    user_stub.assert_no_pending_responses()
    role_stub.assert_no_pending_responses()


def _stack_status(status):
    def factory(region=None, profile=None, endpoint_url=None):
        client = boto3.client("cloudformation", region_name="us-east-1")
        stub = Stubber(client)
        stub.add_response("describe_stacks", {"Stacks": [{
            "StackName": "LogzioArchive", "StackStatus": status,
            "CreationTime": "2026-11-27T00:00:00Z"}]}, {"StackName": json.loads(
                (EVENTS / "update.json").read_text())["StackId"]})
        stub.activate()
        return client
    return factory


@pytest.fixture(autouse=True)
def fixed_probe_key(monkeypatch):
    from tests.unit.s3stub import KEY
    monkeypatch.setattr("logzio_s3_archive_runtime.probe.new_probe_key", lambda: KEY)


def test_create_all_granted(network, responses, caplog):
    user, role, secret_reads = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == PHYSICAL_ID
    assert answer["Data"]["PutObject"] == answer["Data"]["ListBucket"] == "granted"
    assert answer["Data"]["GetObject"] == answer["Data"]["GetBucketLocation"] == "granted"
    assert answer["Data"]["Verdict"] == (f"OK: all 4 permissions Logz.io needs are granted on bucket {BUCKET} "
                                         "(archive and restore will work).")
    assert answer["Data"]["Findings"] == "none"
    assert answer["Data"]["BucketRegion"] == "us-east-1"
    assert answer["Data"]["ProbedCredentials"] == "AKIAIOSFODNN7EXAMPLE"
    assert answer["RequestId"] == "d3c1a7c2-8e1b-4a57-9f0e-6a5d4c3b2a19"
    assert answer["LogicalResourceId"] == "PermissionProbe9C80C6C0"
    assert responses.headers[0].get("Content-Type", "") == ""
    assert secret_reads == [SECRET_ARN]
    # The secret never reaches a log line, and neither does the pre-signed URL.
    assert "wJalrXUtnFEMI" not in caplog.text and "X-Amz-Signature" not in caplog.text
    assert "wJalrXUtnFEMI" not in json.dumps(answer)


@pytest.fixture
def published(monkeypatch):
    """What the handler publishes to CloudWatch: (region, namespace, dimensions, values)."""
    calls = []
    monkeypatch.setattr(aws, "put_metrics", lambda region, namespace, dimensions, values:
                        calls.append((region, namespace, dict(dimensions), dict(values))))
    return calls


def test_with_a_watch_a_passed_probe_publishes_the_first_healthy_point(network, responses, published, caplog):
    """The re-check's names and dimensions, so the health alarm (missing data breaching)
    starts OK after a green deploy instead of waiting hours for the first re-check."""
    caplog.set_level(logging.INFO)
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()
    handler.handler(event("create", responses.url, StackName="LogzioArchive"), Context())
    assert responses.only()["Status"] == "SUCCESS"
    assert published == [("us-east-1", "LogzioArchive", {"Stack": "LogzioArchive", "Bucket": BUCKET}, {
        "Healthy": (1.0, "Count"), "PutObjectGranted": (1.0, "Count"), "ListBucketGranted": (1.0, "Count"),
        "GetObjectGranted": (1.0, "Count"), "GetBucketLocationGranted": (1.0, "Count")})]
    assert "published the first LogzioArchive metrics for stack LogzioArchive" in caplog.text


def test_without_a_watch_nothing_is_published(network, responses, published):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()
    handler.handler(event("create", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS" and published == []


def test_a_failed_probe_publishes_nothing(network, responses, published):
    user, _, _ = network
    user.put().list().get("AccessDenied").locate().tail()
    handler.handler(event("create", responses.url, StackName="LogzioArchive"), Context())
    assert responses.only()["Status"] == "FAILED" and published == []


def test_a_metric_publish_failure_is_logged_never_the_deploys(network, responses, monkeypatch, caplog):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()

    def denied(*args):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "PutMetricData")
    monkeypatch.setattr(aws, "put_metrics", denied)
    handler.handler(event("create", responses.url, StackName="LogzioArchive"), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and answer["Data"]["PutObject"] == "granted"
    assert "could not publish the first LogzioArchive metrics for stack LogzioArchive" in caplog.text
    assert "cloudwatch:PutMetricData" in caplog.text


@pytest.mark.parametrize("missing, script", [
    ("s3:PutObject", lambda u: u.put("AccessDenied").list(keys=()).get("NoSuchKey", status=404).locate().extras()),
    ("s3:ListBucket", lambda u: u.put().list("AccessDenied").get().locate().tail()),
    ("s3:GetObject", lambda u: u.put().list().get("AccessDenied").locate().tail()),
    ("s3:GetBucketLocation", lambda u: u.put().list().get().locate("AccessDenied").tail()),
])
def test_create_fails_naming_exactly_the_missing_action(network, responses, missing, script):
    user, role, _ = network
    script(user)
    role.bucket_settings()
    if missing != "s3:PutObject":
        role.delete()
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    reason = answer["Reason"]
    assert reason.startswith(f"FAILED: Logz.io cannot use bucket {BUCKET}")
    assert f"3 of 4 permissions granted; {missing} missing (AccessDenied): " in reason
    named = {a for a in ("s3:PutObject", "s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation")
             if f"{a} missing" in reason}
    assert named == {missing}
    assert "CloudWatch log stream 2026/11/27/[$LATEST]abc" in reason


def test_create_without_slash_star_names_both_object_actions(network, responses):
    user, _, _ = network
    user.put("AccessDenied").list(keys=()).get("AccessDenied").locate().extras()
    handler.handler(event("create", responses.url), Context())
    reason = responses.only()["Reason"]
    assert "s3:PutObject missing" in reason and "s3:GetObject missing" in reason
    assert reason.count(f"arn:aws:s3:::{BUCKET}/*") == 2


def test_key_never_accepted_fails_with_what_to_do(network, responses):
    user, _, _ = network
    user.put("SignatureDoesNotMatch")
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(f"Could not check bucket {BUCKET}: AWS rejects the credentials: "
                                       "the secret access key does not match")


def test_update_reads_patience_from_properties(network, responses, monkeypatch):
    seen = {}

    def fake_run_probe(user, cleanup, region, patience, *args, **kwargs):
        seen["patience"] = patience
        raise RuntimeError("boom")

    monkeypatch.setattr(handler, "run_probe", fake_run_probe)
    context = Context(150)
    handler.handler(event("update", responses.url, KeyDeadlineSeconds="42", SettleSeconds="7"), context)
    assert (seen["patience"].key_propagation, seen["patience"].policy_settling) == (42.0, 7.0)
    # The probe must stop ANSWER_MARGIN before the Lambda is killed (the context's deadline);
    # the handler reads the clock a moment after the context was made, hence the slack below.
    latest = context.deadline - handler.ANSWER_MARGIN
    assert latest - 1 < seen["patience"].hard_deadline <= latest + 0.001
    assert responses.only()["Status"] == "FAILED"
    assert responses.only()["PhysicalResourceId"] == PHYSICAL_ID  # an Update keeps its id


def test_unexpected_exception_still_answers(network, responses, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secrets manager exploded")

    monkeypatch.setattr(aws, "read_access_key", explode)
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    # What was being done, what broke, and what to do next.
    assert answer["Reason"].startswith("The permission probe failed unexpectedly while reading the "
                                       f"access key from secret {SECRET_ARN}: RuntimeError: "
                                       "secrets manager exploded. Deploy again;")
    assert answer["PhysicalResourceId"] == PHYSICAL_ID


def test_unexpected_failure_while_probing_names_the_bucket_and_the_key(network, responses, monkeypatch):
    def explode(*args, **kwargs):
        raise KeyError("Contents")

    monkeypatch.setattr(handler, "run_probe", explode)
    handler.handler(event("create", responses.url), Context())
    assert (f"failed unexpectedly while probing bucket {BUCKET} as AKIAIOSFODNN7EXAMPLE: KeyError"
            in responses.only()["Reason"])


@pytest.mark.parametrize("stored, problem", [
    ("AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG", "is not JSON"),
    (json.dumps({"accessKeyId": "AKIAIOSFODNN7EXAMPLE"}), "fields found: accessKeyId"),
])
def test_malformed_secret_fails_naming_the_secret_and_its_shape(network, responses, monkeypatch, stored, problem):
    def read(secret_arn, client=None):
        return aws.parse_access_key(secret_arn, {"SecretString": stored})

    monkeypatch.setattr(aws, "read_access_key", read)
    handler.handler(event("create", responses.url), Context())
    reason = responses.only()["Reason"]
    assert reason.startswith(f"Could not check bucket {BUCKET}: Secret {SECRET_ARN} ") and problem in reason
    assert aws.SECRET_SHAPE in reason and "put-secret-value" in reason
    assert "wJalrXUtnFEMI" not in reason and "unexpectedly" not in reason


def test_secret_in_create_access_key_shape_is_accepted(network, responses, monkeypatch):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings().delete()

    def read(secret_arn, client=None):
        return aws.parse_access_key(secret_arn, {"SecretString": json.dumps({"AccessKey": {
            "UserName": "logzio", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Active",
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG", "CreateDate": "2026-11-28T10:00:00Z"}})})

    monkeypatch.setattr(aws, "read_access_key", read)
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["ProbedCredentials"] == "AKIAIOSFODNN7EXAMPLE"


def test_unreachable_secrets_manager_is_named_with_the_fix(network, responses, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    def unreachable(secret_arn, client=None):
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com/")

    monkeypatch.setattr(aws, "read_access_key", unreachable)
    context = Context(60)
    # Patience short enough that the retries of a dropped connection end quickly.
    handler.handler(event("create", responses.url, KeyDeadlineSeconds="1", SettleSeconds="0"), context)
    reason = responses.only()["Reason"]
    assert "The probe could not reach Secrets Manager (EndpointConnectionError" in reason
    assert "NAT gateway or an interface endpoint" in reason


def test_malformed_properties_fail_naming_the_property(network, responses):
    data = event("create", responses.url)
    del data["ResourceProperties"]["SecretArn"]
    handler.handler(data, Context())
    assert responses.only()["Reason"].startswith("resource property SecretArn is missing")


def test_watchdog_answers_before_the_lambda_timeout(network, responses, monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(10)
        raise RuntimeError("too late")

    monkeypatch.setattr(aws, "read_access_key", hang)
    monkeypatch.setattr(handler, "WATCHDOG_MARGIN", 5.0)
    worker = threading.Thread(target=handler.handler, args=(event("create", responses.url), Context(5.3)))
    worker.start()
    deadline = time.monotonic() + 5
    while not responses.bodies and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    worker.join(5)
    answer = responses.only()  # the late failure did not send a second answer
    assert answer["Status"] == "FAILED" and "ran out of time" in answer["Reason"]


def test_response_put_is_retried(network, responses):
    user, role, _ = network
    responses.fail_first = 2
    user.put().list().get().locate().tail()
    role.bucket_settings().delete()
    handler.handler(event("create", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS"


def test_update_during_rollback_succeeds_without_probing(network, responses, monkeypatch, shipped):
    monkeypatch.setattr(aws, "cloudformation_client", _stack_status("UPDATE_ROLLBACK_IN_PROGRESS"))
    handler.handler(event("update", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and answer["Data"]["Verdict"].startswith(
        "not checked during rollback: the settings before the failed update are back; re-check them with: "
        "logzio-archive check --stack ")
    # Every attribute the template reads is there, or the rollback itself would fail.
    read = {o["Value"]["Fn::GetAtt"][1] for o in shipped.raw()["Outputs"].values()
            if isinstance(o["Value"], dict) and "Fn::GetAtt" in o["Value"]}
    assert read and read <= set(answer["Data"])
    assert "ProbedCredentials" in read
    assert answer["Data"]["ProbedCredentials"] == "AKIAIOSFODNN7EXAMPLE"  # the restored key's id
    assert network[2] == []  # the secret was not even read


def test_delete_removes_a_leftover_probe_object(network, responses):
    from tests.unit.s3stub import KEY
    _, role, _ = network
    role.versions([(KEY, "v7")]).delete(version="v7")
    handler.handler(event("delete", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and answer["Data"] == {"Removed": "1"}
    assert answer["PhysicalResourceId"] == PHYSICAL_ID


def test_delete_without_leftovers(network, responses):
    _, role, secret_reads = network
    role.versions([])
    handler.handler(event("delete", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS"
    assert secret_reads == []


@pytest.mark.parametrize("code", ["AccessDenied", "NoSuchBucket"])
def test_delete_always_succeeds(network, responses, code):
    network[1].versions([], error=code)
    handler.handler(event("delete", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS"


def test_access_key_repr_hides_the_secret():
    assert "wJalr" not in repr(AccessKey("AKIA", "wJalrXUtnFEMI"))


ROLE_ARN = "arn:aws:iam::123456789012:role/LogzioArchive-LogzioRole9CAD8465-ABC"


def role_event(url, **properties):
    data = event("create", url, RoleArn=ROLE_ARN, ExternalId="logzio:aws:extid:x1", **properties)
    del data["ResourceProperties"]["SecretArn"], data["ResourceProperties"]["AccessKeyId"]
    return data


def test_role_mode_assumes_the_role_with_the_external_id(network, responses, monkeypatch):
    user, role, secret_reads = network
    assumed = []

    def fake_assume_role(role_arn, external_id, region=None, profile=None, endpoint_url=None):
        assumed.append((role_arn, external_id, region))
        return AccessKey("ASIATEMP", "temp-secret", "session-token")

    monkeypatch.setattr(aws, "assume_role", fake_assume_role)
    user.put().list().get().locate().tail()
    role.bucket_settings().delete()
    handler.handler(role_event(responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS"
    # The role, not the temporary key the assumption returned.
    assert responses.only()["Data"]["ProbedCredentials"] == ROLE_ARN
    assert assumed == [(ROLE_ARN, "logzio:aws:extid:x1", "us-east-1")]
    assert secret_reads == []


def test_role_that_cannot_be_assumed_fails_with_what_to_do(network, responses, monkeypatch):
    from botocore.exceptions import ClientError

    def denied(role_arn, external_id, region=None, profile=None, endpoint_url=None):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    monkeypatch.setattr(aws, "assume_role", denied)
    handler.handler(role_event(responses.url, KeyDeadlineSeconds="0"), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    assert f"The probe could not assume role {ROLE_ARN} with the external id (AccessDenied: not authorized)" \
        in answer["Reason"]


def test_kms_denial_on_write_names_the_key_permission(network, responses):
    user, _, _ = network
    user.put("AccessDenied", "User: x is not authorized to perform: kms:GenerateDataKey on resource: "
             "arn:aws:kms:us-east-1:123456789012:key/abc").list(keys=()).get("NoSuchKey", status=404).locate() \
        .extras()
    handler.handler(event("create", responses.url), Context())
    reason = responses.only()["Reason"]
    assert "s3:PutObject missing (AccessDenied): the bucket's default encryption uses a KMS key: " \
           "allow kms:GenerateDataKey" in reason


@pytest.mark.parametrize("setting", [None, "ObjectWriter", "BucketOwnerPreferred"])
def test_object_ownership_that_keeps_acls_passes(network, responses, setting):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership=setting).delete()
    handler.handler(event("create", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS"


def test_bucket_owner_enforced_fails_naming_object_ownership(network, responses):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerEnforced").delete()
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(f"FAILED: Logz.io cannot use bucket {BUCKET} (archive will fail): "
                                       f"4 of 4 permissions granted; error object-ownership-enforced: bucket "
                                       f"{BUCKET} has object ownership BucketOwnerEnforced (ACLs disabled)")
    assert "Rules=[{ObjectOwnership=BucketOwnerPreferred}]" in answer["Reason"]


def test_secret_read_denied_while_the_role_policy_propagates_is_retried(network, responses, monkeypatch):
    user, role, _ = network
    from botocore.exceptions import ClientError
    calls = []

    def flaky(secret_arn, client=None):
        calls.append(secret_arn)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not yet"}}, "GetSecretValue")
        return AccessKey("AKIAIOSFODNN7EXAMPLE", "secret")

    monkeypatch.setattr(aws, "read_access_key", flaky)
    monkeypatch.setattr("logzio_s3_archive_runtime.probe.Clock.sleep", lambda self, seconds: None)
    user.put().list().get().locate().tail()
    role.bucket_settings().delete()
    handler.handler(event("create", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS" and len(calls) == 2


def test_watchdog_answer_in_flight_is_delivered_before_the_handler_returns(network, responses, monkeypatch):
    """Lambda freezes the process when the handler returns: the watchdog's PUT must be done."""
    real_put = aws.put_response

    def slow_put(url, body, timeout):
        time.sleep(0.6)
        return real_put(url, body, timeout)

    def hang_then_fail(*args, **kwargs):
        time.sleep(0.5)  # the watchdog fires meanwhile and starts its slow PUT
        raise RuntimeError("late")

    monkeypatch.setattr(aws, "put_response", slow_put)
    monkeypatch.setattr(aws, "read_access_key", hang_then_fail)
    monkeypatch.setattr(handler, "WATCHDOG_MARGIN", 5.0)
    handler.handler(event("create", responses.url), Context(5.2))
    answer = responses.only()  # delivered before return, and only once
    assert answer["Status"] == "FAILED" and "ran out of time" in answer["Reason"]


def test_delete_never_fails_even_when_something_explodes(network, responses, monkeypatch):
    """A FAILED Delete after a failed Create would leave the stack ROLLBACK_FAILED."""
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(handler, "remove_leftovers", explode)
    handler.handler(event("delete", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and "RuntimeError: boom" in answer["Reason"]


def test_delete_that_runs_out_of_time_still_succeeds(network, responses, monkeypatch):
    def hang(*args, **kwargs):
        time.sleep(0.6)
        return []

    monkeypatch.setattr(handler, "remove_leftovers", hang)
    monkeypatch.setattr(handler, "WATCHDOG_MARGIN", 5.0)
    handler.handler(event("delete", responses.url), Context(5.2))
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and "ran out of time" in answer["Reason"]


def test_rollback_is_recognised_even_when_old_properties_do_not_parse(network, responses, monkeypatch):
    monkeypatch.setattr(aws, "cloudformation_client", _stack_status("UPDATE_ROLLBACK_IN_PROGRESS"))
    data = event("update", responses.url)
    del data["ResourceProperties"]["SecretArn"]
    handler.handler(data, Context())
    assert responses.only()["Status"] == "SUCCESS"


# --- Bucket guard: an update that moves the archive to another bucket

OLD_BUCKET = "acme-logzio-archive-2025"


def bucket_change(url, **properties) -> dict:
    """An Update whose new properties name BUCKET and whose old ones name OLD_BUCKET."""
    return event("update-bucket-change", url, **properties)


def test_update_that_moves_the_bucket_fails_naming_both_without_probing(network, responses):
    _, _, secret_reads = network  # nothing scripted: any S3 call would fail the stub
    handler.handler(bucket_change(responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    reason = answer["Reason"]
    assert reason.startswith(f"This update moves the Logz.io archive from bucket {OLD_BUCKET} to bucket "
                             f"{BUCKET}, but Logz.io is still configured with {OLD_BUCKET} and would "
                             "stop archiving")
    # Both fixes: keep the old bucket, or allow the move and repoint Logz.io.
    assert f"bucketName={OLD_BUCKET}" in reason and f"rolls back to {OLD_BUCKET}" in reason
    assert f"-c allowBucketChange=true, then point Logz.io's archive settings at {BUCKET}." in reason
    assert answer["PhysicalResourceId"] == f"logzio-archive-probe:{OLD_BUCKET}"  # the resource keeps its id
    assert secret_reads == []  # the probe did not even start


@pytest.mark.parametrize("value", ["false", "", "yes"])
def test_only_allow_bucket_change_true_lets_the_move_through(network, responses, value):
    handler.handler(bucket_change(responses.url, AllowBucketChange=value), Context())
    assert responses.only()["Reason"].startswith("This update moves the Logz.io archive")


def test_bucket_guard_message_fits_the_response_with_the_longest_names(network, responses):
    from logzio_s3_archive_runtime.cfn import MAX_REASON

    old, new = "o" * 255, "n" * 255  # existingBucket allows legacy names this long
    data = bucket_change(responses.url, BucketName=new)
    data["OldResourceProperties"]["BucketName"] = old
    handler.handler(data, Context())
    reason = responses.only()["Reason"]
    assert len(reason) <= MAX_REASON and not reason.endswith("(see the log)")
    assert reason.count(old) >= 3 and reason.count(new) >= 2


def test_allowed_bucket_change_probes_the_new_bucket(network, responses):
    user, role, secret_reads = network
    user.put().list().get().locate().tail()  # the stubs expect BUCKET, the new bucket
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()
    handler.handler(bucket_change(responses.url, AllowBucketChange="true"), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["Verdict"].startswith("OK: all 4 permissions Logz.io needs are granted")
    assert answer["PhysicalResourceId"] == PHYSICAL_ID  # the new bucket's: CloudFormation deletes the old
    assert secret_reads == [SECRET_ARN]


def test_rollback_of_a_bucket_change_passes(network, responses, monkeypatch):
    """A failed move is rolled back by an Update from the new bucket back to the old one."""
    monkeypatch.setattr(aws, "cloudformation_client", _stack_status("UPDATE_ROLLBACK_IN_PROGRESS"))
    data = bucket_change(responses.url)
    data["ResourceProperties"], data["OldResourceProperties"] = (data["OldResourceProperties"],
                                                                 data["ResourceProperties"])
    assert data["ResourceProperties"]["BucketName"] == OLD_BUCKET
    handler.handler(data, Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and answer["Data"]["Verdict"].startswith(
        "not checked during rollback: the settings before the failed update are back; re-check them with: "
        "logzio-archive check --stack ")
    assert network[2] == []


def test_update_on_the_same_bucket_probes_as_before(network, responses):
    user, role, secret_reads = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()
    handler.handler(event("update", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["Verdict"].startswith("OK: all 4 permissions Logz.io needs are granted")
    assert answer["PhysicalResourceId"] == PHYSICAL_ID
    assert secret_reads == [SECRET_ARN]


# --- ProbedCredentials: what the probe really ran as

def test_probed_credentials_are_the_key_read_from_the_secret(network, responses):
    """Not the AccessKeyId property: a secret holding another key than the stack's shows here."""
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(ownership="BucketOwnerPreferred").delete()
    handler.handler(event("create", responses.url, AccessKeyId="AKIAPROPERTYONLY0000"), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["ProbedCredentials"] == "AKIAIOSFODNN7EXAMPLE"


def test_rollback_in_role_mode_names_the_role(network, responses, monkeypatch):
    monkeypatch.setattr(aws, "cloudformation_client", _stack_status("UPDATE_ROLLBACK_IN_PROGRESS"))
    data = role_event(responses.url)
    data["RequestType"] = "Update"
    handler.handler(data, Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS" and answer["Data"]["ProbedCredentials"] == ROLE_ARN


# --------------------------------------------------------------------------- every event answered

@pytest.fixture
def no_aws(monkeypatch):
    """Any AWS call goes to a closed local port, never out."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


@pytest.mark.parametrize("field", ["RequestType", "RequestId", "StackId", "LogicalResourceId"])
def test_an_event_missing_a_field_but_with_a_response_url_is_answered_failed(responses, no_aws, field):
    broken = event("create", responses.url)
    del broken[field]
    handler.handler(broken, Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(f"Not a complete CloudFormation custom-resource event: {field} missing.")


def test_an_unknown_request_type_is_answered_failed_without_probing(responses, no_aws):
    handler.handler({**event("create", responses.url), "RequestType": "Upgrade"}, Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED" and "Unknown custom-resource RequestType 'Upgrade'" in answer["Reason"]


def test_the_response_body_fits_4096_bytes_as_sent_whatever_the_reason():
    from logzio_s3_archive_runtime.cfn import CustomResourceRequest, Responder

    sent: list[bytes] = []
    request = CustomResourceRequest.from_event({**event("create", "http://127.0.0.1:9/"), "StackId": "s" * 200})
    responder = Responder(request, lambda url, body, timeout: sent.append(body) or 200, "id")
    responder.fail("bucket ünïcødé \u2028 " * 400 + "\x01" * 300)
    assert len(sent[0]) <= 4096
    assert json.loads(sent[0])["Reason"].endswith(" ... (see the log)")


@pytest.mark.parametrize("huge", ["b" * 60_000, "ü" * 30_000])
def test_a_huge_bucket_property_still_gets_an_answer_within_4096_bytes(network, responses, huge):
    handler.handler(event("create", responses.url, BucketName=huge), Context())
    answer = responses.only()
    assert len(json.dumps(answer).encode()) <= 4096
    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"].startswith("logzio-archive-probe:sha256-")


def test_huge_ids_in_a_hostile_event_are_cut_rather_than_rejected():
    from logzio_s3_archive_runtime.cfn import CustomResourceRequest, Responder

    sent: list[bytes] = []
    request = CustomResourceRequest.from_event({**event("update", "http://127.0.0.1:9/"),
                                                "PhysicalResourceId": "p" * 9000, "RequestId": "r" * 9000})
    Responder(request, lambda url, body, timeout: sent.append(body) or 200, "id").succeed({"Verdict": "v" * 5000})
    body = json.loads(sent[0])
    assert len(sent[0]) <= 4096 and body["Data"] == {} and body["PhysicalResourceId"] == "p" * 256


def test_every_aws_call_is_one_try():
    """botocore's max_attempts=1 still retries once; the runtime's clients must not."""
    hits = []

    class Busy(BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        client = aws.s3_client("us-east-1", key=AccessKey("AKIAEXAMPLE", "secret"),
                               endpoint_url=f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(Exception):
            client.head_bucket(Bucket=BUCKET)
    finally:
        server.shutdown()
    assert len(hits) == 1


# --------------------------------------------------------------------------- findings

@pytest.mark.parametrize("case", list(CASES))
def test_bucket_findings_decide_the_deploy(network, responses, case):
    """The same cases as the probe's and the command's tests: errors fail the deploy,
    warnings are named in the verdict and the Findings attribute."""
    settings, expected = CASES[case]
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(**settings).delete()
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    errors = [finding for finding, severity in expected if severity == "error"]
    assert answer["Status"] == ("FAILED" if errors else "SUCCESS"), answer["Reason"]
    text = answer["Reason"] if errors else answer["Data"]["Verdict"]
    for finding, severity in expected:
        assert f"{severity} {finding}: " in text
    if not errors:
        assert answer["Data"]["Findings"] == ("; ".join(f"{s} {f}" for f, s in expected) or "none")
    starts = [start.format(bucket=BUCKET) for start in NOTES.get(case, [])]
    assert text.count(" Note: requester-pays: ") == len(starts), text  # the findings' notes, in the verdict
    for start in starts:
        assert f" Note: {start}" in text


def test_strict_fails_the_deploy_on_a_warning(network, responses):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(**CASES["deep-archive-under-prefix"][0]).delete()
    handler.handler(event("create", responses.url, Strict="true"), Context())
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    assert "warning lifecycle-unrestorable: lifecycle rule 'old-exports'" in answer["Reason"]


def test_an_over_privileged_principal_is_a_warning_and_leaves_nothing_behind(network, responses):
    user, role, _ = network
    user.put().list().get().locate().extras(policy=None, buckets="AccessDenied").self_delete(error=None, marker="m1")
    role.bucket_settings().delete(version="v1").delete(version="m1")
    handler.handler(event("create", responses.url), Context())
    answer = responses.only()
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["Findings"] == "warning over-privileged"
    assert "may also s3:DeleteObject, s3:GetBucketPolicy" in answer["Data"]["Verdict"]


def test_unreadable_settings_are_logged_as_not_checked(network, responses, caplog):
    user, role, _ = network
    user.put().list().get().locate().tail()
    role.bucket_settings(**UNREADABLE[0]).delete()
    handler.handler(event("create", responses.url), Context())
    assert responses.only()["Status"] == "SUCCESS"
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("diagnosis: ")]
    logged = json.loads(line.removeprefix("diagnosis: "))
    assert [item["id"] for item in logged["not_checked"]] == UNREADABLE[1]
    assert logged["ok"] is True and logged["checks"][0]["action"] == "s3:PutObject"


def test_strict_property_must_be_true_or_false(network, responses):
    handler.handler(event("create", responses.url, Strict="yes"), Context())
    assert responses.only()["Reason"].startswith("resource property Strict='yes' is not true or false")


def test_too_little_time_left_answers_at_once_and_touches_nothing(network, responses):
    """No call may start that could outlive the Lambda: the stubs have nothing queued, so any
    S3 or Secrets Manager call would fail the stub's assertions."""
    _, _, secret_reads = network
    handler.handler(event("create", responses.url), Context(handler.WATCHDOG_MARGIN - 1))
    answer = responses.only()
    assert answer["Status"] == "FAILED"
    assert "too little to probe and answer" in answer["Reason"] and "keyDeadlineSeconds" in answer["Reason"]
    assert secret_reads == []


def test_a_long_verdict_is_cut_but_every_attribute_stays():
    """Many warnings make a long verdict: the answer keeps every attribute the template reads
    (a missing one would fail the stack) and fits 4096 bytes."""
    from logzio_s3_archive_runtime.cfn import CustomResourceRequest, Responder

    sent: list[bytes] = []
    request = CustomResourceRequest.from_event(event("create", "http://127.0.0.1:9/"))
    data = handler.attributes({a: "granted" for a in handler.checks.ACTIONS}, "warning " * 900, KEY_NAME,
                              "us-east-1", "AKIAIOSFODNN7EXAMPLE", "; ".join(["warning lifecycle-unrestorable"] * 60))
    Responder(request, lambda url, body, timeout: sent.append(body) or 200, "id").succeed(data)
    body = json.loads(sent[0])
    assert len(sent[0]) <= 4096 and set(body["Data"]) == set(data)
    assert body["Data"]["PutObject"] == "granted" and body["Data"]["Verdict"].endswith(" ... (see the log)")


KEY_NAME = "logzio-archive-probe/20261127T000000Z-0123456789abcdef0123456789abcdef.txt"
