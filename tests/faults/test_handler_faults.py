"""The custom-resource Lambda under a hostile network and a hostile CloudFormation.

Every case runs logzio_s3_archive_runtime.handler.handler in-process against the fault server (which
forwards to the embedded emulator unless a fault is scripted) and holds the run to the
promises in conftest.py: one answer, before the deadline, nothing but probe objects
touched, no secret printed, every AWS call one try.
"""

from __future__ import annotations

import pytest

from logzio_s3_archive_runtime import aws, cfn, handler

from .conftest import (BUCKET, EXTERNAL_ID, RETRY_WINDOW, World, assert_answered, event,
                       probe_objects, role_event)
from .net import HANG, RESET, delay, error, server_error, throttle


def retrying() -> float:
    """A Lambda deadline that leaves the probe RETRY_WINDOW seconds of retries."""
    return handler.ANSWER_MARGIN + RETRY_WINDOW


#: The resource's attributes, one per permission (Fn::GetAtt Probe.<name>).
PERMISSIONS = ("PutObject", "ListBucket", "GetObject", "GetBucketLocation")


def assert_all_granted(answer: dict) -> None:
    assert all(answer["Data"].get(name) == "granted" for name in PERMISSIONS), answer["Data"]


def assert_no_permission_claimed(reason: str) -> None:
    """No verdict was possible: the answer must not say a permission is missing."""
    assert "cannot use bucket" not in reason and " missing (" not in reason, reason


def assert_names_the_secret(world: World, reason: str, secret: str = "documented") -> None:
    """Says what was being done: reading the secret (by its ARN) or reaching Secrets Manager."""
    assert world.secrets[secret] in reason or "Secrets Manager" in reason, \
        f"the reason does not say the secret was being read: {reason}"
    assert "unexpectedly" not in reason, reason


def assert_names_the_role(world: World, reason: str) -> None:
    """Says what was being done: assuming the role (by its ARN) or reaching STS."""
    assert world.role_arn in reason or "STS" in reason, f"the reason does not say the role was being assumed: {reason}"
    assert "unexpectedly" not in reason, reason


# --------------------------------------------------------------------------- baselines

def test_healthy_create_succeeds_and_removes_its_probe_object(world, invoke):
    run = invoke(lambda url: event(world, url))
    answer = assert_answered(world, run, "SUCCESS")
    assert_all_granted(answer)
    assert answer["Data"]["ProbedCredentials"] == world.principal[0]
    assert probe_objects(world) == []


def test_healthy_role_mode_succeeds(world, invoke, faults):
    run = invoke(lambda url: role_event(world, url))
    answer = assert_answered(world, run, "SUCCESS")
    assert_all_granted(answer)
    assert answer["Data"]["ProbedCredentials"] == world.role_arn
    assert faults.secrets_seen, "the session token passed through and is checked for leaks"


# --------------------------------------------------------------------------- throttling

def test_s3_throttling_storm(world, invoke, faults):
    faults.storm(throttle(), "s3")
    run = invoke(lambda url: event(world, url), retrying())
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert "SlowDown" in reason
    assert run.spies.attempts["PutObject"] >= 2, "the Retrier did not retry the throttled write"
    assert_no_permission_claimed(reason)


def test_secrets_manager_throttling_storm(world, invoke, faults):
    faults.storm(throttle(), "secretsmanager")
    run = invoke(lambda url: event(world, url), retrying())
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert "ThrottlingException" in reason
    assert run.spies.attempts["GetSecretValue"] >= 2
    assert_names_the_secret(world, reason)


def test_sts_throttling_storm(world, invoke, faults):
    faults.storm(throttle(), "sts")
    run = invoke(lambda url: role_event(world, url), retrying())
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert "Throttling" in reason
    assert run.spies.attempts["AssumeRole"] >= 2
    assert_names_the_role(world, reason)


@pytest.mark.parametrize("service, operation, make", [
    ("s3", "PutObject", event), ("secretsmanager", "GetSecretValue", event)])
def test_one_throttle_is_retried_and_the_probe_succeeds(world, invoke, faults, service, operation, make):
    faults.inject(throttle(), service, operation, times=1)
    run = invoke(lambda url: make(world, url), retrying())
    assert_answered(world, run, "SUCCESS")
    assert run.spies.attempts[operation] == 2


# --------------------------------------------------------------------------- 5xx

@pytest.mark.parametrize("service, operation, make, status", [
    ("s3", "PutObject", event, 502), ("secretsmanager", "GetSecretValue", event, 500),
    ("sts", "AssumeRole", role_event, 503)])
