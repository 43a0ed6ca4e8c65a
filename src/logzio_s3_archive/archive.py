"""LogzioArchive: one Logz.io archive in any stack. The bucket (the user's own, or one made
with safe defaults), the principal Logz.io acts as with its least-privilege policy, the
deploy-time permission probe that proves archive and restore work as that principal, the
scheduled re-check with its alarms, and the optional hand-off to Logz.io's API."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from logzio_s3_archive_runtime.names import FLEET_MARKER, Attribute, Output

from .bucket import archive_bucket
from .handoff import LogzioArchiveSettings
from .nag import suppress_reviewed_findings
from .principal import LogzioPrincipal, PolicyStatements, logzio_policy_statements
from .probe import PermissionProbe
from .settings import ARCHIVE_KEYS, PROPS, ArchiveSettings, SettingsError, parse_archive, prop_name
from .watch import ArchiveWatch

#: The construct id that CDK leaves out of logical ids: the app builds its archive with it,
#: so the resources keep the logical ids they had before the construct existed.
HIDDEN_ID = "Default"


class LogzioArchive(Construct):
    """One Logz.io archive. Every prop is keyword-only and validated at construction: a bad
    one raises SettingsError naming the prop and the fix.

    Give `bucket` to use your own bucket (of this stack, or imported with
    `s3.Bucket.from_bucket_name`): nothing in it is changed. Without it a bucket is made with
    safe defaults (versioned, TLS only, ACLs enabled as Logz.io requires, retained).
    Alternatively give `settings`, an ArchiveSettings already parsed with
    `logzio_s3_archive.settings.parse_archive` (the app does), instead of the other props.

    Adds no stack outputs; `add_outputs()` adds the ones this project's app shows."""

    def __init__(self, scope: Construct, id: str, *,
                 bucket: s3.IBucket | None = None,
                 bucket_name: str | None = None,
                 encryption: str | None = None,
                 kms_key: kms.IKey | None = None,
                 principal: str | None = None,
                 logzio_account_id: str | None = None,
                 external_id: str | None = None,
                 key_serial: int | None = None,
                 verify: str | None = None,
                 key_deadline_seconds: int | None = None,
                 settle_seconds: int | None = None,
                 transition_days: int | None = None,
                 storage_class: str | None = None,
                 expire_days: int | None = None,
                 allow_bucket_change: bool | None = None,
                 strict: bool | None = None,
                 watch_schedule: str | None = None,
                 max_archive_age_hours: int | None = None,
                 alarm_email: str | None = None,
                 logzio_api_token_secret: str | None = None,
                 logzio_region: str | None = None,
                 logzio_api_url: str | None = None,
                 logzio_on_delete: str | None = None,
                 settings: ArchiveSettings | None = None,
                 policy_statements: PolicyStatements = logzio_policy_statements,
                 **unknown: Any):
        """`policy_statements` builds the principal's statements from the bucket; tests pass
        deliberately broken ones to prove the probe catches them."""
        _refuse_unknown_props(unknown)
        given = {name: value for name, value in locals().items() if name in _PROP_KEYS}
        if kms_key is None and bucket is not None and encryption in (None, "kms"):
            # A bucket of this app that encrypts with its own key: the principal needs that key.
            kms_key = given["kms_key"] = getattr(bucket, "encryption_key", None)
            if kms_key is not None and settings is None:
                given["encryption"] = "kms"
        if settings is not None:
            props = [prop for prop, value in given.items()
                     if value is not None and prop not in ("bucket", "kms_key")]
            if props:
                raise SettingsError(f"LogzioArchive got settings= and {', '.join(props)}: give the props, or "
                                    "an ArchiveSettings parsed from them, not both.")
        else:
            settings = parse_archive({key: given[prop_name(key)] for key in ARCHIVE_KEYS}, PROPS)
        # Only valid props build anything.
        super().__init__(scope, id)
        self.settings = settings
        stack = Stack.of(self)
        # What `logzio-archive fleet` finds the stack by (the app's stacks already say it).
        description = stack.template_options.description or ""
        if FLEET_MARKER not in description:
            stack.template_options.description = f"{description} {FLEET_MARKER}".strip()
        #: This archive among the stack's: the stack's name, plus the construct's path below it
        #: when the stack holds more than the app's one (alarm names, descriptions).
        self.archive_name = "-".join([stack.stack_name] + [
            part for part in self.node.path.split("/")[len(stack.node.path.split("/")):] if part != HIDDEN_ID])

        storage = archive_bucket(self, settings, bucket=bucket, key=kms_key,
                                 description=f"stack {self.archive_name}")
        #: The archive bucket: the one given, or the one made.
        self.bucket: s3.IBucket = storage.bucket
        #: True when this construct made the bucket (it then owns its settings).
        self.bucket_created: bool = storage.created
        #: The KMS key that encrypts the archives (given or made), or None for SSE-S3.
        self.kms_key: kms.IKey | None = storage.key
        self.principal = LogzioPrincipal(self, "Logzio", settings=settings, bucket=self.bucket,
                                         key=self.kms_key, policy_statements=policy_statements)
        self.probe = PermissionProbe(self, "PermissionProbe", settings=settings, bucket=self.bucket,
                                     principal=self.principal)
        policy = getattr(self.bucket, "policy", None)
        if policy is not None and (self.bucket_created or Stack.of(self.bucket) is stack):
            # A bucket policy of this stack (TLS only, a user's Deny) must be in force when the
            # probe runs.
            self.probe.resource.node.add_dependency(policy)
        #: The hand-off to Logz.io's API, after the probe passed (logzio_api_token_secret).
        self.logzio_settings: LogzioArchiveSettings | None = None
        if settings.logzio is not None:
            self.logzio_settings = LogzioArchiveSettings(
                self, "LogzioSettings", settings=settings, handoff=settings.logzio, bucket=self.bucket,
                principal=self.principal, probe=self.probe, bucket_created=self.bucket_created)
        #: The scheduled re-check and its alarms, unless watch_schedule="off".
        self.watch: ArchiveWatch | None = None
        if settings.watch_schedule is not None:
            self.watch = ArchiveWatch(self, "Watch", settings=settings, schedule=settings.watch_schedule,
                                      bucket=self.bucket, probe=self.probe, archive_name=self.archive_name)
        suppress_reviewed_findings(self)

    # What users wire further.
    @property
    def user(self) -> iam.User | None:
        """The IAM user Logz.io acts as (principal="user"), else None."""
        return self.principal.user

    @property
    def role(self) -> iam.Role | None:
        """The IAM role Logz.io assumes (principal="role"), else None."""
        return self.principal.role

    @property
    def access_key(self) -> iam.AccessKey | None:
        return getattr(self.principal, "access_key", None)

    @property
    def access_key_secret(self) -> secretsmanager.ISecret | None:
        """The secret holding the user's access key id and secret key (principal="user")."""
        return getattr(self.principal, "secret", None)

    @property
    def probe_function(self) -> lambda_.IFunction:
        return self.probe.function

    @property
    def verdict(self) -> str:
        """The deploy-time probe's verdict (a token)."""
        return self.probe.attribute(Attribute.VERDICT)

    @property
    def checks(self) -> str:
        """Each permission the probe checked as the principal, and its result (a token)."""
        return self.probe.attribute(Attribute.CHECKS)

    @property
    def findings(self) -> str:
        """The bucket findings of the deploy-time probe, or "none" (a token)."""
        return self.probe.attribute(Attribute.FINDINGS)

    @property
    def probed_credentials(self) -> str:
        """The access key id or role ARN the deploy-time probe ran as (a token)."""
        return self.probe.attribute(Attribute.PROBED_CREDENTIALS)

    def add_outputs(self, scope: Construct | None = None, *, prefix: str = "") -> None:
        """The stack outputs this project's app shows (BucketName, Region, the principal's,
        ProbeVerdict, ProbeChecks, ProbeFindings, ProbedCredentials, the watch's and the
        hand-off's), in `scope` (default: this construct's stack). `prefix` keeps the outputs of
        several archives of one stack apart; `logzio-archive check/status --stack` read
        unprefixed ones."""
        scope = scope or Stack.of(self)

        def output(name: str, value: str, description: str) -> None:
            CfnOutput(scope, prefix + name, value=value, description=description)

        output(Output.BUCKET_NAME, self.bucket.bucket_name, "S3 bucket name for Logz.io's archive page")
        # A bucket not made here may live elsewhere than the stack: say where the probe found it.
        region = Aws.REGION if self.bucket_created else self.probe.attribute(Attribute.BUCKET_REGION)
        output(Output.REGION, region, "Bucket region for Logz.io's archive page")
        self.principal.add_outputs(output)
        if self.kms_key is not None:
            output("KmsKeyArn", self.kms_key.key_arn, "KMS key that encrypts the archives")
        output(Output.PROBE_VERDICT, self.verdict, "What the deploy-time probe found")
        output(Output.PROBE_CHECKS, self.checks, "Each permission the probe checked, as Logz.io's principal")
        output(Output.PROBE_FINDINGS, self.findings,
               "Bucket findings of the deploy-time probe (severity and id), or none")
        output(Output.PROBED_CREDENTIALS, self.probed_credentials,
               "Access key id or role ARN the deploy-time probe ran as")
        if self.watch is not None:
            self.watch.add_outputs(output)
        if self.logzio_settings is not None:
            self.logzio_settings.add_outputs(output)


_PROP_KEYS = tuple(prop_name(key) for key in ARCHIVE_KEYS)
_ALL_PROPS = _PROP_KEYS + ("settings", "policy_statements")
assert set(_ALL_PROPS) <= set(inspect.signature(LogzioArchive.__init__).parameters), "a setting has no prop"


def _refuse_unknown_props(unknown: dict[str, Any]) -> None:
    for name in unknown:
        close = difflib.get_close_matches(name, _ALL_PROPS, n=1)
        suggestion = f" Did you mean '{close[0]}'?" if close else ""
        raise SettingsError(f"LogzioArchive has no prop '{name}'.{suggestion} Its props: "
                            f"{', '.join(_ALL_PROPS)} (see docs/settings.md).")
