"""AWS::SecretsManager::Secret for moto's CloudFormation.

moto lacks: moto 5.2.5 has no CloudFormation model for AWS::SecretsManager::Secret.
The resource is skipped with a warning, so every ``Ref`` to it resolves to nothing
and the secret never exists.

This extension: registers a CloudFormationModel that creates the secret in moto's
Secrets Manager backend (SecretString or GenerateSecretString, Name, Description,
KmsKeyId, Tags), returns the secret ARN for ``Ref`` and ``Fn::GetAtt Id``, updates the
value/description on stack update (a new version, as CloudFormation makes), and force-deletes on stack delete/rollback.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel

from ._cfn_model import CfnModel, register


def _backend(account_id: str, region_name: str):
    from moto.secretsmanager.models import secretsmanager_backends

    return secretsmanager_backends[account_id][region_name]


def _secret_value(backend, props: dict[str, Any]) -> str | None:
    if "SecretString" in props:
        return props["SecretString"]
    gen = props.get("GenerateSecretString")
    if gen is None:
        return None
    password = backend.get_random_password(
        password_length=int(gen.get("PasswordLength", 32)),
        exclude_characters=gen.get("ExcludeCharacters", ""),
        exclude_numbers=bool(gen.get("ExcludeNumbers", False)),
        exclude_punctuation=bool(gen.get("ExcludePunctuation", False)),
        exclude_uppercase=bool(gen.get("ExcludeUppercase", False)),
        exclude_lowercase=bool(gen.get("ExcludeLowercase", False)),
        include_space=bool(gen.get("IncludeSpace", False)),
        require_each_included_type=bool(gen.get("RequireEachIncludedType", True)),
    )
    password = json.loads(password)["RandomPassword"] if password.startswith("{") else password
    template = gen.get("SecretStringTemplate")
    key = gen.get("GenerateStringKey")
    if template and key:
        doc = json.loads(template)
        doc[key] = password
        return json.dumps(doc)
    return password


class SecretsManagerSecretModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    PHYSICAL_ID = "arn"
    ATTRIBUTES = {"Id": "arn"}

    def __init__(self, arn: str, name: str, account_id: str, region_name: str, props: dict[str, Any]):
        self.arn = arn
        self.name = name
        self.account_id = account_id
        self.region_name = region_name
        self.props = props

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SecretsManagerSecretModel":
        backend = _backend(account_id, region_name)
        name = props.get("Name", resource_name)
        tags = props.get("Tags") or []
        backend.create_secret(
            name=name,
            secret_string=_secret_value(backend, props),
            secret_binary=None,
            description=props.get("Description"),
            tags=tags,
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        secret = backend.describe_secret(name)
        return cls(secret.arn, name, account_id, region_name, props)

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SecretsManagerSecretModel":
        new_name = props.get("Name", self.name)
        if new_name != self.name:  # replacement
            self.delete(account_id, region_name)
            return self.cfn_create(new_resource_name, props, account_id, region_name)
        backend = _backend(account_id, region_name)
        value = _secret_value(backend, props) if "SecretString" in props else None
        # moto's update_secret without a ClientRequestToken answers ResourceExistsException;
        # CloudFormation's update makes a new version, as a fresh token does.
        backend.update_secret(
            self.name,
            secret_string=value,
            client_request_token=str(uuid.uuid4()),
            kms_key_id=props.get("KmsKeyId"),
            description=props.get("Description"),
        )
        self.props = props
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_secret(
            self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _backend(account_id, region_name).delete_secret(
            resource_name, recovery_window_in_days=None, force_delete_without_recovery=True
        )


def apply() -> None:
    register(SecretsManagerSecretModel)