def test_one_5xx_is_retried_and_the_probe_succeeds(world, invoke, faults, service, operation, make, status):
    faults.inject(server_error(status), service, operation, times=1)
    run = invoke(lambda url: make(world, url), retrying())
    assert_answered(world, run, "SUCCESS")
    assert run.spies.attempts[operation] == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_s3_5xx_storm_gives_no_permission_verdict(world, invoke, faults, status):
    faults.storm(server_error(status), "s3")
    run = invoke(lambda url: event(world, url))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert_no_permission_claimed(reason)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_secrets_manager_5xx_storm(world, invoke, faults, status):
    faults.storm(server_error(status), "secretsmanager")
    run = invoke(lambda url: event(world, url))
    assert_names_the_secret(world, assert_answered(world, run, "FAILED")["Reason"])


@pytest.mark.parametrize("status", [500, 502, 503])
def test_sts_5xx_storm(world, invoke, faults, status):
    faults.storm(server_error(status), "sts")
    run = invoke(lambda url: role_event(world, url))
    assert_names_the_role(world, assert_answered(world, run, "FAILED")["Reason"])


# --------------------------------------------------------------------------- resets and silence

def test_s3_connection_reset(world, invoke, faults):
    faults.storm(RESET, "s3")
    run = invoke(lambda url: event(world, url))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert BUCKET in reason
    assert_no_permission_claimed(reason)


def test_s3_reset_after_the_write_removes_the_probe_object(world, invoke, faults):
    faults.storm(RESET, "s3", "ListObjectsV2", access_key=world.principal[0])
    run = invoke(lambda url: event(world, url))
    assert_no_permission_claimed(assert_answered(world, run, "FAILED")["Reason"])
    assert probe_objects(world) == [], "the probe object written before the reset stayed"


def test_secrets_manager_connection_reset(world, invoke, faults):
    faults.storm(RESET, "secretsmanager")
    run = invoke(lambda url: event(world, url))
    assert_names_the_secret(world, assert_answered(world, run, "FAILED")["Reason"])


def test_sts_connection_reset(world, invoke, faults):
    faults.storm(RESET, "sts")
    run = invoke(lambda url: role_event(world, url))
    assert_names_the_role(world, assert_answered(world, run, "FAILED")["Reason"])


def test_s3_accepts_and_never_answers(world, invoke, faults, short_timeouts):
    faults.storm(HANG, "s3")
    run = invoke(lambda url: event(world, url))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert_no_permission_claimed(reason)
    hung = faults.seen("s3")
    assert hung and all(s.abandoned is not None for s in hung), "the client never gave up on a silent call"


def test_secrets_manager_accepts_and_never_answers(world, invoke, faults, short_timeouts):
    faults.storm(HANG, "secretsmanager")
    run = invoke(lambda url: event(world, url))
    assert_names_the_secret(world, assert_answered(world, run, "FAILED")["Reason"])


def test_sts_accepts_and_never_answers(world, invoke, faults, short_timeouts):
    faults.storm(HANG, "sts")
    run = invoke(lambda url: role_event(world, url))
    assert_names_the_role(world, assert_answered(world, run, "FAILED")["Reason"])


def test_cleanup_that_never_answers_leaves_only_the_probe_object(world, invoke, faults, short_timeouts):
    faults.storm(HANG, "s3", "DeleteObject")
    run = invoke(lambda url: event(world, url))
    answer = assert_answered(world, run, "SUCCESS")
    left = probe_objects(world)
    assert len(left) == 1 and left[0][0] in answer["Data"]["Verdict"], (left, answer["Data"])


def test_slow_answers_within_the_read_timeout_are_waited_for(world, invoke, faults):
    faults.storm(delay(0.2), "s3", "PutObject")
    faults.storm(delay(0.2), "secretsmanager")
    assert_answered(world, invoke(lambda url: event(world, url)), "SUCCESS")


# --------------------------------------------------------------------------- the response URL

@pytest.mark.parametrize("mode", ["refused", "5xx", "reset", "hang"])
def test_failing_response_url_is_tried_and_the_handler_returns(world, invoke, response_url, short_timeouts, mode):
    url = response_url(mode)
    run = invoke(lambda u: event(world, u), url=url)
    assert_answered(world, run, "SUCCESS")
    assert len(run.spies.put_tries) == cfn.PUT_TRIES
    if mode != "refused":
        assert len(url.puts) == cfn.PUT_TRIES


def test_response_url_that_fails_twice_gets_the_same_answer_three_times(world, invoke, response_url):
    url = response_url("5xx", failures=2, status=503)
    run = invoke(lambda u: event(world, u), url=url)
    assert_answered(world, run, "SUCCESS")
    assert [put.answered for put in url.puts] == ["503", "503", "200"]


