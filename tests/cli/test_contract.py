"""The command's JSON contract (docs/json-output.md) and exit statuses, and every bucket
finding on the command from the same fixtures as the probe's unit tests
(tests/bucket_cases.py), against stubbed S3 (stubs.py): with --bucket (the checked
credentials then --cleanup-profile read the settings) and with --stack (your own
credentials read them)."""

from __future__ import annotations

import io
import json

import pytest

from logzio_s3_archive_runtime import aws
from logzio_s3_archive_runtime.cli import EXIT_MISSING, EXIT_NO_VERDICT, EXIT_OK, main
from logzio_s3_archive_runtime.diagnosis import EXIT_FAILED
from tests.bucket_cases import CASES, DEEP_ARCHIVE_PREFIX, UNREADABLE, finding_notes, notes_match
from tests.unit.s3stub import BUCKET, KEY

from .stubs import ADMIN, LOGZIO, LOGZIO_KEY, SECRET_ARN, STACK, StubbedAws

#: Every top-level key of the document, whatever the outcome.
TOP_KEYS = {"bucket", "stack", "principal", "region", "bucket_region", "ok", "exit_code", "strict", "checks",
            "findings", "not_checked", "error", "probe_key", "left_behind", "left_behind_version_id",
            "left_behind_marker_version_id", "notes", "summary", "cleanup"}
CHECK_KEYS = {"action", "ok", "status", "error_code", "hint", "detail"}
OPTIONAL_STRINGS = ("bucket", "stack", "principal", "region", "bucket_region", "probe_key", "left_behind",
                    "left_behind_version_id", "left_behind_marker_version_id")


def optional_str(value) -> bool:
    return value is None or isinstance(value, str)


def assert_contract(doc: dict) -> dict:
    """The document has exactly the documented keys, each of its documented type, and the
    judgement fields agree with each other."""
    assert set(doc) == TOP_KEYS, set(doc) ^ TOP_KEYS
    for key in OPTIONAL_STRINGS:
        assert optional_str(doc[key]), (key, doc[key])
    assert isinstance(doc["ok"], bool) and isinstance(doc["strict"], bool)
    assert doc["exit_code"] in (EXIT_OK, EXIT_FAILED, EXIT_NO_VERDICT)
    assert doc["ok"] is (doc["exit_code"] == EXIT_OK)
    assert isinstance(doc["summary"], str) and doc["summary"]
    for check in doc["checks"]:
        assert set(check) == CHECK_KEYS and check["status"] in ("granted", "missing", "unverified")
        assert check["ok"] is (check["status"] == "granted")
    for finding in doc["findings"]:
        assert set(finding) == {"id", "severity", "message", "fix"}
        assert finding["severity"] in ("error", "warning") and finding["message"] and finding["fix"]
    for item in doc["not_checked"]:
        assert set(item) == {"id", "reason", "fix"} and item["reason"] and item["fix"]
    if doc["error"] is not None:
        assert set(doc["error"]) == {"what", "fix", "error_code"} and optional_str(doc["error"]["error_code"])
        assert doc["exit_code"] == EXIT_NO_VERDICT and doc["checks"] == [] and doc["findings"] == []
    else:
        assert [c["action"] for c in doc["checks"]] == ["s3:PutObject", "s3:ListBucket", "s3:GetObject",
                                                        "s3:GetBucketLocation"]
    assert all(isinstance(note, str) for note in doc["notes"])
    cleanup = doc["cleanup"]
    assert set(cleanup) == {"removed", "removed_by", "delete_command"} and isinstance(cleanup["removed"], bool)
    assert (cleanup["delete_command"] is None) is (doc["left_behind"] is None)
    return doc


@pytest.fixture
def aws_stub(monkeypatch):
    stubbed = StubbedAws(monkeypatch)
    yield stubbed
    stubbed.verify()


@pytest.fixture
def fresh(monkeypatch):
    """Another set of stubbed clients, for a second run of the same scenario."""
    made = []

    def make() -> StubbedAws:
        made.append(StubbedAws(monkeypatch))
        return made[-1]
    yield make
    for stubbed in made:
        stubbed.verify()


# --------------------------------------------------------------------------- outcomes

def all_granted(s: StubbedAws) -> None:
    s.granted()


def list_missing(s: StubbedAws) -> None:
    s.logzio.put().list("AccessDenied").get().locate().extras()
    s.logzio.bucket_settings(denied=("ownership", "lifecycle", "tiering", "payer", "lock")).self_delete()
    s.admin.bucket_settings().delete(version="v1")


def ownership_enforced(s: StubbedAws) -> None:
    s.granted(settings={"ownership": "BucketOwnerEnforced"})


