"""Day two, end to end: every deploy after the first, through the real `cdk deploy` (change
sets, as a user runs it) and `cdk destroy`, against the session's emulator.

One archive goes through the README's day-two flows in order: a redeploy without changes,
a changed setting, a key rotation, the bucket guard, a failed update, a later update,
destroy. Two more stacks run beside it: an existing bucket with ACLs disabled, and a
failed first deploy with a named bucket that is then fixed. Each step's settings are the
app's own (cdk.json's context plus the keys the README tells a user to edit), synthesized
in this process once and deployed from that cloud assembly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from logzio_s3_archive_runtime import checks
from emulator import cdk_deploy
from stacks.archive_stack import ArchiveStack
from stacks.settings import AppSettings
from tests.e2e.support import CDK, outputs, probe_objects, stack_of
from tests.e2e.variant_app import without
from tests.support import FEATURE_FLAGS, ROOT

pytestmark = pytest.mark.e2e

STACK, BUCKET = "E2eDayTwo", "acme-e2e-day-two"
#: The settings a user keeps in cdk.json; no settling wait: the emulator's IAM is consistent at once.
BASE = {"stackName": STACK, "bucketName": BUCKET, "settleSeconds": "0"}
LIFECYCLE = {"transitionDays": "30", "storageClass": "STANDARD_IA"}
ROTATED = {**BASE, **LIFECYCLE, "keySerial": "2"}
STEPS = {
    "first": BASE,
    "setting": {**BASE, **LIFECYCLE},
    "rotation": ROTATED,
    "bucket-dropped": {key: value for key, value in ROTATED.items() if key != "bucketName"},
    "later": {**ROTATED, "expireDays": "400"},
}
ENFORCED = "acme-e2e-acls-disabled"
GLACIER = "acme-e2e-glacier"
#: A whole-bucket rule moving archives to Glacier Flexible Retrieval: restore would fail.
GLACIER_RULE = {"ID": "to-glacier", "Status": "Enabled", "Filter": {"Prefix": ""},
                "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}
RETRY_STACK, RETRY_BUCKET = "E2eRetryNamed", "acme-e2e-retry-named"
SEED = {"logzio-verified": b"verified\n", "2026/11/28/10/archive-0001.json.gz": bytes(range(256)) * 4}


def assembly(tmp_path_factory, emu, name, context, statements=None):
    """app.py's stacks for `context` (or one ArchiveStack with other policy statements)."""
    out = tmp_path_factory.mktemp(name)
    settings = AppSettings.from_context({**FEATURE_FLAGS, **context})
    if statements is None:
        import app

        app.build_app({**FEATURE_FLAGS, **context}, settings, outdir=str(out)).synth()
        return str(out)
    cdk_app = App(outdir=str(out), context=FEATURE_FLAGS)
    archive = settings.archives[0]
    ArchiveStack(cdk_app, archive.stack_name, archive=archive, policy_statements=statements,
                 env=Environment(account=emu.account, region=emu.region))
    Validations.of(cdk_app).add_plugins(AwsSolutionsChecks(cdk_app))
    cdk_app.synth()
    return str(out)


def deploy(emu, directory, stack):
    # The command line's default method, a change set, as the README's `npx cdk deploy`.
    return cdk_deploy(emu, CDK, str(ROOT), [stack], extra_args=["--app", directory], method=None, timeout=300)


