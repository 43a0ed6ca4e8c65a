"""What a reviewer reads in the synthesized template, asserted resource by resource."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from logzio_s3_archive_runtime.names import WatchOutput
from tests.support import of_type, only

BUCKET_ARN = {"Fn::GetAtt": [Match.string_like_regexp("^ArchiveBucket"), "Arn"]}


@pytest.fixture(scope="module")
def template(shipped):
    return shipped.template()


@pytest.fixture(scope="module")
def resources(shipped):
    return shipped.raw()["Resources"]




def test_bucket_keeps_archive_and_restore_working(template, resources):
    template.has_resource("AWS::S3::Bucket", {
        # Kept on update, replacement and stack delete; deleted only when its own creation
        # rolls back (then it is new and empty, and a retry may reuse its name).
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    })
    _, bucket = only(resources, "AWS::S3::Bucket")
    assert "BucketName" not in bucket["Properties"], "name is generated unless bucketName is given"
    assert "LifecycleConfiguration" not in bucket["Properties"]


def test_bucket_policy_denies_plain_http(resources):
    _, policy = only(resources, "AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements == [{
        "Action": "s3:*", "Effect": "Deny", "Principal": {"AWS": "*"},
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Resource": [{"Fn::GetAtt": [statements[0]["Resource"][0]["Fn::GetAtt"][0], "Arn"]},
                     {"Fn::Join": ["", [{"Fn::GetAtt": [statements[0]["Resource"][0]["Fn::GetAtt"][0], "Arn"]}, "/*"]]}],
    }]


def test_principal_policy_is_the_exact_split_form(resources):
    bucket_id, _ = only(resources, "AWS::S3::Bucket")
    user_id, _ = only(resources, "AWS::IAM::User")
    user_policies = [p for p in of_type(resources, "AWS::IAM::Policy").values()
                     if p["Properties"].get("Users") == [{"Ref": user_id}]]
    assert len(user_policies) == 1
    arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert user_policies[0]["Properties"]["PolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "LogzioListAndLocateBucket", "Effect": "Allow",
             "Action": ["s3:GetBucketLocation", "s3:ListBucket"], "Resource": arn},
            {"Sid": "LogzioArchiveAndRestoreObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": {"Fn::Join": ["", [arn, "/*"]]}},
        ],
    }


def test_user_has_a_key_and_nothing_else(resources):
    user_id, user = only(resources, "AWS::IAM::User")
    assert set(user.get("Properties", {})) <= {"Tags"}, "no inline policies, groups or managed policies"
    _, key = only(resources, "AWS::IAM::AccessKey")
    assert key["Properties"] == {"UserName": {"Ref": user_id}}


def test_secret_holds_the_key_by_reference_only(resources):
    key_id, _ = only(resources, "AWS::IAM::AccessKey")
    _, secret = only(resources, "AWS::SecretsManager::Secret")
    joined = json.dumps(secret["Properties"]["SecretString"])
    assert json.dumps({"Ref": key_id}) in joined
    assert json.dumps({"Fn::GetAtt": [key_id, "SecretAccessKey"]}) in joined
    assert "GenerateSecretString" not in secret["Properties"]


def test_no_secret_value_anywhere_but_the_secret(shipped, resources):
    key_id, _ = only(resources, "AWS::IAM::AccessKey")
    secret_id, _ = only(resources, "AWS::SecretsManager::Secret")
    template = shipped.raw()
    uses = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("Fn::GetAtt") == [key_id, "SecretAccessKey"]:
                uses.append(path)
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])

    walk(template, [])
    assert uses and all(p[:2] == ["Resources", secret_id] for p in uses), uses
    assert "SecretAccessKey" not in json.dumps(template.get("Outputs", {}))


def test_probe_resource_runs_after_everything_it_checks(resources):
    probe_id, probe = only(resources, "Custom::LogzioArchiveProbe")
    fn_id, fn = only(resources, "AWS::Lambda::Function")
    bucket_id, _ = only(resources, "AWS::S3::Bucket")
    key_id, _ = only(resources, "AWS::IAM::AccessKey")
    secret_id, _ = only(resources, "AWS::SecretsManager::Secret")
    props = probe["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert props["BucketName"] == {"Ref": bucket_id}
    assert props["SecretArn"] == {"Ref": secret_id}
    assert props["AccessKeyId"] == {"Ref": key_id}
    assert props["Region"] == {"Ref": "AWS::Region"}
    assert len(props["PolicyDigest"]) == 16
    assert props["KeyDeadlineSeconds"] == "90" and props["SettleSeconds"] == "30"
    assert "RunOnEveryDeploy" not in props
    # Absent, not "false": stacks deployed before allowBucketChange existed see no change.
    assert "AllowBucketChange" not in props
    assert 0 < int(props["ServiceTimeout"]) <= 3600
    assert int(props["ServiceTimeout"]) > fn["Properties"]["Timeout"]
    user_policy_id = next(name for name, p in of_type(resources, "AWS::IAM::Policy").items()
                          if "Users" in p["Properties"])
    bucket_policy_id, _ = only(resources, "AWS::S3::BucketPolicy")
    assert {user_policy_id, bucket_policy_id} <= set(probe["DependsOn"])
    assert "secretAccessKey" not in json.dumps(props) and "SecretAccessKey" not in json.dumps(props)


def test_probe_function_is_a_python_lambda_on_the_newest_runtime(resources):
    _, fn = only(resources, "AWS::Lambda::Function")
    assert fn["Properties"]["Runtime"] == "python3.14"
    assert fn["Properties"]["Handler"] == "logzio_s3_archive_runtime.handler.handler"
    assert fn["Properties"]["Timeout"] == 180  # max(90, 30) + 90


def test_probe_role_may_delete_only_probe_objects(resources):
    [(role_id, role)] = [(name, r) for name, r in of_type(resources, "AWS::IAM::Role").items()
                         if name.startswith("PermissionProbeRole")]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]
    policy = next(p for p in of_type(resources, "AWS::IAM::Policy").values()
                  if p["Properties"].get("Roles") == [{"Ref": role_id}])
    statements = {s.get("Sid", "logs"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    writes = [s for s in statements.values() if any(
        a.startswith("s3:") and not a.startswith(("s3:Get", "s3:List"))
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]
    assert [s["Sid"] for s in writes] == ["RemoveProbeObjects"]
    assert writes[0]["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert writes[0]["Resource"]["Fn::Join"][1][1] == "/logzio-archive-probe/*"
    assert statements["ReadPrincipalKey"]["Action"] == "secretsmanager:GetSecretValue"
    assert statements["FindLeftoverProbeObjects"]["Condition"] == {
        "StringLike": {"s3:prefix": ["logzio-archive-probe/*"]}}


def test_outputs_give_everything_logzio_asks_for(shipped):
    outputs = shipped.raw()["Outputs"]
    assert set(outputs) == {"BucketName", "Region", "UserName", "AccessKeyId", "SecretArn",
                            "GetSecretCommand", "ProbeVerdict", "ProbeChecks", "ProbeFindings",
                            "ProbedCredentials",
                            # The scheduled re-check, on by default (no freshness alarm unless asked).
                            WatchOutput.HEALTH_ALARM, WatchOutput.TOPIC_ARN, WatchOutput.SCHEDULE}
    command = json.dumps(outputs["GetSecretCommand"]["Value"])
    assert "aws secretsmanager get-secret-value --secret-id " in command
    assert outputs["ProbeVerdict"]["Value"]["Fn::GetAtt"][1] == "Verdict"
    assert outputs["ProbeFindings"]["Value"]["Fn::GetAtt"][1] == "Findings"


def test_the_probe_role_reads_bucket_settings_and_nothing_more(shipped, resources):
    """The findings read five settings with the function's own role: read-only, on the bucket."""
    statements = [s for _, r in resources.items() if r["Type"] == "AWS::IAM::Policy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "ReadBucketSettings"]
    [statement] = statements
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["s3:GetBucketObjectLockConfiguration",
                                           "s3:GetBucketOwnershipControls", "s3:GetBucketRequestPayment",
                                           "s3:GetIntelligentTieringConfiguration",
                                           "s3:GetLifecycleConfiguration"]
    assert "/*" not in json.dumps(statement["Resource"])


def test_probed_credentials_output_is_what_the_probe_ran_as(shipped, resources):
    probe_id, _ = only(resources, "Custom::LogzioArchiveProbe")
    output = shipped.raw()["Outputs"]["ProbedCredentials"]
    assert output["Value"] == {"Fn::GetAtt": [probe_id, "ProbedCredentials"]}
    assert output["Description"] == "Access key id or role ARN the deploy-time probe ran as"


def test_lambda_asset_holds_only_what_the_handler_imports(shipped):
    [asset] = [d for d in shipped.directory.glob("asset.*") if d.is_dir()]
    shipped_files = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert shipped_files == [f"logzio_s3_archive_runtime/{name}.py" for name in
                             ("__init__", "aws", "cfn", "checks", "diagnosis", "findings", "freshness",
                              "handler", "handoff", "logzio_api", "names", "probe", "recheck")]


def test_the_shipped_modules_are_all_the_handler_needs(tmp_path):
    """Import the handler from a copy of exactly the shipped files: nothing missing."""
    import shutil
    import subprocess
    import sys

    from logzio_s3_archive.probe import asset_directory, handler_modules

    shutil.copytree(asset_directory(), tmp_path, dirs_exist_ok=True)
    assert "cli.py" not in handler_modules() and "__main__.py" not in handler_modules()
    # The copy comes first on sys.path: a module missing from it fails the import.
    subprocess.run([sys.executable, "-c", "import logzio_s3_archive_runtime.handler as h, sys; "
                    "assert h.__file__.startswith(sys.argv[1]), h.__file__", str(tmp_path)],
                   cwd=tmp_path, check=True)


def test_runtime_package_knows_nothing_of_the_emulator():
    """The same handler code runs in AWS and in the emulator: no branch, import or address
    of the emulator in what ships (it finds endpoints through AWS_ENDPOINT_URL like any boto3
    program), and nothing beyond the standard library and boto3/botocore."""
    import ast
    import sys

    from logzio_s3_archive.probe import RUNTIME_PACKAGE

    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore", "logzio_s3_archive_runtime"}
    for path in sorted(RUNTIME_PACKAGE.glob("*.py")):
        source = path.read_text()
        if path.name != "cli.py":  # the command's --help may show an emulator endpoint as an example
            for word in ("moto", "emulator", "localhost", "127.0.0.1"):
                assert word not in source.lower(), f"{path.name} mentions {word}"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            assert {name.split(".")[0] for name in names} <= allowed, (path.name, names)
