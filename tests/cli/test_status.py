"""`logzio_s3_archive_runtime status`: the latest re-check and the alarm, read from CloudWatch."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from logzio_s3_archive_runtime import aws
from logzio_s3_archive_runtime.cli import main

STACK, BUCKET = "LogzioArchive", "acme-logzio-archive"
WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
OUTPUTS = {"BucketName": BUCKET, "HealthAlarmName": "LogzioArchive-Health", "AlarmTopicArn": "arn:aws:sns:x"}


@pytest.fixture
def cloudwatch(monkeypatch):
    state = {"outputs": dict(OUTPUTS), "healthy": {"Minimum": 1.0, "Timestamp": WHEN},
             "age": {"Maximum": 2.04, "Timestamp": WHEN}, "alarm": "OK", "asked": []}

    def outputs(stack, region=None, profile=None, endpoint_url=None):
        if stack != STACK:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": f"Stack {stack} does not exist"}},
                              "DescribeStacks")
        return state["outputs"]

    def latest(namespace, metric, dimensions, statistic, since, region=None, profile=None, endpoint_url=None):
        state["asked"].append((namespace, metric, dict(dimensions), statistic))
        return state["healthy"] if metric == "Healthy" else state["age"]

    def alarms(names, region=None, profile=None, endpoint_url=None):
        return {name: {"AlarmName": name, "StateValue": state["alarm"], "StateReason": "Threshold Crossed: 1 "
                       "datapoint [0.0] was less than the threshold (1.0).", "StateUpdatedTimestamp": WHEN}
                for name in names}

    monkeypatch.setattr(aws, "stack_outputs", outputs)
    monkeypatch.setattr(aws, "latest_datapoint", latest)
    monkeypatch.setattr(aws, "alarm_states", alarms)
    return state


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    return main(["status", "--stack", STACK, *args], out=out, err=err), out.getvalue(), err.getvalue()


def test_healthy_archive(cloudwatch):
    code, out, _ = run()
    assert code == 0
    assert "  last re-check:   2026-11-28T12:00:00+00:00" in out and "  result:          healthy" in out
    assert "  newest archive:  2 hours old" in out
    assert "  alarm LogzioArchive-Health: OK since 2026-11-28T12:00:00+00:00" in out
    assert out.rstrip().endswith("OK: the latest re-check found archive and restore working.")
    assert cloudwatch["asked"][0] == ("LogzioArchive", "Healthy", {"Stack": STACK, "Bucket": BUCKET}, "Minimum")


def test_alarm_exits_1_and_says_what_to_run(cloudwatch):
    cloudwatch["alarm"], cloudwatch["healthy"] = "ALARM", {"Minimum": 0.0, "Timestamp": WHEN}
    code, out, _ = run()
    assert code == 1 and "  result:          UNHEALTHY" in out
    assert "was less than the threshold" in out
    assert f"logzio-archive check --stack {STACK}" in out.splitlines()[-1]


def test_json_document(cloudwatch):
    code, out, _ = run("--json")
    doc = json.loads(out)
    assert code == 0 and doc["healthy"] == 1.0 and doc["newest_archive_age_hours"] == 2.0
    assert doc["alarms"]["LogzioArchive-Health"]["state"] == "OK" and doc["exit_code"] == 0


def test_no_data_yet(cloudwatch):
    cloudwatch["healthy"] = cloudwatch["age"] = None
    code, out, _ = run()
    assert code == 0 and "No re-check data yet" in out and "none in the last 2 days" in out


def test_stack_without_a_watch_is_no_status(cloudwatch):
    cloudwatch["outputs"] = {"BucketName": BUCKET}
    code, out, err = run()
    assert code == 2 and "has no re-check alarm" in err and "watchSchedule" in err


def test_missing_stack_is_no_status(cloudwatch):
    out, err = io.StringIO(), io.StringIO()
    code = main(["status", "--stack", "Nope", "--region", "eu-west-1"], out=out, err=err)
    assert code == 2 and "Stack Nope does not exist in eu-west-1" in err.getvalue()


def test_an_unhealthy_recheck_exits_1_before_the_alarm_is_evaluated(cloudwatch):
    cloudwatch["healthy"] = {"Minimum": 0.0, "Timestamp": WHEN}  # the alarm still says OK
    code, out, _ = run()
    assert code == 1 and out.splitlines()[-1].startswith("UNHEALTHY: the latest re-check found")


def test_an_unexpected_failure_is_no_status_with_one_document(cloudwatch, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("Invalid endpoint: notaurl")

    monkeypatch.setattr(aws, "stack_outputs", broken)
    code, out, _ = run("--json")
    doc = json.loads(out)
    assert code == 2 and doc["error"]["what"].startswith("Reading the status failed: ValueError")
