"""Bucket findings through the emulator (IAM enforced), from the same fixtures as the unit
tests (tests/bucket_cases.py): one bucket per case with that setting applied through the S3
API, checked as the least-privilege "finder" user, whose settings the operator's
--cleanup-profile reads. A setting the emulator does not model is skipped, saying so."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from logzio_s3_archive_runtime.cli import EXIT_MISSING, EXIT_NO_VERDICT, EXIT_OK
from tests.bucket_cases import CASES, GLACIER_ALL, LEAVES_PROBE_OBJECT, notes_match

from .conftest import FINDINGS_PREFIX, probe_objects


def apply(s3, bucket: str, ownership="BucketOwnerPreferred", rules=None, tierings=None, payer="BucketOwner",
          lock=None):
    """A case's settings (s3stub.Script.bucket_settings arguments) on a bucket, through S3."""
    if ownership is not None:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    for configuration in tierings or ():
        s3.put_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id=configuration["Id"], IntelligentTieringConfiguration=configuration)
    if payer != "BucketOwner":
        s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": payer})
    if lock:  # an existing bucket: versioning first, then Object Lock with a default retention
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": lock}})


def readback_matches(s3, bucket: str, ownership="BucketOwnerPreferred", rules=None, tierings=None,
                     payer="BucketOwner", lock=None) -> str | None:
    """Why the emulator does not answer the case's settings back (so it does not model them), or None."""
    try:
        if tierings and [c["Id"] for c in s3.list_bucket_intelligent_tiering_configurations(
                Bucket=bucket).get("IntelligentTieringConfigurationList", [])] != [c["Id"] for c in tierings]:
            return "Intelligent-Tiering configurations are not stored"
        if payer != "BucketOwner" and s3.get_bucket_request_payment(Bucket=bucket).get("Payer") != payer:
            return "request payment is not stored"
    except ClientError as error:
        return f"{error.response['Error'].get('Code')} reading the setting back"
    return None


@pytest.fixture(scope="module")
def case_buckets(emulator):
    """case name -> bucket (or the reason the emulator cannot hold that case)."""
    s3 = emulator.client("s3")
    made = {}
    for case, (settings, _) in CASES.items():
        bucket = FINDINGS_PREFIX + case
        s3.create_bucket(Bucket=bucket)
        try:
            apply(s3, bucket, **settings)
            made[case] = readback_matches(s3, bucket, **settings) or bucket
        except ClientError as error:
            made[case] = f"the emulator refuses the setting ({error.response['Error'].get('Code')})"
    return made


def _bucket(case_buckets, case) -> str:
    found = case_buckets[case]
    if not found.startswith(FINDINGS_PREFIX):
        pytest.skip(f"the emulator does not model case {case}: {found}")
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_each_bucket_finding_through_the_emulator(run, emulator, case_buckets, case):
    bucket = _bucket(case_buckets, case)
    _, expected = CASES[case]
    result = run("--bucket", bucket, "--profile", "finder", "--cleanup-profile", "admin", "--json")
    doc = result.doc
    assert [(f["id"], f["severity"]) for f in doc["findings"]] == expected, doc["findings"]
    assert doc["not_checked"] == [], doc["not_checked"]
    assert notes_match(case, doc["notes"], bucket), doc["notes"]
    errors = [f for f in expected if f[1] == "error"]
    assert all(c["ok"] for c in doc["checks"]), doc["checks"]
    assert result.code == (EXIT_MISSING if errors else EXIT_OK), result.out
    if case in LEAVES_PROBE_OBJECT:  # S3 refuses to delete it, the admin too: said, with its key
        assert [key for key, _ in probe_objects(emulator, bucket)] == [doc["left_behind"]], doc
    else:
        assert probe_objects(emulator, bucket) == []  # the admin removed it

    strict = run("--bucket", bucket, "--profile", "finder", "--cleanup-profile", "admin", "--strict")
    assert strict.code == (EXIT_MISSING if expected else EXIT_OK), strict.out
    assert strict.out.splitlines()[-1].startswith("FAILED: " if expected else "OK: ")


def test_whole_bucket_glacier_rule_fails_the_check(run, emulator):
    """The issue's end-to-end case on the command's side: an existing bucket whose lifecycle
    moves every object to GLACIER, checked as the least-privilege user."""
    bucket = FINDINGS_PREFIX + "glacier-e2e"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [GLACIER_ALL]})
    result = run("--bucket", bucket, "--profile", "finder", "--cleanup-profile", "admin")
    assert result.code == EXIT_MISSING, result.out + result.err
    lines = result.out.splitlines()
    line = next(line for line in lines if line.startswith("  ERROR lifecycle-unrestorable: "))
    assert "lifecycle rule 'to-glacier' moves every object in the bucket to GLACIER" in line
    assert lines[lines.index(line) + 1].startswith("    fix: change rule 'to-glacier' to a class Logz.io can read")
    assert lines[-1].startswith(f"FAILED: Logz.io cannot use bucket {bucket} (restore will fail): 4 of 4 "
                                "permissions granted; error lifecycle-unrestorable: ")


def test_without_cleanup_profile_the_settings_are_not_checked(run, emulator, case_buckets):
    """The least-privilege user may not read the settings: not checked (with the command to
    look by hand and the flag that reads them), never passed."""
    bucket = _bucket(case_buckets, "ownership-enforced")
    result = run("--bucket", bucket, "--profile", "finder")
    assert result.code == EXIT_OK, result.out + result.err
    lines = result.out.splitlines()
    ownership = next(line for line in lines if line.startswith("  not checked object-ownership-enforced: "))
    assert "AccessDenied as the checked credentials" in ownership
    assert lines[lines.index(ownership) + 1] == (
        "    fix: allow s3:GetBucketOwnershipControls to the credentials that read the settings (deploy: "
        "the probe function's role; command: --cleanup-profile, or your own with --stack), or look by hand: "
        f"aws s3api get-bucket-ownership-controls --bucket {bucket}")
    assert "  hint: --cleanup-profile PROFILE reads the bucket's settings (and removes the probe object) " \
        "with credentials allowed to." in lines
    assert "aws s3api delete-object" in result.out  # the user may not remove its probe object either
    for key, version_id in probe_objects(emulator, bucket):
        emulator.client("s3").delete_object(Bucket=bucket, Key=key)


def test_stack_that_does_not_exist_document(run):
    result = run("--stack", "NoSuchStack", "--profile", "admin", "--json")
    assert result.code == EXIT_NO_VERDICT
    doc = result.doc
    assert doc["bucket"] is None and doc["stack"] == "NoSuchStack" and doc["principal"] is None
    assert doc["error"]["what"] == "Stack NoSuchStack does not exist in the default region."
    assert doc["summary"] == ("Could not check the bucket: Stack NoSuchStack does not exist "
                              "in the default region. Check the stack name, or pass the stack's --region.")