def glacier_under_a_prefix(s: StubbedAws) -> None:
    s.granted(settings={"rules": [DEEP_ARCHIVE_PREFIX]})


def no_such_bucket(s: StubbedAws) -> None:
    s.logzio.put("NoSuchBucket")


#: (scenario, extra arguments, exit status, summary's beginning)
OUTCOMES = {
    "ok": (all_granted, (), EXIT_OK,
           f"OK: all 4 permissions Logz.io needs are granted on bucket {BUCKET} (archive and restore will work)."),
    "missing permission": (list_missing, (), EXIT_MISSING,
                           f"FAILED: Logz.io cannot use bucket {BUCKET} (restore will fail): 3 of 4 permissions "
                           "granted; s3:ListBucket missing (AccessDenied)"),
    "error finding": (ownership_enforced, (), EXIT_MISSING,
                      f"FAILED: Logz.io cannot use bucket {BUCKET} (archive will fail): 4 of 4 permissions "
                      "granted; error object-ownership-enforced: "),
    "warning": (glacier_under_a_prefix, (), EXIT_OK,
                f"OK: all 4 permissions Logz.io needs are granted on bucket {BUCKET} (archive and restore "
                "will work); warning lifecycle-unrestorable: "),
    "warning, strict": (glacier_under_a_prefix, ("--strict",), EXIT_MISSING,
                        f"FAILED: Logz.io cannot use bucket {BUCKET}: 4 of 4 permissions granted; "
                        "warning lifecycle-unrestorable: "),
    "no verdict": (no_such_bucket, (), EXIT_NO_VERDICT,
                   f"Could not check bucket {BUCKET}: Bucket {BUCKET} does not exist (NoSuchBucket)."),
}


