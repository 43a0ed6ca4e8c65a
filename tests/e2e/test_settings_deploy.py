"""End to end through the real `cdk deploy --all`: several archives from one app, one on
an existing bucket (created beforehand, with objects that must not change), one with an
IAM role and SSE-KMS instead of keys. (The emulator does not enforce KMS permissions;
KMS denials are covered by the handler tests.)"""

from __future__ import annotations

import json
import sys

import pytest

from logzio_s3_archive_runtime import checks
from emulator import cdk_deploy
from tests.e2e.support import CDK, outputs, probe_objects, stack_of
from tests.support import ROOT

pytestmark = pytest.mark.e2e

EXISTING = "acme-existing-archive"
ROLE = {"principal": "role", "logzioAccountId": "406095609952", "externalId": "logzio:aws:extid:e2e"}
ARCHIVES = [
    {"stackName": "E2eExistingBucket", "existingBucket": EXISTING},
    {"stackName": "E2eRoleKms", "encryption": "kms", **ROLE},
    {"stackName": "E2eKeys", "bucketName": "acme-e2e-keys"},
]
SEED = {"logzio-verified": b"verified\n", "2024/06/01/00/archive-0001.json.gz": bytes(range(256)) * 8}
ALL_GRANTED = "; ".join(f"{action}=granted" for action in checks.ACTIONS)


def versions(emu, bucket):
    """Every object version with its body: what must be byte-for-byte unchanged."""
    s3 = emu.client("s3")
    listing = s3.list_object_versions(Bucket=bucket)
    return {(v["Key"], v["VersionId"]): s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            ["Body"].read() for v in listing.get("Versions", [])}


@pytest.fixture(scope="session")
def existing_bucket(bootstrapped):
    s3 = bootstrapped.client("s3")
    s3.create_bucket(Bucket=EXISTING)
    s3.put_bucket_versioning(Bucket=EXISTING, VersioningConfiguration={"Status": "Enabled"})
    for key, body in SEED.items():
        s3.put_object(Bucket=EXISTING, Key=key, Body=body)
    return versions(bootstrapped, EXISTING)


@pytest.fixture(scope="session")
def deploy_all(bootstrapped, existing_bucket, tmp_path_factory):
    out = tmp_path_factory.mktemp("several")
    code, output = cdk_deploy(bootstrapped, CDK, str(ROOT), ["--all"],
                              context={"archives": json.dumps(ARCHIVES)},
                              extra_args=["--app", f"{sys.executable} app.py", "--output", str(out)])
    assert code == 0, output
    return output


def test_several_archives_deploy_in_one_command(deploy_all, emu):
    for archive in ARCHIVES:
        assert stack_of(emu, archive["stackName"])["StackStatus"] == "CREATE_COMPLETE"
        assert outputs(emu, archive["stackName"])["ProbeChecks"] == ALL_GRANTED
    buckets = {outputs(emu, a["stackName"])["BucketName"] for a in ARCHIVES}
    assert len(buckets) == 3 and {EXISTING, "acme-e2e-keys"} < buckets


def test_existing_bucket_is_checked_and_left_as_it_was(deploy_all, emu, existing_bucket):
    assert outputs(emu, "E2eExistingBucket")["BucketName"] == EXISTING
    assert versions(emu, EXISTING) == existing_bucket  # nothing but the probe's object came and went
    assert probe_objects(emu, EXISTING) == []
    resources = emu.client("cloudformation").describe_stack_resources(
        StackName="E2eExistingBucket")["StackResources"]
    assert not [r for r in resources if r["ResourceType"].startswith("AWS::S3::")]


def test_role_mode_probes_as_the_role_with_no_key_anywhere(deploy_all, emu):
    found = outputs(emu, "E2eRoleKms")
    assert found["ExternalId"] == ROLE["externalId"]
    assert found["RoleArn"].startswith(f"arn:aws:iam::{emu.account}:role/E2eRoleKms-LogzioRole")
    assert found["KmsKeyArn"].startswith(f"arn:aws:kms:{emu.region}:{emu.account}:key/")
    assert not {"AccessKeyId", "SecretArn", "UserName"} & set(found)
    role_name = found["RoleArn"].rsplit("/", 1)[1]
    trust = emu.client("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    logzio, probe = trust["Statement"]
    external_id = {"StringEquals": {"sts:ExternalId": ROLE["externalId"]}}
    assert logzio["Principal"]["AWS"] == "arn:aws:iam::406095609952:root" and logzio["Condition"] == external_id
    # The probe's statement: this account, narrowed to the probe function's role (which the
    # probe, having run, assumed: the emulator evaluates aws:PrincipalArn).
    probe_role = emu.client("lambda").get_function_configuration(FunctionName=next(
        r["PhysicalResourceId"] for r in emu.client("cloudformation").describe_stack_resources(
            StackName="E2eRoleKms")["StackResources"] if r["ResourceType"] == "AWS::Lambda::Function"))["Role"]
    assert probe["Principal"]["AWS"] == f"arn:aws:iam::{emu.account}:root"
    assert probe["Condition"] == {**external_id, "ArnEquals": {"aws:PrincipalArn": probe_role}}
    resources = emu.client("cloudformation").describe_stack_resources(StackName="E2eRoleKms")["StackResources"]
    types = {r["ResourceType"] for r in resources}
    assert "AWS::IAM::AccessKey" not in types and "AWS::SecretsManager::Secret" not in types