def destroy(emu, directory, stack):
    proc = subprocess.run(CDK + ["destroy", stack, "--force", "--app", directory, "--no-notices"],
                          cwd=str(ROOT), env=emu.admin_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    return proc.returncode, proc.stdout


def failed_reasons(emu, stack) -> str:
    events = emu.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    return "\n".join(e.get("ResourceStatusReason", "") for e in events if e["ResourceStatus"].endswith("_FAILED"))


def buckets(emu) -> set[str]:
    return {b["Name"] for b in emu.client("s3").list_buckets()["Buckets"]}


def versions(emu, bucket) -> dict:
    """Every object version with its body, and every delete marker: what must not change."""
    s3 = emu.client("s3")
    listing = s3.list_object_versions(Bucket=bucket)
    found = {(v["Key"], v["VersionId"]): s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
             ["Body"].read() for v in listing.get("Versions", [])}
    found.update({(m["Key"], m["VersionId"]): "delete marker" for m in listing.get("DeleteMarkers", [])})
    return found


def generated_buckets(emu) -> set[str]:
    """Buckets CloudFormation named for the day-two stack (the side stacks' names differ)."""
    return {name for name in buckets(emu) if name.startswith(STACK.lower() + "-")}


def probe_runs(emu, stack) -> int:
    """Invocations of the stack's probe function, from its CloudWatch log group."""
    function = emu.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    name = next(r["PhysicalResourceId"] for r in function if r["LogicalResourceId"].startswith("PermissionProbeFunction"))
    return len(emu.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"])


def run_day_two(emu, assemblies) -> dict:
    """The README's day-two flows in order; returns what each step showed."""
    seen: dict = {}
    seen["first"] = deploy(emu, assemblies["first"], STACK)
    assert seen["first"][0] == 0, seen["first"][1]
    s3 = emu.client("s3")
    for key, body in SEED.items():  # what Logz.io writes
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    seen["seed"] = versions(emu, BUCKET)
    seen["first-outputs"], seen["runs-before-redeploy"] = outputs(emu, STACK), probe_runs(emu, STACK)
    seen["redeploy"] = deploy(emu, assemblies["first"], STACK)
    seen["runs-after-redeploy"], seen["status-after-redeploy"] = probe_runs(emu, STACK), stack_of(emu, STACK)["StackStatus"]
    seen["setting"] = deploy(emu, assemblies["setting"], STACK)
    seen["lifecycle"] = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    seen["rotation"] = deploy(emu, assemblies["rotation"], STACK)
    seen["rotation-outputs"] = outputs(emu, STACK)
    secret = emu.client("secretsmanager").get_secret_value(SecretId=seen["rotation-outputs"]["SecretArn"])
    seen["secret-key-id"] = json.loads(secret["SecretString"])["accessKeyId"]
    seen["user-keys"] = emu.client("iam").list_access_keys(
        UserName=seen["rotation-outputs"]["UserName"])["AccessKeyMetadata"]
    seen["buckets-before-guard"] = generated_buckets(emu)
    seen["bucket-dropped"] = deploy(emu, assemblies["bucket-dropped"], STACK)
    seen["guard-status"], seen["guard-reasons"] = stack_of(emu, STACK)["StackStatus"], failed_reasons(emu, STACK)
    seen["guard-outputs"], seen["buckets-after-guard"] = outputs(emu, STACK), generated_buckets(emu)
    seen["broken-policy"] = deploy(emu, assemblies["broken-policy"], STACK)
    seen["broken-status"], seen["broken-reasons"] = stack_of(emu, STACK)["StackStatus"], failed_reasons(emu, STACK)
    user = seen["rotation-outputs"]["UserName"]
    policy = emu.client("iam").list_user_policies(UserName=user)["PolicyNames"][0]
    seen["policy-after-rollback"] = emu.client("iam").get_user_policy(UserName=user, PolicyName=policy)["PolicyDocument"]
    seen["check-after-rollback"] = subprocess.run(
        [sys.executable, "-m", "logzio_s3_archive_runtime", "check", "--stack", STACK, "--json"], cwd=str(ROOT),
        env=emu.admin_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    seen["later"] = deploy(emu, assemblies["later"], STACK)
    seen["later-outputs"] = outputs(emu, STACK)
    seen["destroy"] = destroy(emu, assemblies["later"], STACK)
    seen["statuses-after-destroy"] = [s["StackStatus"] for s in emu.client("cloudformation").list_stacks()[
        "StackSummaries"] if s["StackName"] == STACK]
    return seen


def run_acls_disabled(emu, directory) -> dict:
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=ENFORCED)
    s3.put_bucket_versioning(Bucket=ENFORCED, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_ownership_controls(Bucket=ENFORCED, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_object(Bucket=ENFORCED, Key="logzio-verified", Body=b"verified\n")
    before = versions(emu, ENFORCED)
    code, log = deploy(emu, directory, "E2eAclsDisabled")
    return {"deploy": (code, log), "status": stack_of(emu, "E2eAclsDisabled")["StackStatus"],
            "reasons": failed_reasons(emu, "E2eAclsDisabled"), "before": before, "after": versions(emu, ENFORCED)}


def run_glacier(emu, directory) -> dict:
    """The same bucket judged twice: by the deploy's probe and by the operator command."""
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=GLACIER)
    s3.put_bucket_versioning(Bucket=GLACIER, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=GLACIER, LifecycleConfiguration={"Rules": [GLACIER_RULE]})
    code, log = deploy(emu, directory, "E2eGlacier")
    check = subprocess.run([sys.executable, "-m", "logzio_s3_archive_runtime", "check", "--bucket", GLACIER,
                            "--region", emu.region, "--json"], cwd=ROOT, env=emu.admin_env(),
                           capture_output=True, text=True, timeout=120)
    return {"deploy": (code, log), "status": stack_of(emu, "E2eGlacier")["StackStatus"],
            "reasons": failed_reasons(emu, "E2eGlacier"), "check": check}


def run_retry(emu, broken, fixed) -> dict:
    first = deploy(emu, broken, RETRY_STACK)
    seen = {"first": first, "status": stack_of(emu, RETRY_STACK)["StackStatus"],
            "bucket-left": RETRY_BUCKET in buckets(emu)}
    seen["retry"] = deploy(emu, fixed, RETRY_STACK)
    seen["retry-status"], seen["retry-outputs"] = stack_of(emu, RETRY_STACK)["StackStatus"], outputs(emu, RETRY_STACK)
    return seen


@pytest.fixture(scope="session")
def day_two(bootstrapped, tmp_path_factory):
    emu = bootstrapped
    assemblies = {step: assembly(tmp_path_factory, emu, step, context) for step, context in STEPS.items()}
    assemblies["broken-policy"] = assembly(tmp_path_factory, emu, "broken-policy", ROTATED,
                                           without(checks.GET_OBJECT))
    acls = assembly(tmp_path_factory, emu, "acls", {"stackName": "E2eAclsDisabled", "existingBucket": ENFORCED,
                                                    "settleSeconds": "0"})
    glacier = assembly(tmp_path_factory, emu, "glacier", {"stackName": "E2eGlacier", "existingBucket": GLACIER,
                                                          "settleSeconds": "0"})
    retry = {"stackName": RETRY_STACK, "bucketName": RETRY_BUCKET, "settleSeconds": "0"}
    retry_broken = assembly(tmp_path_factory, emu, "retry-broken", retry, without(checks.PUT_OBJECT))
    retry_fixed = assembly(tmp_path_factory, emu, "retry-fixed", retry)
    with ThreadPoolExecutor(max_workers=2) as pool:
        chain = pool.submit(run_day_two, emu, assemblies)
        side = pool.submit(lambda: (run_acls_disabled(emu, acls), run_retry(emu, retry_broken, retry_fixed),
                                    run_glacier(emu, glacier)))
        acls_seen, retry_seen, glacier_seen = side.result()
        return {**chain.result(), "acls": acls_seen, "retry": retry_seen, "glacier": glacier_seen}


def test_redeploy_without_changes_is_a_no_op(day_two):
    code, log = day_two["redeploy"]
    assert code == 0, log
    assert "no changes" in log.lower()
    assert day_two["runs-after-redeploy"] == day_two["runs-before-redeploy"]  # the probe did not run
    assert day_two["status-after-redeploy"] == "CREATE_COMPLETE"


def test_a_changed_setting_is_applied_and_readable(day_two):
    code, log = day_two["setting"]
    assert code == 0, log
    transition = next(rule for rule in day_two["lifecycle"] if rule["ID"] == "ArchiveTransition")
    assert transition["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]


def test_key_rotation_leaves_one_active_key_in_the_secret_and_probes_it(day_two):
    code, log = day_two["rotation"]
    assert code == 0, log
    found, old_key = day_two["rotation-outputs"], day_two["first-outputs"]["AccessKeyId"]
    assert [k["AccessKeyId"] for k in day_two["user-keys"]] == [found["AccessKeyId"]]
    assert day_two["user-keys"][0]["Status"] == "Active"
    assert day_two["secret-key-id"] == found["AccessKeyId"] == found["ProbedCredentials"] != old_key
    assert found["BucketName"] == BUCKET


def test_dropping_the_bucket_name_fails_names_both_buckets_and_keeps_the_old_one(day_two):
    code, log = day_two["bucket-dropped"]
    assert code != 0, log
    assert day_two["guard-status"] == "UPDATE_ROLLBACK_COMPLETE"
    reasons = day_two["guard-reasons"]
    new_buckets = day_two["buckets-after-guard"] ^ day_two["buckets-before-guard"]
    # The replacement CloudFormation made is named in the message, and gone afterwards.
    assert f"from bucket {BUCKET} to bucket {STACK.lower()}-archivebucket" in reasons, reasons
    assert "allowBucketChange=true" in reasons
    assert f"bucketName={BUCKET}" in reasons
    assert new_buckets == set()  # the replacement bucket was deleted by the rollback
    assert day_two["guard-outputs"]["BucketName"] == BUCKET
    assert f"from bucket {BUCKET} to bucket" in log  # the command line shows it too


def test_a_failed_update_rolls_back_to_the_old_policy_and_the_stack_deploys_again(day_two):
    code, log = day_two["broken-policy"]
    assert code != 0, log
    assert day_two["broken-status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert f"{checks.GET_OBJECT} missing" in day_two["broken-reasons"]
    granted = {action for statement in day_two["policy-after-rollback"]["Statement"]
               for action in statement["Action"]}
    assert granted == set(checks.ACTIONS)
    # The rolled-back stack answers as the user it had before, all four granted ...
    check = day_two["check-after-rollback"]
    assert check.returncode == 0, check.stdout + check.stderr
    assert [c["ok"] for c in json.loads(check.stdout)["checks"]] == [True] * 4
    # ... takes later updates, and its outputs say how to re-check until the probe runs again.
    code, log = day_two["later"]
    assert code == 0, log
    assert day_two["later-outputs"]["ProbeVerdict"] == (
        "not checked during rollback: the settings before the failed update are back; re-check them "
        f"with: logzio-archive check --stack {STACK}")


def test_destroy_keeps_the_bucket_and_every_archive_byte_for_byte(day_two, emu):
    code, log = day_two["destroy"]
    assert code == 0, log
    assert day_two["statuses-after-destroy"] == ["DELETE_COMPLETE"]
    assert BUCKET in buckets(emu)
    assert versions(emu, BUCKET) == day_two["seed"]
    assert probe_objects(emu, BUCKET) == []


def test_an_existing_bucket_with_acls_disabled_fails_the_deploy(day_two):
    seen = day_two["acls"]
    assert seen["deploy"][0] != 0, seen["deploy"][1]
    assert seen["status"] == "ROLLBACK_COMPLETE"
    assert "BucketOwnerEnforced" in seen["reasons"] and "object ownership" in seen["reasons"], seen["reasons"]
    assert seen["after"] == seen["before"]


def test_a_whole_bucket_glacier_rule_fails_the_deploy_and_the_command_alike(day_two):
    seen = day_two["glacier"]
    assert seen["deploy"][0] != 0, seen["deploy"][1]
    assert seen["status"] == "ROLLBACK_COMPLETE"
    expected = (f"error lifecycle-unrestorable: lifecycle rule 'to-glacier' moves every object in the "
                "bucket to GLACIER, from which Logz.io cannot restore")
    assert expected in seen["reasons"], seen["reasons"]
    check = seen["check"]
    assert check.returncode == 1, check.stdout + check.stderr
    doc = json.loads(check.stdout)
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert [f["id"] for f in errors] == ["lifecycle-unrestorable"]
    assert f"{errors[0]['severity']} {errors[0]['id']}: {errors[0]['message']}" == expected
    assert all(c["ok"] for c in doc["checks"])  # the grants are fine; the bucket is not


def test_a_failed_first_deploy_with_a_named_bucket_can_be_retried(day_two):
    seen = day_two["retry"]
    assert seen["first"][0] != 0 and seen["status"] == "ROLLBACK_COMPLETE"
    assert not seen["bucket-left"]  # RetainExceptOnCreate: the creation's own rollback removed it
    code, log = seen["retry"]
    assert code == 0, log
    assert seen["retry-status"] == "CREATE_COMPLETE"
    assert seen["retry-outputs"]["BucketName"] == RETRY_BUCKET
