"""Stack updates, change sets, bucket settings and authorization in the emulator, through
the AWS API only. Each test fails on plain moto 5.2.5 (the extension it covers is named)."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.emulator.stacks import deployed, events, outputs, update_stack, user_credentials

HANDLER = r'''
import json, urllib.request

def handler(event, context):
    props = event["ResourceProperties"]
    print("REQUEST " + json.dumps({"RequestType": event["RequestType"], "Properties": props}))
    failed = props.get("Outcome") == "FAILED" and event["RequestType"] != "Delete"
    body = json.dumps({"Status": "FAILED" if failed else "SUCCESS", "Reason": "probe says no" if failed else "ok",
                       "PhysicalResourceId": "probe-" + props.get("BucketName", ""),
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"],
                       "Data": {"Key": props.get("AccessKeyId", "")}}).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(req, timeout=10).read()
'''


def day_two(serial=1, bucket_name=None, outcome="SUCCESS", output_note="v1"):
    """A small archive stack: bucket, user, key, secret, policy and a recording custom resource."""
    bucket_props = {
        "VersioningConfiguration": {"Status": "Enabled"},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "LifecycleConfiguration": {"Rules": [
            {"Id": "ArchiveTransition", "Status": "Enabled",
             "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]},
            {"Id": "ArchiveExpiredDeleteMarkers", "Status": "Enabled", "ExpiredObjectDeleteMarker": True}]},
    }
    if bucket_name:
        bucket_props["BucketName"] = bucket_name
    return json.dumps({
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": bucket_props,
                       "DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"},
            "User": {"Type": "AWS::IAM::User"},
            "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}, "Serial": serial}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": {"Fn::Join": ["", [
                '{"accessKeyId":"', {"Ref": "Key"}, '","secretAccessKey":"',
                {"Fn::GetAtt": ["Key", "SecretAccessKey"]}, '"}']]}}},
            "UserPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
                "PolicyName": "logzio", "Users": [{"Ref": "User"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]}}]}}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 30,
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": HANDLER}}},
            "Probe": {"Type": "Custom::Probe", "DependsOn": ["UserPolicy"], "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}, "SecretArn": {"Ref": "Secret"},
                "AccessKeyId": {"Ref": "Key"}, "BucketName": {"Ref": "Bucket"}, "Outcome": outcome}},
        },
        "Outputs": {"ProbedKey": {"Value": {"Fn::GetAtt": ["Probe", "Key"]}, "Description": output_note},
                    "SecretArn": {"Value": {"Ref": "Secret"}}, "BucketName": {"Value": {"Ref": "Bucket"}},
                    "UserName": {"Value": {"Ref": "User"}}, "FunctionName": {"Value": {"Ref": "Fn"}}},
    })


def _requests(emu, function_name):
    """What the custom resource's handler was sent, oldest first (from its CloudWatch logs)."""
    logs = emu.client("logs")
    logged = logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}")["events"]
    return [json.loads(e["message"].split("REQUEST ", 1)[1]) for e in logged if "REQUEST " in e["message"]]


