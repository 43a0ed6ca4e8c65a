"""Fire an EventBridge Scheduler schedule by hand, as the service would at its next time.

The emulator keeps schedules (extensions/scheduler_model.py) but has no clock that fires
them: the demo and the tests call `fire` instead. It reads the schedule through the
Scheduler API and invokes its Lambda target with the schedule's own Input, through the
Lambda API, so what runs is exactly what the schedule would run.
"""

from __future__ import annotations

import json
from typing import Any


def fire(emu: Any, schedule_name: str, group: str = "default") -> dict:
    """Invoke the schedule's target once; returns the function's result (its JSON payload)."""
    schedule = emu.client("scheduler").get_schedule(Name=schedule_name, GroupName=group)
    target = schedule["Target"]
    if ":lambda:" not in target["Arn"]:
        raise ValueError(f"schedule {schedule_name} targets {target['Arn']}, not a Lambda function")
    answer = emu.client("lambda").invoke(FunctionName=target["Arn"], InvocationType="RequestResponse",
                                         Payload=target.get("Input", "{}").encode())
    payload = answer["Payload"].read().decode() or "null"
    if answer.get("FunctionError"):
        raise RuntimeError(f"the re-check function failed: {payload}")
    return json.loads(payload)
