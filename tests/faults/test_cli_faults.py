"""`logzio-archive check` under a hostile network.

In-process (logzio_s3_archive_runtime.cli.main) against the fault server with --endpoint-url, and two
cases as an operator runs it, in a new process. Each run is held to conftest.py's promises:
one exit status (2 when no verdict is possible) with one error message, with --json one JSON
document on stdout, before the deadline, nothing but probe objects touched, no secret
printed, every AWS call one try.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logzio_s3_archive_runtime.cli import EXIT_MISSING, EXIT_NO_VERDICT, EXIT_OK

from .conftest import (BUCKET, CLI_DEADLINE, CLI_PATIENCE, PRINCIPAL, ROLE_STACK, STACK, CliRun, Spies, assert_exit,
                       bucket_state)
from .net import HANG, RESET, error, reply, server_error, throttle

ROOT = Path(__file__).resolve().parents[2]


def message(run) -> str:
    """The one error message: the `error:` line (with --json it carries `next:` too)."""
    return next(line for line in run.err.splitlines() if line.startswith("error:"))


def assert_no_permission_claimed(run) -> None:
    assert run.code != EXIT_MISSING, f"a network fault reported as missing permissions:\n{run.out}"


# --------------------------------------------------------------------------- baselines

def test_healthy_bucket_check(world, cli, faults):
    run = cli("--bucket", BUCKET, "--json")
    doc = assert_exit(world, faults, cli.spies, run, EXIT_OK, json_doc=True)
    assert doc["ok"] is True


def test_healthy_stack_check(world, cli, faults):
    run = cli("--stack", STACK, "--json", as_="admin")
    assert_exit(world, faults, cli.spies, run, EXIT_OK, json_doc=True)
    assert faults.seen("secretsmanager", "GetSecretValue")


# --------------------------------------------------------------------------- S3 faults

def test_s3_throttling_storm(world, cli, faults):
    faults.storm(throttle(), "s3")
    run = cli("--bucket", BUCKET, "-v")
    assert cli.spies.attempts["PutObject"] >= 2, "the throttled write was not retried"
    assert_no_permission_claimed(run)
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT)
    assert "SlowDown" in message(run)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_s3_5xx_storm(world, cli, faults, status):
    faults.storm(server_error(status), "s3")
    run = cli("--bucket", BUCKET, "--json")
    assert_no_permission_claimed(run)
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT, json_doc=True)


def test_one_throttle_is_retried(world, cli, faults):
    faults.inject(throttle(), "s3", "PutObject", times=1)
    run = cli("--bucket", BUCKET, "--json")
    assert_exit(world, faults, cli.spies, run, EXIT_OK, json_doc=True)
    assert cli.spies.attempts["PutObject"] == 2


def test_s3_connection_reset(world, cli, faults):
    faults.storm(RESET, "s3")
    run = cli("--bucket", BUCKET, "--json")
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT, json_doc=True)


def test_s3_accepts_and_never_answers(world, cli, faults, short_timeouts):
    faults.storm(HANG, "s3")
    run = cli("--bucket", BUCKET)
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT)
    assert all(s.abandoned is not None for s in faults.seen("s3"))


def test_endpoint_from_the_environment(world, cli, faults, monkeypatch):
    """AWS_ENDPOINT_URL instead of --endpoint-url: the same fault server, the same promises."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", faults.url)
    faults.storm(RESET, "s3")
    run = cli("--bucket", BUCKET, "--json", endpoint=False)
    assert faults.seen("s3"), "AWS_ENDPOINT_URL was not used"
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT, json_doc=True)


# --------------------------------------------------------------------------- Secrets Manager (--stack)

@pytest.mark.parametrize("fault", [
    throttle(), server_error(500), RESET,
    error(400, "AccessDeniedException", "not authorized to perform secretsmanager:GetSecretValue"),
    error(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
], ids=lambda f: f.code.lstrip("@") or f.kind)
def test_secret_read_fails(world, cli, faults, fault):
    faults.storm(fault, "secretsmanager")
    run = cli("--stack", STACK, "--json", as_="admin")
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT, json_doc=True)
    assert "secret" in message(run).lower(), message(run)


