"""Lambda entry point of the Custom::LogzioArchiveProbe resource.

Create/Update: read the principal's access key from Secrets Manager (or assume the role),
run the probe as that principal, remove the probe object and read the bucket's settings
with the function's own role, and render the one Diagnosis: SUCCESS with each check and
finding as attributes, or FAILED with the verdict naming each missing permission and
error finding (and, with Strict, warning). Delete: remove leftover probe objects and
always answer SUCCESS.

Every path answers CloudFormation: exceptions become FAILED, and a watchdog answers
FAILED shortly before the Lambda's own timeout.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from . import aws, checks, handoff, recheck
from .cfn import PUT_TIMEOUT, PUT_TRIES, BadRequest, CustomResourceRequest, ProbeProperties, Responder
from .diagnosis import Abort, Diagnosis
from .findings import SettingsReader
from .names import HANDOFF_RESOURCE_TYPE, RECHECK_EVENT, Attribute, Metric, Property
from .probe import Clock, Patience, Retrier, error_code, error_message, remove_leftovers, run_probe

log = logging.getLogger("logzio_s3_archive_runtime")
log.setLevel(logging.INFO)

#: The watchdog fires this many seconds before the Lambda would be killed: enough for
#: every try of the answer's PUT.
WATCHDOG_MARGIN = PUT_TIMEOUT * PUT_TRIES + 3.0
#: The probe's retries stop this long before the Lambda would be killed: the watchdog's
#: margin plus the worst case of the calls that may still follow a deadline (the check under
#: way, the probe object's removal, the extra-grant calls; the settings reads are skipped
#: past the deadline), so a verdict beats the watchdog.
ANSWER_MARGIN = WATCHDOG_MARGIN + 3 * aws.CALL_SECONDS

#: Who reads the bucket's settings and removes the probe object in the Lambda.
ROLE_LABEL = "the probe function's role"
#: What each check reports after a rolled-back update (the probe does not run then).
ROLLBACK_STATUS = "not checked during rollback"

def physical_id(bucket: str) -> str:
    """Stable per bucket. A bucket name is at most 255 characters (S3's legacy limit); a
    longer property is garbage, named by its digest so that the answer stays within 4 KiB."""
    if len(bucket) > 255:
        bucket = "sha256-" + hashlib.sha256(bucket.encode("utf-8", "replace")).hexdigest()
    return f"logzio-archive-probe:{bucket}"


def attributes(statuses: Mapping[str, str], verdict: str, probe_key: str, bucket_region: str,
               probed_credentials: str, findings: str = "none") -> dict:
    """Every attribute the template may read (Fn::GetAtt), on every SUCCESS: CloudFormation
    fails a read of an attribute the answer left out, even during a rollback.
    `probed_credentials`: the access key id or role ARN the probe ran as."""
    data = {Attribute.OF_ACTION[action]: statuses[action] for action in checks.ACTIONS}
    data[Attribute.CHECKS] = "; ".join(f"{action}={statuses[action]}" for action in checks.ACTIONS)
    data[Attribute.VERDICT] = verdict
    data[Attribute.FINDINGS] = findings
    data[Attribute.PROBE_KEY] = probe_key
    data[Attribute.BUCKET_REGION] = bucket_region
    data[Attribute.PROBED_CREDENTIALS] = probed_credentials
    return data


class Doing:
    """What the handler is doing now, so that an unexpected failure can say where it struck."""

    def __init__(self, now: str):
        self.now = now


def handler(event: Mapping[str, Any], context: Any) -> dict | None:
    if isinstance(event, Mapping) and RECHECK_EVENT in event and "ResponseURL" not in event:
        # EventBridge Scheduler's re-check: no CloudFormation to answer; the result is the
        # function's return value, its log line and its metrics.
        return recheck.run(event[RECHECK_EVENT], context.get_remaining_time_in_millis() / 1000.0,
                           lambda props, deadline: _diagnose(props, deadline, Doing("re-checking"),
                                                             lambda: False))
    started = time.monotonic()
    doing = Doing("reading the CloudFormation event")
    remaining = context.get_remaining_time_in_millis() / 1000.0
    request = CustomResourceRequest.from_event(event)
    log.info("request: %s", request.redacted())
    if request.resource_type == HANDOFF_RESOURCE_TYPE:
        # The hand-off to Logz.io's API (handoff.py), with the same one-answer rules.
        handoff.serve(request, context, lambda: _rolling_back(request, Doing("")))
        return None
    bucket = str(request.properties.get(Property.BUCKET_NAME, "unknown-bucket"))
    responder = Responder(request, aws.put_response, physical_id(bucket))
    log_hint = f" Details: CloudWatch log stream {getattr(context, 'log_stream_name', '?')}."
    hard_deadline = started + remaining - ANSWER_MARGIN

    def give_up(reason: str) -> None:
        # A Delete never fails: it follows every failed Create, and the bucket outlives the
        # stack anyway. Whatever went wrong is in the log.
        if request.request_type == "Delete":
            log.warning("delete: %s", reason)
            responder.succeed({"Removed": "0"}, reason="leftover probe objects not removed: " + reason)
        else:
            responder.fail(reason + log_hint)

    watchdog = threading.Timer(max(remaining - WATCHDOG_MARGIN, 0.0), give_up, [
        "The permission probe ran out of time before it could finish (IAM or S3 did not answer "
        "in time). Deploy again; if it repeats, raise keyDeadlineSeconds or check S3 reachability."])
    watchdog.daemon = True
    if remaining > WATCHDOG_MARGIN:  # otherwise the handler answers at once, below
        watchdog.start()
    try:
        if (malformed := request.malformed()) is not None:
            responder.fail(malformed + ".")
        elif remaining <= WATCHDOG_MARGIN:
            # Too little time to probe and still answer: say so now, touch nothing.
            give_up(f"The permission probe was started with {remaining:.0f} s left, too little to probe "
                    "and answer. Deploy again; if it repeats, raise keyDeadlineSeconds (the function's "
                    "timeout follows it).")
        elif request.request_type == "Delete":
            doing.now = f"removing leftover probe objects from bucket {bucket}"
            _delete(request, responder, hard_deadline)
        elif request.request_type == "Update" and _rolling_back(request, doing):
            # A failed update is rolled back by a second Update with the old properties, sent
            # before the policy itself is restored: probing now would fail the rollback too.
            # The outputs keep saying so until the next deploy that re-runs the probe: tell
            # the reader how to re-check now.
            stack_name = request.stack_id.split("/")[1] if request.stack_id.count("/") >= 2 else "STACK"
            verdict = (f"{ROLLBACK_STATUS}: the settings before the failed update are back; re-check them "
                       f"with: logzio-archive check --stack {stack_name}")
            # The principal being restored: what the probe last ran as before the failed update.
            restored = request.properties.get(Property.ROLE_ARN) or request.properties.get(Property.ACCESS_KEY_ID) or ""
            responder.succeed(attributes({action: ROLLBACK_STATUS for action in checks.ACTIONS}, verdict, "",
                                         str(request.properties.get(Property.REGION, "")), str(restored)))
        elif request.request_type == "Update" and (refusal := _bucket_move_refused(request)):
            log.warning("refused: %s", refusal)
            responder.fail(refusal)
        else:
            _create_or_update(request, responder, hard_deadline, log_hint, doing)
    except BadRequest as error:
        give_up(f"{error}.")
    except Exception as error:  # noqa: BLE001 - CloudFormation must get an answer on every path
        log.exception("probe failed unexpectedly while %s", doing.now)
        give_up(f"The permission probe failed unexpectedly while {doing.now}: {type(error).__name__}: "
                f"{error}. Deploy again; if it repeats, report it with the traceback from the log.")
    finally:
        watchdog.cancel()
        if not responder.answered:  # belt and braces: no path may leave the stack waiting
            give_up("The permission probe ended without a verdict.")
        # If the watchdog answered, its PUT may still be under way: see it through.
        responder.wait_delivered(PUT_TIMEOUT * PUT_TRIES + 1)


def _create_or_update(request: CustomResourceRequest, responder: Responder,
                      hard_deadline: float, log_hint: str, doing: Doing) -> None:
    doing.now = "reading the resource properties"
    props = ProbeProperties.parse(request.properties)
    # Once the watchdog has answered nobody waits for the verdict: no further try starts.
    diagnosis, probed_as, _ = _diagnose(props, hard_deadline, doing, lambda: responder.answered)
    doing.now = "answering CloudFormation"
    # One structured line with the whole diagnosis: what the log search finds.
    log.info("diagnosis: %s", json.dumps(diagnosis.as_dict(props.strict)))
    if not diagnosis.passes(props.strict):
        responder.fail(diagnosis.verdict(props.strict) + log_hint, physical_id(props.bucket_name))
        return
    doing.now = "publishing the first metrics of the watch"
    _publish_first_metrics(request, props, diagnosis, hard_deadline, responder)
    doing.now = "answering CloudFormation"
    findings = "; ".join(f"{f.severity.value} {f.id}" for f in diagnosis.findings) or "none"
    responder.succeed(attributes(diagnosis.statuses(), diagnosis.verdict(props.strict), diagnosis.probe_key or "",
                                 diagnosis.bucket_region or props.region, probed_as, findings),
                      physical_id(props.bucket_name))


def _publish_first_metrics(request: CustomResourceRequest, props: ProbeProperties, diagnosis: Diagnosis,
                           hard_deadline: float, responder: Responder) -> None:
    """With a watch (the StackName property): the passed probe's Healthy and per-permission
    points, with the re-check's names and dimensions, so that the health alarm (missing data
    is breaching) starts OK instead of waiting for the first scheduled re-check. Only on a
    pass: a failed update rolls back to settings that still work. A failure is logged, never
    the deploy's: the alarm then waits for the first re-check."""
    stack = str(request.properties.get(Property.METRICS_STACK) or "").strip()
    if not stack:
        return
    # The answer must still beat the watchdog: the publish is one call of at most CALL_SECONDS.
    if responder.answered or time.monotonic() + aws.CALL_SECONDS > hard_deadline + 2 * aws.CALL_SECONDS:
        log.warning("not publishing the first %s metrics for stack %s: too little time left before the "
                    "answer; the health alarm waits for the first scheduled re-check", Metric.NAMESPACE, stack)
        return
    error = recheck.publish(props.region, stack, props.bucket_name, recheck.probe_metrics(diagnosis, props.strict))
    if error is not None:
        log.error("could not publish the first %s metrics for stack %s (%s): the health alarm may go to ALARM "
                  "until the first scheduled re-check; check that the probe function's role may "
                  "cloudwatch:PutMetricData in namespace %s", Metric.NAMESPACE, stack, error, Metric.NAMESPACE)
    else:
        log.info("published the first %s metrics for stack %s, bucket %s", Metric.NAMESPACE, stack,
                 props.bucket_name)


