"""Fast tests of the emulator extensions (no CDK CLI needed)."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError


HANDLER = r'''
import json, os, urllib.request
import boto3

def handler(event, context):
    props = event["ResourceProperties"]
    outcome, reason, data = "SUCCESS", "ok", {}
    try:
        if event["RequestType"] != "Delete":
            sm = boto3.client("secretsmanager")
            data["Value"] = json.loads(sm.get_secret_value(SecretId=props["SecretArn"])["SecretString"])["accessKeyId"]
            data["Remaining"] = str(context.get_remaining_time_in_millis() > 0)
            if props.get("Outcome") == "FAILED":
                outcome, reason = "FAILED", "probe says: s3:GetObject is missing"
    except Exception as exc:
        outcome, reason = "FAILED", f"handler error: {exc}"
    body = json.dumps({"Status": outcome, "Reason": reason, "PhysicalResourceId": "probe-1",
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": data}).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                 headers={"Content-Type": ""})
    urllib.request.urlopen(req, timeout=10).read()
'''


def template(outcome="SUCCESS", grant_secret=True):
    secret_grant = {"Ref": "Secret"} if grant_secret else "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf"
    return json.dumps({
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
            "User": {"Type": "AWS::IAM::User"},
            "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": {"Fn::Join": ["", [
                '{"accessKeyId":"', {"Ref": "Key"}, '","secretAccessKey":"',
                {"Fn::GetAtt": ["Key", "SecretAccessKey"]}, '"}']]}}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
            "RolePolicy": {"Type": "AWS::IAM::Policy", "Properties": {
                "PolicyName": "p", "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_grant}]}}},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["RolePolicy"], "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 30,
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": HANDLER}}},
            "Probe": {"Type": "Custom::Probe", "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}, "SecretArn": {"Ref": "Secret"}, "Outcome": outcome}},
        },
        "Outputs": {"ProbeValue": {"Value": {"Fn::GetAtt": ["Probe", "Value"]}},
                    "SecretArn": {"Value": {"Ref": "Secret"}}},
    })


def _events(cfn, name):
    return cfn.describe_stack_events(StackName=name)["StackEvents"]


def test_secret_model_and_custom_resource_success(emu, wait_stack):
    cfn, name = emu.client("cloudformation"), f"ok-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template())
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", _events(cfn, name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    secret = json.loads(emu.client("secretsmanager").get_secret_value(SecretId=outputs["SecretArn"])["SecretString"])
    user = cfn.describe_stack_resource(StackName=name, LogicalResourceId="User")["StackResourceDetail"]
    keys = emu.client("iam").list_access_keys(UserName=user["PhysicalResourceId"])["AccessKeyMetadata"]
    assert secret["accessKeyId"] == keys[0]["AccessKeyId"] and len(secret["secretAccessKey"]) >= 40
    # The handler read the secret with its role (ARN-scoped grant) and returned Data for Fn::GetAtt.
    assert outputs["ProbeValue"] == secret["accessKeyId"]
    # The user's key really works against the emulator (auth enforced: no policy -> denied).
    s3_user = emu.client("s3", aws_access_key_id=secret["accessKeyId"], aws_secret_access_key=secret["secretAccessKey"])
    with pytest.raises(ClientError) as err:
        s3_user.list_buckets()
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_custom_resource_failed_rolls_back_with_reason(emu, wait_stack):
    cfn, name = emu.client("cloudformation"), f"fail-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template(outcome="FAILED"))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = _events(cfn, name)
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0]["LogicalResourceId"] == "Probe"
    assert failed[0]["ResourceStatusReason"].startswith(
        "Received response status [FAILED] from custom resource. Message returned: probe says: s3:GetObject is missing")
    # The RETAIN bucket survives the rollback; the secret (Delete policy) does not.
    statuses = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events}
    assert ("Bucket", "DELETE_SKIPPED") in statuses and ("Secret", "DELETE_COMPLETE") in statuses
    assert ("Probe", "DELETE_COMPLETE") in statuses  # CloudFormation sends Delete to a failed Create
    bucket = [e for e in events if e["LogicalResourceId"] == "Bucket" and e["ResourceStatus"] == "CREATE_COMPLETE"][0]
    emu.client("s3").head_bucket(Bucket=bucket["PhysicalResourceId"])


def test_arn_scoped_secret_grant_other_arn_denied(emu, wait_stack):
    cfn, name = emu.client("cloudformation"), f"deny-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template(grant_secret=False))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = [e for e in _events(cfn, name) if e["ResourceStatus"] == "CREATE_FAILED"][0]["ResourceStatusReason"]
    assert "AccessDenied" in reason and "secretsmanager:GetSecretValue" in reason


def test_resource_scoped_authorization_direct(emu):
    iam, sm = emu.client("iam"), emu.client("secretsmanager")
    n = uuid.uuid4().hex[:8]
    arn_a = sm.create_secret(Name=f"a-{n}", SecretString="A")["ARN"]
    arn_b = sm.create_secret(Name=f"b-{n}", SecretString="B")["ARN"]
    iam.create_user(UserName=f"u-{n}")
    iam.put_user_policy(UserName=f"u-{n}", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn_a}]}))
    key = iam.create_access_key(UserName=f"u-{n}")["AccessKey"]
    user_sm = emu.client("secretsmanager", aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"])
    assert user_sm.get_secret_value(SecretId=arn_a)["SecretString"] == "A"
    assert user_sm.get_secret_value(SecretId=f"a-{n}")["SecretString"] == "A"  # by name -> same ARN
    with pytest.raises(ClientError) as err:
        user_sm.get_secret_value(SecretId=arn_b)
    # moto renders this JSON-protocol error with Code "403" (real AWS: AccessDeniedException)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, err.value.response
    assert "secretsmanager:GetSecretValue" in str(err.value)


def test_change_set_runs_real_lifecycle(emu, wait_stack):
    cfn, name = emu.client("cloudformation"), f"cs-{uuid.uuid4().hex[:8]}"
    cfn.create_change_set(StackName=name, ChangeSetName="c1", ChangeSetType="CREATE",
                          TemplateBody=template(outcome="FAILED"), Capabilities=["CAPABILITY_IAM"])
    cfn.execute_change_set(StackName=name, ChangeSetName="c1")
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"  # not moto's unconditional CREATE_COMPLETE


def test_failed_custom_resource_update_rolls_back(emu, wait_stack):
    cfn, name = emu.client("cloudformation"), f"upd-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template())
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    cfn.update_stack(StackName=name, TemplateBody=template(outcome="FAILED"))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", _events(cfn, name)
    failed = [e for e in _events(cfn, name) if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Probe"
    assert "Message returned: probe says: s3:GetObject is missing" in failed[0]["ResourceStatusReason"]
    body = cfn.get_template(StackName=name)["TemplateBody"]
    body = body if isinstance(body, str) else json.dumps(body)
    assert '"Outcome": "SUCCESS"' in body  # previous template restored


def _role(iam, name, trust):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": trust}))["Role"]["Arn"]


def test_trust_policy_with_several_principals_and_an_external_id(emu):
    """The Logz.io role's shape: Logz.io's account and the probe's role, both with the
    external id; a session of the probe role may assume it, with the right id only."""
    from emulator.extensions.local_lambda import _role_credentials

    iam, n = emu.client("iam"), uuid.uuid4().hex[:8]
    lambda_trust = [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]
    prober = _role(iam, f"prober-{n}", lambda_trust)
    outsider = _role(iam, f"outsider-{n}", lambda_trust)
    condition = {"StringEquals": {"sts:ExternalId": "logzio:aws:extid:ok"}}
    target = _role(iam, f"logzio-{n}", [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": condition,
         "Principal": {"AWS": "arn:aws:iam::406095609952:root"}},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": condition, "Principal": {"AWS": prober}}])
    may_assume = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}]})
    for name in (f"prober-{n}", f"outsider-{n}"):
        iam.put_role_policy(RoleName=name, PolicyName="assume", PolicyDocument=may_assume)

    def sts_as(role_arn):
        class Function:  # what the local Lambda runner hands a function: its role's session
            account_id, region, function_name, role = emu.account, emu.region, f"fn-{n}", role_arn
        creds = _role_credentials(Function)
        return emu.client("sts", aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                          aws_session_token=creds["AWS_SESSION_TOKEN"])

    assumed = sts_as(prober).assume_role(RoleArn=target, RoleSessionName="probe", ExternalId="logzio:aws:extid:ok")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/logzio-{n}/probe")
    for sts, external_id in ((sts_as(prober), "logzio:aws:extid:wrong"), (sts_as(outsider), "logzio:aws:extid:ok")):
        with pytest.raises(ClientError) as err:
            sts.assume_role(RoleArn=target, RoleSessionName="probe", ExternalId=external_id)
        assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_trust_policy_account_principal_narrowed_by_principal_arn(emu):
    """The Logz.io role's shape since issue 17: Logz.io's account, and this account narrowed
    by aws:PrincipalArn to the probe's role, both with the external id. A session of the
    probe role may assume it; another role or a user of the account, each allowed
    sts:AssumeRole on it, may not. (moto: aws:PrincipalArn and ArnEquals were never
    evaluated, an account principal matched only its root ARN, so the probe was denied, and a
    call without an external id met the sts:ExternalId condition.)"""
    from emulator.extensions.local_lambda import _role_credentials

    iam, n = emu.client("iam"), uuid.uuid4().hex[:8]
    lambda_trust = [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]
    prober = _role(iam, f"prober-{n}", lambda_trust)
    outsider = _role(iam, f"outsider-{n}", lambda_trust)
    external_id = {"StringEquals": {"sts:ExternalId": "logzio:aws:extid:ok"}}
    target = _role(iam, f"logzio-{n}", [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": external_id,
         "Principal": {"AWS": "arn:aws:iam::406095609952:root"}},
        {"Sid": "PermissionProbe", "Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": f"arn:aws:iam::{emu.account}:root"},
         "Condition": {**external_id, "ArnEquals": {"aws:PrincipalArn": prober}}}])
    may_assume = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}]})
    for name in (f"prober-{n}", f"outsider-{n}"):
        iam.put_role_policy(RoleName=name, PolicyName="assume", PolicyDocument=may_assume)
    iam.create_user(UserName=f"someone-{n}")
    iam.put_user_policy(UserName=f"someone-{n}", PolicyName="assume", PolicyDocument=may_assume)
    key = iam.create_access_key(UserName=f"someone-{n}")["AccessKey"]
    user_sts = emu.client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

    def sts_as(role_arn):
        class Function:  # what the local Lambda runner hands a function: its role's session
            account_id, region, function_name, role = emu.account, emu.region, f"fn-{n}", role_arn
        creds = _role_credentials(Function)
        return emu.client("sts", aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                          aws_session_token=creds["AWS_SESSION_TOKEN"])

    assumed = sts_as(prober).assume_role(RoleArn=target, RoleSessionName="probe", ExternalId="logzio:aws:extid:ok")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/logzio-{n}/probe")
    for sts, ext in ((sts_as(prober), "logzio:aws:extid:wrong"), (sts_as(prober), None),
                     (sts_as(outsider), "logzio:aws:extid:ok"), (user_sts, "logzio:aws:extid:ok")):
        with pytest.raises(ClientError) as err:
            sts.assume_role(RoleArn=target, RoleSessionName="probe", **({"ExternalId": ext} if ext else {}))
        assert err.value.response["Error"]["Code"] == "AccessDenied"

    # The account principal without the aws:PrincipalArn condition is left as moto has it
    # (its root ARN only): no caller of the account gets in through it.
    bare = _role(iam, f"bare-{n}", [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                     "Principal": {"AWS": f"arn:aws:iam::{emu.account}:root"}}])
    iam.put_role_policy(RoleName=f"outsider-{n}", PolicyName="assume-bare", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": bare}]}))
    with pytest.raises(ClientError) as err:
        sts_as(outsider).assume_role(RoleArn=bare, RoleSessionName="bare")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_role_delete_next_to_a_user_only_policy(emu, wait_stack):
    cfn, n = emu.client("cloudformation"), uuid.uuid4().hex[:8]
    users = {"Resources": {
        "User": {"Type": "AWS::IAM::User"},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "p", "Users": [{"Ref": "User"}], "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}}}}}
    roles = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}}}}}
    cfn.create_stack(StackName=f"users-{n}", TemplateBody=json.dumps(users))
    cfn.create_stack(StackName=f"roles-{n}", TemplateBody=json.dumps(roles))
    for name in (f"users-{n}", f"roles-{n}"):
        assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    stack_id = cfn.describe_stacks(StackName=f"roles-{n}")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=f"roles-{n}")
    assert wait_stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE", _events(cfn, stack_id)
