"""The command as an operator runs it: `logzio-archive check ...` in a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from logzio_s3_archive_runtime import checks

from .conftest import REGION, VERSIONED, probe_objects

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "PYTHONPATH": str(ROOT),
                "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1", **extra})
    return env


def test_help_documents_every_option_with_an_example():
    proc = subprocess.run([sys.executable, "-m", "logzio_s3_archive_runtime", "check", "--help"], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    options = ["--bucket", "--stack", "--region", "--profile", "--endpoint-url", "--json",
               "--cleanup-profile", "--key-deadline-seconds", "--settle-seconds", "--strict", "--verbose"]
    for option in options:
        assert option in text
    assert text.count("Example:") >= len(options)
    assert "examples:" in text and "logzio-archive check --stack" in text
    assert "exit status:" in text and "findings:" in text and "docs/json-output.md" in text


def test_real_run_as_environment_credentials(emulator):
    key_id, secret = emulator.keys["full"]
    proc = subprocess.run(
        [sys.executable, "-m", "logzio_s3_archive_runtime", "check", "--bucket", VERSIONED, "--region", REGION,
         "--endpoint-url", emulator.endpoint_url, "--settle-seconds", "0", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env=_env(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and [c["action"] for c in doc["checks"]] == list(checks.ACTIONS)
    assert doc["findings"] == [] and doc["error"] is None
    assert doc["summary"] == (f"OK: all 4 permissions Logz.io needs are granted on bucket {VERSIONED} (archive "
                              f"and restore will work). The probe object s3://{VERSIONED}/{doc['left_behind']} "
                              "could not be removed (the checked credentials: AccessDenied); delete it by hand.")
    assert probe_objects(emulator, VERSIONED) == [(doc["left_behind"], doc["left_behind_version_id"])]