def _diagnose(props: ProbeProperties, hard_deadline: float, doing: Doing,
              cancelled: Callable[[], bool]) -> tuple[Diagnosis, str, aws.S3Access | None]:
    """The probe's diagnosis, as the principal Logz.io uses; who that was; and S3 as that
    principal (None when its credentials could not be had)."""
    patience = Patience(key_propagation=props.key_deadline_seconds,
                        policy_settling=props.settle_seconds, hard_deadline=hard_deadline,
                        cancelled=cancelled)
    # The function's own role removes the probe object and reads the bucket's settings.
    own = aws.S3Access(aws.s3_client(props.region), props.bucket_name)
    doing.now = (f"assuming role {props.role_arn}" if props.role_arn
                 else f"reading the access key from secret {props.secret_arn}")
    try:
        key = _principal_credentials(props, patience)
    except checks.ProbeAborted as aborted:
        return (Diagnosis(props.bucket_name, props.region,
                          abort=Abort(aborted.what, aborted.fix, aborted.error_code)), props.role_arn or "", None)
    probed_as = props.role_arn or key.access_key_id
    log.info("probing bucket %s as %s (access key %s)", props.bucket_name,
             props.role_arn or "the Logz.io user", key.access_key_id)
    doing.now = f"probing bucket {props.bucket_name} as {probed_as}"
    user = aws.S3Access(aws.s3_client(props.region, key=key), props.bucket_name)
    diagnosis = run_probe(user, [(ROLE_LABEL, own)], props.region, patience,
                          settings=SettingsReader([(ROLE_LABEL, own)]),
                          principal_account=lambda: aws.caller_account(props.region, key=key))
    return diagnosis, probed_as, user


