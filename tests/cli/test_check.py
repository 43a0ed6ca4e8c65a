"""`logzio-archive check` against moto with IAM enforcement (see conftest.py)."""

from __future__ import annotations

import pytest

from logzio_s3_archive_runtime import checks
from logzio_s3_archive_runtime.cli import EXIT_MISSING, EXIT_NO_VERDICT, EXIT_OK

from .conftest import (MISSING_BUCKET, PLAIN, REGION, ROLE_STACK_LOGZIO_ONLY, ROLE_STACK_TRUSTED, STACK,
                       VERSIONED, probe_objects)

ACTIONS = list(checks.ACTIONS)


def verdicts(doc: dict) -> dict[str, bool]:
    assert [c["action"] for c in doc["checks"]] == ACTIONS
    return {c["action"]: c["ok"] for c in doc["checks"]}


def missing(doc: dict) -> list[str]:
    return [c["action"] for c in doc["checks"] if not c["ok"]]


# ----------------------------------------------------------------------------- granted

def test_full_policy_grants_all_four(run, emulator):
    result = run("--bucket", VERSIONED, "--profile", "full", "--json")
    assert result.code == EXIT_OK, result.out + result.err
    doc = result.doc
    assert doc["bucket"] == VERSIONED and doc["ok"] is True
    assert all(verdicts(doc).values())
    assert all(c["error_code"] is None and c["hint"] is None for c in doc["checks"])
    # The user may not delete: its probe object stays, and the command says exactly which.
    assert doc["left_behind"] == doc["probe_key"]
    assert doc["left_behind_version_id"]
    assert probe_objects(emulator, VERSIONED) == [(doc["probe_key"], doc["left_behind_version_id"])]
    assert doc["cleanup"]["delete_command"] == (
        f"aws s3api delete-object --bucket {VERSIONED} --key {doc['probe_key']} "
        f"--version-id {doc['left_behind_version_id']} --region {REGION} "
        f"--endpoint-url {emulator.endpoint_url}")


def test_full_policy_text_output(run):
    result = run("--bucket", VERSIONED, "--profile", "full")
    assert result.code == EXIT_OK
    lines = result.out.splitlines()
    for action in ACTIONS:
        assert any(line.split()[:2] == ["granted", action] for line in lines), result.out
    assert "aws s3api delete-object" in result.out and "--version-id" in result.out
    assert "--cleanup-profile" in result.out
    assert lines[-1].startswith("OK: all 4 permissions")


