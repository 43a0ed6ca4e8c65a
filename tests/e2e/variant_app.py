"""The test suite's own CDK app: the shipped ArchiveStack, built with deliberately broken
principal policies to prove the deploy-time probe fails the deployment. None of this is a
switch in the shipped stack; only the policy statements differ."""

from __future__ import annotations

from aws_cdk import App, Environment, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from logzio_s3_archive_runtime import checks
from logzio_s3_archive.principal import logzio_policy_statements
from logzio_s3_archive.settings import ArchiveSettings
from stacks.archive_stack import ArchiveStack
from stacks.settings import ArchiveEntry


def without(action: str):
    def statements(bucket):
        kept = []
        for statement in logzio_policy_statements(bucket):
            actions = [a for a in statement.actions if a != action]
            kept.append(iam.PolicyStatement(sid=statement.sid, actions=actions,
                                            resources=statement.resources))
        return kept
    return statements


def without_slash_star(bucket):
    """The classic mistake: object actions granted on the bucket ARN alone."""
    return [iam.PolicyStatement(actions=[checks.GET_BUCKET_LOCATION, checks.LIST_BUCKET],
                                resources=[bucket.bucket_arn]),
            iam.PolicyStatement(actions=[checks.GET_OBJECT, checks.PUT_OBJECT],
                                resources=[bucket.bucket_arn])]


#: stack name -> (policy statements, the actions the probe must report missing)
VARIANTS = {
    "E2eNoPutObject": (without(checks.PUT_OBJECT), {checks.PUT_OBJECT}),
    "E2eNoListBucket": (without(checks.LIST_BUCKET), {checks.LIST_BUCKET}),
    "E2eNoGetObject": (without(checks.GET_OBJECT), {checks.GET_OBJECT}),
    "E2eNoSlashStar": (without_slash_star, {checks.PUT_OBJECT, checks.GET_OBJECT}),
}


def bucket_name(stack: str) -> str:
    return f"logzio-{stack.lower()}"


def build(outdir: str, context: dict, account: str, region: str) -> App:
    app = App(outdir=outdir, context=context)
    for name, (statements, _) in VARIANTS.items():
        # No settling wait: the emulator's IAM is consistent at once.
        entry = ArchiveEntry(stack_name=name, settings=ArchiveSettings(bucket_name=bucket_name(name),
                                                                      settle_seconds=0))
        ArchiveStack(app, name, archive=entry, policy_statements=statements,
                     env=Environment(account=account, region=region))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
