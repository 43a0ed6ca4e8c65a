"""One Logz.io archive: bucket (new or existing), principal, least-privilege policy, probe."""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from constructs import Construct

from archive_probe.names import Attribute, Output

from .archive_bucket import archive_bucket
from .archive_watch import ArchiveWatch
from .logzio_handoff import LogzioArchiveSettings
from .nag_suppressions import suppress_reviewed_findings
from .permission_probe import PermissionProbe
from .principal import LogzioPrincipal, PolicyStatements, logzio_policy_statements
from .settings import ArchiveSettings


class ArchiveStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: ArchiveSettings,
                 policy_statements: PolicyStatements = logzio_policy_statements, **kwargs):
        """`policy_statements` builds the principal's statements from the bucket; tests pass
        deliberately broken ones to prove the probe catches them."""
        super().__init__(scope, id, description="Logz.io log archive bucket, principal and "
                         "deploy-time permission probe (logzio-s3-archive)", **kwargs)
        self.settings = settings
        storage = archive_bucket(self, settings)
        self.bucket, self.key, self.bucket_created = storage.bucket, storage.key, storage.created
        self.principal = LogzioPrincipal(self, "Logzio", settings=settings, bucket=self.bucket,
                                         key=self.key, policy_statements=policy_statements)
        self.probe = PermissionProbe(self, "PermissionProbe", settings=settings, bucket=self.bucket,
                                     principal=self.principal)
        if self.bucket_created and self.bucket.policy is not None:
            # A TLS-only Deny must already be in force when the probe runs.
            self.probe.resource.node.add_dependency(self.bucket.policy)
        # The hand-off to Logz.io's API, after the probe passed (logzioApiTokenSecret).
        self.logzio = None
        if settings.logzio is not None:
            self.logzio = LogzioArchiveSettings(self, "LogzioSettings", settings=settings,
                                                handoff=settings.logzio, bucket=self.bucket,
                                                principal=self.principal, probe=self.probe)
        # The scheduled re-check and its alarms, unless watchSchedule=off.
        self.watch = None
        if settings.watch_schedule is not None:
            self.watch = ArchiveWatch(self, "Watch", settings=settings, schedule=settings.watch_schedule,
                                      bucket=self.bucket, probe=self.probe)

        self._outputs()
        suppress_reviewed_findings(self)

    def _outputs(self) -> None:
        def output(name: str, value: str, description: str) -> None:
            CfnOutput(self, name, value=value, description=description)

        output(Output.BUCKET_NAME, self.bucket.bucket_name, "S3 bucket name for Logz.io's archive page")
        # An existing bucket may live elsewhere than the stack: say where the probe found it.
        region = Aws.REGION if self.bucket_created else self.probe.attribute(Attribute.BUCKET_REGION)
        output(Output.REGION, region, "Bucket region for Logz.io's archive page")
        self.principal.add_outputs(self)
        if self.key is not None:
            output("KmsKeyArn", self.key.key_arn, "KMS key that encrypts the archives")
        output(Output.PROBE_VERDICT, self.probe.attribute(Attribute.VERDICT), "What the deploy-time probe found")
        output(Output.PROBE_CHECKS, self.probe.attribute(Attribute.CHECKS),
               "Each permission the probe checked, as Logz.io's principal")
        output(Output.PROBE_FINDINGS, self.probe.attribute(Attribute.FINDINGS),
               "Bucket findings of the deploy-time probe (severity and id), or none")
        output(Output.PROBED_CREDENTIALS, self.probe.attribute(Attribute.PROBED_CREDENTIALS),
               "Access key id or role ARN the deploy-time probe ran as")
        if self.watch is not None:
            self.watch.add_outputs(self)
        if self.logzio is not None:
            self.logzio.add_outputs(self, output)
