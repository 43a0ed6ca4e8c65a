"""The command from the wheel's base install (no CDK), against the emulator."""

from __future__ import annotations

import json

from logzio_s3_archive_runtime import checks

from .conftest import REGION, VERSIONED, probe_objects


def test_installed_command_checks_a_bucket(base_install, emulator, tmp_path):
    key_id, secret = emulator.keys["full"]
    proc = base_install.run(
        [base_install.command, "check", "--bucket", VERSIONED, "--region", REGION,
         "--endpoint-url", emulator.endpoint_url, "--settle-seconds", "0", "--json"], cwd=tmp_path,
        env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
             "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and [c["action"] for c in doc["checks"]] == list(checks.ACTIONS)
    # That user may not delete: remove its probe object as the bucket's owner.
    if doc["left_behind"]:
        emulator.client("s3").delete_object(Bucket=VERSIONED, Key=doc["left_behind"],
                                            VersionId=doc["left_behind_version_id"])
    assert probe_objects(emulator, VERSIONED) == []
