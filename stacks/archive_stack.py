"""The archive stack: bucket, Logz.io principal, least-privilege policy, key, probe."""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, Fn, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from archive_probe import checks

from .nag_suppressions import suppress_reviewed_findings
from .permission_probe import PermissionProbe
from .settings import ArchiveSettings


def archive_bucket(scope: Construct, settings: ArchiveSettings) -> s3.Bucket:
    """A bucket whose defaults keep Logz.io archive and restore working."""
    lifecycle_rules = []
    if settings.lifecycle:
        lifecycle_rules.append(s3.LifecycleRule(
            id="ArchiveTransition",
            transitions=[s3.Transition(
                storage_class=s3.StorageClass(settings.lifecycle.storage_class),
                transition_after=Duration.days(settings.lifecycle.transition_days))]))
    return s3.Bucket(
        scope, "ArchiveBucket",
        bucket_name=settings.bucket_name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        # Logz.io's archive page requires ACLs enabled (not BucketOwnerEnforced).
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        # No archived object can be silently overwritten or lost.
        versioned=True,
        # Deleting the stack never deletes logs.
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=lifecycle_rules or None,
    )


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


class ArchiveStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: ArchiveSettings,
                 policy_statements=logzio_policy_statements, **kwargs):
        """`policy_statements` builds the principal's statements from the bucket; tests pass
        deliberately broken ones to prove the probe catches them."""
        super().__init__(scope, id, description="Logz.io log archive bucket, principal and "
                         "deploy-time permission probe (logzio-s3-archive)", **kwargs)
        self.settings = settings
        self.bucket = archive_bucket(self, settings)

        self.user = iam.User(self, "LogzioUser")
        self.policy = iam.Policy(self, "LogzioArchivePolicy", users=[self.user],
                                 statements=policy_statements(self.bucket))
        self.access_key = iam.AccessKey(self, "LogzioAccessKey", user=self.user)
        self.secret = secretsmanager.Secret(
            self, "LogzioAccessKeySecret",
            description="Access key of the Logz.io archive user: paste both values into Logz.io's archive page.",
            secret_object_value={
                # The key id is not secret; the secret key is only a GetAtt in the template.
                "accessKeyId": SecretValue.unsafe_plain_text(self.access_key.access_key_id),
                "secretAccessKey": self.access_key.secret_access_key,
            })

        self.probe = PermissionProbe(
            self, "PermissionProbe", settings=settings, bucket=self.bucket, secret=self.secret,
            access_key_id=self.access_key.access_key_id, principal_policy=self.policy)
        # The key and the secret are ordered by the properties that reference them; the
        # bucket policy is not, and a TLS-only Deny must already be in force when probing.
        if self.bucket.policy is not None:
            self.probe.resource.node.add_dependency(self.bucket.policy)

        self._outputs()
        suppress_reviewed_findings(self)

    def _outputs(self) -> None:
        def output(name: str, value: str, description: str) -> None:
            CfnOutput(self, name, value=value, description=description)

        output("BucketName", self.bucket.bucket_name, "S3 bucket name for Logz.io's archive page")
        output("Region", Aws.REGION, "Bucket region for Logz.io's archive page")
        output("UserName", self.user.user_name, "IAM user Logz.io acts as")
        output("AccessKeyId", self.access_key.access_key_id, "Access key id for Logz.io's archive page")
        output("SecretArn", self.secret.secret_arn, "Secret holding the access key id and secret key")
        output("GetSecretCommand",
               Fn.join("", ["aws secretsmanager get-secret-value --secret-id ", self.secret.secret_arn,
                            " --region ", Aws.REGION, " --query SecretString --output text"]),
               "Prints the key pair to paste into Logz.io")
        output("ProbeVerdict", self.probe.attribute("Verdict"), "What the deploy-time probe found")
        output("ProbeChecks", self.probe.attribute("Checks"), "Each permission the probe checked, as the user")