def _secret_reply(world, **value) -> dict:
    return {"ARN": world.secrets["documented"], "Name": "faults-documented",
            "VersionId": "f1e2d3c4-0000-4000-8000-000000000000", "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1796000000.0, **value}


def _shapes(world) -> dict:
    key_id, secret = world.principal
    return {
        "create-access-key": {"SecretString": json.dumps({"AccessKey": {
            "UserName": PRINCIPAL, "AccessKeyId": key_id, "Status": "Active", "SecretAccessKey": secret,
            "CreateDate": "2026-11-27T00:00:00Z"}})},
        "flat": {"SecretString": json.dumps({"AccessKeyId": key_id, "SecretAccessKey": secret})},
        "not-json": {"SecretString": "AKIA:notJsonSecretPart0123456789abcdefABCDEF"},
        "no-keys": {"SecretString": json.dumps({"access_key": key_id,
                                                "secret_key": "noKeysSecretPart0123456789abcdefABCDEFG"})},
        "binary": {"SecretBinary": base64.b64encode(b"\x00\x01binarySecretPart0123456789abcdefABCDEFG").decode()},
    }


@pytest.mark.parametrize("shape", ["create-access-key", "flat"])
def test_secret_in_the_create_access_key_shape_is_accepted(world, cli, faults, shape):
    faults.storm(reply(200, _secret_reply(world, **_shapes(world)[shape])), "secretsmanager", "GetSecretValue")
    run = cli("--stack", STACK, "--json", as_="admin")
    assert_exit(world, faults, cli.spies, run, EXIT_OK, json_doc=True)


@pytest.mark.parametrize("shape", ["not-json", "no-keys", "binary"])
def test_malformed_secret_names_the_secret_and_the_shape(world, cli, faults, shape):
    faults.storm(reply(200, _secret_reply(world, **_shapes(world)[shape])), "secretsmanager", "GetSecretValue")
    run = cli("--stack", STACK, as_="admin")
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT)
    text = message(run)
    assert world.secrets["documented"] in text and "accessKeyId" in text and "secretAccessKey" in text, text
    for word in ("JSONDecodeError", "KeyError", "unexpectedly"):
        assert word not in run.err


# --------------------------------------------------------------------------- STS and CloudFormation (--stack)

@pytest.mark.parametrize("fault", [
    throttle(), server_error(502), RESET, error(403, "AccessDenied", "not authorized to perform sts:AssumeRole"),
], ids=lambda f: f.code.lstrip("@") or f.kind)
def test_assume_role_fails(world, cli, faults, fault):
    faults.storm(fault, "sts")
    run = cli("--stack", ROLE_STACK, "--json", as_="admin")
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT, json_doc=True)
    assert "role" in message(run).lower(), message(run)


@pytest.mark.parametrize("fault", [throttle(), server_error(503), RESET], ids=lambda f: f.code.lstrip("@") or f.kind)
def test_stack_outputs_cannot_be_read(world, cli, faults, fault):
    faults.storm(fault, "cloudformation")
    run = cli("--stack", STACK, as_="admin")
    assert_exit(world, faults, cli.spies, run, EXIT_NO_VERDICT)
    assert STACK in message(run) or "stack" in message(run).lower(), message(run)


# --------------------------------------------------------------------------- usage errors with --json

@pytest.mark.parametrize("argv, flag", [
    (["--json"], "--bucket"),
    (["--bucket", BUCKET, "--endpoint-url", "notaurl", "--json"], "--endpoint-url"),
    (["--bucket", "Bad_Name!", "--json"], "--bucket"),
    (["--bucket", BUCKET, "--settle-seconds", "-1", "--json"], "--settle-seconds"),
], ids=["no-target", "endpoint", "bucket", "settle"])
def test_usage_error_with_json_prints_one_document(world, cli, faults, argv, flag):
    run = cli(*argv, endpoint=False, patience=False)
    doc = assert_exit(world, faults, Spies(), run, EXIT_NO_VERDICT, json_doc=True)
    assert flag in json.dumps(doc["error"]) or flag in run.err, (doc, run.err)
    assert not faults.seen(), "a usage error must not call AWS"


# --------------------------------------------------------------------------- as an operator runs it

def _subprocess(world, faults, *args: str):
    key_id, secret = world.principal
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "PYTHONPATH": str(ROOT),
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    before = bucket_state(world)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "logzio_s3_archive_runtime", "check", "--bucket", BUCKET,
                           "--endpoint-url", faults.url, "--key-deadline-seconds", CLI_PATIENCE,
                           "--settle-seconds", "0", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=CLI_DEADLINE)
    return CliRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, before,
                  bucket_state(world))


def test_subprocess_connection_reset_json(world, faults):
    faults.storm(RESET, "s3")
    run = _subprocess(world, faults, "--json")
    doc = assert_exit(world, faults, Spies(), run, EXIT_NO_VERDICT, json_doc=True)
    assert doc["ok"] is False and doc["error"]["what"]


def test_subprocess_throttling_storm(world, faults):
    faults.storm(throttle(), "s3")
    run = _subprocess(world, faults, "-v")
    assert len(faults.seen("s3", "PutObject")) >= 2, "the throttled write was not retried"
    assert_no_permission_claimed(run)
    assert_exit(world, faults, Spies(), run, EXIT_NO_VERDICT)
