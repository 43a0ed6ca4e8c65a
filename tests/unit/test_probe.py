"""The probe's logic against stubbed S3: every outcome the deploy can meet."""

from __future__ import annotations

import pytest

from archive_probe import checks
from archive_probe.checks import ProbeAborted, Status
from archive_probe.probe import PROPAGATION_POLL_SECONDS, Patience, remove_leftovers, run_probe
from tests.unit.s3stub import BODY, BUCKET, DENIED_PUT, KEY, FakeClock, Script, stubbed

ALL = checks.ACTIONS


@pytest.fixture
def principal():
    user, stub = stubbed()
    yield user, Script(stub)
    stub.assert_no_pending_responses()


@pytest.fixture
def cleaner():
    cleanup, stub = stubbed()
    yield cleanup, Script(stub)
    stub.assert_no_pending_responses()


def probe(principal, cleaner, patience=Patience(key_propagation=90, policy_settling=0), clock=None):
    return run_probe(principal[0], cleaner[0], "us-east-1", patience, clock or FakeClock(), probe_key=KEY)


def statuses(report):
    return {check.action: check.status for check in report.checks}


def test_all_granted_and_the_probe_object_removed(principal, cleaner):
    principal[1].put().list().get().locate()
    cleaner[1].delete(version="v1")
    report = probe(principal, cleaner)
    assert report.ok
    assert [c.action for c in report.checks] == list(ALL)
    assert report.left_behind is None and report.notes == ()


def test_put_missing_alone(principal, cleaner):
    # Nothing was written, so GetObject is tested on the absent key: NoSuchKey means granted.
    principal[1].put("AccessDenied", DENIED_PUT).list(keys=()).get("NoSuchKey", status=404).locate()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT]
    put = report.check(checks.PUT_OBJECT)
    assert put.error_code == "AccessDenied"
    assert f"arn:aws:s3:::{BUCKET}/*" in put.hint
    assert report.failure_reason().startswith(f"Logz.io cannot use bucket {BUCKET}: s3:PutObject missing (AccessDenied)")


def test_list_missing_alone(principal, cleaner):
    principal[1].put().list("AccessDenied").get().locate()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.LIST_BUCKET]
    assert "without /*" in report.check(checks.LIST_BUCKET).hint


def test_get_missing_alone(principal, cleaner):
    principal[1].put().list().get("AccessDenied").locate()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.GET_OBJECT]
    assert report.left_behind is None


def test_location_missing_alone(principal, cleaner):
    principal[1].put().list().get().locate("AccessDenied")
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.GET_BUCKET_LOCATION]


def test_object_actions_without_slash_star(principal, cleaner):
    """Put/Get granted on the bucket ARN alone: both denied, both hints name the /*."""
    principal[1].put("AccessDenied").list(keys=()).get("AccessDenied").locate()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT, checks.GET_OBJECT]
    assert all(f"arn:aws:s3:::{BUCKET}/*" in c.hint and "/*" in c.hint for c in report.failed)
    reason = report.failure_reason()
    assert "s3:PutObject missing" in reason and "s3:GetObject missing" in reason
    assert "s3:ListBucket" not in reason and "s3:GetBucketLocation" not in reason


def test_get_unverifiable_when_put_and_list_are_missing(principal, cleaner):
    principal[1].put("AccessDenied").list("AccessDenied").get("AccessDenied").locate()
    report = probe(principal, cleaner)
    assert statuses(report) == {checks.PUT_OBJECT: Status.MISSING, checks.LIST_BUCKET: Status.MISSING,
                                checks.GET_OBJECT: Status.UNVERIFIED,
                                checks.GET_BUCKET_LOCATION: Status.GRANTED}
    assert "s3:GetObject unverified" in report.failure_reason()


def test_key_not_yet_propagated_then_working(principal, cleaner):
    principal[1].put("InvalidAccessKeyId").put("InvalidAccessKeyId").put().list().get().locate()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, clock=clock)
    assert report.ok
    # Propagation is polled at most every PROPAGATION_POLL_SECONDS, never backed off.
    assert clock.sleeps == [PROPAGATION_POLL_SECONDS] * 2


def test_key_never_propagates_aborts_at_the_deadline(principal, cleaner):
    script = principal[1]
    for _ in range(14):  # 12 waits of 0.8 s and one of 0.4 s fill the 10 s: 14 attempts
        script.put("InvalidAccessKeyId")
    clock = FakeClock()
    with pytest.raises(ProbeAborted) as aborted:
        probe(principal, cleaner, Patience(key_propagation=10, policy_settling=0), clock)
    assert aborted.value.error_code == "InvalidAccessKeyId"
    assert "keyDeadlineSeconds" in aborted.value.fix
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert max(clock.sleeps) == PROPAGATION_POLL_SECONDS  # no wait grows past the poll interval
    principal[1].stub._queue.clear()  # the remaining scripted answers were never needed


