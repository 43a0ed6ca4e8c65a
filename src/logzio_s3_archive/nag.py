"""cdk-nag findings reviewed for this stack, each with the reason it is accepted here.

cdk-nag v3 reports through CDK's policy validation; an acknowledgment is attached to the
exact resource and, for IAM5, to the exact finding, so a new wildcard anywhere else
still fails synth."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

from logzio_s3_archive_runtime.checks import PROBE_PREFIX
from logzio_s3_archive_runtime.names import Metric


def suppress_reviewed_findings(archive) -> None:
    bucket = archive.bucket
    if archive.bucket_created:
        _acknowledge_bucket(archive)
    principal = archive.principal
    Validations.of(principal.policy).acknowledge(Acknowledgment(
        id=f"AwsSolutions-IAM5[Resource::{_arn_token(Stack.of(archive).resolve(bucket.arn_for_objects('*')))}]",
        reason="Logz.io writes archive objects under keys it chooses at the bucket root (restore "
               "from a sub-path is not supported), so s3:PutObject and s3:GetObject must cover "
               "bucket/*; no other action has a wildcard resource."))
    probe_objects = Stack.of(archive).resolve(bucket.arn_for_objects(PROBE_PREFIX + "*"))
    Validations.of(archive.probe.role).acknowledge(Acknowledgment(
        id=f"AwsSolutions-IAM5[Resource::{_arn_token(probe_objects)}]",
        reason=f"The probe deletes only its own objects, all under {PROBE_PREFIX}; the key "
               "of each run is unique and unknown at deploy time."))
    if archive.watch is not None:
        _acknowledge_watch(archive)
    if principal.user is not None:
        Validations.of(principal.secret).acknowledge(Acknowledgment(
            id="AwsSolutions-SMG4",
            reason="The secret is an IAM access key that Logz.io keeps in its archive settings; an "
                   "automatic rotation would break archiving until someone pastes the new key into "
                   "Logz.io. Rotate by replacing the key with a deploy (keySerial, key_serial; see docs/day-two.md)."))


def _acknowledge_watch(archive) -> None:
    Validations.of(archive.probe.role).acknowledge(Acknowledgment(
        id="AwsSolutions-IAM5[Resource::*]",
        reason="cloudwatch:PutMetricData has no resource type, so its resource can only be *; the "
               f"statement's condition limits it to the {Metric.NAMESPACE} namespace, where the "
               "scheduled re-check publishes its metrics."))
    function_arn = _arn_token(Stack.of(archive).resolve(archive.probe.function.function_arn))
    Validations.of(archive.watch.schedule_role).acknowledge(Acknowledgment(
        id=f"AwsSolutions-IAM5[Resource::{function_arn}:*]",
        reason="EventBridge Scheduler may invoke the probe's function only; CDK's grant also covers "
               "the function's versions and aliases (ARN:*), and the stack publishes none."))


def _acknowledge_bucket(archive) -> None:
    Validations.of(archive.bucket).acknowledge(Acknowledgment(
        id="AwsSolutions-S1",
        reason="The bucket holds Logz.io's own log archive; its server access logs would need a "
               "second bucket that nobody restores from. Object-level auditing of archive access "
               "belongs to the account's CloudTrail S3 data events."))


def _arn_token(resolved) -> str:
    """cdk-nag's spelling of a resolved ARN: <ArchiveBucketB1C2.Arn>/*, arn:<AWS::Partition>:s3:::b/*,
    <ProbeFunctionA1B2.Arn>."""
    parts = resolved["Fn::Join"][1] if isinstance(resolved, dict) and "Fn::Join" in resolved else [resolved]
    spelled = []
    for part in parts:
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            spelled.append(f"<{part['Fn::GetAtt'][0]}.{part['Fn::GetAtt'][1]}>")
        elif isinstance(part, dict) and "Ref" in part:
            spelled.append(f"<{part['Ref']}>")
        else:
            spelled.append(str(part))
    return "".join(spelled)
