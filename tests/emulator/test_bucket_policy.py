"""Bucket policies of CloudFormation templates in force, through the AWS API with IAM
enforced. Each test names the extensions it covers (bucket_policy_model, secure_transport,
bucket_policy_authz) and fails on plain moto 5.2.5: there, no template's bucket policy ever
reached its bucket ("NOT created"), a Deny on s3:ListBucket refused nothing, a Deny on
objects refused every caller with a bare 403, and the TLS-only Deny refused every object
request."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.emulator.stacks import deployed, events, outputs, update_stack, user_credentials

BUCKET_ARN = {"Fn::GetAtt": ["Bucket", "Arn"]}
OBJECTS_ARN = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}
#: aws-cdk's enforce_ssl statement, as the shipped template has it.
TLS_ONLY = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": [BUCKET_ARN, OBJECTS_ARN],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def deny(actions, principal="*", **condition):
    statement = {"Effect": "Deny", "Principal": principal, "Action": actions, "Resource": [BUCKET_ARN, OBJECTS_ARN]}
    if condition:
        statement["Condition"] = condition
    return statement


def template(*statements, on="Bucket", policy=True):
    """A retained bucket (two, to move the policy between them) and a policy of `statements`."""
    resources = {name: {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
                 for name in ("Bucket", "Other")}
    if policy:  # the statements' references to "Bucket" point at `on`
        document = json.loads(json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
                              .replace('"Bucket"', f'"{on}"'))
        resources["Policy"] = {"Type": "AWS::S3::BucketPolicy",
                               "Properties": {"Bucket": {"Ref": on}, "PolicyDocument": document}}
    return json.dumps({
        "Resources": resources,
        "Outputs": {"Bucket": {"Value": {"Ref": "Bucket"}}, "Other": {"Value": {"Ref": "Other"}},
                    **({"Policy": {"Value": {"Ref": "Policy"}}} if policy else {})},
    })


@pytest.fixture
def user(emu):
    """An IAM user allowed everything on every bucket: (its S3 client, its ARN)."""
    creds = user_credentials(emu, [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    arn = emu.client("sts", **creds).get_caller_identity()["Arn"]
    return emu.client("s3", **creds), arn


def _error(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def _policy(emu, bucket):
    return json.loads(emu.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])


def _policy_events(cfn, name):
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
            for e in events(cfn, name) if e["LogicalResourceId"] == "Policy"]


def test_the_template_policy_is_on_its_bucket(emu, wait_stack):
    """bucket_policy_model: moto skipped AWS::S3::BucketPolicy ("NOT created"); GetBucketPolicy
    answered NoSuchBucketPolicy."""
    cfn, name, out = deployed(emu, wait_stack, template(TLS_ONLY), prefix="bp")
    bucket = out["Bucket"]
    assert _policy(emu, bucket) == {"Version": "2012-10-17", "Statement": [{
        **TLS_ONLY, "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}
    physical = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Policy")["StackResourceDetail"]
    assert out["Policy"] == physical["PhysicalResourceId"] == bucket  # Ref is the bucket name
    assert ("Policy", "CREATE_COMPLETE", None) in _policy_events(cfn, name)
    assert _error(lambda: emu.client("s3").get_bucket_policy(Bucket=out["Other"])) == "NoSuchBucketPolicy"


def test_a_policy_on_a_missing_bucket_fails_the_stack(emu, wait_stack):
    """bucket_policy_model: the bucket must exist (moto: CREATE_COMPLETE, nothing created)."""
    cfn, name = emu.client("cloudformation"), f"bp-{uuid.uuid4().hex[:8]}"
    body = json.loads(template(TLS_ONLY))
    body["Resources"]["Policy"]["Properties"]["Bucket"] = f"missing-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))
    assert wait_stack(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    [(_, _, reason)] = [row for row in _policy_events(cfn, name) if row[1] == "CREATE_FAILED"]
    assert "bucket does not exist" in reason


def test_a_deny_of_put_object_refuses_the_user_it_names(emu, wait_stack, user):
    """bucket_policy_model, bucket_policy_authz: the Deny is in force, for the principal it
    names only, answered AccessDenied (moto: a bare 403 for every caller)."""
    s3, arn = user
    _, _, out = deployed(emu, wait_stack, template(deny("s3:PutObject", {"AWS": arn})), prefix="bp")
    bucket = out["Bucket"]
    admin = emu.client("s3")
    admin.put_object(Bucket=bucket, Key="k", Body=b"by the admin")  # not named: allowed
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"by the admin"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


def test_a_deny_names_a_role_by_its_arn_and_an_account_by_its_id(emu, wait_stack, user):
    """bucket_policy_authz: a role session is the role a policy names; an account principal
    is every caller of that account (moto: the Deny refused every caller alike)."""
    s3, user_arn = user
    iam, n = emu.client("iam"), uuid.uuid4().hex[:8]
    admin_arn = emu.client("sts").get_caller_identity()["Arn"]
    role_arn = iam.create_role(RoleName=f"r-{n}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"r-{n}", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    session = emu.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="probe")["Credentials"]
    as_role = emu.client("s3", aws_access_key_id=session["AccessKeyId"],
                         aws_secret_access_key=session["SecretAccessKey"], aws_session_token=session["SessionToken"])
    account = user_arn.split(":")[4]
    _, _, out = deployed(emu, wait_stack, template(deny("s3:PutObject", {"AWS": role_arn}),
                                                   deny("s3:ListBucket", {"AWS": account})), prefix="bp")
    bucket = out["Bucket"]
    assert _error(lambda: as_role.put_object(Bucket=bucket, Key="k", Body=b"x")) == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # the user is not the role
    assert as_role.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    for caller in (s3, as_role, emu.client("s3")):  # the account: every caller in it
        assert _error(lambda: caller.list_objects_v2(Bucket=bucket)) == "AccessDenied"


def test_a_deny_of_list_bucket_refuses_listing(emu, wait_stack, user):
    """bucket_policy_authz: moto never consulted a bucket policy for a bucket request."""
    s3, arn = user
    _, _, out = deployed(emu, wait_stack, template(deny("s3:ListBucket", {"AWS": [arn]})), prefix="bp")
    bucket = out["Bucket"]
    assert _error(lambda: s3.list_objects_v2(Bucket=bucket)) == "AccessDenied"
    assert _error(lambda: s3.list_objects(Bucket=bucket)) == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # only listing is denied
    assert emu.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 1  # the admin is not named
    assert s3.list_objects_v2(Bucket=out["Other"])["KeyCount"] == 0  # the other bucket has no policy


def test_the_tls_only_deny_lets_an_allowed_user_in(emu, wait_stack, user):
    """secure_transport: the request counts as sent over HTTPS (moto: every condition met, so
    the TLS-only Deny refused every object request)."""
    s3, _ = user
    _, _, out = deployed(emu, wait_stack, template(TLS_ONLY), prefix="bp")
    bucket = out["Bucket"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    s3.delete_object(Bucket=bucket, Key="k")


def test_a_deny_of_requests_over_tls_refuses(emu, wait_stack, user):
    """secure_transport, bucket_policy_authz: a Deny on aws:SecureTransport true holds (and a
    Deny on false next to it still refuses nothing)."""
    s3, _ = user
    over_tls = deny(["s3:PutObject", "s3:ListBucket"], Bool={"aws:SecureTransport": True})
    _, _, out = deployed(emu, wait_stack, template(TLS_ONLY, over_tls), prefix="bp")
    bucket = out["Bucket"]
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == "AccessDenied"
    assert _error(lambda: s3.list_objects_v2(Bucket=bucket)) == "AccessDenied"
    assert _error(lambda: s3.get_object(Bucket=bucket, Key="k")) == "NoSuchKey"  # not denied: not there


def test_an_update_of_the_policy_document_takes_effect(emu, wait_stack, user):
    """bucket_policy_model: the new document replaces the old on the same bucket, in place."""
    s3, arn = user
    cfn, name, out = deployed(emu, wait_stack, template(TLS_ONLY, deny("s3:PutObject", {"AWS": arn})), prefix="bp")
    bucket = out["Bucket"]
    emu.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == "AccessDenied"
    stack = update_stack(cfn, wait_stack, name, template(TLS_ONLY, deny("s3:GetObject", {"AWS": arn})))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    assert outputs(stack) == out
    assert [s["Action"] for s in _policy(emu, bucket)["Statement"]] == ["s3:*", "s3:GetObject"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert _error(lambda: s3.get_object(Bucket=bucket, Key="k")) == "AccessDenied"
    assert ("Policy", "UPDATE_COMPLETE", None) in _policy_events(cfn, name)


def test_a_new_bucket_replaces_the_policy(emu, wait_stack, user):
    """bucket_policy_model, stack_update's CREATE_ONLY (Bucket): the policy goes on the new
    bucket, then comes off the old one in the cleanup phase."""
    s3, arn = user
    statement = deny("s3:PutObject", {"AWS": arn})
    cfn, name, out = deployed(emu, wait_stack, template(statement), prefix="bp")
    stack = update_stack(cfn, wait_stack, name, template(statement, on="Other"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    assert outputs(stack)["Policy"] == out["Other"]
    assert _error(lambda: emu.client("s3").get_bucket_policy(Bucket=out["Bucket"])) == "NoSuchBucketPolicy"
    assert _policy(emu, out["Other"])["Statement"][0]["Resource"][0] == f"arn:aws:s3:::{out['Other']}"
    s3.put_object(Bucket=out["Bucket"], Key="k", Body=b"x")
    assert _error(lambda: s3.put_object(Bucket=out["Other"], Key="k", Body=b"x")) == "AccessDenied"
    rows = _policy_events(cfn, name)
    assert ("Policy", "UPDATE_IN_PROGRESS",
            "Requested update requires the creation of a new physical resource; hence creating one.") in rows
    assert rows[-1][:2] == ("Policy", "DELETE_COMPLETE")  # the old one, in the cleanup phase


def test_stack_delete_removes_the_policy_and_keeps_the_retained_bucket(emu, wait_stack, user):
    """bucket_policy_model: deleting the stack (or the resource) takes the policy off."""
    s3, arn = user
    cfn, name, out = deployed(emu, wait_stack, template(deny("s3:PutObject", {"AWS": arn})), prefix="bp")
    bucket = out["Bucket"]
    stack = update_stack(cfn, wait_stack, name, template(policy=False))  # the resource removed
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    assert _error(lambda: emu.client("s3").get_bucket_policy(Bucket=bucket)) == "NoSuchBucketPolicy"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    stack = update_stack(cfn, wait_stack, name, template(deny("s3:PutObject", {"AWS": arn})))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == "AccessDenied"
    cfn.delete_stack(StackName=name)
    assert wait_stack(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    s3_admin = emu.client("s3")
    s3_admin.head_bucket(Bucket=bucket)  # DeletionPolicy Retain: the bucket stays
    assert _error(lambda: s3_admin.get_bucket_policy(Bucket=bucket)) == "NoSuchBucketPolicy"
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
