"""Upgrading changes nothing that holds data or credentials: stacks deployed by the last
commit before the distribution (the clone-only app) are updated by this app, through the real
`cdk diff` and `cdk deploy` (change sets), and keep every resource: the same logical ids with
the same physical resources, the bucket, KMS key, IAM user, access key, secret and role
included. The probe does not fail."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile

import pytest

from emulator import cdk_deploy
from tests.e2e.support import CDK, outputs, stack_of
from tests.support import ROOT

#: The last commit of the clone-only app (archive_probe/ and stacks/, before issue 16).
BEFORE_DISTRIBUTION = "54c8e3e4739b47b2a0fd9dec4a77587a6657cc04"
ROLE = {"principal": "role", "logzioAccountId": "406095609952", "externalId": "logzio:aws:extid:upgrade1"}
ARCHIVES = [{"stackName": "UpgradeKeys", "encryption": "kms", "bucketName": "logzio-upgrade-keys"},
            {"stackName": "UpgradeRole", **ROLE}]
CONTEXT = {"archives": json.dumps(ARCHIVES), "settleSeconds": "0"}
#: What must never be replaced (a new one would lose archives or break Logz.io's credentials).
KEEPS = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::IAM::User", "AWS::IAM::AccessKey",
         "AWS::SecretsManager::Secret", "AWS::IAM::Role")


def checkout(rev: str, into) -> str:
    """The files of a commit, as a user's old clone has them."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], capture_output=True,
                             timeout=60)
    if archive.returncode != 0:
        pytest.fail(f"commit {rev} is not in this clone ({archive.stderr.decode().strip()}): the upgrade "
                    "test needs the project's history; clone without --depth.")
    tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(into, filter="data")
    return str(into)


def physical_ids(emu, stack: str) -> dict[str, tuple[str, str]]:
    resources = emu.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    return {r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId")) for r in resources}


@pytest.fixture(scope="module")
def upgrade(bootstrapped, tmp_path_factory):
    old = checkout(BEFORE_DISTRIBUTION, tmp_path_factory.mktemp("before-distribution"))
    app = ["--app", f"{sys.executable} app.py"]
    stacks = [a["stackName"] for a in ARCHIVES]
    code, output = cdk_deploy(bootstrapped, CDK, old, stacks, CONTEXT,
                              extra_args=[*app, "--output", str(tmp_path_factory.mktemp("old-out"))], method=None)
    assert code == 0, output
    before = {stack: physical_ids(bootstrapped, stack) for stack in stacks}
    new_out = str(tmp_path_factory.mktemp("new-out"))
    diff_args = [arg for key, value in CONTEXT.items() for arg in ("--context", f"{key}={value}")]
    diff = subprocess.run([*CDK, "diff", *stacks, *app, "--output", new_out, "--no-notices", *diff_args],
                          cwd=str(ROOT), env=bootstrapped.admin_env(), capture_output=True, text=True, timeout=600)
    code, output = cdk_deploy(bootstrapped, CDK, str(ROOT), stacks, CONTEXT,
                              extra_args=[*app, "--output", new_out], method=None)
    assert code == 0, output
    after = {stack: physical_ids(bootstrapped, stack) for stack in stacks}
    return before, after, diff.stdout + diff.stderr, stacks


def test_cdk_diff_shows_no_replacement(upgrade):
    _, _, diff, _ = upgrade
    # It did compare: the Lambda's code and handler change, in place.
    assert "[~] AWS::Lambda::Function" in diff, diff
    changes = diff[diff.index("Resources"):]
    # cdk diff marks a replacement "requires replacement" or "may cause replacement", and [-] a
    # removal ([+], a resource the new version adds, such as the dashboard, is fine).
    for marker in ("requires replacement", "may cause replacement", "[-] AWS::"):
        assert marker not in changes, diff


def test_every_resource_keeps_its_logical_id_and_physical_resource(upgrade):
    before, after, _, stacks = upgrade
    for stack in stacks:
        # Every resource is still there, the same one; the new version may only add some.
        assert {name: after[stack].get(name) for name in before[stack]} == before[stack], stack
        kept = {kind for kind, _ in before[stack].values()}
        assert {"AWS::S3::Bucket", "AWS::IAM::Role"} <= kept


def test_keys_and_role_mode_cover_every_resource_that_must_stay(upgrade):
    before, _, _, _ = upgrade
    kinds = {kind for stack in before.values() for kind, _ in stack.values()}
    assert set(KEEPS) <= kinds


def test_the_upgraded_stacks_are_healthy(upgrade, bootstrapped):
    _, _, _, stacks = upgrade
    for stack in stacks:
        assert stack_of(bootstrapped, stack)["StackStatus"] == "UPDATE_COMPLETE"
        assert outputs(bootstrapped, stack)["ProbeVerdict"].startswith("OK: all 4 permissions")
