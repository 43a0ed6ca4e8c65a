"""The deploy-time permission probe: a Python Lambda that is its own custom-resource
service token (no Node.js provider framework), and the Custom::LogzioArchiveProbe
resource that runs it after the bucket, the policy and the key exist.

Construct code only; the runtime lives in logzio_s3_archive_runtime/ and ships as it is.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import logzio_s3_archive_runtime

from aws_cdk import Aws, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from logzio_s3_archive_runtime.checks import PROBE_PREFIX
from logzio_s3_archive_runtime.names import Property

from .principal import LogzioPrincipal
from .settings import ArchiveSettings, Verify

#: The runtime package's own folder, wherever it is installed (a clone's src/, site-packages).
RUNTIME_PACKAGE = Path(logzio_s3_archive_runtime.__file__).resolve().parent
RESOURCE_TYPE = "Custom::LogzioArchiveProbe"
#: Newest Python runtime aws-cdk-lib offers; the runtime also runs on the local 3.11.
RUNTIME = lambda_.Runtime.PYTHON_3_14
HANDLER = f"{RUNTIME_PACKAGE.name}.handler.handler"


def handler_modules(entry: str = "handler") -> list[str]:
    """The runtime's modules the handler imports, directly or not, itself and the package's
    __init__ included: what the function runs, and nothing else (the operator command stays
    out of the asset)."""
    import ast

    package = RUNTIME_PACKAGE
    found: set[str] = set()
    todo = ["__init__", entry]
    while todo:
        name = todo.pop()
        if name in found or not (package / f"{name}.py").is_file():
            continue  # (a name imported from the package that is no module, e.g. __version__)
        found.add(name)
        for node in ast.walk(ast.parse((package / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                todo.extend([node.module] if node.module else [alias.name for alias in node.names])
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package.name):
                todo.append(node.module.split(".")[1] if "." in node.module else "__init__")
    return sorted(f"{name}.py" for name in found)


@functools.lru_cache(maxsize=1)
def asset_directory() -> str:
    """The Lambda asset: the handler's modules, copied from the runtime package's own folder
    into a fresh folder of their own, as `logzio_s3_archive_runtime/<module>.py`. Nothing else
    reaches the asset (no __pycache__, no other module, nothing of the folder around the
    package), so its hash is the same for the same version wherever it is installed and
    whatever the Python version. Made once per process."""
    staging = Path(tempfile.mkdtemp(prefix="logzio-archive-asset-")) / RUNTIME_PACKAGE.name
    staging.mkdir()
    # CDK copies the asset into the cloud assembly at synth: the folder is not needed after.
    atexit.register(shutil.rmtree, staging.parent, ignore_errors=True)
    for name in handler_modules():
        shutil.copyfile(RUNTIME_PACKAGE / name, staging / name)
    return str(staging.parent)


def lambda_code() -> lambda_.Code:
    return lambda_.Code.from_asset(asset_directory())


class PermissionProbe(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: ArchiveSettings, bucket: s3.IBucket,
                 principal: LogzioPrincipal):
        super().__init__(scope, id)
        stack = Stack.of(self)
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the Logz.io archive permission probe; may delete only probe objects.")
        principal.let_probe_act_as(self.role)
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="RemoveProbeObjects", actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[bucket.arn_for_objects(f"{PROBE_PREFIX}*")]))
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="FindLeftoverProbeObjects", actions=["s3:ListBucketVersions"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{PROBE_PREFIX}*"]}}))
        self.role.add_to_principal_policy(iam.PolicyStatement(
            # The bucket findings: settings that break archive or restore beyond the grants
            # (ACLs disabled, Glacier lifecycle rules, archive tiers, Requester Pays) and an
            # Object Lock retention that keeps every probe object. Read only.
            sid="ReadBucketSettings", actions=[
                "s3:GetBucketOwnershipControls", "s3:GetLifecycleConfiguration",
                "s3:GetIntelligentTieringConfiguration", "s3:GetBucketRequestPayment",
                "s3:GetBucketObjectLockConfiguration"],
            resources=[bucket.bucket_arn]))
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="DetectRollback", actions=["cloudformation:DescribeStacks"],
            resources=[Aws.STACK_ID]))
        log_group.grant_write(self.role)

        timeout = settings.probe_timeout_seconds
        self.function = lambda_.Function(
            self, "Function", runtime=RUNTIME, architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER, code=lambda_code(), role=self.role,
            timeout=Duration.seconds(timeout), memory_size=256, log_group=log_group,
            description="Checks, as the Logz.io principal, that it can archive to and restore from the bucket.")

        # Lambda's GetAtt on the role already orders the two; CDK's extra DependsOn is noise
        # that cfn-lint flags (W3005).
        # (An override, since CDK adds the dependency at synthesis; keep this list complete
        # if the function ever needs another explicit dependency.)
        default_policy = self.role.node.find_child("DefaultPolicy").node.default_child
        self.function.node.default_child.add_override("DependsOn", [stack.get_logical_id(default_policy)])

        properties = {
            Property.BUCKET_NAME: bucket.bucket_name,
            Property.REGION: Aws.REGION,
            # The probe re-runs when anything it checks changes: the principal (key id or
            # role) and the bucket by value, the policy by digest of its synthesized text.
            **principal.probe_properties(),
            Property.POLICY_DIGEST: policy_digest(stack, principal.policy),
            Property.KEY_DEADLINE_SECONDS: str(settings.key_deadline_seconds),
            Property.SETTLE_SECONDS: str(settings.settle_seconds),
        }
        if settings.verify is Verify.ALWAYS:
            properties[Property.RUN_ON_EVERY_DEPLOY] = str(time.time_ns())
        if settings.allow_bucket_change:
            # Otherwise the probe fails an update that moves the archive to another bucket.
            # Absent, not "false", when off: a stack deployed before the setting sees no change.
            properties[Property.ALLOW_BUCKET_CHANGE] = "true"
        if settings.strict:
            # Warnings (an over-privileged principal, a Glacier rule under a prefix) fail the
            # deploy too. Absent when off, like AllowBucketChange.
            properties[Property.STRICT] = "true"
        #: The custom resource's properties (as given, before CloudFormation adds ServiceToken
        #: and ServiceTimeout): the scheduled re-check hands the function the same ones.
        self.properties = dict(properties)
        self.resource = CustomResource(
            self, "Resource", service_token=self.function.function_arn, resource_type=RESOURCE_TYPE,
            properties=properties,
            # Second line of defence behind the handler's own watchdog: never an hour's wait.
            service_timeout=Duration.seconds(timeout + 60))
        self.resource.node.add_dependency(principal.policy)

    def attribute(self, name: str) -> str:
        return self.resource.get_att_string(name)

    def publish_first_metrics(self, stack_name: str) -> None:
        """With a watch: the probe, once it passed, publishes the first Healthy and
        per-permission points for this stack (the metrics' Stack dimension; Bucket is the
        bucket's name), so the health alarm starts OK rather than on missing data. The watch
        grants the role cloudwatch:PutMetricData in the namespace. (A new property: a stack
        deployed before it re-runs the probe once on upgrade.)"""
        self.resource.node.default_child.add_property_override(Property.METRICS_STACK, stack_name)


def policy_digest(stack: Stack, policy: iam.Policy) -> str:
    document = stack.resolve(policy.document.to_json())
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
