"""AWS::CloudWatch::Alarm for moto's CloudFormation.

moto lacks (5.2.5): no CloudFormation model for AWS::CloudWatch::Alarm. The resource is
skipped ("NOT created"): no alarm exists, a ``Ref`` to it resolves to nothing, and an output
with ``Fn::GetAtt Alarm.Arn`` makes CreateStack itself fail with a 500.

This extension: a CloudFormationModel that makes the alarm through moto's CloudWatch backend
(``put_metric_alarm``) from the resource's properties as AWS::CloudWatch::Alarm names them
(AlarmName, AlarmDescription, ActionsEnabled, AlarmActions, OKActions,
InsufficientDataActions, Namespace, MetricName, Dimensions, Statistic, ExtendedStatistic,
Period, Unit, EvaluationPeriods, DatapointsToAlarm, Threshold, ThresholdMetricId,
ComparisonOperator, TreatMissingData, EvaluateLowSampleCountPercentile, Metrics, Tags);
``Ref`` is the alarm name (generated as ``<stack>-<logical id>-<suffix>`` without AlarmName),
``Fn::GetAtt Arn`` its ARN. An update redefines the alarm in place under the same name
(PutMetricAlarm, which overwrites the whole definition; the state stays as alarm_state keeps
it); a new AlarmName replaces it (stack_update's CREATE_ONLY); delete is DeleteAlarms.
What PutMetricAlarm would refuse is refused here too, so the resource fails as on AWS: a
ComparisonOperator, Statistic, TreatMissingData or Unit outside its values, no
EvaluationPeriods, a metric alarm without Namespace/MetricName/Period/statistic or Threshold,
a Period other than 10, 20, 30 or a multiple of 60, DatapointsToAlarm above EvaluationPeriods.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel

from ._cfn_model import CfnModel, register

COMPARISON_OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                        "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold",
                        "LessThanLowerThreshold", "GreaterThanUpperThreshold")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
         "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
         "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
         "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
         "Count/Second", "None")


def _backend(account_id: str, region_name: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region_name]


def _int(props: dict[str, Any], name: str) -> int | None:
    value = props.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: {value!r} is not a number") from error


def _bool(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def validate(props: dict[str, Any]) -> None:
    """What PutMetricAlarm refuses (a ValidationError on AWS)."""
    def one_of(name: str, allowed: tuple[str, ...], required: bool = False) -> None:
        value = props.get(name)
        if value is None:
            if required:
                raise ValueError(f"{name} is required")
            return
        if value not in allowed:
            raise ValueError(f"{name} {value!r} is not one of {', '.join(allowed)}")

    one_of("ComparisonOperator", COMPARISON_OPERATORS, required=True)
    one_of("TreatMissingData", TREAT_MISSING_DATA)
    one_of("Unit", UNITS)
    evaluation_periods = _int(props, "EvaluationPeriods")
    if evaluation_periods is None or evaluation_periods < 1:
        raise ValueError("EvaluationPeriods is required and must be at least 1")
    datapoints = _int(props, "DatapointsToAlarm")
    if datapoints is not None and not 1 <= datapoints <= evaluation_periods:
        raise ValueError("DatapointsToAlarm must be between 1 and EvaluationPeriods")
    if props.get("Threshold") is None and not props.get("ThresholdMetricId"):
        raise ValueError("Threshold is required (or ThresholdMetricId for an anomaly detection alarm)")
    if props.get("Metrics"):
        if props.get("MetricName") or props.get("Namespace"):
            raise ValueError("Metrics cannot be combined with MetricName or Namespace")
        return
    for name in ("Namespace", "MetricName"):
        if not props.get(name):
            raise ValueError(f"{name} is required for a metric alarm (or Metrics)")
    if bool(props.get("Statistic")) == bool(props.get("ExtendedStatistic")):
        raise ValueError("exactly one of Statistic and ExtendedStatistic is required")
    one_of("Statistic", STATISTICS)
    period = _int(props, "Period")
    if period is None or not (period in (10, 20, 30) or (period > 0 and period % 60 == 0)):
        raise ValueError(f"Period {props.get('Period')!r}: valid values are 10, 20, 30 and any multiple of 60")


def _queries(metrics: list[dict[str, Any]] | None) -> list[Any] | None:
    """The alarm's Metrics as moto's MetricDataQuery objects (as its PutMetricAlarm builds them)."""
    from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat

    if not metrics:
        return None
    queries = []
    for item in metrics:
        stat = None
        details = item.get("MetricStat") or {}
        metric = details.get("Metric") or {}
        if metric.get("MetricName"):
            stat = MetricStat(
                metric=Metric(metric_name=metric["MetricName"], namespace=metric.get("Namespace"),
                              dimensions=[Dimension(d.get("Name"), d.get("Value"))
                                          for d in metric.get("Dimensions") or []]),
                period=details.get("Period"), stat=details.get("Stat"), unit=details.get("Unit"))
        queries.append(MetricDataQuery(query_id=item.get("Id"), label=item.get("Label"), period=item.get("Period"),
                                       return_data=item.get("ReturnData"), expression=item.get("Expression"),
                                       metric_stat=stat))
    return queries


def put_alarm(account_id: str, region_name: str, name: str, props: dict[str, Any]) -> Any:
    validate(props)
    threshold = props.get("Threshold")
    return _backend(account_id, region_name).put_metric_alarm(
        name=name,
        namespace=props.get("Namespace"),
        metric_name=props.get("MetricName"),
        metric_data_queries=_queries(props.get("Metrics")),
        comparison_operator=props["ComparisonOperator"],
        evaluation_periods=_int(props, "EvaluationPeriods"),
        datapoints_to_alarm=_int(props, "DatapointsToAlarm"),
        period=_int(props, "Period"),
        threshold=float(threshold) if threshold is not None else None,
        statistic=props.get("Statistic"),
        extended_statistic=props.get("ExtendedStatistic"),
        description=props.get("AlarmDescription"),
        dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions") or []],
        alarm_actions=list(props.get("AlarmActions") or []),
        ok_actions=list(props.get("OKActions") or []),
        insufficient_data_actions=list(props.get("InsufficientDataActions") or []),
        unit=props.get("Unit"),
        actions_enabled=_bool(props.get("ActionsEnabled")),
        treat_missing_data=props.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=props.get("ThresholdMetricId"),
        tags=list(props.get("Tags") or []),
    )


class CloudWatchAlarmModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    PHYSICAL_ID = "name"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, name: str, arn: str, account_id: str, region_name: str, props: dict[str, Any]):
        self.name = name
        self.arn = arn
        self.account_id = account_id
        self.region_name = region_name
        self.props = props

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "CloudWatchAlarmModel":
        name = props.get("AlarmName") or resource_name
        if name in _backend(account_id, region_name).alarms:
            raise ValueError(f"an alarm named {name} already exists")
        alarm = put_alarm(account_id, region_name, name, props)
        return cls(name, alarm.alarm_arn, account_id, region_name, props)

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "CloudWatchAlarmModel":
        # In place, under the alarm's own name (a new AlarmName is a replacement: stack_update).
        put_alarm(account_id, region_name, self.name, props)
        self.props = props
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_alarms([self.name])

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _backend(account_id, region_name).delete_alarms([resource_name])


def apply() -> None:
    register(CloudWatchAlarmModel)
