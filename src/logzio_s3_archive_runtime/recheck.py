"""The scheduled re-check: the deploy-time probe again, as the same principal, with the same
findings, after deploy, on EventBridge Scheduler's schedule.

The event carries the custom resource's own properties (names.Property) and the stack's
name. A principal in service for a while has settled: an unknown key or a denial is final
within seconds (RECHECK_KEY_DEADLINE), not after the deploy-time patience. Each run:
  * publishes metrics (names.Metric): Healthy (1 when every permission is granted and no
    error finding, 0 otherwise, a probe that could not run included), one per permission,
    and NewestArchiveAgeHours when the bucket holds an archive;
  * writes one JSON log line, `recheck: {...}`, with the whole diagnosis;
  * returns that same document (what an operator invoking the function by hand sees).
A failure to publish is logged and returned; the missing data point then raises the
health alarm (missing data is breaching), so the alarm still tells.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .cfn import BadRequest, ProbeProperties
from .diagnosis import Diagnosis
from .freshness import newest_archive
from .names import STACK_NAME, Metric

log = logging.getLogger("logzio_s3_archive_runtime")

#: An existing key still unknown after this long is gone; an existing policy has settled.
RECHECK_KEY_DEADLINE = 10.0
RECHECK_SETTLE = 0.0
#: The probe's deadline, this long before the function would be killed: room for the call
#: under way (10 s), the probe object's removal (up to 3 calls) and what follows.
PROBE_MARGIN_SECONDS = 60.0
#: The newest-archive walk starts no level later than this before the end: the metrics call
#: (10 s at most) and the log line still fit.
WALK_MARGIN_SECONDS = 25.0

Diagnose = Callable[[ProbeProperties, float], tuple[Diagnosis, str, Any]]


def run(properties: Any, remaining_seconds: float, diagnose: Diagnose) -> dict:
    """Never raises: a re-check that cannot run is a document with healthy 0 (and Healthy=0
    is published when the stack and bucket are known)."""
    started = time.monotonic()
    stack = str(properties.get(STACK_NAME, "")) if isinstance(properties, Mapping) else ""
    try:
        if not isinstance(properties, Mapping):
            raise BadRequest("the re-check event holds no properties: redeploy the stack as synthesized")
        if not stack:
            raise BadRequest(f"the re-check event has no {STACK_NAME} (the metrics' Stack dimension): "
                             "redeploy the stack as synthesized")
        props = replace(ProbeProperties.parse(properties), key_deadline_seconds=RECHECK_KEY_DEADLINE,
                        settle_seconds=RECHECK_SETTLE)
    except BadRequest as error:
        document = {"stack": stack, "healthy": 0, "error": {"what": f"{error}.", "fix": "Redeploy the stack."}}
        bucket = properties.get("BucketName") if isinstance(properties, Mapping) else None
        if stack and isinstance(bucket, str) and bucket:
            _publish(document, str(properties.get("Region", "")) or None, stack, bucket,
                     {Metric.HEALTHY: (0.0, "Count")})
        log.error("recheck: %s", json.dumps(document))
        return document
    # The probe stops early enough for what may still follow it: the call under way, the
    # probe object's removal, the newest-archive walk (it stops at WALK_MARGIN) and the metrics.
    end = started + remaining_seconds
    try:
        diagnosis, probed_as, user = diagnose(props, end - PROBE_MARGIN_SECONDS)
        newest = None
        if user is not None and diagnosis.abort is None:
            try:
                newest = newest_archive(user, deadline=end - WALK_MARGIN_SECONDS)
            except (ClientError, BotoCoreError) as error:
                log.warning("could not find the newest archive in %s: %s", props.bucket_name, error)
    except Exception as error:  # noqa: BLE001 - the re-check must report, whatever broke
        log.exception("the re-check failed unexpectedly")
        document = {"stack": stack, "bucket": props.bucket_name, "healthy": 0, "error": {
            "what": f"The re-check failed unexpectedly: {type(error).__name__}: {error}.",
            "fix": f"Run logzio-archive check --stack {stack}; if the re-check keeps failing, "
                   "report it with the function's log."}}
        _publish(document, props.region, stack, props.bucket_name, {Metric.HEALTHY: (0.0, "Count")})
        log.error("recheck: %s", json.dumps(document))
        return document
    healthy = diagnosis.passes(props.strict)
    document = {"stack": stack, "healthy": int(healthy), "probed_as": probed_as,
                **diagnosis.as_dict(props.strict),
                "newest_archive": newest.key if newest else None,
                "newest_archive_age_hours": round(newest.age_hours(), 3) if newest else None}
    metrics = probe_metrics(diagnosis, props.strict)
    if newest is not None:
        metrics[Metric.NEWEST_ARCHIVE_AGE_HOURS] = (newest.age_hours(), "None")
    _publish(document, props.region, stack, props.bucket_name, metrics)
    log.info("recheck: %s", json.dumps(document, default=str))
    return document


def probe_metrics(diagnosis: Diagnosis, strict: bool) -> dict[str, tuple[float, str]]:
    """Healthy and one metric per permission checked, as (value, unit): what the re-check and
    the deploy-time probe (handler.py, with a watch) publish for a diagnosis."""
    metrics: dict[str, tuple[float, str]] = {Metric.HEALTHY: (float(diagnosis.passes(strict)), "Count")}
    for check in diagnosis.checks:
        metrics[Metric.OF_ACTION[check.action]] = (1.0 if check.ok else 0.0, "Count")
    return metrics


def publish(region: str | None, stack: str, bucket: str, metrics: Mapping[str, tuple[float, str]]) -> str | None:
    """One PutMetricData in the namespace, with the alarms' dimensions (Stack, Bucket); what
    went wrong, or None. Never raises."""
    try:
        aws.put_metrics(region, Metric.NAMESPACE, {Metric.STACK: stack, Metric.BUCKET: bucket}, metrics)
    except (ClientError, BotoCoreError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def _publish(document: dict, region: str | None, stack: str, bucket: str,
             metrics: Mapping[str, tuple[float, str]]) -> None:
    error = publish(region, stack, bucket, metrics)
    if error is not None:
        # The health alarm treats the missing point as breaching: it still fires.
        document["metrics_error"] = error
        log.error("could not publish the re-check's metrics: %s", error)