def test_key_rotation_replaces_the_key_and_the_secret_and_probe_follow(emu, wait_stack):
    """stack_update: dependents of a replaced resource are updated (moto left the secret
    holding the deleted key); the old key goes in the cleanup phase, after the probe."""
    cfn, name, before = deployed(emu, wait_stack, day_two(serial=1))
    stack = update_stack(cfn, wait_stack, name, day_two(serial=2))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    after = outputs(stack)
    secret = json.loads(emu.client("secretsmanager").get_secret_value(SecretId=after["SecretArn"])["SecretString"])
    keys = emu.client("iam").list_access_keys(UserName=after["UserName"])["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [secret["accessKeyId"]] == [after["ProbedKey"]]
    assert after["ProbedKey"] != before["ProbedKey"]
    steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events(cfn, name)]
    update = steps[steps.index((name, "UPDATE_IN_PROGRESS")):]
    assert update.index(("Key", "UPDATE_COMPLETE")) < update.index(("Secret", "UPDATE_COMPLETE")) \
        < update.index(("Probe", "UPDATE_COMPLETE")) < update.index((name, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")) \
        < update.index(("Key", "DELETE_COMPLETE")) < update.index((name, "UPDATE_COMPLETE"))


def test_update_that_changes_no_resource_touches_none(emu, wait_stack):
    """stack_update: resolved properties are compared, so an output-only change updates nothing."""
    cfn, name, _ = deployed(emu, wait_stack, day_two())
    stack = update_stack(cfn, wait_stack, name, day_two(output_note="v2"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events(cfn, name)]
    update = steps[steps.index((name, "UPDATE_IN_PROGRESS")):]
    assert [step for step in update if step[0] != name] == []


def test_removing_the_bucket_name_replaces_the_bucket_and_retains_the_old_one(emu, wait_stack):
    """stack_update: BucketName removed = replacement (moto kept the bucket); dependents
    point at the new bucket; UpdateReplacePolicy Retain keeps the old one."""
    old = f"acme-{uuid.uuid4().hex[:8]}"
    cfn, name, _ = deployed(emu, wait_stack, day_two(bucket_name=old))
    stack = update_stack(cfn, wait_stack, name, day_two())
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    new = outputs(stack)["BucketName"]
    assert new != old
    names = [b["Name"] for b in emu.client("s3").list_buckets()["Buckets"]]
    assert old in names and new in names
    user = outputs(stack)["UserName"]
    document = emu.client("iam").get_user_policy(UserName=user, PolicyName="logzio")["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == f"arn:aws:s3:::{new}"
    assert ("Bucket", "DELETE_SKIPPED") in [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events(cfn, name)]


def test_failed_update_restores_the_old_resources_and_deletes_what_it_created(emu, wait_stack):
    """stack_update: rollback from the journal (moto re-applied the old template through the
    same diff): old bucket back in the stack, new one deleted (RetainExceptOnCreate), the
    policy back on the old bucket, and the custom resource sent an Update with its old
    properties."""
    old = f"acme-{uuid.uuid4().hex[:8]}"
    cfn, name, before = deployed(emu, wait_stack, day_two(bucket_name=old))
    stack = update_stack(cfn, wait_stack, name, day_two(outcome="FAILED"))
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", events(cfn, name)
    assert outputs(stack)["BucketName"] == old
    bucket = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Bucket")["StackResourceDetail"]
    assert bucket["PhysicalResourceId"] == old
    created = [e["PhysicalResourceId"] for e in events(cfn, name)
               if e["LogicalResourceId"] == "Bucket" and e["ResourceStatus"] == "UPDATE_COMPLETE"][0]
    names = [b["Name"] for b in emu.client("s3").list_buckets()["Buckets"]]
    assert created != old and created not in names and old in names
    document = emu.client("iam").get_user_policy(UserName=before["UserName"], PolicyName="logzio")["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == f"arn:aws:s3:::{old}"
    last = _requests(emu, before["FunctionName"])[-1]
    assert last["RequestType"] == "Update" and last["Properties"]["BucketName"] == old
    assert last["Properties"]["Outcome"] == "SUCCESS"


def test_use_previous_value_of_a_defaulted_ssm_parameter(emu, wait_stack):
    """update_parameters: the CDK CLI's BootstrapVersion pattern, direct and by change set."""
    emu.client("ssm").put_parameter(Name="/emu/version", Value="21", Type="String", Overwrite=True)

    def template(note):
        return json.dumps({
            "Parameters": {"Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/emu/version"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"Version": {"Value": {"Ref": "Version"}, "Description": note}}})

    cfn, name = emu.client("cloudformation"), f"param-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template("a"))
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    previous = [{"ParameterKey": "Version", "UsePreviousValue": True}]
    cfn.update_stack(StackName=name, TemplateBody=template("b"), Parameters=previous)
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_COMPLETE" and outputs(stack)["Version"] == "21"
    cfn.create_change_set(StackName=name, ChangeSetName="next", ChangeSetType="UPDATE",
                          TemplateBody=template("c"), Parameters=previous)
    cfn.execute_change_set(StackName=name, ChangeSetName="next")
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_COMPLETE" and outputs(stack)["Version"] == "21"


def test_missing_change_set_deletes_quietly_and_is_not_found(emu):
    """changeset_lookup: what the CDK CLI does before every change-set deploy."""
    cfn = emu.client("cloudformation")
    cfn.delete_change_set(StackName="no-such-stack", ChangeSetName="cdk-deploy-change-set")
    with pytest.raises(cfn.exceptions.ChangeSetNotFoundException):
        cfn.describe_change_set(StackName="no-such-stack", ChangeSetName="cdk-deploy-change-set")


def test_bucket_settings_of_the_template_are_applied_and_readable(emu, wait_stack):
    """bucket_settings: moto applied only encryption and tags."""
    cfn, name, found = deployed(emu, wait_stack, day_two())
    s3, bucket = emu.client("s3"), found["BucketName"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [rule["ID"] for rule in lifecycle] == ["ArchiveTransition", "ArchiveExpiredDeleteMarkers"]
    assert lifecycle[0]["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    assert lifecycle[1]["Expiration"] == {"ExpiredObjectDeleteMarker": True}


def test_a_bucket_that_holds_objects_is_not_deleted(emu, wait_stack):
    """bucket_settings: CloudFormation cannot delete a non-empty bucket (moto skipped it silently)."""
    template = json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
                           "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}}})
    cfn, name = emu.client("cloudformation"), f"full-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template)
    bucket = outputs(wait_stack(cfn, name))["Name"]
    emu.client("s3").put_object(Bucket=bucket, Key="logs/archive.gz", Body=b"x")
    cfn.delete_stack(StackName=name)
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "DELETE_FAILED"
    reasons = [e.get("ResourceStatusReason", "") for e in events(cfn, name) if e["ResourceStatus"] == "DELETE_FAILED"]
    assert any("not empty" in reason for reason in reasons), reasons
    assert emu.client("s3").get_object(Bucket=bucket, Key="logs/archive.gz")["Body"].read() == b"x"


def test_ownership_controls_are_authorized_as_their_own_action(emu):
    """s3_action_names: moto authorized GetBucketOwnershipControls as s3:ListBucket."""
    bucket = f"own-{uuid.uuid4().hex[:8]}"
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    arn = f"arn:aws:s3:::{bucket}"
    lister = emu.client("s3", **user_credentials(emu, [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn}]))
    reader = emu.client("s3", **user_credentials(emu, [{"Effect": "Allow", "Action": "s3:GetBucketOwnershipControls",
                                                  "Resource": arn}]))
    with pytest.raises(ClientError) as denied:
        lister.get_bucket_ownership_controls(Bucket=bucket)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    rules = reader.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_object_lock_configuration_is_authorized_as_its_own_action(emu):
    """s3_action_names: moto authorized GetObjectLockConfiguration as s3:ListBucket."""
    bucket = f"lock-{uuid.uuid4().hex[:8]}"
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    retention = {"Mode": "GOVERNANCE", "Days": 1}
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}})
    arn = f"arn:aws:s3:::{bucket}"
    lister = emu.client("s3", **user_credentials(emu, [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn}]))
    reader = emu.client("s3", **user_credentials(emu, [{"Effect": "Allow",
                                                        "Action": "s3:GetBucketObjectLockConfiguration",
                                                        "Resource": arn}]))
    with pytest.raises(ClientError) as denied:
        lister.get_object_lock_configuration(Bucket=bucket)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    rule = reader.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]["Rule"]
    assert rule["DefaultRetention"]["Mode"] == "GOVERNANCE" and rule["DefaultRetention"]["Days"] == 1


def test_describe_stacks_is_authorized_on_the_stack_arn(emu, wait_stack):
    """resource_authz: a grant on AWS::StackId (the probe's rollback detection) was denied."""
    cfn, name = emu.client("cloudformation"), f"arn-{uuid.uuid4().hex[:8]}"
    stack_id = cfn.create_stack(StackName=name, TemplateBody=json.dumps(
        {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))["StackId"]
    wait_stack(cfn, name)
    creds = user_credentials(emu, [{"Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": stack_id}])
    user = emu.client("cloudformation", **creds)
    assert user.describe_stacks(StackName=stack_id)["Stacks"][0]["StackName"] == name
    assert user.describe_stacks(StackName=name)["Stacks"][0]["StackId"] == stack_id
    other = cfn.create_stack(StackName=name + "-other", TemplateBody=json.dumps(
        {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))["StackId"]
    with pytest.raises(ClientError) as denied:
        user.describe_stacks(StackName=other)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_extensions_refuse_another_moto_version(monkeypatch):
    import moto

    from emulator import extensions

    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(extensions.UnsupportedMotoVersion, match="moto 5.2.5 internals, but moto 5.3.0"):
        extensions.apply_all()
