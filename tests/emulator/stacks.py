"""What the emulator tests share: deploying a plain template, reading a stack back, and a
throw-away IAM user with a given policy (IAM is enforced)."""

from __future__ import annotations

import json
import uuid


def outputs(stack) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def events(cfn, name) -> list[dict]:
    """The stack's events, oldest first."""
    return list(reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]))


def deployed(emu, wait_stack, template, name=None, prefix="t"):
    """Create a stack from `template` and wait: (client, stack name, outputs)."""
    cfn, name = emu.client("cloudformation"), name or f"{prefix}-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, name)
    return cfn, name, outputs(stack)


def update_stack(cfn, wait_stack, name, template):
    cfn.update_stack(StackName=name, TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    return wait_stack(cfn, name)


def user_credentials(emu, statements) -> dict:
    """A new IAM user allowed exactly `statements`: its key as client keyword arguments."""
    iam, n = emu.client("iam"), uuid.uuid4().hex[:8]
    iam.create_user(UserName=f"u-{n}")
    iam.put_user_policy(UserName=f"u-{n}", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=f"u-{n}")["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
