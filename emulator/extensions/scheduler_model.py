"""AWS::Scheduler::Schedule for moto's CloudFormation.

moto lacks (5.2.5): moto has an EventBridge Scheduler backend (CreateSchedule, GetSchedule,
...) but no CloudFormation model for AWS::Scheduler::Schedule. The resource is skipped
("NOT created"): no schedule exists, a ``Ref`` to it resolves to nothing, and an output with
``Fn::GetAtt Schedule.Arn`` makes CreateStack itself fail with a 500.

This extension: a CloudFormationModel that makes the schedule through moto's scheduler backend
from the resource's properties (Name, GroupName, Description, ScheduleExpression,
ScheduleExpressionTimezone, FlexibleTimeWindow, Target with its Arn, RoleArn, Input,
RetryPolicy and DeadLetterConfig, State, KmsKeyArn, StartDate, EndDate); ``Ref`` is the
schedule's name (generated as ``<stack>-<logical id>-<suffix>``, at most 64 characters,
without Name), ``Fn::GetAtt Arn`` its ARN. An update is UpdateSchedule in place, which, as on
AWS, overwrites every field (an omitted optional one goes back to its default); a new Name
replaces it (stack_update's CREATE_ONLY); a new GroupName moves it (deleted from the old
group, made in the new one); delete is DeleteSchedule (one already gone is no error). What
CreateSchedule would refuse is refused, so the resource fails as on AWS: a missing
ScheduleExpression, FlexibleTimeWindow (Mode OFF, or FLEXIBLE with MaximumWindowInMinutes
1-1440) or Target (Arn and RoleArn), an expression that is not ``rate(<n> <unit>)``,
``cron(<6 fields>)`` or ``at(yyyy-mm-ddThh:mm:ss)``, a State other than ENABLED/DISABLED, a
schedule group that does not exist.

Not modelled: a schedule never fires here (moto runs nothing on a timer); invoke its target
as the schedule would (with its Input) to see a run.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

from moto.core.common_models import CloudFormationModel

from ._cfn_model import CfnModel, register

NAME_LIMIT = 64
_EXPRESSION = re.compile(
    r"rate\(\s*[1-9][0-9]*\s+(minute|minutes|hour|hours|day|days)\s*\)"
    r"|cron\(\s*\S+(\s+\S+){5}\s*\)"
    r"|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)")


def _backend(account_id: str, region_name: str) -> Any:
    from moto.scheduler.models import scheduler_backends

    return scheduler_backends[account_id][region_name]


def _epoch(value: Any) -> Any:
    """CloudFormation's StartDate/EndDate (ISO 8601) as the epoch seconds the API sends moto."""
    if value is None or isinstance(value, (int, float)):
        return value
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def validate(props: dict[str, Any]) -> None:
    expression = props.get("ScheduleExpression")
    if not expression:
        raise ValueError("ScheduleExpression is required")
    if not _EXPRESSION.fullmatch(str(expression).strip()):
        raise ValueError(f"Invalid Schedule Expression {expression}.")
    window = props.get("FlexibleTimeWindow")
    if not isinstance(window, dict) or window.get("Mode") not in ("OFF", "FLEXIBLE"):
        raise ValueError("FlexibleTimeWindow with Mode OFF or FLEXIBLE is required")
    if window["Mode"] == "FLEXIBLE":
        minutes = window.get("MaximumWindowInMinutes")
        if minutes is None or not 1 <= int(minutes) <= 1440:
            raise ValueError("FlexibleTimeWindow Mode FLEXIBLE needs MaximumWindowInMinutes between 1 and 1440")
    target = props.get("Target")
    if not isinstance(target, dict) or not target.get("Arn") or not target.get("RoleArn"):
        raise ValueError("Target with Arn and RoleArn is required")
    if props.get("State", "ENABLED") not in ("ENABLED", "DISABLED"):
        raise ValueError(f"State {props.get('State')!r} is not ENABLED or DISABLED")


def _fields(props: dict[str, Any]) -> dict[str, Any]:
    """The schedule's fields as the backend's create/update take them."""
    target = copy.deepcopy(props["Target"])
    if "RetryPolicy" in target:  # numbers in the template may come as strings
        target["RetryPolicy"] = {k: int(v) for k, v in target["RetryPolicy"].items()}
    window = dict(props["FlexibleTimeWindow"])
    if "MaximumWindowInMinutes" in window:
        window["MaximumWindowInMinutes"] = int(window["MaximumWindowInMinutes"])
    return {
        "description": props.get("Description"),
        "end_date": _epoch(props.get("EndDate")),
        "flexible_time_window": window,
        "kms_key_arn": props.get("KmsKeyArn"),
        "schedule_expression": props["ScheduleExpression"],
        "schedule_expression_timezone": props.get("ScheduleExpressionTimezone"),
        "start_date": _epoch(props.get("StartDate")),
        "state": props.get("State") or "ENABLED",
        "target": target,
    }


class SchedulerScheduleModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::Scheduler::Schedule"
    NAME_PROPERTY = "Name"
    PHYSICAL_ID = "name"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, name: str, group_name: str, arn: str, props: dict[str, Any]):
        self.name = name
        self.group_name = group_name
        self.arn = arn
        self.props = props

    @staticmethod
    def _make(name: str, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        backend = _backend(account_id, region_name)
        group = props.get("GroupName") or "default"
        backend.get_schedule_group(group)  # ResourceNotFoundException, as AWS answers
        return backend.create_schedule(group_name=group, name=name, action_after_completion=None, **_fields(props))

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SchedulerScheduleModel":
        validate(props)
        name = props.get("Name") or resource_name
        if len(name) > NAME_LIMIT:  # CloudFormation's generated names fit: keep the random suffix
            suffix = name.rsplit("-", 1)[-1]
            name = f"{name[: NAME_LIMIT - len(suffix) - 1]}-{suffix}"
        schedule = cls._make(name, props, account_id, region_name)
        return cls(schedule.name, schedule.group_name, schedule.arn, props)

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SchedulerScheduleModel":
        validate(props)
        group = props.get("GroupName") or "default"
        if group != self.group_name:  # UpdateSchedule cannot move a schedule
            schedule = self._make(self.name, props, account_id, region_name)
            self.delete(account_id, region_name)
        else:
            schedule = _backend(account_id, region_name).update_schedule(
                group_name=group, name=self.name, **_fields(props))
        self.group_name, self.arn = schedule.group_name, schedule.arn
        self.props = props
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.scheduler.exceptions import ScheduleGroupNotFound, ScheduleNotFound

        try:
            _backend(account_id, region_name).delete_schedule(self.group_name, self.name)
        except (ScheduleNotFound, ScheduleGroupNotFound):
            pass  # gone already: CloudFormation's delete succeeds

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        group = (cloudformation_json.get("Properties") or {}).get("GroupName") or "default"
        cls(resource_name, group, "", {}).delete(account_id, region_name)


def apply() -> None:
    register(SchedulerScheduleModel)
