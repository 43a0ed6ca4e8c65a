"""Lambda entry point of the Custom::LogzioArchiveProbe resource.

Create/Update: read the principal's access key from Secrets Manager, run the probe as
that principal, remove the probe object with the function's own role, and answer
SUCCESS with each check's result as attributes, or FAILED with a reason naming each
missing permission. Delete: remove leftover probe objects and always answer SUCCESS.

Every path answers CloudFormation: exceptions become FAILED, and a watchdog answers
FAILED shortly before the Lambda's own timeout.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from . import aws, checks
from .cfn import BadRequest, CustomResourceRequest, ProbeProperties, Responder
from .probe import Patience, error_code, error_message, ownership_problem, remove_leftovers, run_probe

log = logging.getLogger("archive_probe")
log.setLevel(logging.INFO)

#: Seconds kept back from the Lambda's remaining time for answering CloudFormation.
ANSWER_MARGIN = 15.0
#: The watchdog fires this many seconds before the Lambda would be killed.
WATCHDOG_MARGIN = 5.0

#: Attribute names of the resource (Fn::GetAtt Probe.<name>), one per permission.
ATTRIBUTE_OF = {checks.PUT_OBJECT: "PutObject", checks.LIST_BUCKET: "ListBucket",
                checks.GET_OBJECT: "GetObject", checks.GET_BUCKET_LOCATION: "GetBucketLocation"}


def physical_id(bucket: str) -> str:
    return f"logzio-archive-probe:{bucket}"


def handler(event: Mapping[str, Any], context: Any) -> None:
    started = time.monotonic()
    remaining = context.get_remaining_time_in_millis() / 1000.0
    request = CustomResourceRequest.from_event(event)
    log.info("request: %s", request.redacted())
    bucket = str(request.properties.get("BucketName", "unknown-bucket"))
    responder = Responder(request, aws.put_response, physical_id(bucket))
    log_hint = f" Details: CloudWatch log stream {getattr(context, 'log_stream_name', '?')}."

    watchdog = threading.Timer(max(remaining - WATCHDOG_MARGIN, 0.0), lambda: responder.fail(
        "The permission probe ran out of time before it could finish (IAM or S3 did not answer "
        "in time). Deploy again; if it repeats, raise keyDeadlineSeconds or check S3 reachability."
        + log_hint))
    watchdog.daemon = True
    watchdog.start()
    try:
        if request.request_type == "Delete":
            _delete(request, responder)
        else:
            _create_or_update(request, responder, hard_deadline=started + remaining - ANSWER_MARGIN,
                              log_hint=log_hint)
    except BadRequest as error:
        responder.fail(f"{error}.{log_hint}")
    except Exception as error:  # noqa: BLE001 - CloudFormation must get an answer on every path
        log.exception("probe failed unexpectedly")
        responder.fail(f"The permission probe failed unexpectedly: {type(error).__name__}: {error}."
                       f"{log_hint}")
    finally:
        watchdog.cancel()
        if not responder.answered:  # belt and braces: no path may leave the stack waiting
            responder.fail("The permission probe ended without a verdict." + log_hint)


def _create_or_update(request: CustomResourceRequest, responder: Responder,
                      hard_deadline: float, log_hint: str) -> None:
    props = ProbeProperties.parse(request.properties)
    if request.request_type == "Update" and _rolling_back(request.stack_id, props.region):
        # A failed update is rolled back by a second Update with the old properties, sent
        # before the policy itself is restored: probing now would fail the rollback too.
        responder.succeed({"Verdict": "not checked during rollback"}, physical_id(props.bucket_name))
        return
    patience = Patience(key_propagation=props.key_deadline_seconds,
                        policy_settling=props.settle_seconds, hard_deadline=hard_deadline)
    cleanup = aws.S3Access(aws.s3_client(props.region), props.bucket_name)
    try:
        key = _principal_credentials(props)
        log.info("probing bucket %s as %s (access key %s)", props.bucket_name,
                 props.role_arn or "the Logz.io user", key.access_key_id)
        user = aws.S3Access(aws.s3_client(props.region, key=key), props.bucket_name)
        report = run_probe(user, cleanup, props.region, patience)
    except checks.ProbeAborted as aborted:
        left = (f" The probe object s3://{props.bucket_name}/{aborted.left_behind} could not be "
                "removed; delete it by hand." if aborted.left_behind else "")
        responder.fail(f"Could not check bucket {props.bucket_name}: {aborted}{left}{log_hint}",
                       physical_id(props.bucket_name))
        return
    for check in report.checks:
        log.info("%s: %s %s %s", check.action, check.status.value, check.error_code or "", check.hint or "")
    if report.left_behind:
        log.warning("probe object left behind: s3://%s/%s (%s)", report.bucket, report.left_behind,
                    report.cleanup_error)
    ownership = ownership_problem(cleanup)
    if not report.ok or ownership:
        reason = report.failure_reason() if not report.ok else f"Logz.io cannot use bucket {props.bucket_name}:"
        if ownership:
            reason = reason.rstrip(".") + ("; " if not report.ok else " ") + ownership + "."
        responder.fail(reason + _leftover_note(report) + log_hint, physical_id(props.bucket_name))
        return
    data = {ATTRIBUTE_OF[check.action]: check.status.value for check in report.checks}
    data["Verdict"] = (f"all {len(report.checks)} permissions granted: "
                       + ", ".join(check.action for check in report.checks) + _leftover_note(report)
                       + "".join(f" Note: {note}." for note in report.notes))
    data["Checks"] = "; ".join(f"{check.action}={check.status.value}" for check in report.checks)
    data["ProbeKey"] = report.probe_key
    responder.succeed(data, physical_id(props.bucket_name))


def _principal_credentials(props: ProbeProperties) -> aws.AccessKey:
    if props.role_arn is None:
        return aws.read_access_key(props.secret_arn)
    # A role created moments ago may not be assumable yet (its trust policy propagates like
    # any IAM change): retry AccessDenied until the key deadline, as for a new access key.
    deadline = time.monotonic() + props.key_deadline_seconds
    delay = 0.5
    while True:
        try:
            return aws.assume_role(props.role_arn, props.external_id, props.region)
        except ClientError as error:
            if error_code(error) not in checks.DENIED or time.monotonic() + delay > deadline:
                raise checks.ProbeAborted(
                    f"The probe could not assume role {props.role_arn} with the external id "
                    f"({error_code(error)}).",
                    "Check that the role's trust policy allows the probe's execution role with "
                    "that sts:ExternalId (the stack sets it up), then deploy again.",
                    error_code(error)) from error
            log.info("AssumeRole answered %s (%s); retrying in %.1fs", error_code(error),
                     error_message(error), delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _leftover_note(report: checks.ProbeReport) -> str:
    if not report.left_behind:
        return ""
    return (f" The probe object s3://{report.bucket}/{report.left_behind} could not be removed "
            f"({report.cleanup_error}); delete it by hand.")


def _delete(request: CustomResourceRequest, responder: Responder) -> None:
    bucket = str(request.properties.get("BucketName", ""))
    region = str(request.properties.get("Region", "")) or None
    removed: list[str] = []
    if bucket:
        try:
            removed = remove_leftovers(aws.S3Access(aws.s3_client(region), bucket))
        except (ClientError, BotoCoreError) as error:
            # The bucket outlives the stack and may be gone or locked down: never block a delete.
            log.warning("could not look for leftover probe objects in %s: %s", bucket, error)
    log.info("removed leftover probe objects: %s", removed or "none")
    responder.succeed({"Removed": str(len(removed))})


def _rolling_back(stack_id: str, region: str) -> bool:
    try:
        client = aws.cloudformation_client(region)
        status = client.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
    except (ClientError, BotoCoreError, KeyError, IndexError) as error:
        log.info("could not read the stack status (%s); probing as usual", error_code(error))
        return False
    return status.endswith("ROLLBACK_IN_PROGRESS")


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # in Lambda, the root logger goes to CloudWatch
    logging.getLogger().setLevel(logging.INFO)
