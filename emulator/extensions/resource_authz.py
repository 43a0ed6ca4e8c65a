"""Authorize non-S3 calls against the real resource ARN.

moto lacks: under IAM enforcement moto authorizes every non-S3 request against
resource ``*`` (only SQS, IAM and STS define ``_determine_resource``).  A grant
scoped to an ARN - e.g. ``secretsmanager:GetSecretValue`` on the secret ARN, which
is exactly what CDK's ``secret.grant_read(role)`` produces - is therefore denied,
and a policy scoped to another ARN is (wrongly) not distinguishable either.

This extension: gives moto's Secrets Manager, KMS and Lambda response classes a
``_determine_resource()`` (the hook moto's ``call_action`` already consults) that
maps the request's identifier parameter to the resource ARN:
  * secretsmanager: SecretId (name, partial or full ARN) -> the secret's full ARN
    (for an unknown secret, or CreateSecret/Name, ``...:secret:<name>-??????``);
  * kms: KeyId (id, ARN or alias) -> ``arn:aws:kms:<r>:<a>:key/<id>``;
  * lambda: the function name in the URL path -> the function ARN;
  * cloudformation: StackName (name or stack id) -> the stack id, which is its ARN (so
    ``cloudformation:DescribeStacks`` granted on ``AWS::StackId``, as the probe's role
    has it, is allowed; moto denied it);
Requests without an identifier (List*, CreateKey, DescribeStacks of all, ...) stay on ``*``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote


def _param(resp: Any, name: str) -> Any:
    try:
        return resp._get_param(name)
    except Exception:
        return None


def _partition(resp: Any) -> str:
    return getattr(resp, "partition", "aws") or "aws"


def _secretsmanager_resource(self: Any) -> str:
    from moto.secretsmanager.models import secretsmanager_backends

    secret_id = _param(self, "SecretId") or _param(self, "Name")
    if not secret_id:
        return "*"
    if str(secret_id).startswith("arn:") and re.search(r"-[A-Za-z0-9]{6}$", secret_id):
        return secret_id
    try:
        backend = secretsmanager_backends[self.current_account][self.region]
        secret = backend.secrets[secret_id] if secret_id in backend.secrets else None
        if secret is not None:
            return secret.arn
    except Exception:
        pass
    name = secret_id.split(":secret:", 1)[-1] if str(secret_id).startswith("arn:") else secret_id
    return f"arn:{_partition(self)}:secretsmanager:{self.region}:{self.current_account}:secret:{name}-??????"


def _kms_resource(self: Any) -> str:
    key_id = _param(self, "KeyId") or _param(self, "SourceKeyId")
    if not key_id:
        return "*"
    if str(key_id).startswith("arn:") and ":key/" in key_id:
        return key_id
    try:
        from moto.kms.models import kms_backends

        resolved = kms_backends[self.current_account][self.region].get_key_id(key_id)
        if str(key_id).startswith("alias/") or ":alias/" in str(key_id):
            resolved = kms_backends[self.current_account][self.region].get_key_id_from_alias(key_id) or resolved
        if resolved.startswith("arn:"):
            return resolved
        return f"arn:{_partition(self)}:kms:{self.region}:{self.current_account}:key/{resolved}"
    except Exception:
        return "*"


def _lambda_resource(self: Any) -> str:
    m = re.search(r"/functions/([^/?]+)", unquote(getattr(self, "path", "") or ""))
    if not m:
        return "*"
    name = m.group(1)
    if name.startswith("arn:"):
        return name
    name = name.split(":")[0]
    return f"arn:{_partition(self)}:lambda:{self.region}:{self.current_account}:function:{name}"


def _cloudformation_resource(self: Any) -> str:
    from moto.cloudformation.models import cloudformation_backends

    name = _param(self, "StackName")
    if not name:
        return "*"
    if str(name).startswith("arn:"):
        return name
    try:
        backend = cloudformation_backends[self.current_account][self.region]
        for stack in backend.stacks.values():
            if stack.name == name:
                return stack.stack_id
    except Exception:
        pass
    return f"arn:{_partition(self)}:cloudformation:{self.region}:{self.current_account}:stack/{name}/*"


def apply() -> None:
    from moto.awslambda.responses import LambdaResponse
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.kms.responses import KmsResponse
    from moto.secretsmanager.responses import SecretsManagerResponse

    SecretsManagerResponse._determine_resource = _secretsmanager_resource
    KmsResponse._determine_resource = _kms_resource
    LambdaResponse._determine_resource = _lambda_resource
    CloudFormationResponse._determine_resource = _cloudformation_resource