def test_credentials_from_environment(run, monkeypatch, emulator):
    key_id, secret = emulator.keys["full"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    result = run("--bucket", f"s3://{PLAIN}/", "--json", endpoint=False)
    assert result.code == EXIT_OK, result.out + result.err
    assert result.doc["bucket"] == PLAIN


def test_unversioned_bucket_leftover_command_has_no_version(run, emulator):
    doc = run("--bucket", PLAIN, "--profile", "full", "--json").doc
    assert doc["ok"] and doc["left_behind"]
    assert doc["left_behind_version_id"] is None
    assert "--version-id" not in doc["cleanup"]["delete_command"]
    assert [key for key, _ in probe_objects(emulator, PLAIN)] == [doc["left_behind"]]


@pytest.mark.parametrize("bucket", [VERSIONED, PLAIN])
def test_cleanup_profile_removes_the_probe_object(run, emulator, bucket):
    result = run("--bucket", bucket, "--profile", "full", "--cleanup-profile", "admin", "--json")
    assert result.code == EXIT_OK
    doc = result.doc
    assert doc["left_behind"] is None
    assert doc["cleanup"] == {"removed": True, "removed_by": "profile admin", "delete_command": None}
    assert probe_objects(emulator, bucket) == []  # no version, no delete marker left


def test_checked_credentials_that_may_delete_are_over_privileged(run, emulator):
    """The principal deletes its own probe object (a delete marker on a versioned bucket):
    it holds s3:DeleteObject, which Logz.io never needs, a warning; the version and the
    marker it made are removed too (it may delete versions), so nothing is left."""
    result = run("--bucket", VERSIONED, "--profile", "deleter")
    assert result.code == EXIT_OK, result.out + result.err
    lines = result.out.splitlines()
    warning = lines.index(next(line for line in lines if line.startswith("  warning over-privileged: ")))
    assert "s3:DeleteObject" in lines[warning]
    assert lines[warning + 1].startswith("    fix: remove those actions")
    assert "removed by the checked credentials" in result.out
    assert lines[-1].startswith("OK: all 4 permissions") and "warning over-privileged" in lines[-1]
    assert probe_objects(emulator, VERSIONED) == []

    strict = run("--bucket", VERSIONED, "--profile", "deleter", "--strict", "--json")
    assert strict.code == EXIT_MISSING
    assert [(f["id"], f["severity"]) for f in strict.doc["findings"]] == [("over-privileged", "warning")]
    assert strict.doc["ok"] is False and strict.doc["strict"] is True
    assert strict.doc["cleanup"]["removed_by"] == "the checked credentials"
    assert probe_objects(emulator, VERSIONED) == []


# ----------------------------------------------------------------------------- missing

@pytest.mark.parametrize("action", ACTIONS)
def test_each_missing_action_is_reported_alone(run, action):
    user = "no-" + action.split(":")[1].lower()
    result = run("--bucket", VERSIONED, "--profile", user, "--json")
    assert result.code == EXIT_MISSING, result.out + result.err
    doc = result.doc
    assert doc["ok"] is False
    assert missing(doc) == [action]
    failed = next(c for c in doc["checks"] if c["action"] == action)
    assert failed["error_code"] == "AccessDenied"
    assert failed["status"] == "missing"
    assert action in failed["hint"] and f"arn:aws:s3:::{VERSIONED}" in failed["hint"]


def test_missing_put_reads_an_absent_key_and_leaves_nothing(run, emulator):
    doc = run("--bucket", VERSIONED, "--profile", "no-putobject", "--json").doc
    get = next(c for c in doc["checks"] if c["action"] == checks.GET_OBJECT)
    assert get["ok"] and "NoSuchKey" in get["detail"]
    assert doc["left_behind"] is None
    assert probe_objects(emulator, VERSIONED) == []


def test_missing_action_text_line_names_code_and_fix(run):
    result = run("--bucket", VERSIONED, "--profile", "no-listbucket")
    assert result.code == EXIT_MISSING
    line = next(line for line in result.out.splitlines() if "s3:ListBucket" in line and "MISSING" in line)
    assert "AccessDenied" in line
    assert f"allow s3:ListBucket on arn:aws:s3:::{VERSIONED} (the bucket ARN, without /*)" in line
    assert result.out.splitlines()[-1].startswith(
        f"FAILED: Logz.io cannot use bucket {VERSIONED} (restore will fail): 3 of 4 permissions granted; "
        "s3:ListBucket missing (AccessDenied)")


def test_object_actions_granted_without_slash_star(run):
    result = run("--bucket", VERSIONED, "--profile", "no-slash", "--json")
    assert result.code == EXIT_MISSING
    doc = result.doc
    assert missing(doc) == [checks.PUT_OBJECT, checks.GET_OBJECT]
    for check in doc["checks"]:
        if not check["ok"]:
            assert check["error_code"] == "AccessDenied"
            assert f"arn:aws:s3:::{VERSIONED}/*" in check["hint"] and "/*" in check["hint"]
    assert doc["left_behind"] is None


@pytest.mark.parametrize("action", ACTIONS)
def test_explicit_deny_overrides_the_allow(run, action):
    user = "deny-" + action.split(":")[1].lower()
    result = run("--bucket", VERSIONED, "--profile", user, "--json")
    assert result.code == EXIT_MISSING, result.out + result.err
    assert missing(result.doc) == [action]
    assert next(c for c in result.doc["checks"] if c["action"] == action)["error_code"] == "AccessDenied"


def test_other_bucket_is_not_granted(run):
    # "ghost" may only use a bucket that does not exist: every check here is denied.
    result = run("--bucket", VERSIONED, "--profile", "ghost", "--json")
    assert result.code == EXIT_MISSING
    assert missing(result.doc) == [checks.PUT_OBJECT, checks.LIST_BUCKET, checks.GET_OBJECT,
                                   checks.GET_BUCKET_LOCATION]
    assert next(c for c in result.doc["checks"] if c["action"] == checks.GET_OBJECT)["status"] == "unverified"


# ----------------------------------------------------------------------------- no verdict

def test_unknown_access_key_is_rejected(run, emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUNKNOWN00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    result = run("--bucket", VERSIONED)
    assert result.code == EXIT_NO_VERDICT
    assert "rejects the credentials" in result.err
    assert "InvalidAccessKeyId" in result.err
    assert "aws iam list-access-keys" in result.err
    assert probe_objects(emulator, VERSIONED) == []


def test_wrong_secret_key_is_rejected(run, emulator, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", emulator.keys["full"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y" * 40)
    result = run("--bucket", VERSIONED, "--json")
    assert result.code == EXIT_NO_VERDICT
    assert result.doc["error"]["error_code"] == "SignatureDoesNotMatch"
    assert result.doc["ok"] is False and result.doc["checks"] == []


def test_bucket_that_does_not_exist(run):
    result = run("--bucket", MISSING_BUCKET, "--profile", "ghost")
    assert result.code == EXIT_NO_VERDICT
    assert f"Bucket {MISSING_BUCKET} does not exist" in result.err
    assert "Check the bucket name" in result.err


def test_bucket_that_does_not_exist_json(run):
    result = run("--bucket", MISSING_BUCKET, "--profile", "admin", "--json")
    assert result.code == EXIT_NO_VERDICT
    assert result.doc["bucket"] == MISSING_BUCKET
    assert result.doc["error"]["error_code"] == "NoSuchBucket"


def test_no_credentials(run):
    result = run("--bucket", VERSIONED)
    assert result.code == EXIT_NO_VERDICT
    assert "No AWS credentials found" in result.err and "--profile" in result.err


def test_unknown_profile(run):
    result = run("--bucket", VERSIONED, "--profile", "nobody")
    assert result.code == EXIT_NO_VERDICT
    assert "nobody" in result.err


@pytest.mark.parametrize("argv", [
    [],
    ["--bucket", "b", "--stack", "s"],
    ["--bucket", "s3://bucket/sub/path"],
    ["--bucket", "b", "--settle-seconds", "-1"],
    ["--bucket", "b", "--key-deadline-seconds", "soon"],
])
def test_bad_arguments(argv, capsys):
    from logzio_s3_archive_runtime.cli import main

    assert main(["check", *argv]) == EXIT_NO_VERDICT
    assert "error:" in capsys.readouterr().err


# ----------------------------------------------------------------------------- --stack

def test_stack_checks_as_the_stack_user(run, emulator):
    result = run("--stack", STACK, "--profile", "admin", "--json")
    assert result.code == EXIT_OK, result.out + result.err
    doc = result.doc
    assert doc["bucket"] == VERSIONED and doc["stack"] == STACK
    assert emulator.keys["full"][0] in doc["principal"]
    # "full" may not delete; the operator's own credentials removed the probe object.
    assert doc["cleanup"]["removed_by"] == "profile admin"
    assert probe_objects(emulator, VERSIONED) == []


def test_stack_that_does_not_exist(run):
    result = run("--stack", "NoSuchStack", "--profile", "admin")
    assert result.code == EXIT_NO_VERDICT
    assert "Stack NoSuchStack does not exist" in result.err


def test_stack_outputs_need_permission(run):
    result = run("--stack", STACK, "--profile", "full")
    assert result.code == EXIT_NO_VERDICT
    assert "may not read the outputs" in result.err


def test_bucket_in_another_region_than_given_is_a_warning(run):
    result = run("--bucket", VERSIONED, "--profile", "full", "--region", "eu-west-1", "--json")
    assert result.code == EXIT_OK
    [finding] = [f for f in result.doc["findings"] if f["id"] == "bucket-region-mismatch"]
    assert finding["severity"] == "warning"
    assert f"is in {REGION}, not eu-west-1" in finding["message"] and REGION in finding["fix"]
    assert result.doc["region"] == "eu-west-1" and result.doc["bucket_region"] == REGION
    strict = run("--bucket", VERSIONED, "--profile", "full", "--region", "eu-west-1", "--strict")
    assert strict.code == EXIT_MISSING
    assert strict.out.splitlines()[-1].startswith(f"FAILED: Logz.io cannot use bucket {VERSIONED}")


def test_stack_with_a_role_checks_as_the_role(run):
    result = run("--stack", ROLE_STACK_TRUSTED, "--profile", "admin", "--json")
    assert result.code == 0, result.err
    doc = result.doc
    assert doc["principal"].startswith(f"IAM role arn:aws:iam::123456789012:role/{ROLE_STACK_TRUSTED}-role")
    assert [c["ok"] for c in doc["checks"]] == [True] * 4
    assert doc["left_behind"] is None  # removed with the caller's own credentials


def test_stack_with_a_role_that_does_not_trust_the_caller(run):
    result = run("--stack", ROLE_STACK_LOGZIO_ONLY, "--profile", "admin")
    assert result.code == 2
    assert f"may not assume role arn:aws:iam::123456789012:role/{ROLE_STACK_LOGZIO_ONLY}-role" in result.err
    assert "ProbeChecks" in result.err


def test_an_unexpected_crash_is_no_verdict_not_a_missing_permission(run, monkeypatch):
    from logzio_s3_archive_runtime import cli

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "run_probe", explode)
    result = run("--bucket", VERSIONED, "--profile", "full")
    assert result.code == 2 and "The check failed unexpectedly: RuntimeError: boom" in result.err
