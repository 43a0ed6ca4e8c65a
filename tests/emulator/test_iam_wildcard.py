"""iam_wildcard: IAM's ``?`` wildcard in a policy, through the AWS API with IAM enforced.

A grant on ``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-??????`` is how a policy
names a secret without its random suffix (the Logz.io API token's grant does). On moto
5.2.5 without the extension the pattern raises "multiple repeat" (HTTP 500) and ``?`` is
no wildcard at all, so every test here but the last (``*`` alone) fails.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def secrets(emu):
    """Three secrets: NAME, NAME2 and NAME-x (whose ARN has 8 characters after NAME-)."""
    name = f"wild/{uuid.uuid4().hex[:8]}/token"
    client = emu.client("secretsmanager")
    arns = {n: client.create_secret(Name=n, SecretString=f"value of {n}")["ARN"]
            for n in (name, name + "2", name + "-x")}
    return name, arns


def _prefix(emu) -> str:
    return f"arn:aws:secretsmanager:{emu.region}:{emu.account}:secret:"


def _reader(emu, resource, action="secretsmanager:GetSecretValue"):
    iam, n = emu.client("iam"), f"wild-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=n)
    iam.put_user_policy(UserName=n, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}))
    key = iam.create_access_key(UserName=n)["AccessKey"]
    return emu.client("secretsmanager", aws_access_key_id=key["AccessKeyId"],
                      aws_secret_access_key=key["SecretAccessKey"])


def _can_read(client, secret_id) -> bool:
    try:
        client.get_secret_value(SecretId=secret_id)
        return True
    except ClientError as error:
        # Denied is a 403 (moto answers it in XML, so botocore reads no error code); the
        # matcher's regex error was a 500.
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error.response
        return False


def test_a_grant_on_name_and_six_question_marks_reads_that_secret_only(emu, secrets):
    name, arns = secrets
    suffix = arns[name].rsplit("-", 1)[1]
    assert len(suffix) == 6  # the ARN's random suffix the grant leaves open
    reader = _reader(emu, f"{_prefix(emu)}{name}-??????")
    assert reader.get_secret_value(SecretId=name)["SecretString"] == f"value of {name}"
    assert _can_read(reader, arns[name])  # by ARN too
    assert not _can_read(reader, name + "2")
    assert not _can_read(reader, name + "-x")  # NAME-x-SUFFIX: eight characters after NAME-


def test_a_question_mark_matches_exactly_one_character(emu, secrets):
    name, _ = secrets
    prefix = _prefix(emu)
    assert not _can_read(_reader(emu, f"{prefix}{name}-?????"), name)  # five: too few
    assert not _can_read(_reader(emu, f"{prefix}{name}-???????"), name)  # seven: too many
    assert _can_read(_reader(emu, f"{prefix}{name}?-??????"), name + "2")  # ? stands for the 2
    assert not _can_read(_reader(emu, f"{prefix}{name}?-??????"), name)  # ? is never empty


def test_a_question_mark_in_the_action(emu, secrets):
    name, _ = secrets
    resource = f"{_prefix(emu)}{name}-??????"
    assert _can_read(_reader(emu, resource, "secretsmanager:GetSecret?alue"), name)
    assert not _can_read(_reader(emu, resource, "secretsmanager:GetSecret??alue"), name)


def test_other_regex_characters_are_literal(emu, secrets):
    name, _ = secrets
    # moto compiled the pattern as a regex: "." matched any character, "(" raised.
    dotted = name.replace("/", ".")
    assert not _can_read(_reader(emu, f"{_prefix(emu)}{dotted}-??????"), name)
    assert not _can_read(_reader(emu, f"{_prefix(emu)}{name}(-??????"), name)


def test_a_star_still_matches_any_run_of_characters(emu, secrets):
    name, _ = secrets
    prefix = _prefix(emu)
    reader = _reader(emu, f"{prefix}{name}-*")
    assert _can_read(reader, name) and _can_read(reader, name + "-x")
    assert not _can_read(reader, name + "2")
    everything = _reader(emu, f"{prefix}{name}*", "secretsmanager:Get*")
    assert all(_can_read(everything, n) for n in (name, name + "2", name + "-x"))
    assert not _can_read(_reader(emu, f"{prefix}other*"), name)