def test_access_denied_retried_within_the_settling_window(principal, cleaner):
    principal[1].put("AccessDenied").put("AccessDenied").put().list().get().locate()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=30), clock)
    assert report.ok
    assert clock.sleeps == [PROPAGATION_POLL_SECONDS] * 2


def test_settling_window_expiring_makes_access_denied_final(principal, cleaner):
    script = principal[1]
    for _ in range(5):  # 0.8 + 0.8 + 0.8 + 0.6 = 3 s window: five attempts, then final
        script.put("AccessDenied")
    script.list(keys=()).get("NoSuchKey", status=404).locate()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=3), clock)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT]
    assert sum(clock.sleeps) == pytest.approx(3.0)
    # The window is shared: later checks do not wait again.
    assert len(clock.sleeps) == 4


def test_throttling_is_retried(principal, cleaner):
    principal[1].put().list("SlowDown").list().get().locate("Throttling").locate()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, clock=clock)
    assert report.ok
    assert len(clock.sleeps) == 2


def test_missing_bucket_aborts(principal, cleaner):
    principal[1].put("NoSuchBucket")
    with pytest.raises(ProbeAborted, match=f"Bucket {BUCKET} does not exist"):
        probe(principal, cleaner)


def test_wrong_secret_aborts(principal, cleaner):
    principal[1].put("SignatureDoesNotMatch")
    with pytest.raises(ProbeAborted, match="secret access key does not match the access key id"):
        probe(principal, cleaner)


def test_bucket_policy_deny_is_named(principal, cleaner):
    principal[1].put("AccessDenied", "User: x is not authorized to perform: s3:PutObject with an "
                     "explicit deny in a resource-based policy").list(keys=()).get("NoSuchKey", status=404).locate()
    report = probe(principal, cleaner)
    assert "bucket policy" in report.check(checks.PUT_OBJECT).hint


def test_kms_denial_is_named(principal, cleaner):
    principal[1].put().list().get("AccessDenied", message="User: x is not authorized to perform: "
                                  "kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/abc").locate()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    hint = report.check(checks.GET_OBJECT).hint
    assert "KMS key" in hint and "kms:Decrypt" in hint


def test_wrong_region_is_named(principal, cleaner):
    principal[1].put("PermanentRedirect").list("PermanentRedirect").get("PermanentRedirect").locate()
    report = probe(principal, cleaner)
    assert "another region" in report.check(checks.PUT_OBJECT).hint


def test_region_mismatch_is_noted(principal, cleaner):
    principal[1].put().list().get().locate(constraint="eu-west-1")
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert report.ok and report.notes == (f"bucket {BUCKET} is in eu-west-1, not us-east-1: "
                                          "give Logz.io the region eu-west-1",)


def test_object_written_but_not_listed(principal, cleaner):
    principal[1].put().list(keys=()).get().locate()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert report.check(checks.LIST_BUCKET).error_code == "ProbeObjectNotListed"


def test_content_mismatch(principal, cleaner):
    principal[1].put().list().get(body=b"something else").locate()
    cleaner[1].delete()
    assert report_codes(probe(principal, cleaner)) == {checks.GET_OBJECT: "ContentMismatch"}


def test_cleanup_failure_reports_the_exact_key(principal, cleaner):
    principal[1].put().list().get().locate()
    cleaner[1].delete(error="AccessDenied")
    report = probe(principal, cleaner)
    assert report.ok and report.left_behind == KEY and report.cleanup_error.startswith("AccessDenied")


def test_probe_object_removed_even_when_a_later_call_explodes(principal, cleaner):
    principal[1].put().list("NoSuchBucket")
    cleaner[1].delete()
    with pytest.raises(ProbeAborted):
        probe(principal, cleaner)


def test_unversioned_bucket_delete_has_no_version(principal, cleaner):
    script = principal[1]
    script.stub.add_response("put_object", {}, {"Bucket": BUCKET, "Key": KEY, "Body": BODY,
                                                "IfNoneMatch": "*", "ContentType": "text/plain"})
    script.list().get().locate()
    cleaner[1].delete(version=None)
    assert probe(principal, cleaner).ok


