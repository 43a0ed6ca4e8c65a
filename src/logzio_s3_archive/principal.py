"""The principal Logz.io acts as: an IAM user with an access key kept in Secrets Manager
(Logz.io's "KEYS"), or an IAM role Logz.io's account assumes with an external id
(Logz.io's "IAM", which Logz.io recommends). Either way it gets the same four-action
policy, and tells the probe how to act as it."""

from __future__ import annotations

from typing import Callable

from aws_cdk import Aws, Fn, SecretValue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from logzio_s3_archive_runtime.names import Output, Property

from logzio_s3_archive_runtime import checks

from .settings import ArchiveSettings, Principal

PolicyStatements = Callable[[s3.IBucket], list[iam.PolicyStatement]]

#: What SSE-KMS needs of a writer and of a reader.
KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def logzio_policy_statements(bucket: s3.IBucket) -> list[iam.PolicyStatement]:
    """The split least-privilege form: bucket actions on the bucket ARN, object actions on /*."""
    return [
        iam.PolicyStatement(sid="LogzioListAndLocateBucket",
                            actions=[checks.GET_BUCKET_LOCATION, checks.LIST_BUCKET],
                            resources=[bucket.bucket_arn]),
        iam.PolicyStatement(sid="LogzioArchiveAndRestoreObjects",
                            actions=[checks.GET_OBJECT, checks.PUT_OBJECT],
                            resources=[bucket.arn_for_objects("*")]),
    ]


class LogzioPrincipal(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: ArchiveSettings, bucket: s3.IBucket,
                 key: kms.IKey | None, policy_statements: PolicyStatements = logzio_policy_statements):
        super().__init__(scope, id)
        self.settings = settings
        statements = policy_statements(bucket)
        if key is not None:
            # A new key's policy delegates to this account's IAM (CDK's default key policy),
            # so this grant is all it takes. Naming the principal in the key policy too
            # would fail CreateKey while the new principal is not yet visible to KMS.
            statements.append(iam.PolicyStatement(sid="LogzioUseArchiveKey", actions=KMS_ACTIONS,
                                                  resources=[key.key_arn]))
        self.user: iam.User | None = None
        self.role: iam.Role | None = None
        if settings.principal is Principal.ROLE:
            self.role = iam.Role(
                self, "Role",
                description="Assumed by Logz.io to archive logs to and restore them from the bucket.",
                assumed_by=iam.AccountPrincipal(settings.logzio_account_id).with_conditions(
                    {"StringEquals": {"sts:ExternalId": settings.external_id}}))
        else:
            self.user = iam.User(self, "User")
            self.access_key = iam.AccessKey(self, "AccessKey", user=self.user, serial=settings.key_serial)
            self.secret = secretsmanager.Secret(
                self, "AccessKeySecret",
                description="Access key of the Logz.io archive user: paste both values into "
                            "Logz.io's archive page.",
                secret_object_value={
                    # The key id is not secret; the secret key is only a GetAtt in the template.
                    "accessKeyId": SecretValue.unsafe_plain_text(self.access_key.access_key_id),
                    "secretAccessKey": self.access_key.secret_access_key,
                })
        self.policy = iam.Policy(self, "Policy", statements=statements,
                                 users=[self.user] if self.user else None,
                                 roles=[self.role] if self.role else None)

    def probe_properties(self) -> dict[str, str]:
        """How the probe acts as this principal; never a secret, only where to find it."""
        if self.role is not None:
            return {Property.ROLE_ARN: self.role.role_arn, Property.EXTERNAL_ID: self.settings.external_id}
        return {Property.SECRET_ARN: self.secret.secret_arn, Property.ACCESS_KEY_ID: self.access_key.access_key_id}

    def let_probe_act_as(self, probe_role: iam.Role) -> None:
        if self.role is not None:
            # The probe assumes the role as Logz.io will, external id included; the trust
            # policy lets in the probe's own execution role and nothing else (README: trade-off).
            # Not by naming that role as the principal: IAM validates a role principal when
            # the policy is written, and may not know a role created seconds earlier yet
            # ("Invalid principal in policy"; docs/facts.md). The account is the principal,
            # narrowed by aws:PrincipalArn (a condition, not validated at write time) to the
            # probe role's ARN; the probe role's own policy allows sts:AssumeRole on this role.
            self.role.assume_role_policy.add_statements(iam.PolicyStatement(
                sid="PermissionProbe", actions=["sts:AssumeRole"], principals=[iam.AccountRootPrincipal()],
                conditions={"ArnEquals": {"aws:PrincipalArn": probe_role.role_arn},
                            "StringEquals": {"sts:ExternalId": self.settings.external_id}}))
            probe_role.add_to_principal_policy(iam.PolicyStatement(
                sid="ActAsLogzioRole", actions=["sts:AssumeRole"], resources=[self.role.role_arn]))
        else:
            probe_role.add_to_principal_policy(iam.PolicyStatement(
                sid="ReadPrincipalKey", actions=["secretsmanager:GetSecretValue"],
                resources=[self.secret.secret_arn]))

    def add_outputs(self, output) -> None:
        """`output(name, value, description)` adds one stack output."""
        if self.role is not None:
            output(Output.ROLE_ARN, self.role.role_arn, "IAM role ARN for Logz.io's archive page (IAM role)")
            output(Output.EXTERNAL_ID, self.settings.external_id, "External id the role requires")
            return
        output(Output.USER_NAME, self.user.user_name, "IAM user Logz.io acts as")
        output(Output.ACCESS_KEY_ID, self.access_key.access_key_id, "Access key id for Logz.io's archive page")
        output(Output.SECRET_ARN, self.secret.secret_arn, "Secret holding the access key id and secret key")
        output(Output.GET_SECRET_COMMAND,
               Fn.join("", ["aws secretsmanager get-secret-value --secret-id ", self.secret.secret_arn,
                            " --region ", Aws.REGION, " --query SecretString --output text"]),
               "Prints the key pair to paste into Logz.io")
