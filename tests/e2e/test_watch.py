"""The archive watched after deploy: the shipped stack's schedule fired as EventBridge
Scheduler would fire it, before and after an administrator adds a bucket-policy Deny on
uploads, with the metric, the function's JSON log line, the alarm (evaluated on the stored
data points: the emulator's CloudWatch evaluates no alarm on its own) and the operator's
`status` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from logzio_s3_archive_runtime.names import Metric, Output, WatchOutput
from emulator import schedules
from emulator.alarms import evaluate
from tests.e2e.support import outputs
from tests.support import ROOT

pytestmark = pytest.mark.e2e


def healthy_points(emu, stack, bucket):
    from datetime import datetime, timedelta, timezone
    now = datetime.now(timezone.utc)
    answer = emu.client("cloudwatch").get_metric_statistics(
        Namespace=Metric.NAMESPACE, MetricName=Metric.HEALTHY, StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5), Period=7200, Statistics=["Minimum", "Maximum", "SampleCount"],
        Dimensions=[{"Name": Metric.STACK, "Value": stack}, {"Name": Metric.BUCKET, "Value": bucket}])
    [point] = answer["Datapoints"]  # every point of this test in one period
    return point["Minimum"], point["Maximum"], point["SampleCount"]


def recheck_log_lines(emu, function_name):
    logs = emu.client("logs")
    group = f"/aws/lambda/{function_name}"
    lines = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]:
            if "recheck: " in event["message"]:
                lines.append(json.loads(event["message"].split("recheck: ", 1)[1]))
    return lines


def status(emu, stack):
    return subprocess.run([sys.executable, "-m", "logzio_s3_archive_runtime", "status", "--stack", stack, "--json"],
                          cwd=ROOT, env=emu.admin_env(), capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def watched(shipped_deploy, emu):
    code, log = shipped_deploy
    assert code == 0, log
    stack = "LogzioArchive"
    found = outputs(emu, stack)
    bucket, schedule = found[Output.BUCKET_NAME], found[WatchOutput.SCHEDULE]
    # Right after `cdk deploy`, before any re-check: the deploy-time probe's own point.
    seen = {"outputs": found, "points-deploy": healthy_points(emu, stack, bucket),
            "alarm-deploy": evaluate(emu, found[WatchOutput.HEALTH_ALARM])}
    seen.update({"first": schedules.fire(emu, schedule), "points-first": healthy_points(emu, stack, bucket)})
    s3 = emu.client("s3")
    # The stack's own TLS-only policy, in force (emulator extension bucket_policy_model).
    original = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(original)
    user_arn = emu.client("iam").get_user(UserName=found[Output.USER_NAME])["User"]["Arn"]
    policy["Statement"].append({"Sid": "NoUploadsByLogzio", "Effect": "Deny", "Principal": {"AWS": user_arn},
                                "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))  # as an administrator would
    try:
        seen["second"] = schedules.fire(emu, schedule)
        seen["points-second"] = healthy_points(emu, stack, bucket)
        seen["alarm"] = evaluate(emu, found[WatchOutput.HEALTH_ALARM])
        seen["status"] = status(emu, stack)
        target = emu.client("scheduler").get_schedule(Name=schedule)["Target"]["Arn"]
        seen["logs"] = recheck_log_lines(emu, target.rsplit(":", 1)[1])  # the schedule's own function
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=original)
    return seen


def test_a_green_deploy_leaves_the_health_alarm_ok(watched):
    """The deploy-time probe published the first Healthy point (the re-check's name and
    dimensions), so the alarm, whose missing data is breaching, is OK at once, not in ALARM
    (mailing on-call) until the first scheduled re-check hours later."""
    assert watched["points-deploy"] == (1.0, 1.0, 1.0)  # (minimum, maximum, count)
    alarm = watched["alarm-deploy"]
    assert alarm.state == "OK" and alarm.datapoints == (1.0,), alarm


def test_the_first_recheck_finds_the_archive_healthy(watched):
    first = watched["first"]
    assert first["healthy"] == 1 and first["ok"] is True, first["summary"]
    assert first["stack"] == "LogzioArchive" and first["bucket"] == watched["outputs"][Output.BUCKET_NAME]
    assert watched["points-first"] == (1.0, 1.0, 2.0)  # the deploy's point and the re-check's


def test_a_bucket_policy_deny_on_uploads_makes_it_unhealthy(watched):
    second = watched["second"]
    assert second["healthy"] == 0
    put = next(check for check in second["checks"] if check["action"] == "s3:PutObject")
    assert put["status"] == "missing" and put["error_code"] == "AccessDenied"
    assert "s3:PutObject missing" in second["summary"]
    assert watched["points-second"] == (0.0, 1.0, 3.0)
    # The reason is in the function's own JSON log line too.
    assert any(line["healthy"] == 0 and "s3:PutObject missing" in line["summary"] for line in watched["logs"])


def test_the_alarm_fires_on_those_data_points(watched):
    alarm = watched["alarm"]
    assert alarm.state == "ALARM" and 0.0 in alarm.datapoints, alarm


def test_status_reports_the_alarm_and_exits_1(watched):
    proc = watched["status"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["healthy"] == 0.0
    assert doc["alarms"][watched["outputs"][WatchOutput.HEALTH_ALARM]]["state"] == "ALARM"
