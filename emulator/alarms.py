"""Evaluate a CloudWatch alarm on the emulator's stored data points, when a test asks.

Real CloudWatch evaluates every metric alarm by itself, once a period, and notifies the
alarm's actions when its state changes. moto 5.2.5 never evaluates an alarm: it stays in the
state it was created in (INSUFFICIENT_DATA, see extensions/alarm_state) whatever data comes
in, and SetAlarmState notifies nobody. So in the emulator an alarm changes state only when
something calls ``evaluate``: a test, or the demo after a re-check.

``evaluate(emu, alarm_name)`` does what one CloudWatch evaluation does, for a metric alarm on
one metric with a Statistic (Minimum, Maximum, Sum, Average, SampleCount):
  * the evaluation range is the alarm's EvaluationPeriods periods of Period seconds that end
    at ``now`` (newest last); a period's value is the Statistic over the data points stored
    for the alarm's Namespace, MetricName and exactly its Dimensions (and its Unit, if set)
    whose timestamps fall in it; a period without one is missing;
  * a period breaches when its value compared with Threshold by ComparisonOperator holds;
    the alarm needs DatapointsToAlarm (default EvaluationPeriods) breaching periods;
  * TreatMissingData: ``breaching``/``notBreaching`` count a missing period as breaching/not;
    ``missing`` (the default) and ``ignore`` use the present periods only: ALARM with enough
    breaching ones, or when every present one breaches but fewer than DatapointsToAlarm are
    present (``ignore`` then keeps the state); OK otherwise; with none present, ``missing``
    gives INSUFFICIENT_DATA and ``ignore`` keeps the state;
  * a new state is set (reason and reason data in CloudWatch's wording), and, when the alarm's
    actions are enabled, each SNS topic among the new state's actions (AlarmActions, OKActions,
    InsufficientDataActions) is sent CloudWatch's notification message, which reaches the
    topic's subscriptions (an SQS queue receives it; email sends nothing), after the checks
    CloudWatch's delivery is subject to: the topic exists, its policy lets the service
    ``cloudwatch.amazonaws.com`` publish (aws:SourceArn = the alarm, aws:SourceAccount), and, for
    an encrypted topic, the key's policy lets that service use the key (kms:GenerateDataKey*,
    kms:Decrypt); the AWS managed key ``alias/aws/sns`` never does. A failed delivery is
    returned (and logged) as the alarm history on AWS would show it, not raised.

Simplified, unlike AWS: the periods end at ``now`` instead of being aligned to Period
boundaries, CloudWatch's look-back beyond the range for missing data and its delay for late
data are not modelled, and metric-math, percentile, anomaly-detection and composite alarms are
not evaluated (NotImplementedError). Other actions (Auto Scaling, EC2, Systems Manager) are
reported as not carried out.

A test puts its data points (PutMetricData, or the function under test), then::

    from emulator.alarms import evaluate
    result = evaluate(emu, "MyStack-HealthAlarm-XYZ")
    assert result.state == "ALARM"
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .extensions import _policy

log = logging.getLogger("emulator.alarms")

SERVICE_PRINCIPAL = "cloudwatch.amazonaws.com"
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
STATISTICS = ("Minimum", "Maximum", "Sum", "Average", "SampleCount")
#: Condition keys of CloudWatch's Publish and KMS calls that the delivery checks evaluate.
DELIVERY_KEYS = ("aws:SourceArn", "aws:SourceAccount", "AWS:SourceOwner", "aws:SecureTransport",
                 "kms:EncryptionContext:aws:sns:topicArn")


@dataclass(frozen=True)
class Notification:
    """One action of a state change: an SNS topic sent the notification, or why it was not."""

    action: str
    delivered: bool
    detail: str


@dataclass(frozen=True)
class Evaluation:
    alarm_name: str
    state: str
    previous_state: str
    changed: bool
    reason: str
    #: the evaluated periods' values, oldest first; None for a missing period
    datapoints: tuple[float | None, ...]
    notifications: tuple[Notification, ...] = ()


# --------------------------------------------------------------------------- data points

def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _stored(backend: Any, alarm: Any) -> list[Any]:
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    found = []
    for datum in backend.get_all_metrics():
        if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        if alarm.unit and datum.unit != alarm.unit:
            continue
        found.append(datum)
    return found


def _statistic(statistic: str, data: list[Any]) -> float | None:
    if not data:
        return None
    samples = total = 0.0
    lows: list[float] = []
    highs: list[float] = []
    for datum in data:
        if hasattr(datum, "value"):
            samples, total = samples + 1, total + float(datum.value)
            lows.append(float(datum.value))
            highs.append(float(datum.value))
        else:  # StatisticValues
            samples, total = samples + float(datum.sample_count), total + float(datum.sum)
            lows.append(float(datum.min))
            highs.append(float(datum.max))
    return {"Minimum": min(lows), "Maximum": max(highs), "Sum": total, "SampleCount": samples,
            "Average": total / samples if samples else None}[statistic]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


# --------------------------------------------------------------------------- the decision

def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _decide(alarm: Any, values: list[float | None], starts: list[datetime]) -> tuple[str | None, str]:
    """(new state, or None to keep the state; reason) for the evaluated periods, oldest first."""
    compare, words = COMPARISONS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    treat = alarm.treat_missing_data or "missing"
    present = [(v, s) for v, s in zip(values, starts) if v is not None]
    missing = len(values) - len(present)
    breaching = sum(1 for v, _ in present if compare(v, threshold))
    treated = {"breaching": "Breaching", "notBreaching": "NonBreaching"}.get(treat)

    def crossed(state: str) -> str:
        verb = "" if state == "ALARM" else "not "
        listed = ", ".join(f"{v} ({_stamp(s)})" for v, s in reversed(present))
        if breaching in (0, len(present)) or state != "ALARM":
            text = (f"Threshold Crossed: {_plural(len(present), 'datapoint')} [{listed}] "
                    f"{'was' if len(present) == 1 else 'were'} {verb}{words} the threshold ({threshold})")
        else:
            text = (f"Threshold Crossed: {breaching} out of the last {_plural(len(present), 'datapoint')} "
                    f"[{listed}] were {words} the threshold ({threshold}) "
                    f"(minimum {_plural(needed, 'datapoint')} for OK -> ALARM transition)")
        if missing and treated:
            text += f"; {_plural(missing, 'missing datapoint')} treated as [{treated}]"
        return text + "."

    if treated:
        state = "ALARM" if breaching + (missing if treat == "breaching" else 0) >= needed else "OK"
        if not present:
            return state, (f"Threshold Crossed: no datapoints were received for {_plural(missing, 'period')} and "
                           f"{_plural(missing, 'missing datapoint')} {'was' if missing == 1 else 'were'} "
                           f"treated as [{treated}].")
        return state, crossed(state)
    # missing / ignore: the present periods only
    if not present:
        if treat == "ignore":
            return None, ""
        return "INSUFFICIENT_DATA", (f"Insufficient Data: {_plural(missing, 'datapoint')} "
                                     f"{'was' if missing == 1 else 'were'} unknown.")
    if breaching >= needed:
        return "ALARM", crossed("ALARM")
    if len(present) < needed and breaching == len(present):
        return (None, "") if treat == "ignore" else ("ALARM", crossed("ALARM"))
    return "OK", crossed("OK")


# --------------------------------------------------------------------------- notifications

def _region_name(region: str) -> str:
    try:
        import botocore.session

        for partition in botocore.session.get_session().get_data("endpoints")["partitions"]:
            if region in partition["regions"]:
                return partition["regions"][region]["description"]
    except Exception:  # the code is good enough
        pass
    return region


def _message(alarm: Any, old: str, account: str, region: str) -> dict[str, Any]:
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _iso(_aware(alarm.configuration_updated_timestamp)),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _iso(_aware(alarm.state_updated_timestamp)),
        "Region": _region_name(region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic).upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": int(alarm.period),
            "EvaluationPeriods": int(alarm.evaluation_periods),
            "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def _key_refusal(topic: Any, context: dict[str, str], account: str, region: str) -> str | None:
    """Why CloudWatch may not use the topic's KMS key, or None if it may."""
    from moto.kms.models import kms_backends

    key_id = str(topic.kms_master_key_id)
    parts = key_id.split(":")
    if key_id.startswith("arn:") and len(parts) > 4:
        account, region = parts[4], parts[3]
    managed = (f"KMS AccessDeniedException: the topic is encrypted with the AWS managed key {key_id}, whose key "
               f"policy cannot let {SERVICE_PRINCIPAL} use it: use a customer managed key")
    if key_id.startswith("alias/aws/") or ":alias/aws/" in key_id:
        return managed
    try:
        key = kms_backends[account][region].describe_key(key_id)
    except Exception:
        return f"KMS NotFoundException: key {key_id} does not exist"
    if key.key_manager == "AWS":
        return managed
    if not key.enabled:
        return f"KMS DisabledException: key {key.arn} is disabled"
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        if _policy.evaluate([key.policy], action, key.arn, context, DELIVERY_KEYS,
                            principal={"Service": SERVICE_PRINCIPAL}) != _policy.ALLOW:
            return (f"KMS AccessDeniedException: the key policy of {key.arn} does not allow {SERVICE_PRINCIPAL} "
                    f"{action}")
    return None


