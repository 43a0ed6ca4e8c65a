"""`logzio-archive fleet` against the emulator: archives found by their marker in a region of
their own (nothing else of the session lives there), read in batches, judged worst first."""

from __future__ import annotations

import io
import json
import os
import time
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone

import pytest

from logzio_s3_archive_runtime import fleet
from logzio_s3_archive_runtime.cli import main
from tests.cli_run import Run
from logzio_s3_archive_runtime.names import FLEET_MARKER, Metric, Output, WatchOutput

ADMIN = "admin"

FLEET_REGION = "ap-southeast-2"
EMPTY_REGION = "ca-central-1"


def _admin(emulator, service):
    import boto3

    key_id, secret = emulator.keys[ADMIN]
    return boto3.client(service, region_name=FLEET_REGION, endpoint_url=emulator.endpoint_url,
                        aws_access_key_id=key_id, aws_secret_access_key=secret)


def main_run(argv) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return Run(code, out.getvalue(), err.getvalue())


def archive_stack(emulator, name, *, healthy=None, at=None, alarm_state=None, period=3600, prefixes=("",),
                  marked=True, outputs=True):
    """A stack as the app deploys it, reduced to what the fleet reads: its outputs, the
    re-check's metrics and alarms."""
    values = {}
    for prefix in prefixes:
        bucket = f"{name.lower()}-{prefix.lower() or 'logs'}"
        values.update({prefix + Output.BUCKET_NAME: bucket,
                       prefix + Output.PROBE_VERDICT: f"OK: all 4 permissions Logz.io needs are granted on bucket {bucket}.",
                       prefix + Output.PROBE_FINDINGS: "none",
                       prefix + WatchOutput.HEALTH_ALARM: f"{name}{prefix}-ArchiveHealth"})
        if healthy is not None:
            dimensions = [{"Name": Metric.STACK, "Value": name}, {"Name": Metric.BUCKET, "Value": bucket}]
            # As the re-check publishes: Healthy and one per permission (PutObject denied when unhealthy).
            points = {Metric.HEALTHY: healthy, **{metric: 1 if healthy or action != "s3:PutObject" else 0
                                                  for action, metric in Metric.OF_ACTION.items()}}
            _admin(emulator, "cloudwatch").put_metric_data(Namespace=Metric.NAMESPACE, MetricData=[
                {"MetricName": metric, "Value": value, "Unit": "Count", "Timestamp": at, "Dimensions": dimensions}
                for metric, value in points.items()])
        _admin(emulator, "cloudwatch").put_metric_alarm(
            AlarmName=f"{name}{prefix}-ArchiveHealth", Namespace=Metric.NAMESPACE, MetricName=Metric.HEALTHY,
            Statistic="Minimum", Period=period, EvaluationPeriods=1, Threshold=1,
            ComparisonOperator="LessThanThreshold",
            Dimensions=[{"Name": Metric.STACK, "Value": name}, {"Name": Metric.BUCKET, "Value": bucket}])
        if alarm_state:
            _admin(emulator, "cloudwatch").set_alarm_state(AlarmName=f"{name}{prefix}-ArchiveHealth",
                                                            StateValue=alarm_state, StateReason="test")
    template = {"Description": f"Logz.io archive {FLEET_MARKER}" if marked else "Someone else's stack",
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    if outputs:
        template["Outputs"] = {key: {"Value": value} for key, value in values.items()}
    cloudformation = _admin(emulator, "cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    deadline = time.monotonic() + 30
    while cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] != "CREATE_COMPLETE":
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.fixture(scope="module")
def region_fleet(emulator):
    now = datetime.now(timezone.utc)
    archive_stack(emulator, "FleetHealthy", healthy=1, at=now - timedelta(minutes=10), alarm_state="OK")
    archive_stack(emulator, "FleetBroken", healthy=0, at=now - timedelta(minutes=5), alarm_state="ALARM")
    # Its last re-check was 5 hours ago, its alarm's period is an hour: two periods have passed.
    archive_stack(emulator, "FleetStale", healthy=1, at=now - timedelta(hours=5), alarm_state="OK")
    archive_stack(emulator, "FleetNoOutputs", outputs=False)
    archive_stack(emulator, "FleetTwo", healthy=1, at=now - timedelta(minutes=3), alarm_state="OK",
                  prefixes=("Prod", "Staging"))
    archive_stack(emulator, "NotAnArchive", marked=False)
    with pytest.MonkeyPatch.context() as patch:
        # (The tests' autouse fixture sets these for each test, after a module's fixtures.)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(emulator.credentials_file))
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        return fleet.run([fleet.Target(ADMIN, FLEET_REGION)], endpoint_url=emulator.endpoint_url)


def test_every_marked_archive_is_found_and_judged(region_fleet):
    states = {archive.name: archive.state(region_fleet.now) for archive in region_fleet.archives}
    assert states == {"FleetHealthy": "healthy", "FleetBroken": "unhealthy", "FleetStale": "stale",
                      "FleetNoOutputs": "not checked", "FleetTwo/Prod": "healthy", "FleetTwo/Staging": "healthy"}
    assert region_fleet.exit_code == fleet.EXIT_UNHEALTHY


def test_worst_first_with_the_reason_and_the_fix(region_fleet):
    ordered = [archive.name for archive in region_fleet.ordered()]
    assert ordered[:3] == ["FleetBroken", "FleetStale", "FleetNoOutputs"]
    broken = next(a for a in region_fleet.archives if a.name == "FleetBroken")
    reasons = broken.judge(region_fleet.now)[1]
    assert reasons[0] == "alarm in ALARM: FleetBroken-ArchiveHealth"
    assert reasons[1].startswith("the latest re-check (") and "found s3:PutObject missing" in reasons[1]
    assert "logzio-archive check --stack FleetBroken" in reasons[1]
    assert broken.permissions == {"s3:PutObject": 0, "s3:ListBucket": 1, "s3:GetObject": 1,
                                  "s3:GetBucketLocation": 1}
    [missing] = next(a for a in region_fleet.archives if a.name == "FleetNoOutputs").judge(region_fleet.now)[1]
    assert "has no archive outputs" in missing and "add_outputs()" in missing
    assert region_fleet.summary() == "6 archives: 1 unhealthy, 1 stale, 1 not checked, 3 healthy."


def test_reads_in_batches_not_per_archive(region_fleet):
    # One DescribeStacks page, one GetMetricData, one DescribeAlarms for the six archives.
    assert region_fleet.aws_calls == 3


def test_nothing_found_is_no_verdict_naming_what_was_searched(emulator):
    found = fleet.run([fleet.Target(ADMIN, EMPTY_REGION)], endpoint_url=emulator.endpoint_url)
    assert found.archives == [] and found.exit_code == fleet.EXIT_NO_VERDICT
    assert found.summary().startswith(f"No archive found (searched {ADMIN} in {EMPTY_REGION})")


def test_a_search_that_is_denied_does_not_stop_the_others(emulator, region_fleet):
    found = fleet.run([fleet.Target("full", FLEET_REGION), fleet.Target(ADMIN, FLEET_REGION)],
                      endpoint_url=emulator.endpoint_url)
    [denied] = [s for s in found.searched if s.get("error")]
    assert denied["target"] == f"full in {FLEET_REGION}" and "cloudformation:DescribeStacks" in denied["fix"]
    assert len(found.archives) == len(region_fleet.archives)


def test_the_command_table_json_and_junit(emulator, region_fleet, tmp_path):
    junit = tmp_path / "fleet.xml"
    run = main_run(["fleet", "--profile", ADMIN, "--region", FLEET_REGION, "--endpoint-url", emulator.endpoint_url,
                    "--junit", str(junit)])
    assert run.code == 1, run.out + run.err
    lines = run.out.splitlines()
    assert lines[0].split()[:6] == ["STATE", "ARCHIVE", "ACCOUNT", "REGION", "LAST", "RE-CHECK"]
    assert lines[1].startswith("UNHEALTHY") and "FleetBroken" in lines[1]
    assert lines[-1] == "6 archives: 1 unhealthy, 1 stale, 1 not checked, 3 healthy."

    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "2", "1")
    failed = {case.get("name").rsplit("/", 1)[-1]: case.find("failure") for case in suite.iter("testcase")}
    assert failed["FleetBroken"].get("type") == "unhealthy" and "alarm in ALARM" in failed["FleetBroken"].text
    assert failed["FleetHealthy"] is None

    document = json.loads(main_run(["fleet", "--profile", ADMIN, "--region", FLEET_REGION, "--endpoint-url", emulator.endpoint_url,
                                    "--json"]).out)
    assert document["exit_code"] == 1 and document["summary"] == lines[-1]
    first = document["archives"][0]
    assert {"account", "region", "stack", "prefix", "name", "bucket", "state", "reasons", "deploy_verdict",
            "deploy_findings", "last_recheck", "healthy", "newest_archive_age_hours", "permissions", "alarms", "logzio",
            "findings", "probe", "not_checked"} == set(first)
    assert (first["name"], first["state"], first["healthy"]) == ("FleetBroken", "unhealthy", 0.0)