def test_one_answer_when_the_watchdog_and_the_probe_both_finish(world, invoke, faults, response_url):
    """The watchdog answers while the probe is still waiting on S3: the probe's own verdict
    that follows is not sent."""
    faults.storm(delay(0.6), "s3", "PutObject")
    run = invoke(lambda url: event(world, url), handler.WATCHDOG_MARGIN + 0.2)
    assert_answered(world, run, "FAILED")
    assert len(run.url.puts) == 1


# --------------------------------------------------------------------------- deadlines

def test_deadline_a_few_seconds_away(world, invoke):
    run = invoke(lambda url: event(world, url), 3)
    assert_answered(world, run, "FAILED")


def test_deadline_a_few_seconds_away_under_a_throttling_storm(world, invoke, faults):
    faults.storm(throttle())
    run = invoke(lambda url: event(world, url), 3)
    assert_answered(world, run, "FAILED")


def test_deadline_a_few_seconds_away_with_a_silent_s3_and_real_timeouts(world, invoke, faults):
    """CLIENT_CONFIG as shipped (the one case without short_timeouts): the silent call is
    sent once and abandoned within aws.CALL_SECONDS; and a call that may take its full read
    timeout must not keep the handler past a deadline that is closer than that."""
    faults.storm(HANG, "s3")
    # The watchdog answers 3 s in; the call under way then runs out its read timeout, and
    # no further try starts (the probe is cancelled once the answer is given).
    run = invoke(lambda url: event(world, url), handler.WATCHDOG_MARGIN + 3)
    hung = faults.seen("s3", "PutObject")
    assert len(hung) == 1, f"the silent call was sent {len(hung)} times"
    assert hung[0].abandoned is not None and hung[0].abandoned - hung[0].received <= aws.CALL_SECONDS
    assert_answered(world, run, "FAILED")


def test_too_little_time_left_touches_nothing(world, invoke, faults):
    """With less time left than the watchdog's margin, the answer comes at once and no AWS
    call is made at all."""
    run = invoke(lambda url: event(world, url), 5)
    assert faults.seen("s3", "PutObject") == [] and faults.seen("secretsmanager", "GetSecretValue") == []
    assert "too little to probe and answer" in assert_answered(world, run, "FAILED")["Reason"]


def test_every_call_is_capped_and_the_answer_fits_the_watchdog():
    """The budgets the deadline rests on: one try per call, connect + read within
    CALL_SECONDS, and every try of the answer's PUT within the watchdog's margin."""
    config = aws.CLIENT_CONFIG
    assert config.retries.get("total_max_attempts") == 1
    assert config.connect_timeout + config.read_timeout <= aws.CALL_SECONDS
    assert cfn.PUT_TIMEOUT * cfn.PUT_TRIES < handler.WATCHDOG_MARGIN


# --------------------------------------------------------------------------- Secrets Manager and STS

def test_secret_read_denied(world, invoke, faults):
    faults.storm(error(400, "AccessDeniedException", "not authorized to perform secretsmanager:GetSecretValue"),
                 "secretsmanager")
    run = invoke(lambda url: event(world, url))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert "AccessDeniedException" in reason
    assert_names_the_secret(world, reason)


def test_secret_that_does_not_exist(world, invoke):
    missing = world.secrets["documented"].rsplit(":", 1)[0] + ":faults-deleted-AbCdEf"
    run = invoke(lambda url: event(world, url, SecretArn=missing))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert "ResourceNotFoundException" in reason and missing in reason


def test_assume_role_with_the_wrong_external_id(world, invoke):
    run = invoke(lambda url: role_event(world, url, ExternalId=EXTERNAL_ID + "-wrong"))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert "AccessDenied" in reason
    assert_names_the_role(world, reason)


