"""`logzio-archive status --stack NAME`: the latest scheduled re-check and the alarm.

Reads what the watch already keeps, changes nothing: the stack's outputs (bucket, alarm
names), the newest Healthy and NewestArchiveAgeHours data points, and the alarms' states.
Exit status: 0 the latest re-check was healthy (or there is none yet) and no alarm is in
ALARM; 1 an alarm is in ALARM or the latest re-check was unhealthy (the alarm may not have
been evaluated yet); 2 the status could not be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .names import Metric, Output, WatchOutput

EXIT_OK, EXIT_ALARM, EXIT_NO_STATUS = 0, 1, 2
#: How far back to look for the latest re-check: longer than any schedule interval.
LOOKBACK_SECONDS = 2 * 24 * 3600


@dataclass
class Status:
    stack: str
    bucket: str | None = None
    last_recheck: str | None = None
    healthy: float | None = None
    newest_archive_age_hours: float | None = None
    alarms: dict[str, dict[str, str]] = field(default_factory=dict)
    error: dict[str, str] | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_NO_STATUS
        if any(alarm["state"] == "ALARM" for alarm in self.alarms.values()):
            return EXIT_ALARM
        if self.healthy is not None and self.healthy < 1:
            return EXIT_ALARM
        return EXIT_OK

    def verdict(self) -> str:
        if self.error is not None:
            return f"No status for stack {self.stack}: {self.error['what']} {self.error['fix']}"
        firing = [name for name, alarm in self.alarms.items() if alarm["state"] == "ALARM"]
        if firing:
            return (f"ALARM: {', '.join(firing)}. Run logzio-archive check --stack {self.stack} "
                    "to see what broke and how to fix it.")
        if self.healthy is not None and self.healthy < 1:
            return (f"UNHEALTHY: the latest re-check found archive or restore broken (the alarm follows "
                    f"within its period). Run logzio-archive check --stack {self.stack} to see "
                    "what broke and how to fix it.")
        if self.healthy is None:
            return ("No re-check data yet (the first re-check runs on the schedule after deploy); "
                    "the alarm fires if none arrives.")
        return "OK: the latest re-check found archive and restore working."

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "bucket": self.bucket, "last_recheck": self.last_recheck,
                "healthy": self.healthy, "newest_archive_age_hours": self.newest_archive_age_hours,
                "alarms": self.alarms, "error": self.error, "exit_code": self.exit_code,
                "summary": self.verdict()}


def read(stack: str, region: str | None, profile: str | None, endpoint_url: str | None) -> Status:
    """Never raises: whatever goes wrong is the status's error (exit 2)."""
    status = Status(stack)
    try:
        return _read(status, stack, region, profile, endpoint_url)
    except Exception as error:  # noqa: BLE001 - one answer, text or JSON, whatever happens
        status.error = {"what": f"Reading the status failed: {type(error).__name__}: {error}.",
                        "fix": "Check the credentials, --region and --endpoint-url (or AWS_ENDPOINT_URL); "
                               "if it repeats, report it with this message."}
        return status


def _read(status: Status, stack: str, region: str | None, profile: str | None,
          endpoint_url: str | None) -> Status:
    try:
        outputs = aws.stack_outputs(stack, region, profile, endpoint_url)
        status.bucket = outputs.get(Output.BUCKET_NAME)
        alarms = [outputs[name] for name in (WatchOutput.HEALTH_ALARM, WatchOutput.FRESHNESS_ALARM)
                  if outputs.get(name)]
        if not alarms:
            status.error = {"what": f"Stack {stack} has no re-check alarm (watchSchedule=off, or a "
                                    "version before the watch).",
                            "fix": "Deploy the current version with a watchSchedule, or use "
                                   f"logzio-archive check --stack {stack}."}
            return status
        dimensions = {Metric.STACK: stack, Metric.BUCKET: status.bucket or ""}
        healthy = aws.latest_datapoint(Metric.NAMESPACE, Metric.HEALTHY, dimensions, "Minimum",
                                       LOOKBACK_SECONDS, region, profile, endpoint_url)
        if healthy is not None:
            status.healthy = healthy["Minimum"]
            status.last_recheck = healthy["Timestamp"].astimezone(timezone.utc).isoformat()
        age = aws.latest_datapoint(Metric.NAMESPACE, Metric.NEWEST_ARCHIVE_AGE_HOURS, dimensions, "Maximum",
                                   LOOKBACK_SECONDS, region, profile, endpoint_url)
        if age is not None:
            status.newest_archive_age_hours = round(age["Maximum"], 1)
        for name, alarm in aws.alarm_states(alarms, region, profile, endpoint_url).items():
            updated = alarm.get("StateUpdatedTimestamp")
            status.alarms[name] = {"state": alarm.get("StateValue", "?"), "reason": alarm.get("StateReason", ""),
                                   "since": updated.astimezone(timezone.utc).isoformat()
                                   if isinstance(updated, datetime) else str(updated or "")}
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationError" and "does not exist" in message:
            status.error = {"what": f"Stack {stack} does not exist in {region or 'the default region'}.",
                            "fix": "Check the stack name, or pass the stack's --region."}
        else:
            status.error = {"what": f"Could not read the re-check's status ({code}: {message}).",
                            "fix": "Use credentials allowed cloudformation:DescribeStacks, "
                                   "cloudwatch:GetMetricStatistics and cloudwatch:DescribeAlarms."}
    except BotoCoreError as error:
        status.error = {"what": f"Could not reach AWS: {error}.",
                        "fix": "Check the network path, --endpoint-url and --region."}
    return status


def write_text(status: Status, out: TextIO, err: TextIO) -> None:
    if status.error is not None:
        print(f"error: {status.error['what']}", file=err)
        print(f"next: {status.error['fix']}", file=err)
        print(status.verdict(), file=out)
        return
    print(f"Archive watch of stack {status.stack} (bucket {status.bucket}):", file=out)
    print(f"  last re-check:   {status.last_recheck or 'none in the last 2 days'}", file=out)
    healthy = {None: "-", 1.0: "healthy", 0.0: "UNHEALTHY"}.get(status.healthy, str(status.healthy))
    print(f"  result:          {healthy}", file=out)
    age = status.newest_archive_age_hours
    print(f"  newest archive:  {'-' if age is None else f'{age:g} hours old'}", file=out)
    for name, alarm in status.alarms.items():
        print(f"  alarm {name}: {alarm['state']} since {alarm['since']}", file=out)
        if alarm["state"] == "ALARM" and alarm["reason"]:
            print(f"    {alarm['reason']}", file=out)
    print(status.verdict(), file=out)


def write_json(status: Status, out: TextIO) -> None:
    json.dump(status.as_dict(), out, indent=2)
    out.write("\n")