def _deliver(alarm: Any, topic_arn: str, message: dict[str, Any], account: str, region: str) -> Notification:
    from moto.sns.exceptions import TopicNotFound
    from moto.sns.models import sns_backends

    def failed(error: str) -> Notification:
        detail = f'Failed to execute action {topic_arn}. Received error: "{error}"'
        log.warning("alarm %s: %s", alarm.name, detail)
        return Notification(topic_arn, False, detail)

    parts = topic_arn.split(":")
    try:
        topic = sns_backends[parts[4]][parts[3]].get_topic(topic_arn)
    except (TopicNotFound, IndexError, KeyError):
        return failed(f"Topic does not exist: {topic_arn}")
    context = {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": account, "AWS:SourceOwner": account,
               "aws:SecureTransport": "true", "kms:EncryptionContext:aws:sns:topicArn": topic_arn}
    verdict = _policy.evaluate([topic.policy], "SNS:Publish", topic_arn, context, DELIVERY_KEYS,
                               principal={"Service": SERVICE_PRINCIPAL})
    if verdict != _policy.ALLOW:
        why = ("with an explicit deny in a resource-based policy" if verdict == _policy.DENY
               else "because no resource-based policy allows the SNS:Publish action")
        return failed(f"Resource: {alarm.alarm_arn} is not authorized to perform: SNS:Publish on resource: "
                      f"{topic_arn} {why}")
    if topic.kms_master_key_id:
        refusal = _key_refusal(topic, context, account, region)
        if refusal:
            return failed(refusal)
    subject = f'{alarm.state_value}: "{alarm.name}" in {message["Region"]}'[:100]
    message_id = topic.publish(json.dumps(message), subject=subject)
    return Notification(topic_arn, True, f"Successfully executed action {topic_arn} (message {message_id})")