def _principal_credentials(props: ProbeProperties, patience: Patience) -> aws.AccessKey:
    """The credentials Logz.io would use. The probe's own grants (to read the secret, to
    assume the role) are as new as the principal: AccessDenied is retried up to the key
    deadline, like a new key, before it is final."""
    retrier = Retrier(replace(patience, policy_settling=props.key_deadline_seconds), Clock())
    try:
        if props.role_arn is None:
            return retrier.call("GetSecretValue", lambda: aws.read_access_key(props.secret_arn))
        return retrier.call("AssumeRole", lambda: aws.assume_role(props.role_arn, props.external_id,
                                                                  props.region))
    except aws.MalformedSecret as error:
        raise checks.ProbeAborted(error.what, error.fix, "MalformedSecret") from None
    except BotoCoreError as error:
        service = "STS" if props.role_arn else "Secrets Manager"
        raise checks.ProbeAborted(
            f"The probe could not reach {service} ({type(error).__name__}: {error}).",
            f"Check the function's network path to {service} (a VPC needs a NAT gateway or an "
            "interface endpoint), then deploy again.", type(error).__name__) from error
    except ClientError as error:
        code = error_code(error)
        if props.role_arn is None:
            raise checks.ProbeAborted(
                f"The probe could not read the access key from secret {props.secret_arn} ({code}: "
                f"{error_message(error)}).",
                "Check that the secret still exists and that the probe's role may read it (the "
                "stack grants secretsmanager:GetSecretValue), then deploy again.", code) from error
        raise checks.ProbeAborted(
            f"The probe could not assume role {props.role_arn} with the external id ({code}: "
            f"{error_message(error)}).",
            "Check that the role's trust policy allows the probe's execution role with that "
            "sts:ExternalId (the stack sets it up), then deploy again.", code) from error


