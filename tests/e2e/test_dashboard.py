"""The archives' dashboard end to end: the app with two archives in one region, deployed
through the real `cdk deploy --all` into the emulator, and the dashboard read back with
GetDashboard: in the first stack only, its body naming both stacks' metrics as the
deploy-time probes published them and both stacks' real alarms."""

from __future__ import annotations

import json
import sys

import pytest

from logzio_s3_archive_runtime.names import Metric, Output, WatchOutput
from emulator import cdk_deploy
from tests.e2e.support import CDK, outputs
from tests.support import ROOT
from tests.unit.test_template_dashboard import alarm_names, searches

pytestmark = pytest.mark.e2e

ROLE = {"principal": "role", "logzioAccountId": "406095609952", "externalId": "logzio:aws:extid:dashboard"}
ARCHIVES = [{"stackName": "E2eDashKeys", "bucketName": "acme-e2e-dashboard", "maxArchiveAgeHours": "24"},
            {"stackName": "E2eDashRole", **ROLE}]
STACKS = [archive["stackName"] for archive in ARCHIVES]
CONTEXT = {"archives": json.dumps(ARCHIVES), "settleSeconds": "0"}


@pytest.fixture(scope="module")
def deployed(bootstrapped, tmp_path_factory):
    """Everything read right after the deploy (another test's app may put a dashboard of the
    same name later in the session)."""
    emu = bootstrapped
    code, log = cdk_deploy(emu, CDK, str(ROOT), ["--all"], context=CONTEXT,
                           extra_args=["--app", f"{sys.executable} app.py",
                                       "--output", str(tmp_path_factory.mktemp("dashboard"))])
    assert code == 0, log
    cloudwatch, cfn = emu.client("cloudwatch"), emu.client("cloudformation")
    name = f"LogzioArchives-{emu.region}-{STACKS[0]}"
    alarms = [o[key] for o in (outputs(emu, stack) for stack in STACKS)
              for key in (WatchOutput.HEALTH_ALARM, WatchOutput.FRESHNESS_ALARM) if key in o]
    return {
        "name": name,
        "dashboard": cloudwatch.get_dashboard(DashboardName=name),
        "resources": {stack: [(r["ResourceType"], r["PhysicalResourceId"]) for r in
                              cfn.describe_stack_resources(StackName=stack)["StackResources"]] for stack in STACKS},
        "buckets": {stack: outputs(emu, stack)[Output.BUCKET_NAME] for stack in STACKS},
        "alarms": {a["AlarmName"]: a["AlarmArn"]
                   for a in cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"]},
        "metrics": [{"MetricName": m["MetricName"], **{d["Name"]: d["Value"] for d in m["Dimensions"]}}
                    for m in cloudwatch.get_paginator("list_metrics").paginate(Namespace=Metric.NAMESPACE)
                    .build_full_result()["Metrics"]],
    }


def test_the_first_stack_holds_the_dashboard_of_the_region(deployed):
    first, second = STACKS
    assert ("AWS::CloudWatch::Dashboard", deployed["name"]) in deployed["resources"][first]
    assert not [r for r in deployed["resources"][second] if r[0] == "AWS::CloudWatch::Dashboard"]
    assert deployed["dashboard"]["DashboardName"] == deployed["name"]


def test_the_body_names_both_stacks_metrics_as_they_were_published(deployed):
    body = json.loads(deployed["dashboard"]["DashboardBody"])
    found = searches(body)
    assert {s["terms"][Metric.STACK] for s in found} == set(STACKS)
    # The deploy-time probe published each stack's Healthy and per-permission points: every
    # SEARCH for those finds exactly its stack's series (Stack, and Bucket where named).
    first_points = {Metric.HEALTHY, *Metric.OF_ACTION.values()}
    for search in found:
        if search["terms"]["MetricName"] not in first_points:
            continue
        matches = [m for m in deployed["metrics"] if set(m) == {"MetricName", Metric.STACK, Metric.BUCKET}
                   and all(m[key] == value for key, value in search["terms"].items())]
        stack = search["terms"][Metric.STACK]
        assert [m[Metric.BUCKET] for m in matches] == [deployed["buckets"][stack]], search
    # The given bucket name is in its searches; the generated one (its own stack's) is not.
    assert {s["terms"][Metric.STACK]: s["terms"].get(Metric.BUCKET) for s in found} == {
        "E2eDashKeys": "acme-e2e-dashboard", "E2eDashRole": None}
    assert {w["properties"]["region"] for w in body["widgets"] if w["type"] == "metric"} == {"us-east-1"}


def test_the_alarm_widget_shows_both_stacks_real_alarms(deployed):
    body = json.loads(deployed["dashboard"]["DashboardBody"])
    arns = [arn for widget in body["widgets"] if widget["type"] == "alarm" for arn in widget["properties"]["alarms"]]
    assert alarm_names(body) == ["E2eDashKeys-ArchiveHealth", "E2eDashKeys-ArchiveFreshness",
                                 "E2eDashRole-ArchiveHealth"]
    # The ARNs the body built from the names are those of the alarms the stacks created.
    assert arns == [deployed["alarms"][name] for name in alarm_names(body)]