@pytest.mark.parametrize("name", OUTCOMES)
def test_exit_status_and_document_of_each_outcome(fresh, name):
    scenario, extra, status, summary = OUTCOMES[name]
    stubbed = fresh()
    scenario(stubbed)
    result = stubbed.run("--json", *extra)
    assert result.code == status, result.out + result.err
    doc = assert_contract(result.doc)
    assert doc["exit_code"] == status and doc["strict"] is ("--strict" in extra)
    assert doc["summary"].startswith(summary), doc["summary"]
    assert doc["bucket"] == BUCKET and doc["stack"] is None and doc["principal"] == f"profile {LOGZIO}"

    # The text output ends with the same summary line and exits the same.
    stubbed = fresh()
    scenario(stubbed)
    text = stubbed.run(*extra)
    assert text.code == status
    assert text.last_line == doc["summary"]
    errors = [line for line in text.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == (1 if status == EXIT_NO_VERDICT else 0), text.err


def test_ok_document(aws_stub):
    aws_stub.granted()
    doc = assert_contract(aws_stub.run("--json").doc)
    assert doc["ok"] is True and doc["error"] is None and doc["findings"] == [] and doc["not_checked"] == []
    assert doc["probe_key"] == KEY and doc["left_behind"] is None
    assert doc["cleanup"] == {"removed": True, "removed_by": f"profile {ADMIN}", "delete_command": None}


def test_missing_permission_document(aws_stub):
    list_missing(aws_stub)
    doc = assert_contract(aws_stub.run("--json").doc)
    [failed] = [c for c in doc["checks"] if not c["ok"]]
    assert failed["action"] == "s3:ListBucket" and failed["status"] == "missing"
    assert failed["error_code"] == "AccessDenied" and f"arn:aws:s3:::{BUCKET}" in failed["hint"]
    assert doc["findings"] == []


def test_error_finding_document(aws_stub):
    ownership_enforced(aws_stub)
    doc = assert_contract(aws_stub.run("--json").doc)
    assert all(c["ok"] for c in doc["checks"])
    [finding] = doc["findings"]
    assert finding["id"] == "object-ownership-enforced" and finding["severity"] == "error"
    assert "put-bucket-ownership-controls" in finding["fix"] and "BucketOwnerPreferred" in finding["fix"]


def test_no_verdict_document(aws_stub):
    no_such_bucket(aws_stub)
    result = aws_stub.run("--json")
    doc = assert_contract(result.doc)
    assert doc["error"] == {"what": f"Bucket {BUCKET} does not exist (NoSuchBucket).",
                            "fix": "Check the bucket name, or create the bucket first.",
                            "error_code": "NoSuchBucket"}
    assert doc["cleanup"] == {"removed": False, "removed_by": None, "delete_command": None}
    assert result.err.startswith(f"error: Bucket {BUCKET} does not exist (NoSuchBucket). next: ")


def test_usage_error_document_has_every_key():
    out, err = io.StringIO(), io.StringIO()
    assert main(["check", "--json", "--strict", "--bucket", "Bad_Name!"], out=out, err=err) == EXIT_NO_VERDICT
    doc = assert_contract(json.loads(out.getvalue()))
    assert doc["bucket"] is None and doc["stack"] is None and doc["principal"] is None
    assert doc["strict"] is True and doc["error"]["error_code"] is None
    assert "argument --bucket:" in doc["error"]["what"] and "argument --bucket:" in doc["summary"]


# --------------------------------------------------------------------------- each bucket finding

MODES = ("bucket", "stack")


def _labels(case_findings) -> list[str]:
    return [f"{'ERROR' if severity == 'error' else 'warning'} {finding_id}: "
            for finding_id, severity in case_findings]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_each_bucket_finding_on_the_command(fresh, case, mode):
    """The same cases as the probe's and the handler's unit tests; the same verdict."""
    settings, expected = CASES[case]
    errors = [f for f in expected if f[1] == "error"]

    stubbed = fresh()
    stubbed.granted(mode, settings)
    result = stubbed.run("--json", mode=mode)
    doc = assert_contract(result.doc)
    assert [(f["id"], f["severity"]) for f in doc["findings"]] == expected
    assert doc["not_checked"] == []
    assert notes_match(case, doc["notes"], BUCKET), doc["notes"]
    assert result.code == (EXIT_MISSING if errors else EXIT_OK), result.out
    for finding in doc["findings"]:  # each says what is wrong, where, and what to run
        assert BUCKET in finding["message"] + finding["fix"]
        # The summary names what fails it; when nothing does, the warnings.
        if finding["severity"] == "error" or not errors:
            assert f"{finding['severity']} {finding['id']}: {finding['message']}" in doc["summary"]

    # Text: one line per finding and its fix; --strict makes every finding fail.
    stubbed = fresh()
    stubbed.granted(mode, settings)
    text = stubbed.run("--strict", mode=mode)
    assert text.code == (EXIT_MISSING if expected else EXIT_OK), text.out
    lines = text.out.splitlines()
    found = [line for line in lines if line.startswith(("  ERROR ", "  warning "))]
    assert [line.strip() for line in found] == [
        label + f["message"] for label, f in zip(_labels(expected), doc["findings"])]
    for line in found:
        assert lines[lines.index(line) + 1].startswith("    fix: ")
    for note in finding_notes(doc["notes"]):  # a note line, and in the verdict
        assert f"  note: {note}" in lines and f"Note: {note}" in text.last_line
    assert text.last_line.startswith("FAILED: " if expected else "OK: ")


@pytest.mark.parametrize("mode", MODES)
def test_settings_nobody_may_read_are_not_checked(aws_stub, mode):
    settings, ids = UNREADABLE
    aws_stub.granted(mode, settings)
    doc = assert_contract(aws_stub.run("--json", mode=mode).doc)
    assert [item["id"] for item in doc["not_checked"]] == ids
    reader = "profile admin"
    assert all(f"AccessDenied as {reader}" in item["reason"] for item in doc["not_checked"])
    if mode == "bucket":  # the checked credentials were asked first
        assert all("AccessDenied as the checked credentials" in item["reason"] for item in doc["not_checked"])
    assert doc["findings"] == [] and doc["exit_code"] == EXIT_OK  # unknown, and said so; never passed


def test_not_checked_text_lines(aws_stub):
    settings, ids = UNREADABLE
    aws_stub.granted("bucket", settings)
    lines = aws_stub.run().out.splitlines()
    assert [line.split(":")[0].strip() for line in lines if line.startswith("  not checked ")] == [
        f"not checked {finding_id}" for finding_id in ids]


def test_the_checked_credentials_alone_read_the_settings(monkeypatch):
    """--bucket without --cleanup-profile: the checked credentials read the settings; nobody
    may remove the probe object, so the command gives the exact delete command."""
    stubbed = StubbedAws(monkeypatch)
    stubbed.logzio.put().list().get().locate().extras()
    stubbed.logzio.bucket_settings(ownership="BucketOwnerEnforced").self_delete()
    stubbed.logzio.delete(version="v1", error="AccessDenied")  # as a cleaner, by exact version
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--bucket", BUCKET, "--profile", LOGZIO, "--region", "us-east-1", "--json"],
                out=out, err=err)
    stubbed.verify()
    doc = assert_contract(json.loads(out.getvalue()))
    assert code == EXIT_MISSING and [f["id"] for f in doc["findings"]] == ["object-ownership-enforced"]
    assert doc["left_behind"] == KEY and doc["left_behind_version_id"] == "v1"
    assert doc["cleanup"] == {"removed": False, "removed_by": None, "delete_command": (
        f"aws s3api delete-object --bucket {BUCKET} --key {KEY} --version-id v1 --region us-east-1")}