# --------------------------------------------------------------------------- the evaluation

def evaluate(emu: Any, alarm_name: str, now: datetime | None = None) -> Evaluation:
    """Evaluate `alarm_name` once, as CloudWatch would at `now` (default: the current time)."""
    from moto.cloudwatch.models import cloudwatch_backends

    account, region = emu.account, emu.region
    backend = cloudwatch_backends[account][region]
    alarm = backend.alarms.get(alarm_name)
    if alarm is None:
        raise KeyError(f"no alarm named {alarm_name!r} in {account}/{region}")
    if alarm.rule is not None or alarm.metric_data_queries or alarm.extended_statistic \
            or alarm.threshold_metric_id or alarm.comparison_operator not in COMPARISONS \
            or alarm.statistic not in STATISTICS:
        raise NotImplementedError(f"alarm {alarm_name}: only a metric alarm on one metric with a Statistic and a "
                                  "static threshold is evaluated here")
    now = _aware(now or datetime.now(timezone.utc))
    period = timedelta(seconds=int(alarm.period))
    count = int(alarm.evaluation_periods)
    ends = [now - period * (count - 1 - i) for i in range(count)]  # oldest first
    starts = [end - period for end in ends]
    stored = _stored(backend, alarm)
    values = [_statistic(alarm.statistic, [d for d in stored if start < _aware(d.timestamp) <= end])
              for start, end in zip(starts, ends)]
    previous = alarm.state_value
    state, reason = _decide(alarm, values, starts)
    if state is None or state == previous:
        return Evaluation(alarm_name, previous, previous, False, reason or alarm.state_reason, tuple(values))
    reason_data = json.dumps({
        "version": "1.0", "queryDate": _iso(now), "startDate": _iso(starts[0]), "statistic": alarm.statistic,
        "period": int(alarm.period), "recentDatapoints": [v for v in values if v is not None],
        "threshold": float(alarm.threshold),
        "evaluatedDatapoints": [{"timestamp": _iso(s), **({"value": v} if v is not None else {})}
                                for v, s in reversed(list(zip(values, starts)))]})
    alarm.update_state(reason, reason_data, state)
    notifications: list[Notification] = []
    if alarm.actions_enabled:
        actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
                   "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[state]
        message = _message(alarm, previous, account, region)
        for action in actions:
            if action.startswith("arn:") and action.split(":")[2] == "sns":
                notifications.append(_deliver(alarm, action, message, account, region))
            else:
                notifications.append(Notification(action, False, "[emulator] only SNS actions are carried out"))
    return Evaluation(alarm_name, state, previous, True, reason, tuple(values), tuple(notifications))
