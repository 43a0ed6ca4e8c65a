"""End to end: the real `cdk bootstrap` and `cdk deploy --method=direct` into the embedded
emulator, with IAM enforced for the probe's S3 calls. What CloudFormation reports is
what is asserted.

One emulator and one bootstrap per session; the broken variants are synthesized once,
in process, and deployed from that cloud assembly two at a time.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from logzio_s3_archive_runtime import checks
from emulator import cdk_deploy
from tests.e2e import variant_app
from tests.e2e.support import CDK, probe_objects, stack_of
from tests.support import FEATURE_FLAGS, ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def variant_deploys(bootstrapped, tmp_path_factory):
    """stack name -> (exit code, output) for every broken variant."""
    assembly = tmp_path_factory.mktemp("variants")
    variant_app.build(str(assembly), FEATURE_FLAGS, bootstrapped.account, bootstrapped.region).synth()

    def deploy(stack):
        return stack, cdk_deploy(bootstrapped, CDK, str(ROOT), [stack],
                                 extra_args=["--app", str(assembly)])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(deploy, variant_app.VARIANTS))


def failure_reasons(emu, name) -> str:
    events = emu.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    return "\n".join(e.get("ResourceStatusReason", "") for e in events
                     if e.get("ResourceStatus") == "CREATE_FAILED")


def test_shipped_stack_deploys_with_all_checks_granted(shipped_deploy, emu):
    code, output = shipped_deploy
    assert code == 0, output
    stack = stack_of(emu, "LogzioArchive")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["ProbeChecks"] == ("s3:PutObject=granted; s3:ListBucket=granted; "
                                      "s3:GetObject=granted; s3:GetBucketLocation=granted")
    assert outputs["ProbeVerdict"] == (f"OK: all 4 permissions Logz.io needs are granted on bucket "
                                       f"{outputs['BucketName']} (archive and restore will work).")
    # The stack's own bucket and least-privilege user: nothing to find, everything read.
    assert outputs["ProbeFindings"] == "none"
    assert outputs["Region"] == emu.region
    assert outputs["GetSecretCommand"].startswith(
        f"aws secretsmanager get-secret-value --secret-id {outputs['SecretArn']} ")
    # The probe removed its object, version and all.
    assert probe_objects(emu, outputs["BucketName"]) == []
    # The secret really holds the key, and the key is the user's; no output carries the secret.
    secret = json.loads(emu.client("secretsmanager").get_secret_value(
        SecretId=outputs["SecretArn"])["SecretString"])
    assert secret["accessKeyId"] == outputs["AccessKeyId"]
    keys = emu.client("iam").list_access_keys(UserName=outputs["UserName"])["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [outputs["AccessKeyId"]]
    assert secret["secretAccessKey"] not in json.dumps(stack, default=str) + output


@pytest.mark.parametrize("stack", list(variant_app.VARIANTS))
def test_missing_permission_fails_the_deploy_and_names_it(variant_deploys, emu, stack):
    code, output = variant_deploys[stack]
    missing = variant_app.VARIANTS[stack][1]
    assert code != 0, output
    assert stack_of(emu, stack)["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = failure_reasons(emu, stack)
    assert "Received response status [FAILED] from custom resource" in reason
    named = {action for action in checks.ACTIONS if f"{action} missing" in reason}
    assert named == missing, reason
    for action in missing:
        assert f"{action} missing" in output  # the command line shows it too
    if stack == "E2eNoSlashStar":
        assert reason.count(f"arn:aws:s3:::{variant_app.bucket_name(stack)}/*") == 2


@pytest.mark.parametrize("stack", list(variant_app.VARIANTS))
def test_failed_first_deploy_removes_its_new_bucket_probe_object_and_all(variant_deploys, emu, stack):
    """RetainExceptOnCreate: the creation's own rollback deletes the bucket it made (it can
    only be deleted empty: the probe object is gone too), so a retry may reuse the name."""
    assert variant_deploys[stack][0] != 0
    events = emu.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    assert ("ArchiveBucket", "DELETE_COMPLETE") in {
        (e["LogicalResourceId"][:len("ArchiveBucket")], e["ResourceStatus"]) for e in events
        if e["ResourceType"] == "AWS::S3::Bucket"}
    assert variant_app.bucket_name(stack) not in [b["Name"] for b in emu.client("s3").list_buckets()["Buckets"]]
