"""End-to-end: the real CDK CLI bootstraps and deploys a toy stack into the emulator.

Slow (~40 s) and needs the CDK CLI: opt in with EMULATOR_CDK_E2E=1 and point
EMULATOR_CDK_CLI at the executable (e.g. /tmp/x/node_modules/.bin/cdk), or have
`cdk` on PATH.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

from emulator import Emulator, cdk_bootstrap, cdk_deploy

APP = Path(__file__).parent / "cdk_toy_app"
CLI = os.environ.get("EMULATOR_CDK_CLI") or shutil.which("cdk")

pytestmark = pytest.mark.skipif(
    os.environ.get("EMULATOR_CDK_E2E") != "1" or not CLI, reason="set EMULATOR_CDK_E2E=1 (and EMULATOR_CDK_CLI)"
)


def test_bootstrap_deploy_success_then_missing_get_fails(emu, tmp_path):
    app_args = ["--app", f"{sys.executable} app.py", "--output", str(tmp_path / "cdk.out")]
    rc, out = cdk_bootstrap(emu, [CLI], str(APP), extra_args=app_args)
    assert rc == 0, out
    rc, out = cdk_deploy(emu, [CLI], str(APP), ["ToyStack"], extra_args=app_args)
    assert rc == 0, out
    assert "ToyStack.ProbeResult = Put,List,Get,Location" in out

    emu.client("cloudformation").delete_stack(StackName="ToyStack")
    rc, out = cdk_deploy(emu, [CLI], str(APP), ["ToyStack"], context={"omit_get": "1"}, extra_args=app_args)
    assert rc != 0
    assert "Received response status [FAILED] from custom resource" in out
    assert "Archive probe failed at GetObject" in out
    buckets = [b["Name"] for b in emu.client("s3").list_buckets()["Buckets"]]
    assert sum(name.startswith("toystack-archive") for name in buckets) == 2  # RETAIN: both survive
