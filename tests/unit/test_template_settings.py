"""The template for each setting and each combination that matters."""

from __future__ import annotations

import pytest

from tests.conftest import COMBINATIONS, KEY_ARN, ROLE
from tests.support import of_type, only
from tests.unit.test_static_checks import lint


def arn(rest: str) -> dict:
    """An ARN as an environment-agnostic stack spells it (the partition is a parameter)."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":" + rest]]}


def resources(synthesized, stack="LogzioArchive"):
    return synthesized.raw(stack)["Resources"]




def principal_policy(found):
    """The Logz.io principal's own policy (not the probe role's)."""
    [policy] = [p for name, p in of_type(found, "AWS::IAM::Policy").items() if name.startswith("LogzioPolicy")]
    return policy


def probe_role_statements(found):
    [policy] = [p for name, p in of_type(found, "AWS::IAM::Policy").items()
                if name.startswith("PermissionProbeRoleDefaultPolicy")]
    return {s.get("Sid", "logs"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_every_combination_passes_cdk_nag_and_cfn_lint(combination, name):
    synthesized = combination(name)  # synth raises on an unacknowledged cdk-nag finding
    for stack in synthesized.templates:
        assert lint(synthesized.raw(stack)) == [], stack


def test_existing_bucket_is_used_not_created_or_changed(combination):
    found = resources(combination("existing"))
    assert not of_type(found, "AWS::S3::Bucket") and not of_type(found, "AWS::S3::BucketPolicy")
    document = principal_policy(found)["Properties"]["PolicyDocument"]
    assert [s["Resource"] for s in document["Statement"]] == [
        arn("s3:::acme-existing-logs"), arn("s3:::acme-existing-logs/*")]
    _, probe = only(found, "Custom::LogzioArchiveProbe")
    assert probe["Properties"]["BucketName"] == "acme-existing-logs"
    assert probe_role_statements(found)["RemoveProbeObjects"]["Resource"] == \
        arn("s3:::acme-existing-logs/logzio-archive-probe/*")
    found_outputs = combination("existing").raw()["Outputs"]
    assert found_outputs["BucketName"]["Value"] == "acme-existing-logs"
    # The bucket may live in another region than the stack: the probe says where it is.
    probe_id, _ = only(found, "Custom::LogzioArchiveProbe")
    assert found_outputs["Region"]["Value"] == {"Fn::GetAtt": [probe_id, "BucketRegion"]}


def archive_keys(found):
    """The archive's KMS keys (the watch's topic has a key of its own)."""
    return {name: key for name, key in of_type(found, "AWS::KMS::Key").items() if name.startswith("ArchiveKey")}


def test_kms_with_a_new_key(combination):
    found = resources(combination("kms"))
    [(key_id, key)] = archive_keys(found).items()
    assert key["Properties"]["EnableKeyRotation"] is True
    # Archives must stay readable after the stack is gone; only a rolled-back creation deletes it.
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    _, bucket = only(found, "AWS::S3::Bucket")
    assert bucket["Properties"]["BucketEncryption"] == {"ServerSideEncryptionConfiguration": [{
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                          "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]}}}]}
    statements = principal_policy(found)["Properties"]["PolicyDocument"]["Statement"]
    assert statements[2] == {"Sid": "LogzioUseArchiveKey", "Effect": "Allow",
                             "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                             "Resource": {"Fn::GetAtt": [key_id, "Arn"]}}
    # The key policy allows it by delegating to the account's IAM, where the grant above is.
    assert key["Properties"]["KeyPolicy"]["Statement"] == [{
        "Action": "kms:*", "Effect": "Allow", "Resource": "*",
        "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::",
                                                {"Ref": "AWS::AccountId"}, ":root"]]}}}]
    assert combination("kms").raw()["Outputs"]["KmsKeyArn"]["Value"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_existing_bucket_with_its_kms_key(combination):
    found = resources(combination("existing-kms"))
    assert not archive_keys(found), "the given key is used, none is made"
    statements = principal_policy(found)["Properties"]["PolicyDocument"]["Statement"]
    assert statements[2]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statements[2]["Resource"] == KEY_ARN


def test_role_instead_of_keys(combination):
    found = resources(combination("role"))
    for kind in ("AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::SecretsManager::Secret"):
        assert not of_type(found, kind), kind
    roles = of_type(found, "AWS::IAM::Role")
    [(role_id, role)] = [(n, r) for n, r in roles.items() if n.startswith("LogzioRole")]
    [probe_role_id] = [n for n in roles if n.startswith("PermissionProbeRole")]
    condition = {"StringEquals": {"sts:ExternalId": ROLE["externalId"]}}
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Condition": condition,
         "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::406095609952:root"]]}}},
        # The account, narrowed to the probe's role by aws:PrincipalArn: never the new role
        # itself as the principal (IAM validates role principals when the policy is written).
        {"Sid": "PermissionProbe", "Action": "sts:AssumeRole", "Effect": "Allow",
         "Condition": {"ArnEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [probe_role_id, "Arn"]}}, **condition},
         "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::",
                                                 {"Ref": "AWS::AccountId"}, ":root"]]}}},
    ]
    policy = principal_policy(found)
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}] and "Users" not in policy["Properties"]
    assert len(policy["Properties"]["PolicyDocument"]["Statement"]) == 2
    _, probe = only(found, "Custom::LogzioArchiveProbe")
    assert probe["Properties"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert probe["Properties"]["ExternalId"] == ROLE["externalId"]
    assert "SecretArn" not in probe["Properties"] and "AccessKeyId" not in probe["Properties"]
    statements = probe_role_statements(found)
    assert statements["ActAsLogzioRole"] == {"Sid": "ActAsLogzioRole", "Effect": "Allow",
                                             "Action": "sts:AssumeRole",
                                             "Resource": {"Fn::GetAtt": [role_id, "Arn"]}}
    assert "ReadPrincipalKey" not in statements
    outputs = combination("role").raw()["Outputs"]
    assert outputs["ExternalId"]["Value"] == ROLE["externalId"]
    assert outputs["RoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert not {"AccessKeyId", "SecretArn", "GetSecretCommand", "UserName"} & set(outputs)
    probe_id, _ = only(found, "Custom::LogzioArchiveProbe")
    assert outputs["ProbedCredentials"]["Value"] == {"Fn::GetAtt": [probe_id, "ProbedCredentials"]}


def test_role_with_an_existing_bucket(combination):
    found = resources(combination("role-existing"))
    assert not of_type(found, "AWS::S3::Bucket") and not of_type(found, "AWS::IAM::User")
    policy = principal_policy(found)
    assert policy["Properties"]["PolicyDocument"]["Statement"][1]["Resource"] == arn("s3:::acme-existing-logs/*")
    assert "Roles" in policy["Properties"]


def test_expiration_never_touches_the_logzio_verified_marker(combination):
    _, bucket = only(resources(combination("lifecycle")), "AWS::S3::Bucket")
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules[1] == {"Id": "ArchiveExpiration", "Status": "Enabled", "ExpirationInDays": 400,
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 400},
                        "ObjectSizeGreaterThan": "1024"}
    assert rules[0]["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]
    assert rules[2] == {"Id": "ArchiveExpiredDeleteMarkers", "Status": "Enabled", "ExpiredObjectDeleteMarker": True}


def test_several_archives_each_with_their_own_everything(combination):
    synthesized = combination("several")
    assert set(synthesized.templates) == {"LogzioProd", "LogzioEu"}
    prod, eu = resources(synthesized, "LogzioProd"), resources(synthesized, "LogzioEu")
    assert only(prod, "AWS::S3::Bucket")[1]["Properties"]["BucketName"] == "acme-logs-prod"
    assert "BucketName" not in only(eu, "AWS::S3::Bucket")[1]["Properties"]
    assert only(prod, "AWS::IAM::User") and not of_type(eu, "AWS::IAM::User")
    assert [n for n in of_type(eu, "AWS::IAM::Role") if n.startswith("LogzioRole")]
    for found in (prod, eu):
        assert only(found, "Custom::LogzioArchiveProbe")
    assert synthesized.regions == {"LogzioProd": "unknown-region", "LogzioEu": "eu-west-1"}


def test_expiration_alone_and_key_rotation(combination):
    found = resources(combination("expire-only"))
    _, bucket = only(found, "AWS::S3::Bucket")
    rule, markers = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert markers["ExpiredObjectDeleteMarker"] is True
    assert (rule["Id"], rule["ExpirationInDays"], rule["ObjectSizeGreaterThan"]) == ("ArchiveExpiration", 90, "1024")
    _, key = only(found, "AWS::IAM::AccessKey")
    assert key["Properties"]["Serial"] == 3


@pytest.fixture(scope="module")
def bucket_change_allowed():
    from tests.support import synth

    return synth({"allowBucketChange": "true", "strict": "true", "bucketName": "acme-logzio-archive-2026"})


def test_allow_bucket_change_and_strict_reach_the_probe(bucket_change_allowed, shipped):
    _, probe = only(resources(bucket_change_allowed), "Custom::LogzioArchiveProbe")
    assert probe["Properties"]["AllowBucketChange"] == "true"
    assert probe["Properties"]["Strict"] == "true"
    _, default = only(resources(shipped), "Custom::LogzioArchiveProbe")
    assert "Strict" not in default["Properties"] and "AllowBucketChange" not in default["Properties"]
    assert lint(bucket_change_allowed.raw()) == []
