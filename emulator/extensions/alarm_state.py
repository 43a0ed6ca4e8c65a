"""A new alarm is INSUFFICIENT_DATA, and redefining an alarm keeps its state.

moto lacks (5.2.5): PutMetricAlarm makes every alarm ``OK`` at once ("Unchecked: Initial
alarm creation"), where CloudWatch starts a new alarm in ``INSUFFICIENT_DATA`` until it has
evaluated it; and PutMetricAlarm on an existing alarm builds a new one, so an alarm in
``ALARM`` is back to ``OK`` (its history gone) after any change of its definition, where
CloudWatch leaves the state unchanged ("When you update an existing alarm, its state is left
unchanged, but the update completely overwrites the previous configuration of the alarm").
An operator reading a fresh alarm, or one just redeployed with a new threshold, would read
``OK`` that nothing established.

This extension: a new alarm starts ``INSUFFICIENT_DATA`` with the reason
"Unchecked: Initial alarm creation"; PutMetricAlarm on an existing one (the API's or a
CloudFormation update's) keeps its state value, reason, reason data, state timestamp and
history. moto still never evaluates an alarm: see ``emulator.alarms.evaluate``.
"""

from __future__ import annotations

from typing import Any

INITIAL_STATE = "INSUFFICIENT_DATA"
INITIAL_REASON = "Unchecked: Initial alarm creation"
_KEPT = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")


def apply() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs["name"] if "name" in kwargs else args[0]
        previous = self.alarms.get(name)
        alarm = original(self, *args, **kwargs)
        if previous is None:
            alarm.state_value = INITIAL_STATE
            alarm.state_reason = INITIAL_REASON
        else:
            for attribute in _KEPT:
                setattr(alarm, attribute, getattr(previous, attribute))
        return alarm

    CloudWatchBackend.put_metric_alarm = put_metric_alarm