def _delete(request: CustomResourceRequest, responder: Responder, hard_deadline: float) -> None:
    bucket = str(request.properties.get(Property.BUCKET_NAME, ""))
    region = str(request.properties.get(Property.REGION, "")) or None
    removed: list[str] = []
    if bucket:
        try:
            removed = remove_leftovers(aws.S3Access(aws.s3_client(region), bucket), hard_deadline)
        except (ClientError, BotoCoreError) as error:
            # The bucket outlives the stack and may be gone or locked down: never block a delete.
            log.warning("could not look for leftover probe objects in %s: %s", bucket, error)
    log.info("removed leftover probe objects: %s", removed or "none")
    responder.succeed({"Removed": str(len(removed))})


def _bucket_move_refused(request: CustomResourceRequest) -> str | None:
    """Why this update must not point the archive at another bucket, or None.

    Logz.io keeps the bucket name it was given while the principal's policy moves to the new
    bucket (a changed or dropped bucketName replaces it; another existingBucket swaps it):
    archiving would stop without a word. Only an explicit allowBucketChange lets it through.
    Asked after the rollback test: a rollback Update carries old and new swapped."""
    old = str((request.old_properties or {}).get(Property.BUCKET_NAME) or "")
    new = str(request.properties.get(Property.BUCKET_NAME) or "")
    if not old or not new or old == new:
        return None
    if str(request.properties.get(Property.ALLOW_BUCKET_CHANGE, "")).strip().lower() == "true":
        log.info("bucket change from %s to %s allowed by %s", old, new, Property.ALLOW_BUCKET_CHANGE)
        return None
    return (f"This update moves the Logz.io archive from bucket {old} to bucket {new}, but Logz.io "
            f"is still configured with {old} and would stop archiving (and restore would not find "
            f"older archives). If this is not intended, keep the bucket setting as it was: "
            f"bucketName={old} (or existingBucket={old}) in cdk.json, or no bucketName if {old}'s "
            "name was generated; a deploy that changes or drops bucketName makes CloudFormation "
            f"replace the bucket. This failed update rolls back to {old}. If the move is intended, "
            f"deploy with -c allowBucketChange=true, then point Logz.io's archive settings at {new}.")


def _rolling_back(request: CustomResourceRequest, doing: Doing) -> bool:
    """Read before the properties are parsed: old properties may not parse any more."""
    doing.now = "reading the stack's status (is this update a rollback?)"
    try:
        region = str(request.properties.get(Property.REGION, "")) or request.stack_id.split(":")[3]
        client = aws.cloudformation_client(region or None)
        status = client.describe_stacks(StackName=request.stack_id)["Stacks"][0]["StackStatus"]
    except (ClientError, BotoCoreError, KeyError, IndexError) as error:
        log.info("could not read the stack status (%s); probing as usual", error_code(error))
        return False
    return status.endswith("ROLLBACK_IN_PROGRESS")


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # in Lambda, the root logger goes to CloudWatch
    logging.getLogger().setLevel(logging.INFO)