def test_logzio_drift_names_what_differs():
    outputs = {Output.BUCKET_NAME: "acme-logs", Output.ACCESS_KEY_ID: "AKIAOURS"}
    same = {"settings": {"enabled": True, "amazonS3StorageSettings": {
        "path": "acme-logs", "credentialsType": "KEYS", "s3SecretCredentials": {"accessKey": "AKIAOURS"}}}}
    assert fleet.logzio_drift(same, outputs)[1] == []
    moved = {"settings": {"enabled": False, "amazonS3StorageSettings": {
        "path": "other-bucket", "credentialsType": "KEYS", "s3SecretCredentials": {"accessKey": "AKIATHEIRS"}}}}
    assert fleet.logzio_drift(moved, outputs)[1] == [
        "archiving is disabled in Logz.io",
        "Logz.io archives to bucket 'other-bucket', the stack's bucket is 'acme-logs'",
        "Logz.io uses access key AKIATHEIRS, the stack's key is AKIAOURS"]


def test_a_bad_concurrency_is_a_usage_error_with_one_json_document():
    run = main_run(["fleet", "--concurrency", "0", "--json"])
    assert run.code == 2
    document = json.loads(run.out)
    assert document["exit_code"] == 2 and "--concurrency" in json.dumps(document)


def test_role_archives_are_not_probed_by_the_operator_and_stay_judged_by_their_recheck():
    archive = fleet.Archive(fleet.Target(None, FLEET_REGION), "123456789012", FLEET_REGION, "RoleArchive",
                            outputs={Output.PROBE_VERDICT: "OK: all 4", Output.ROLE_ARN: "arn:aws:iam::1:role/r"})
    fleet.probe_all([archive], None, 1, 0, 0, None)
    assert archive.probe["exit_code"] is None and archive.probe["summary"].startswith("not probed")
    assert archive.state(datetime.now(timezone.utc)) == "healthy"
