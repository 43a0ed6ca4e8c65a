"""The probe's logic against stubbed S3: every outcome the deploy can meet."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from logzio_s3_archive_runtime import checks
from logzio_s3_archive_runtime.checks import Status
from logzio_s3_archive_runtime.probe import PROPAGATION_POLL_SECONDS, Patience, remove_leftovers, run_probe
from tests.bucket_cases import CASES, UNREADABLE, finding_notes, notes_match
from tests.unit.s3stub import ACCOUNT, BODY, BUCKET, DENIED_PUT, KEY, FakeClock, Script, stubbed

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
    return run_probe(principal[0], [("the cleaner", cleaner[0])], "us-east-1", patience, clock or FakeClock(),
                     probe_key=KEY)


def statuses(report):
    return {check.action: check.status for check in report.checks}


def test_all_granted_and_the_probe_object_removed(principal, cleaner):
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete(version="v1")
    report = probe(principal, cleaner)
    assert report.ok
    assert [c.action for c in report.checks] == list(ALL)
    assert report.left_behind is None and report.notes == ()


def test_put_missing_alone(principal, cleaner):
    # Nothing was written, so GetObject is tested on the absent key: NoSuchKey means granted.
    principal[1].put("AccessDenied", DENIED_PUT).list(keys=()).get("NoSuchKey", status=404).locate().extras()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT]
    put = report.check(checks.PUT_OBJECT)
    assert put.error_code == "AccessDenied"
    assert f"arn:aws:s3:::{BUCKET}/*" in put.hint
    assert report.verdict().startswith(f"FAILED: Logz.io cannot use bucket {BUCKET} (archive will fail): "
                                       "3 of 4 permissions granted; s3:PutObject missing (AccessDenied)")


def test_list_missing_alone(principal, cleaner):
    principal[1].put().list("AccessDenied").get().locate().tail()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.LIST_BUCKET]
    assert "without /*" in report.check(checks.LIST_BUCKET).hint


def test_get_missing_alone(principal, cleaner):
    principal[1].put().list().get("AccessDenied").locate().tail()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.GET_OBJECT]
    assert report.left_behind is None


def test_location_missing_alone(principal, cleaner):
    principal[1].put().list().get().locate("AccessDenied").tail()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.GET_BUCKET_LOCATION]


def test_object_actions_without_slash_star(principal, cleaner):
    """Put/Get granted on the bucket ARN alone: both denied, both hints name the /*."""
    principal[1].put("AccessDenied").list(keys=()).get("AccessDenied").locate().extras()
    report = probe(principal, cleaner)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT, checks.GET_OBJECT]
    assert all(f"arn:aws:s3:::{BUCKET}/*" in c.hint and "/*" in c.hint for c in report.failed)
    reason = report.verdict()
    assert "s3:PutObject missing" in reason and "s3:GetObject missing" in reason
    assert "s3:ListBucket" not in reason and "s3:GetBucketLocation" not in reason


def test_get_unverifiable_when_put_and_list_are_missing(principal, cleaner):
    principal[1].put("AccessDenied").list("AccessDenied").get("AccessDenied").locate().extras()
    report = probe(principal, cleaner)
    assert statuses(report) == {checks.PUT_OBJECT: Status.MISSING, checks.LIST_BUCKET: Status.MISSING,
                                checks.GET_OBJECT: Status.UNVERIFIED,
                                checks.GET_BUCKET_LOCATION: Status.GRANTED}
    assert "s3:GetObject unverified" in report.verdict()


def test_key_not_yet_propagated_then_working(principal, cleaner):
    principal[1].put("InvalidAccessKeyId").put("InvalidAccessKeyId").put().list().get().locate().tail()
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
    abort = probe(principal, cleaner, Patience(key_propagation=10, policy_settling=0), clock).abort
    assert abort.error_code == "InvalidAccessKeyId"
    assert "keyDeadlineSeconds" in abort.fix
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert max(clock.sleeps) == PROPAGATION_POLL_SECONDS  # no wait grows past the poll interval
    principal[1].stub._queue.clear()  # the remaining scripted answers were never needed


def test_access_denied_retried_within_the_settling_window(principal, cleaner):
    principal[1].put("AccessDenied").put("AccessDenied").put().list().get().locate().tail()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=30), clock)
    assert report.ok
    assert clock.sleeps == [PROPAGATION_POLL_SECONDS] * 2


def test_settling_window_expiring_makes_access_denied_final(principal, cleaner):
    script = principal[1]
    for _ in range(5):  # 0.8 + 0.8 + 0.8 + 0.6 = 3 s window: five attempts, then final
        script.put("AccessDenied")
    script.list(keys=()).get("NoSuchKey", status=404).locate().extras()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=3), clock)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT]
    assert sum(clock.sleeps) == pytest.approx(3.0)
    # The window is shared: later checks do not wait again.
    assert len(clock.sleeps) == 4


def test_throttling_is_retried(principal, cleaner):
    principal[1].put().list("SlowDown").list().get().locate("Throttling").locate().tail()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, clock=clock)
    assert report.ok
    assert len(clock.sleeps) == 2


def test_missing_bucket_aborts(principal, cleaner):
    principal[1].put("NoSuchBucket")
    report = probe(principal, cleaner)
    assert report.abort.what == f"Bucket {BUCKET} does not exist (NoSuchBucket)."
    assert report.exit_status() == 2 and report.checks == ()


def test_wrong_secret_aborts(principal, cleaner):
    principal[1].put("SignatureDoesNotMatch")
    assert "secret access key does not match the access key id" in probe(principal, cleaner).abort.what


def test_bucket_policy_deny_is_named(principal, cleaner):
    principal[1].put("AccessDenied", "User: x is not authorized to perform: s3:PutObject with an "
                     "explicit deny in a resource-based policy").list(keys=()).get("NoSuchKey", status=404).locate().extras()
    report = probe(principal, cleaner)
    assert "bucket policy" in report.check(checks.PUT_OBJECT).hint


def test_kms_denial_is_named(principal, cleaner):
    principal[1].put().list().get("AccessDenied", message="User: x is not authorized to perform: "
                                  "kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/abc").locate().tail()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    hint = report.check(checks.GET_OBJECT).hint
    assert "KMS key" in hint and "kms:Decrypt" in hint


KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_NOT_FOUND = f"Key '{KMS_KEY_ARN}' does not exist"


def test_a_new_kms_key_not_found_yet_is_retried_then_passes(principal, cleaner):
    """A bucket key created moments ago: S3 passes on KMS's NotFoundException until it has
    propagated; waited for like a new access key, then the write works."""
    principal[1].put("KMS.NotFoundException", KMS_NOT_FOUND, status=400) \
        .put("KMS.KMSInvalidStateException", f"{KMS_KEY_ARN} is pending creation", status=400) \
        .put().list().get().locate().tail()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=0), clock)
    assert report.ok, report.verdict()
    assert clock.sleeps == [PROPAGATION_POLL_SECONDS] * 2


@pytest.mark.parametrize("code,message,state", [
    ("KMS.NotFoundException", KMS_NOT_FOUND, "which KMS does not find"),
    ("KMS.KMSInvalidStateException", f"{KMS_KEY_ARN} is pending deletion.", "which is in no usable state"),
])
def test_a_kms_key_that_stays_unusable_is_reported_after_the_key_deadline(principal, cleaner, code, message,
                                                                         state):
    script = principal[1]
    for _ in range(14):  # 12 waits of 0.8 s and one of 0.4 s fill the 10 s: 14 attempts
        script.put(code, message, status=400)
    script.list(keys=()).get("NoSuchKey", status=404).locate().extras()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=10, policy_settling=0), clock)
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert [c.action for c in report.failed] == [checks.PUT_OBJECT]
    put = report.check(checks.PUT_OBJECT)
    assert put.error_code == code
    assert f"uses KMS key {KMS_KEY_ARN}, {state}" in put.hint
    assert f"aws kms describe-key --key-id {KMS_KEY_ARN}" in put.hint
    assert f"aws s3api put-bucket-encryption --bucket {BUCKET}" in put.hint
    assert put.detail == f"{message} (still after 10 s of waiting for the key)"
    assert report.verdict().startswith(f"FAILED: Logz.io cannot use bucket {BUCKET} (archive will fail): "
                                       f"3 of 4 permissions granted; s3:PutObject missing ({code}): the "
                                       f"bucket's default encryption uses KMS key {KMS_KEY_ARN}")


def test_a_kms_key_named_by_alias_or_not_at_all():
    from logzio_s3_archive_runtime.checks import hint_for, kms_key_in
    assert kms_key_in("Invalid keyId aws/s3") == "aws/s3"
    assert kms_key_in("Invalid arn eu-west-2") is None
    hint = hint_for(checks.GET_OBJECT, "KMS.NotFoundException", "Invalid arn eu-west-2", BUCKET)
    assert "uses a KMS key, which KMS does not find" in hint
    assert f"aws s3api get-bucket-encryption --bucket {BUCKET} names it" in hint


def test_a_disabled_kms_key_is_not_waited_for(principal, cleaner):
    """A disabled key does not recover by waiting: reported at once (the KMS permission hint)."""
    principal[1].put("KMS.DisabledException", f"{KMS_KEY_ARN} is disabled.", status=400) \
        .list(keys=()).get("NoSuchKey", status=404).locate().extras()
    clock = FakeClock()
    report = probe(principal, cleaner, clock=clock)
    assert clock.sleeps == []
    assert report.check(checks.PUT_OBJECT).error_code == "KMS.DisabledException"


def test_wrong_region_is_named(principal, cleaner):
    principal[1].put("PermanentRedirect").list("PermanentRedirect").get("PermanentRedirect").locate().extras()
    report = probe(principal, cleaner)
    assert "another region" in report.check(checks.PUT_OBJECT).hint


def test_region_mismatch_is_a_warning(principal, cleaner):
    principal[1].put().list().get().locate(constraint="eu-west-1").tail()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert report.ok and not report.passes(strict=True)
    [warning] = report.warnings
    assert (warning.id, warning.message, warning.fix) == (
        "bucket-region-mismatch", f"bucket {BUCKET} is in eu-west-1, not us-east-1",
        "give Logz.io the region eu-west-1 on its archive page")


def test_object_written_but_not_listed(principal, cleaner):
    principal[1].put().list(keys=()).get().locate().tail()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert report.check(checks.LIST_BUCKET).error_code == "ProbeObjectNotListed"


def test_content_mismatch(principal, cleaner):
    principal[1].put().list().get(body=b"something else").locate().tail()
    cleaner[1].delete()
    assert report_codes(probe(principal, cleaner)) == {checks.GET_OBJECT: "ContentMismatch"}


def test_cleanup_failure_reports_the_exact_key(principal, cleaner):
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete(error="AccessDenied")
    report = probe(principal, cleaner)
    assert report.ok and report.left_behind.key == KEY and report.left_behind.version_id == "v1"
    assert report.left_behind.error == "the cleaner: AccessDenied"


def test_probe_object_removed_even_when_a_later_call_explodes(principal, cleaner):
    principal[1].put().list("NoSuchBucket").self_delete()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert report.abort.error_code == "NoSuchBucket" and report.left_behind is None


def test_unversioned_bucket_delete_has_no_version(principal, cleaner):
    script = principal[1]
    script.stub.add_response("put_object", {}, {"Bucket": BUCKET, "Key": KEY, "Body": BODY,
                                                "IfNoneMatch": "*", "ContentType": "text/plain"})
    script.list().get().locate().tail()
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
    principal[1].put().list("ExpiredToken").self_delete()
    cleaner[1].delete(error="AccessDenied")
    report = probe(principal, cleaner)
    assert "session credentials are expired" in report.abort.what
    assert (report.left_behind.key, report.left_behind.version_id) == (KEY, "v1")
    assert "delete it by hand" in report.verdict()


def test_no_credentials_aborts_with_what_to_do(principal, cleaner, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    def no_credentials(key, body):
        raise NoCredentialsError()

    monkeypatch.setattr(principal[0], "put_new_object", no_credentials)
    abort = probe(principal, cleaner).abort
    assert abort.what == "No AWS credentials found." and "--profile" in abort.fix


def test_a_bucket_or_user_named_kms_is_not_a_kms_diagnosis(principal, cleaner):
    message = ("User: arn:aws:iam::1:user/LogzioKms-LogzioUser is not authorized to perform: "
               "s3:PutObject on resource: arn:aws:s3:::team-kms-archive/x")
    principal[1].put("AccessDenied", message).list("AccessDenied").get("AccessDenied").locate().extras()
    report = probe(principal, cleaner)
    assert all("KMS" not in (c.hint or "") for c in report.failed)
    assert "/*" in report.check(checks.PUT_OBJECT).hint


def test_invalid_key_after_a_success_is_still_retried(principal, cleaner):
    """Keys propagate endpoint by endpoint: one accepted call proves nothing for the next."""
    principal[1].put().list("InvalidAccessKeyId").list().get().locate().tail()
    cleaner[1].delete()
    clock = FakeClock()
    assert probe(principal, cleaner, clock=clock).ok
    assert clock.sleeps == [PROPAGATION_POLL_SECONDS]


def test_settling_window_opens_when_the_key_first_gets_through(principal, cleaner):
    """A slow key must not use up the policy's settling time."""
    script = principal[1]
    for _ in range(5):  # five polls of 0.8 s: 4 s of key propagation, past the 3 s window
        script.put("InvalidAccessKeyId")
    script.put("AccessDenied").put().list().get().locate().tail()
    cleaner[1].delete()
    clock = FakeClock()
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=3), clock)
    assert report.ok  # with the window counted from the start, the AccessDenied would be final


def test_propagation_polls_are_jittered_within_the_poll_interval():
    """Real jitter: every wait between half and all of the poll interval, never the same
    twice in a row for long (probes started together drift apart)."""
    from logzio_s3_archive_runtime.probe import Clock
    shares = [Clock().jitter() for _ in range(200)]
    assert all(0.5 <= share <= 1.0 for share in shares)
    assert len(set(shares)) > 100


def test_server_errors_and_dropped_connections_back_off_until_the_deadline():
    from botocore.exceptions import ClientError, ConnectionClosedError

    from logzio_s3_archive_runtime.probe import BACKOFF_CAP_SECONDS, Retrier
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

    from logzio_s3_archive_runtime.probe import Retrier

    def storm():
        raise ClientError({"Error": {"Code": "SlowDown"}}, "PutObject")

    clock = FakeClock()
    retrier = Retrier(Patience(hard_deadline=clock.now() + 12), clock)
    with pytest.raises(ClientError):
        retrier.call("PutObject", storm)
    assert sum(clock.sleeps) == pytest.approx(12.0)


# --------------------------------------------------------------------------- findings

def probe_with_settings(principal, cleaner, reader, account=lambda: ACCOUNT):
    from logzio_s3_archive_runtime.findings import SettingsReader
    return run_probe(principal[0], [("the cleaner", cleaner[0])], "us-east-1",
                     Patience(key_propagation=90, policy_settling=0), FakeClock(), probe_key=KEY,
                     settings=SettingsReader([("the reader", reader[0])]), principal_account=account)


@pytest.fixture
def reader():
    access, stub = stubbed()
    yield access, Script(stub)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("case", list(CASES))
def test_bucket_findings(principal, cleaner, reader, case):
    settings, expected = CASES[case]
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    reader[1].bucket_settings(**settings)
    report = probe_with_settings(principal, cleaner, reader)
    assert [(f.id, f.severity.value) for f in report.findings] == expected
    assert report.not_checked == ()
    assert notes_match(case, report.notes, BUCKET), report.notes
    for note in finding_notes(report.notes):  # a note is said in the verdict, strict or not
        assert f"Note: {note}" in report.verdict() and f"Note: {note}" in report.verdict(strict=True)
    errors = [f for f in report.findings if f.severity.value == "error"]
    assert report.exit_status() == (1 if errors else 0)
    assert report.exit_status(strict=True) == (1 if expected else 0)
    for finding in report.findings:  # each says what is wrong and what to run
        assert BUCKET in finding.message + finding.fix and finding.fix
        assert f"{finding.severity.value} {finding.id}: {finding.message}" in report.verdict(strict=True)


def test_a_rule_is_named_with_its_scope(principal, cleaner, reader):
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    reader[1].bucket_settings(rules=[CASES["deep-archive-under-prefix"][0]["rules"][0]])
    [finding] = probe_with_settings(principal, cleaner, reader).findings
    assert finding.message == ("lifecycle rule 'old-exports' moves objects under prefix 'exports/' to "
                               "DEEP_ARCHIVE, from which Logz.io cannot restore")


@pytest.mark.parametrize("retention,period,days", [({"Mode": "COMPLIANCE", "Days": 30}, "30 days", 31),
                                                   ({"Mode": "GOVERNANCE", "Years": 1, "Days": 0}, "1 year", 367)])
def test_an_object_lock_retention_says_what_stays_behind_and_the_fix(principal, cleaner, reader, retention,
                                                                    period, days):
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete(error="AccessDenied")  # what S3 answers for a locked version
    reader[1].bucket_settings(lock=retention)
    report = probe_with_settings(principal, cleaner, reader)
    [finding] = report.findings
    assert finding.message == (
        f"bucket {BUCKET} has an Object Lock default retention ({retention['Mode']}, {period}): no probe object "
        "can be removed before its retention ends, so every check leaves one behind under "
        "logzio-archive-probe/, one per check: 4 per day at the scheduled re-check's default rate(6 hours)")
    assert "watchSchedule" in finding.fix and "off" in finding.fix
    assert (f"lifecycle rule on prefix logzio-archive-probe/ that expires current versions after {days} days "
            "and noncurrent versions after 1 day") in finding.fix
    assert report.left_behind.key == KEY  # said as well, with the key
    assert report.ok and not report.passes(strict=True)


def test_requester_pays_is_an_error_for_a_principal_of_another_account(principal, cleaner, reader):
    """S3 waives x-amz-request-payer for the bucket owner's account only: asked with
    ExpectedBucketOwner, which S3 answers 403 when another account owns the bucket."""
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    reader[1].bucket_settings(payer="Requester", owner="210987654321")
    report = probe_with_settings(principal, cleaner, reader)
    [finding] = report.findings
    assert (finding.id, finding.severity.value) == ("requester-pays", "error")
    assert finding.message == (f"bucket {BUCKET} is Requester Pays and belongs to another account than the "
                               f"principal Logz.io uses ({ACCOUNT}): S3 denies that principal's requests unless "
                               "they agree to pay (x-amz-request-payer), and Logz.io's do not")
    assert finding.fix.startswith(f"make the bucket owner pay: aws s3api put-bucket-request-payment --bucket "
                                  f"{BUCKET} --request-payment-configuration Payer=BucketOwner")
    assert finding_notes(report.notes) == [] and report.exit_status() == 1
    assert report.verdict().startswith(f"FAILED: Logz.io cannot use bucket {BUCKET} (archive and restore will "
                                       "fail): 4 of 4 permissions granted; error requester-pays: ")


def test_requester_pays_with_the_principal_account_unknown_is_taken_as_the_owners(principal, cleaner, reader):
    """No ExpectedBucketOwner call without an account: a note that says what was assumed and
    what to do if it is wrong; the bucket passes."""
    from botocore.exceptions import EndpointConnectionError

    def unreachable():
        raise EndpointConnectionError(endpoint_url="https://sts.amazonaws.com")
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    reader[1].bucket_settings(payer="Requester", owner=None)
    report = probe_with_settings(principal, cleaner, reader, account=unreachable)
    assert report.findings == () and report.ok
    [note] = finding_notes(report.notes)
    assert note == (f"requester-pays: bucket {BUCKET} is Requester Pays; the principal's account could not be read "
                    "(STS GetCallerIdentity failed: EndpointConnectionError), so it is taken to be the bucket "
                    "owner's, whose requests need no x-amz-request-payer header (this project creates the "
                    "principal in the bucket's account). If the principal is of another account, archive and "
                    f"restore fail: then aws s3api put-bucket-request-payment --bucket {BUCKET} "
                    "--request-payment-configuration Payer=BucketOwner")


def test_the_principal_account_is_looked_up_only_for_a_requester_pays_bucket(principal, cleaner, reader):
    def never():
        raise AssertionError("looked up the account of a bucket that is not Requester Pays")
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    reader[1].bucket_settings()
    assert probe_with_settings(principal, cleaner, reader, account=never).ok


def test_unreadable_settings_are_not_checked_never_passed(principal, cleaner, reader):
    settings, ids = UNREADABLE
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    reader[1].bucket_settings(**settings)
    report = probe_with_settings(principal, cleaner, reader)
    assert [item.id for item in report.not_checked] == ids
    assert all("AccessDenied as the reader" in item.reason for item in report.not_checked)
    assert report.findings == () and report.ok  # permissions granted; settings unknown, said so


def test_the_next_reader_is_tried_when_the_first_may_not_read(principal, cleaner):
    from logzio_s3_archive_runtime.findings import SettingsReader
    first, first_stub = stubbed()
    second, second_stub = stubbed()
    Script(first_stub).bucket_settings(denied=("ownership", "lifecycle", "tiering", "payer", "lock"))
    # The owner check (ExpectedBucketOwner) is asked by the reader that could read the setting.
    Script(second_stub).bucket_settings(payer="Requester", owner="210987654321")
    principal[1].put().list().get().locate().tail()
    cleaner[1].delete()
    report = run_probe(principal[0], [("the cleaner", cleaner[0])], "us-east-1", clock=FakeClock(),
                       probe_key=KEY, settings=SettingsReader([("first", first), ("second", second)]),
                       principal_account=lambda: ACCOUNT)
    assert [f.id for f in report.findings] == ["requester-pays"] and report.not_checked == ()


# --------------------------------------------------------------------------- extra grants

def test_least_privilege_principal_has_no_over_privilege_finding(principal, cleaner):
    principal[1].put().list().get().locate().extras().self_delete()
    cleaner[1].delete()
    report = probe(principal, cleaner)
    assert not [f for f in report.findings if f.id == "over-privileged"]
    assert report.removed_by == "the cleaner"


def test_a_principal_that_may_delete_and_read_policies_is_over_privileged(principal, cleaner):
    # Versioned bucket: the principal's delete leaves a marker; both it and the probe's
    # version are then removed by exact version id: nothing is left behind.
    principal[1].put().list().get().locate().extras(policy=None, buckets=None).self_delete(error=None, marker="m1")
    cleaner[1].delete(version="v1").delete(version="m1")
    report = probe(principal, cleaner)
    [finding] = report.findings
    assert (finding.id, finding.severity.value) == ("over-privileged", "warning")
    assert "s3:DeleteObject, s3:GetBucketPolicy, s3:ListAllMyBuckets" in finding.message
    assert report.left_behind is None and report.ok and not report.passes(strict=True)


def test_unversioned_bucket_principal_delete_removes_the_object(principal, cleaner):
    script = principal[1]
    script.stub.add_response("put_object", {}, {"Bucket": BUCKET, "Key": KEY, "Body": BODY,
                                                "IfNoneMatch": "*", "ContentType": "text/plain"})
    script.list().get().locate().extras().self_delete(error=None)
    report = probe(principal, cleaner)  # the cleaner is not needed: no call queued for it
    assert report.removed_by == "the checked principal"
    assert [f.id for f in report.findings] == ["over-privileged"]


def test_marker_left_when_no_cleaner_may_delete_is_reported(principal, cleaner):
    principal[1].put().list().get().locate().extras().self_delete(error=None, marker="m1")
    cleaner[1].delete(version="v1", error="AccessDenied")
    report = probe(principal, cleaner)
    assert report.left_behind.key == KEY
    assert report.left_behind.error == ("the checked principal: deleted, delete marker m1 left; "
                                        "the cleaner: AccessDenied")


# --------------------------------------------------------------------------- concurrency

class BarrierS3:
    """An S3Access whose independent calls all wait at one barrier: the probe passes only
    if it makes them at the same time (a sequential probe breaks the barrier)."""

    bucket = BUCKET

    def __init__(self, parties: int):
        import threading
        self.barrier = threading.Barrier(parties, timeout=5)
        self.threads: set[int] = set()

    def _meet(self):
        import threading
        self.threads.add(threading.get_ident())
        self.barrier.wait()

    def put_new_object(self, key, body):
        self._meet()
        self.body = body
        return "v1"

    def list_keys(self, prefix):
        return [prefix]

    def read_object(self, key):
        return self.body

    def bucket_region(self):
        self._meet()
        return "us-east-1"

    def read_bucket_policy(self):
        self._meet()
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "GetBucketPolicy")

    def list_all_buckets(self):
        self._meet()
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "ListBuckets")

    def object_ownership(self):
        self._meet()
        return "BucketOwnerPreferred"

    def lifecycle_rules(self):
        self._meet()
        return []

    def intelligent_tiering_configurations(self):
        self._meet()
        return []

    def request_payer(self):
        self._meet()
        return "BucketOwner"

    def object_lock_retention(self):
        self._meet()
        return None

    def delete_object(self, key, version_id):
        if version_id is None:
            raise ClientError({"Error": {"Code": "AccessDenied"}}, "DeleteObject")
        return None


def test_independent_calls_are_made_at_the_same_time(monkeypatch):
    """The write (first of the archive-and-restore chain), the location, both extra-grant
    calls and the five settings reads: nine calls, all in flight together."""
    from logzio_s3_archive_runtime import probe as probe_module
    from logzio_s3_archive_runtime.findings import SettingsReader
    from botocore.exceptions import ClientError  # noqa: F401 (used by BarrierS3)
    monkeypatch.setattr(probe_module, "CONCURRENT", True)
    s3 = BarrierS3(parties=9)
    report = run_probe(s3, [("the cleaner", s3)], "us-east-1", clock=FakeClock(), probe_key=KEY,
                       settings=SettingsReader([("the reader", s3)]))
    assert report.ok and report.findings == () and report.not_checked == ()
    assert len(s3.threads) == 9 and not s3.barrier.broken


def test_calls_in_order_when_concurrency_is_off():
    """Stubbed tests rely on it: the same probe with CONCURRENT off breaks the barrier."""
    from threading import BrokenBarrierError

    from logzio_s3_archive_runtime.findings import SettingsReader
    s3 = BarrierS3(parties=9)
    s3.barrier = __import__("threading").Barrier(9, timeout=0.05)
    with pytest.raises(BrokenBarrierError):
        run_probe(s3, [("the cleaner", s3)], "us-east-1", clock=FakeClock(), probe_key=KEY,
                  settings=SettingsReader([("the reader", s3)]))


def test_a_cancelled_probe_starts_no_further_try(principal, cleaner):
    principal[1].put("SlowDown")  # once: the next try is never started
    cancelled = []
    clock = FakeClock()
    original_sleep = clock.sleep

    def sleep_then_cancel(seconds):
        original_sleep(seconds)
        cancelled.append(True)  # the watchdog answered while the probe waited

    clock.sleep = sleep_then_cancel
    report = probe(principal, cleaner, Patience(hard_deadline=clock.now() + 60,
                                                cancelled=lambda: bool(cancelled)), clock)
    assert report.abort.error_code == "OutOfTime"
    assert report.abort.what == "The probe ran out of time before PutObject."


def test_a_write_whose_answer_was_lost_is_granted_and_removed(principal, cleaner):
    """The first try timed out after S3 stored the object; the retry meets our own unique key
    (If-None-Match: *): 412. The write works, and the object is removed, version and all."""
    from botocore.exceptions import ReadTimeoutError

    tries = []
    real_put = principal[0].put_new_object

    def lost_then_conflict(key, body):
        tries.append(key)
        if len(tries) == 1:
            raise ReadTimeoutError(endpoint_url="https://s3.example")
        raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "At least one of the "
                                     "pre-conditions you specified did not hold"}}, "PutObject")

    principal[0].put_new_object = lost_then_conflict
    principal[1].stub.add_response("head_object", {"VersionId": "v1"}, {"Bucket": BUCKET, "Key": KEY})
    principal[1].list().get().locate().tail()
    cleaner[1].delete(version="v1")
    report = probe(principal, cleaner, Patience(key_propagation=90, policy_settling=0, hard_deadline=2000.0))
    assert report.ok and report.left_behind is None and report.probe_version_id == "v1"
    assert "earlier try's answer was lost" in report.check(checks.PUT_OBJECT).detail
    assert len(tries) == 2 and real_put is not None