def test_remove_leftovers_touches_only_probe_objects(cleaner):
    others = [("logzio-archive-probe/keep/nested.log", "v9"), ("logzio-archive-probe/notes.txt", "v8"),
              ("logzio-archive-probe/20261127T000000Z-0123456789ABCDEF0123456789ABCDEF.txt", "v7")]
    cleaner[1].versions([(KEY, "v1"), *others], markers=[(KEY, "m1")]) \
        .delete(version="v1").delete(version="m1")
    assert remove_leftovers(cleaner[0]) == [KEY, KEY]


def report_codes(report):
    return {c.action: c.error_code for c in report.failed}


def test_abort_after_the_write_still_removes_the_probe_object(principal, cleaner):
    principal[1].put().list("ExpiredToken")
    cleaner[1].delete(error="AccessDenied")
    with pytest.raises(ProbeAborted, match="session credentials are expired") as aborted:
        probe(principal, cleaner)
    assert (aborted.value.left_behind, aborted.value.left_behind_version_id) == (KEY, "v1")


def test_no_credentials_aborts_with_what_to_do(principal, cleaner, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    def no_credentials(key, body):
        raise NoCredentialsError()

    monkeypatch.setattr(principal[0], "put_new_object", no_credentials)
    with pytest.raises(ProbeAborted, match="No AWS credentials found"):
        probe(principal, cleaner)


def test_a_bucket_or_user_named_kms_is_not_a_kms_diagnosis(principal, cleaner):
    message = ("User: arn:aws:iam::1:user/LogzioKms-LogzioUser is not authorized to perform: "
               "s3:PutObject on resource: arn:aws:s3:::team-kms-archive/x")
    principal[1].put("AccessDenied", message).list("AccessDenied").get("AccessDenied").locate()
    report = probe(principal, cleaner)
    assert all("KMS" not in (c.hint or "") for c in report.failed)
    assert "/*" in report.check(checks.PUT_OBJECT).hint


def test_invalid_key_after_a_success_is_still_retried(principal, cleaner):
    """Keys propagate endpoint by endpoint: one accepted call proves nothing for the next."""
    principal[1].put().list("InvalidAccessKeyId").list().get().locate()
    cleaner[1].delete()
    clock = FakeClock()
    assert probe(principal, cleaner, clock=clock).ok
    assert clock.sleeps == [PROPAGATION_POLL_SECONDS]


def test_settling_window_opens_when_the_key_first_gets_through(principal, cleaner):
    """A slow key must not use up the policy's settling time."""
    script = principal[1]
    for _ in range(5):  # five polls of 0.8 s: 4 s of key propagation, past the 3 s window
        script.put("InvalidAccessKeyId")
    script.put("AccessDenied").put().list().get().locate()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=3), clock)
    assert report.ok  # with the window counted from the start, the AccessDenied would be final


def test_propagation_polls_are_jittered_within_the_poll_interval():
    """Real jitter: every wait between half and all of the poll interval, never the same
    twice in a row for long (probes started together drift apart)."""
    from archive_probe.probe import Clock
    shares = [Clock().jitter() for _ in range(200)]
    assert all(0.5 <= share <= 1.0 for share in shares)
    assert len(set(shares)) > 100


def test_server_errors_and_dropped_connections_back_off_until_the_deadline():
    from botocore.exceptions import ClientError, ConnectionClosedError

    from archive_probe.probe import BACKOFF_CAP_SECONDS, Retrier
    answers = [ClientError({"Error": {"Code": ""}, "ResponseMetadata": {"HTTPStatusCode": 502}}, "GetObject"),
               ConnectionClosedError(endpoint_url="https://s3.example"),
               ClientError({"Error": {"Code": "InternalFailure"}}, "GetSecretValue")] * 3

    def call():
        if answers:
            raise answers.pop(0)
        return "ok"

    clock = FakeClock()
    retrier = Retrier(Patience(key_propagation=1, policy_settling=0, hard_deadline=clock.now() + 60), clock)
    assert retrier.call("GetObject", call) == "ok"
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0] + [BACKOFF_CAP_SECONDS] * 5


def test_a_storm_longer_than_the_deadline_raises_at_the_deadline():
    from botocore.exceptions import ClientError

    from archive_probe.probe import Retrier

    def storm():
        raise ClientError({"Error": {"Code": "SlowDown"}}, "PutObject")

    clock = FakeClock()
    retrier = Retrier(Patience(hard_deadline=clock.now() + 12), clock)
    with pytest.raises(ClientError):
        retrier.call("PutObject", storm)
    assert sum(clock.sleeps) == pytest.approx(12.0)