def test_an_over_privileged_principal_is_a_warning(aws_stub):
    aws_stub.logzio.put().list().get().locate().extras(policy=None, buckets=None)
    aws_stub.logzio.bucket_settings(denied=("ownership", "lifecycle", "tiering", "payer", "lock")).self_delete(error=None)
    aws_stub.admin.bucket_settings().delete(version="v1")
    doc = assert_contract(aws_stub.run("--json").doc)
    [finding] = doc["findings"]
    assert (finding["id"], finding["severity"]) == ("over-privileged", "warning")
    for permission in ("s3:DeleteObject", "s3:GetBucketPolicy", "s3:ListAllMyBuckets"):
        assert permission in finding["message"]
    assert doc["exit_code"] == EXIT_OK and doc["cleanup"]["removed_by"] == f"profile {ADMIN}"


# --------------------------------------------------------------------------- --stack specifics

def test_stack_reads_settings_with_your_credentials_and_notes_a_key_mismatch(aws_stub):
    aws_stub.outputs["AccessKeyId"] = "AKIAOTHERKEY00000000"
    aws_stub.granted("stack", {"payer": "Requester", "owner": "210987654321"})  # another account's bucket
    result = aws_stub.run("--json", mode="stack")
    doc = assert_contract(result.doc)
    assert result.code == EXIT_MISSING
    assert [f["id"] for f in doc["findings"]] == ["requester-pays"]
    assert aws_stub.accounts_asked == [LOGZIO_KEY.access_key_id]  # the account of the key Logz.io uses
    assert doc["stack"] == STACK and doc["bucket"] == BUCKET and doc["region"] == "us-east-1"
    assert doc["principal"] == f"IAM user {LOGZIO} (access key {LOGZIO_KEY.access_key_id}, from stack {STACK})"
    assert doc["notes"] == [f"the secret holds access key {LOGZIO_KEY.access_key_id}, not the stack's "
                            "AKIAOTHERKEY00000000: Logz.io must use the key in the secret"]
    assert doc["summary"].endswith(f" Note: {doc['notes'][0]}.")


def test_requester_pays_bucket_of_another_account_fails_the_bucket_check(aws_stub):
    """--bucket with a profile of another account than the bucket's: the principal's account
    (of --profile) does not own the bucket, so its requests would be denied: an error."""
    aws_stub.granted("bucket", {"payer": "Requester", "owner": "210987654321"})
    result = aws_stub.run("--json")
    doc = assert_contract(result.doc)
    assert result.code == EXIT_MISSING
    assert [(f["id"], f["severity"]) for f in doc["findings"]] == [("requester-pays", "error")]
    assert "belongs to another account than the principal Logz.io uses (123456789012)" in doc["summary"]
    assert aws_stub.accounts_asked == [LOGZIO]


def test_malformed_secret_is_no_verdict_with_its_what_and_fix(aws_stub):
    aws_stub.secret_error = aws.MalformedSecret(f"Secret {SECRET_ARN} is not JSON; it must hold JSON ...",
                                                "Put the key back with: aws secretsmanager put-secret-value ...")
    result = aws_stub.run("--json", mode="stack")
    doc = assert_contract(result.doc)
    assert result.code == EXIT_NO_VERDICT
    assert doc["error"] == {"what": aws_stub.secret_error.what, "fix": aws_stub.secret_error.fix,
                            "error_code": "MalformedSecret"}
    assert doc["bucket"] == BUCKET and doc["stack"] == STACK


# --------------------------------------------------------------------------- the contract's page

def test_docs_json_output_documents_the_contract():
    """docs/json-output.md names every key and finding id, and each of its examples is a
    document this contract accepts."""
    import re
    from pathlib import Path

    from logzio_s3_archive_runtime import findings

    page = (Path(__file__).resolve().parents[2] / "docs" / "json-output.md").read_text()
    for key in TOP_KEYS | CHECK_KEYS | {"removed", "removed_by", "delete_command", "what", "fix", "reason"}:
        assert f"`{key}`" in page, key
    for finding_id in (findings.OBJECT_OWNERSHIP, findings.LIFECYCLE, findings.INTELLIGENT_TIERING,
                       findings.REQUESTER_PAYS, findings.REGION_MISMATCH, findings.OVER_PRIVILEGED):
        assert f"| `{finding_id}` |" in page, finding_id
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", page, re.S)]
    assert {doc["exit_code"] for doc in examples} == {EXIT_OK, EXIT_FAILED, EXIT_NO_VERDICT}
    assert any(doc["strict"] and doc["findings"] and doc["exit_code"] == EXIT_FAILED for doc in examples)
    for doc in examples:
        assert_contract(doc)