def test_assume_role_denied_by_sts(world, invoke, faults):
    """What STS answers for a role that does not exist, or does not trust the caller (the
    emulator lets a role that does not exist be assumed)."""
    faults.storm(error(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole"), "sts")
    run = invoke(lambda url: role_event(world, url))
    assert_names_the_role(world, assert_answered(world, run, "FAILED")["Reason"])


# --------------------------------------------------------------------------- malformed secrets

@pytest.mark.parametrize("shape", ["create-access-key", "flat"])
def test_secret_in_the_create_access_key_shape_is_accepted(world, invoke, shape):
    run = invoke(lambda url: event(world, url, secret=shape))
    answer = assert_answered(world, run, "SUCCESS")
    assert answer["Data"]["ProbedCredentials"] == world.principal[0]


@pytest.mark.parametrize("shape", ["not-json", "no-keys", "not-an-object", "binary"])
def test_malformed_secret_names_the_secret_and_the_shape(world, invoke, shape):
    run = invoke(lambda url: event(world, url, secret=shape))
    reason = assert_answered(world, run, "FAILED")["Reason"]
    assert world.secrets[shape] in reason and "unexpectedly" not in reason, reason
    assert "accessKeyId" in reason and "secretAccessKey" in reason, reason
    for word in ("JSONDecodeError", "KeyError", "TypeError", "Expecting value"):
        assert word not in reason, reason


# --------------------------------------------------------------------------- malformed events

@pytest.mark.parametrize("name", ["RequestType", "RequestId", "StackId", "LogicalResourceId"])
def test_event_missing_a_field(world, invoke, faults, name):
    def make(url):
        data = event(world, url)
        del data[name]
        return data
    reason = assert_answered(world, invoke(make), "FAILED")["Reason"]
    assert name in reason
    assert not faults.seen(), "a malformed event must not be probed"


@pytest.mark.parametrize("value", ["Upgrade", "", 7, None, ["Create"]])
def test_unknown_request_type(world, invoke, faults, value):
    run = invoke(lambda url: {**event(world, url), "RequestType": value})
    assert_answered(world, run, "FAILED")
    assert not faults.seen(), "an unknown request type must not be probed"


@pytest.mark.parametrize("properties", [["BucketName"], "BucketName=x", 42, None])
def test_resource_properties_not_an_object(world, invoke, properties):
    run = invoke(lambda url: {**event(world, url), "ResourceProperties": properties})
    assert_answered(world, run, "FAILED")


def test_resource_properties_missing(world, invoke):
    def make(url):
        data = event(world, url)
        del data["ResourceProperties"]
        return data
    assert "BucketName" in assert_answered(world, invoke(make), "FAILED")["Reason"]


@pytest.mark.parametrize("name, value", [
    ("BucketName", "b" * 100_000),
    ("BucketName", "bücket-ñame-\u2028-" * 2_000),
    ("SecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + "s" * 50_000),
    ("SecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:sécret-ÄÖÜ-\x00-" * 500),
    ("Region", "eu-wést-1" * 1_000),
    ("KeyDeadlineSeconds", "9" * 5_000),
    ("PolicyDigest", "\U0001F512" * 20_000),
])
def test_huge_and_non_ascii_property_values(world, invoke, name, value):
    run = invoke(lambda url: event(world, url, **{name: value}))
    assert_answered(world, run, "SUCCESS" if name == "PolicyDigest" else "FAILED")


def test_huge_non_ascii_bucket_name_on_delete_still_succeeds(world, invoke):
    run = invoke(lambda url: event(world, url, "delete", BucketName="ü" * 50_000))
    assert_answered(world, run, "SUCCESS")


def test_event_without_a_response_url_cannot_be_answered(world, invoke, faults):
    def make(url):
        data = event(world, url)
        del data["ResponseURL"]
        return data
    run = invoke(make)
    assert run.raised is not None and run.spies.put_tries == [] and not faults.seen()
    assert run.elapsed < run.deadline


@pytest.mark.parametrize("not_an_event", [None, [], "Create", 42])
def test_not_an_event_at_all(world, invoke, faults, not_an_event):
    run = invoke(not_an_event)
    assert run.raised is not None and run.spies.put_tries == [] and not faults.seen()


def test_response_url_that_is_not_a_url(world, invoke):
    run = invoke(lambda url: {**event(world, url), "ResponseURL": "not a url"})
    assert run.raised is None and run.elapsed < run.deadline
    assert 1 <= len(run.spies.put_tries) <= cfn.PUT_TRIES


# --------------------------------------------------------------------------- delete and update

def _leave_a_probe_object(world: World) -> str:
    from logzio_s3_archive_runtime.probe import new_probe_key

    key = new_probe_key()
    world.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"left by an earlier probe")
    return key


def test_delete_removes_leftover_probe_objects_only(world, invoke):
    _leave_a_probe_object(world)
    run = invoke(lambda url: event(world, url, "delete"), retrying())
    assert assert_answered(world, run, "SUCCESS")["Data"] == {"Removed": "1"}
    assert probe_objects(world) == []


@pytest.mark.parametrize("fault", [throttle(), server_error(500), RESET, HANG], ids=["throttle", "500", "reset", "hang"])
def test_delete_never_fails(world, invoke, faults, short_timeouts, fault):
    _leave_a_probe_object(world)
    faults.storm(fault, "s3")
    assert_answered(world, invoke(lambda url: event(world, url, "delete")), "SUCCESS")


@pytest.mark.parametrize("fault", [throttle(), RESET], ids=["throttle", "reset"])
def test_update_when_the_stack_status_cannot_be_read(world, invoke, faults, fault):
    faults.storm(fault, "cloudformation")
    assert_answered(world, invoke(lambda url: event(world, url, "update")), "SUCCESS")
