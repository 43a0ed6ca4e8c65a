"""AWS::CloudWatch::Dashboard in the emulator (extension dashboard_model), through the
CloudFormation and CloudWatch APIs: created, read back with GetDashboard, updated in place,
renamed (a replacement), rolled back, refused as PutDashboard refuses a body, deleted. Plain
JSON templates (no CDK), so each stack takes a second. moto 5.2.5's own model passes the
named create/update/rename/rollback/delete tests under stack_lifecycle and stack_update; the
generated name and the body checks fail without the extension (named in their docstrings)."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.emulator.stacks import deployed, events, outputs, update_stack


REGION = "@REGION@"  # where the template has {"Ref": "AWS::Region"}


def body(title="Archives", stacks=("Prod",)):
    return {"widgets": [{"type": "text", "width": 24, "height": 2, "properties": {"markdown": f"# {title}"}}] + [
        {"type": "metric", "width": 6, "height": 6, "properties": {
            "region": REGION, "title": "Healthy",
            "metrics": [[{"expression": f"SEARCH('{{LogzioArchive,Bucket,Stack}} MetricName=\"Healthy\" "
                                        f"Stack=\"{stack}\"', 'Minimum', 3600)", "label": "Healthy"}]]}}
        for stack in stacks]}


def _joined(value):
    """`value` as CDK renders a body: a JSON text joined around its tokens (Fn::Join)."""
    pieces = json.dumps(value).split(REGION)
    parts = [pieces[0]]
    for piece in pieces[1:]:
        parts += [{"Ref": "AWS::Region"}, piece]
    return {"Fn::Join": ["", parts]}


def template(dashboard_body, name=None, extra=None):
    props = {"DashboardBody": dashboard_body if isinstance(dashboard_body, str) else _joined(dashboard_body)}
    if name:
        props["DashboardName"] = name
    resources = {"Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": props}, **(extra or {})}
    return json.dumps({"Resources": resources, "Outputs": {"Dashboard": {"Value": {"Ref": "Dashboard"}}}})


def _expected(value, region):
    return json.loads(json.dumps(value).replace(REGION, region))


def _get(emu, name):
    return emu.client("cloudwatch").get_dashboard(DashboardName=name)


def _gone(emu, name):
    with pytest.raises(ClientError) as raised:
        _get(emu, name)
    return raised.value.response["Error"]["Code"] == "ResourceNotFound"


def _physical(cfn, name):
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}["Dashboard"]


def _delete(cfn, wait_stack, name):
    stack_id = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=name)
    assert wait_stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE", events(cfn, stack_id)


def test_a_named_dashboard_is_created_read_back_updated_in_place_and_deleted(emu, wait_stack):
    cfn, name, out = deployed(emu, wait_stack, template(body(), name="Archives-e1"), prefix="dash")
    assert out["Dashboard"] == _physical(cfn, name) == "Archives-e1"
    found = _get(emu, "Archives-e1")
    # The body as the template joined it, its Ref resolved to the stack's region.
    assert json.loads(found["DashboardBody"]) == _expected(body(), emu.region)
    arn = found["DashboardArn"]
    assert arn == f"arn:aws:cloudwatch::{emu.account}:dashboard/Archives-e1"

    stack = update_stack(cfn, wait_stack, name, template(body("Two", ("Prod", "Eu")), name="Archives-e1"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    found = _get(emu, "Archives-e1")
    assert json.loads(found["DashboardBody"]) == _expected(body("Two", ("Prod", "Eu")), emu.region)
    assert found["DashboardArn"] == arn and outputs(stack) == out
    assert [d["DashboardName"] for d in emu.client("cloudwatch").list_dashboards(
        DashboardNamePrefix="Archives-e1")["DashboardEntries"]] == ["Archives-e1"]

    _delete(cfn, wait_stack, name)
    assert _gone(emu, "Archives-e1")


def test_a_generated_name_is_kept_by_an_update(emu, wait_stack):
    """moto named it with a UUID and took another at every update (the old name gone)."""
    cfn, name, out = deployed(emu, wait_stack, template(body()), prefix="dash")
    generated = out["Dashboard"]
    assert generated.startswith(f"{name}-Dashboard-") and _physical(cfn, name) == generated
    stack = update_stack(cfn, wait_stack, name, template(body("Changed")))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    assert outputs(stack)["Dashboard"] == generated
    assert json.loads(_get(emu, generated)["DashboardBody"])["widgets"][0]["properties"]["markdown"] == "# Changed"
    _delete(cfn, wait_stack, name)
    assert _gone(emu, generated)


def test_a_new_name_replaces_it_and_the_old_one_goes_in_the_cleanup(emu, wait_stack):
    cfn, name, _ = deployed(emu, wait_stack, template(body(), name="Archives-old"), prefix="dash")
    stack = update_stack(cfn, wait_stack, name, template(body(), name="Archives-new"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, name)
    assert outputs(stack)["Dashboard"] == "Archives-new" and _get(emu, "Archives-new")
    assert _gone(emu, "Archives-old")
    rows = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("PhysicalResourceId")) for e in events(cfn, name)]
    created = rows.index(("Dashboard", "UPDATE_COMPLETE", "Archives-new"))
    assert rows.index(("Dashboard", "DELETE_COMPLETE", "Archives-old")) > created  # made first, old one after
    _delete(cfn, wait_stack, name)


def test_a_failed_update_rolls_the_body_back(emu, wait_stack):
    cfn, name, _ = deployed(emu, wait_stack, template(body("Before"), name="Archives-rb"), prefix="dash")
    # The dashboard updates, then an alarm PutMetricAlarm refuses fails the update.
    broken = {"Broken": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": "Dashboard", "Properties": {
        "Namespace": "LogzioArchive", "MetricName": "Healthy", "Statistic": "Minimum", "Period": 300,
        "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "Sideways"}}}
    stack = update_stack(cfn, wait_stack, name, template(body("After"), name="Archives-rb", extra=broken))
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", events(cfn, name)
    assert json.loads(_get(emu, "Archives-rb")["DashboardBody"])["widgets"][0]["properties"]["markdown"] == "# Before"
    _delete(cfn, wait_stack, name)


@pytest.mark.parametrize("bad, reason", [
    ("not json", "must be a valid JSON object"),
    ('["widgets"]', "must be a valid JSON object"),
    ('{"start": "-P7D"}', "widgets list"),
])
def test_a_body_put_dashboard_refuses_fails_the_resource(emu, wait_stack, bad, reason):
    """moto created the dashboard with whatever body the template gave."""
    cfn = emu.client("cloudformation")
    name = f"dash-bad-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=template(bad, name=name))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    [failed] = [e for e in events(cfn, name) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "Dashboard" and reason in failed["ResourceStatusReason"]
    assert _gone(emu, name)
    cfn.delete_stack(StackName=name)
