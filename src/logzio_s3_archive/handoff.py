"""The hand-off to Logz.io's API: a Custom::LogzioArchiveSettings resource, served by the
probe's own function, that registers the bucket and the principal in the Logz.io account's
archive settings and runs Logz.io's own test, after the probe passed.

The API token stays in Secrets Manager: the template names the secret (name or ARN) and
grants the function GetSecretValue on that secret only; the token is read at run time.

Rotation (keySerial): the access key is replaced, so CloudFormation creates the new key,
updates every resource that names it (the key's secret, the probe, this resource: Logz.io
gets the new key and tests it) and deletes the old key only in the cleanup phase. This
resource names the key (AccessKeyId) and its secret (SecretArn) by reference, so it is
always among the updated dependents, before the cleanup.
"""

from __future__ import annotations

from aws_cdk import Aws, CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from logzio_s3_archive_runtime.freshness import VERIFIED_MARKER
from logzio_s3_archive_runtime.names import HANDOFF_RESOURCE_TYPE, Attribute, Output, Property

from .probe import PermissionProbe
from .principal import LogzioPrincipal
from .settings import ArchiveSettings, LogzioHandoff

RESOURCE_TYPE = HANDOFF_RESOURCE_TYPE


def token_secret_resources(stack: Stack, handoff: LogzioHandoff) -> list[str]:
    """What GetSecretValue is granted on: the token's secret and nothing else.

    A name gets the ARN pattern Secrets Manager gives it (NAME plus a hyphen and six
    random characters). An ARN may be complete (with those six characters) or partial
    (without): both spellings are granted, each matching this one secret only."""
    if handoff.token_secret_is_arn:
        arn = handoff.token_secret
        return [arn, arn + "-??????"]
    return [stack.format_arn(service="secretsmanager", resource="secret",
                             resource_name=f"{handoff.token_secret}-??????",
                             arn_format=_colon_format())]


def _colon_format():
    from aws_cdk import ArnFormat

    return ArnFormat.COLON_RESOURCE_NAME


class LogzioArchiveSettings(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: ArchiveSettings, handoff: LogzioHandoff,
                 bucket: s3.IBucket, principal: LogzioPrincipal, probe: PermissionProbe,
                 bucket_created: bool = False):
        """`bucket_created`: this construct's archive made the bucket; a failed first deploy
        then removes Logz.io's test object so that the rollback can delete the bucket."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.handoff = handoff
        self.token_resources = token_secret_resources(stack, handoff)
        self.grant = iam.PolicyStatement(sid="ReadLogzioApiToken", actions=["secretsmanager:GetSecretValue"],
                                         resources=self.token_resources)
        probe.role.add_to_principal_policy(self.grant)

        properties = {
            Property.BUCKET_NAME: bucket.bucket_name,
            Property.REGION: Aws.REGION,
            # The principal Logz.io gets: by reference, so a replaced key (keySerial) updates
            # this resource before the old key is deleted.
            **_principal_properties(principal),
            Property.TOKEN_SECRET_ARN: handoff.token_secret,
            Property.API_URL: handoff.api_url,
            Property.ON_DELETE: handoff.on_delete.value,
        }
        if bucket_created:
            # A failed Create removes Logz.io's test object (every version, by version id) from
            # the bucket this deploy made, or the rollback could not delete it (ROLLBACK_FAILED).
            # Only that key, and only for a bucket made here: never an existing bucket.
            properties[Property.BUCKET_CREATED] = "true"
            probe.role.add_to_principal_policy(iam.PolicyStatement(
                sid="RemoveLogzioTestObject", actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[bucket.arn_for_objects(VERIFIED_MARKER)]))
            probe.role.add_to_principal_policy(iam.PolicyStatement(
                sid="FindLogzioTestObject", actions=["s3:ListBucketVersions"], resources=[bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": VERIFIED_MARKER}}))
        self.properties = dict(properties)
        self.resource = CustomResource(
            self, "Resource", service_token=probe.function.function_arn, resource_type=RESOURCE_TYPE,
            properties=properties,
            # As the probe's: the handler answers before the function's timeout, this is the
            # second line of defence.
            service_timeout=Duration.seconds(settings.probe_timeout_seconds + 60))
        # Only after the probe passed: Logz.io is never handed a principal that cannot archive.
        # (The token grant is in force before: the function, named by ServiceToken, depends on
        # its role's policy.)
        self.resource.node.add_dependency(probe.resource)

    def attribute(self, name: str) -> str:
        return self.resource.get_att_string(name)

    def add_outputs(self, output) -> None:
        """`output(name, value, description)` adds one stack output."""
        output(Output.LOGZIO_SETTINGS_ID, self.attribute(Attribute.SETTINGS_ID),
               "Id of the archive setting in Logz.io (registered by the deploy)")
        output(Output.LOGZIO_TEST, self.attribute(Attribute.LOGZIO_TEST),
               "Logz.io's own test of the archive setting, as it answered")
        # For `logzio-archive logzio-test`: where the API is and which secret holds
        # the token (its name or ARN as configured; the token itself never leaves the secret).
        output(Output.LOGZIO_API_URL, self.handoff.api_url, "Logz.io API base URL of the hand-off")
        output(Output.LOGZIO_API_TOKEN_SECRET, self.handoff.token_secret,
               "Name or ARN of the Secrets Manager secret holding the Logz.io API token (not the token)")


def _principal_properties(principal: LogzioPrincipal) -> dict[str, str]:
    if principal.role is not None:
        return {Property.ROLE_ARN: principal.role.role_arn}
    return {Property.SECRET_ARN: principal.secret.secret_arn,
            Property.ACCESS_KEY_ID: principal.access_key.access_key_id}
