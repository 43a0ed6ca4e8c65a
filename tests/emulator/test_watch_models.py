"""The archive watch's resources in the emulator, through the AWS API with IAM enforced: an
EventBridge Scheduler schedule on a Lambda, a CloudWatch alarm notifying an SNS topic (KMS
encrypted, TLS-only policy, email subscription), CloudWatch calls as a least-privilege
principal, and the evaluation of an alarm on its stored data points. Plain JSON templates
(no CDK), so each stack takes a second. Each test names the extension (or emulator.alarms)
it covers and fails without it on moto 5.2.5."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.emulator.stacks import deployed, events, outputs, update_stack

from emulator.alarms import evaluate

NAMESPACE = "LogzioArchive"
HANDLER = "def handler(event, context):\n    return event\n"


def _trust(service):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]}


def watch(threshold=1, expression="rate(6 hours)", display="Archive alarms", alarm_name=None,
          schedule_name=None, email="ops@example.com"):
    """The watch as archive_watch.py makes it: schedule -> function, alarm -> encrypted topic."""
    alarm = {"Namespace": NAMESPACE, "MetricName": "Healthy", "Statistic": "Minimum", "Period": 300,
             "Dimensions": [{"Name": "Stack", "Value": "Watched"}, {"Name": "Bucket", "Value": "acme-logs"}],
             "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": "LessThanThreshold",
             "TreatMissingData": "breaching", "AlarmDescription": "archive access broken",
             "AlarmActions": [{"Ref": "Topic"}], "OKActions": [{"Ref": "Topic"}]}
    if alarm_name:
        alarm["AlarmName"] = alarm_name
    schedule = {"ScheduleExpression": expression, "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                           "Input": json.dumps({"LogzioArchiveRecheck": {"StackName": "Watched"}})}}
    if schedule_name:
        schedule["Name"] = schedule_name
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]}
    topic_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "EnforceSSL", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
         "Resource": {"Ref": "Topic"}, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "AlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "sns:Publish", "Resource": {"Ref": "Topic"},
         "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}
    return json.dumps({
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": _trust("lambda.amazonaws.com")}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": HANDLER}}},
            "SchedulerRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": _trust("scheduler.amazonaws.com"),
                "Policies": [{"PolicyName": "invoke", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": ["Fn", "Arn"]}}]}}]}},
            "TopicKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": key_policy}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "TopicKey"},
                                                                "DisplayName": display}},
            "TopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
                "Topics": [{"Ref": "Topic"}], "PolicyDocument": topic_policy}},
            "Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
                "TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": email}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": alarm},
            "Schedule": {"Type": "AWS::Scheduler::Schedule", "Properties": schedule},
        },
        "Outputs": {
            "Alarm": {"Value": {"Ref": "Alarm"}}, "AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}},
            "Schedule": {"Value": {"Ref": "Schedule"}}, "ScheduleArn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}},
            "Topic": {"Value": {"Ref": "Topic"}}, "Subscription": {"Value": {"Ref": "Subscription"}},
            "Function": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}}, "TopicKey": {"Value": {"Ref": "TopicKey"}},
        },
    })


def _event_rows(cfn, name):
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events(cfn, name)]


def _alarm(emu, name):
    found = emu.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found[0] if found else None


def _error(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


# --------------------------------------------------------------------------- CloudFormation

def test_watch_stack_is_created_updated_in_place_and_deleted(emu, wait_stack):
    """alarm_model, scheduler_model, sns_models (bodyless_signature for GetSchedule): moto
    created none of the schedule, alarm, topic policy or subscription ("NOT created"; an
    output of Alarm.Arn failed CreateStack with a 500), replaced the topic on any update (new
    ARN, subscription and policy gone), and answered GetSchedule SignatureDoesNotMatch."""
    cfn, name, out = deployed(emu, wait_stack, prefix="watch", template=watch())
    sns, scheduler = emu.client("sns"), emu.client("scheduler")
    alarm = _alarm(emu, out["Alarm"])
    assert out["Alarm"].startswith(f"{name}-Alarm-") and alarm["AlarmArn"] == out["AlarmArn"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == \
        (NAMESPACE, "Healthy", "Minimum", 1.0)
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [out["Topic"]]
    assert {(d["Name"], d["Value"]) for d in alarm["Dimensions"]} == {("Stack", "Watched"), ("Bucket", "acme-logs")}
    schedule = scheduler.get_schedule(Name=out["Schedule"])
    assert schedule["Arn"] == out["ScheduleArn"] and schedule["ScheduleExpression"] == "rate(6 hours)"
    assert schedule["State"] == "ENABLED" and schedule["Target"]["Arn"] == out["Function"]
    assert json.loads(schedule["Target"]["Input"]) == {"LogzioArchiveRecheck": {"StackName": "Watched"}}
    assert schedule["Target"]["RoleArn"].split("/")[-1].startswith(f"{name}-SchedulerRole-")
    attributes = sns.get_topic_attributes(TopicArn=out["Topic"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == out["TopicKey"] and attributes["DisplayName"] == "Archive alarms"
    assert [s["Sid"] for s in json.loads(attributes["Policy"])["Statement"]] == ["EnforceSSL", "AlarmsPublish"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=out["Topic"])["Subscriptions"]
    assert [(s["SubscriptionArn"], s["Protocol"], s["Endpoint"]) for s in subscriptions] == \
        [(out["Subscription"], "email", "ops@example.com")]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.describe_stack_resources(StackName=name)["StackResources"]}
    assert (physical["Alarm"], physical["Schedule"], physical["Subscription"]) == \
        (out["Alarm"], out["Schedule"], out["Subscription"])

    stack = update_stack(cfn, wait_stack, name, watch(threshold=2, expression="cron(0 */2 * * ? *)", display="Watch"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", _event_rows(cfn, name)
    assert outputs(stack) == out  # every resource kept its physical id
    assert _alarm(emu, out["Alarm"])["Threshold"] == 2.0
    assert scheduler.get_schedule(Name=out["Schedule"])["ScheduleExpression"] == "cron(0 */2 * * ? *)"
    attributes = sns.get_topic_attributes(TopicArn=out["Topic"])["Attributes"]
    assert attributes["DisplayName"] == "Watch" and "EnforceSSL" in attributes["Policy"]
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=out["Topic"])["Subscriptions"]] \
        == [out["Subscription"]]
    updated = {lid for lid, status, _ in _event_rows(cfn, name) if status == "UPDATE_COMPLETE"}
    assert updated == {name, "Alarm", "Schedule", "Topic"}

    cfn.delete_stack(StackName=name)
    assert wait_stack(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert _alarm(emu, out["Alarm"]) is None
    assert _error(lambda: scheduler.get_schedule(Name=out["Schedule"])) == "ResourceNotFoundException"
    assert out["Topic"] not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert out["Subscription"] not in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]


def test_new_alarm_and_schedule_names_replace_them(emu, wait_stack):
    """stack_update's CREATE_ONLY (AlarmName, Schedule Name): a new name is a new resource
    and the old one goes in the cleanup phase (without the entries, the update kept the
    old alarm and schedule under their old names)."""
    n = uuid.uuid4().hex[:6]
    cfn, name, out = deployed(emu, wait_stack, prefix="watch", template=watch(alarm_name=f"health-{n}", schedule_name=f"recheck-{n}"))
    stack = update_stack(cfn, wait_stack, name, watch(alarm_name=f"health2-{n}", schedule_name=f"recheck2-{n}"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", _event_rows(cfn, name)
    after = outputs(stack)
    assert (after["Alarm"], after["Schedule"]) == (f"health2-{n}", f"recheck2-{n}")
    assert _alarm(emu, f"health-{n}") is None and _alarm(emu, f"health2-{n}")["AlarmActions"] == [out["Topic"]]
    names = [s["Name"] for s in emu.client("scheduler").list_schedules(NamePrefix="recheck")["Schedules"]]
    assert f"recheck-{n}" not in names and f"recheck2-{n}" in names
    steps = [(lid, status) for lid, status, _ in _event_rows(cfn, name)]
    assert steps.index(("Alarm", "UPDATE_COMPLETE")) < steps.index((name, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")) \
        < steps.index(("Alarm", "DELETE_COMPLETE"))


def test_failed_update_rolls_the_alarm_back(emu, wait_stack):
    """alarm_model and scheduler_model under stack_update's rollback: the alarm updated
    before an invalid schedule expression failed gets its old threshold back (moto had no
    alarm to update, and accepted any expression)."""
    cfn, name, out = deployed(emu, wait_stack, prefix="watch", template=watch())
    stack = update_stack(cfn, wait_stack, name, watch(threshold=5, expression="rate(0 hours)"))
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", _event_rows(cfn, name)
    failed = [reason for lid, status, reason in _event_rows(cfn, name) if (lid, status) == ("Schedule", "UPDATE_FAILED")]
    assert failed and "Invalid Schedule Expression rate(0 hours)" in failed[0]
    assert _alarm(emu, out["Alarm"])["Threshold"] == 1.0
    assert emu.client("scheduler").get_schedule(Name=out["Schedule"])["ScheduleExpression"] == "rate(6 hours)"


def test_alarm_definition_errors_fail_the_resource(emu, wait_stack):
    """alarm_model: what PutMetricAlarm refuses fails the resource and rolls the stack back."""
    template = json.loads(watch())
    template["Resources"]["Alarm"]["Properties"]["Period"] = 45
    cfn, name = emu.client("cloudformation"), f"watch-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    assert wait_stack(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [reason for lid, status, reason in _event_rows(cfn, name) if (lid, status) == ("Alarm", "CREATE_FAILED")]
    assert reasons and "Period 45" in reasons[0]


# --------------------------------------------------------------------------- authorization

def _cloudwatch_as(emu, *statements):
    iam, user = emu.client("iam"), f"cw-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return emu.client("cloudwatch", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


def _put(client, namespace=NAMESPACE):
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Healthy", "Value": 1, "Unit": "Count",
         "Dimensions": [{"Name": "Stack", "Value": "Auth"}, {"Name": "Bucket", "Value": "acme-logs"}]}])


def test_cloudwatch_calls_are_authorized_as_cloudwatch_actions(emu):
    """cloudwatch_authz: moto authorized PutMetricData as monitoring:PutMetricData (a grant
    of cloudwatch:PutMetricData was denied) and answered a denial as XML that botocore read
    as error code 403."""
    writer = _cloudwatch_as(emu, {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"})
    _put(writer)
    reader = _cloudwatch_as(emu, {"Effect": "Allow", "Resource": "*", "Action": [
        "cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics",
        "cloudwatch:DescribeAlarms"]})
    now = datetime.now(timezone.utc)
    points = reader.get_metric_statistics(
        Namespace=NAMESPACE, MetricName="Healthy", StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=5), Period=300, Statistics=["Minimum"],
        Dimensions=[{"Name": "Stack", "Value": "Auth"}, {"Name": "Bucket", "Value": "acme-logs"}])["Datapoints"]
    assert [p["Minimum"] for p in points] == [1.0]
    assert reader.list_metrics(Namespace=NAMESPACE, MetricName="Healthy")["Metrics"]
    reader.describe_alarms(AlarmNames=["none"])
    reader.get_metric_data(StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=5), MetricDataQueries=[
        {"Id": "h", "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": "Healthy"}, "Period": 300,
                                   "Stat": "Minimum"}}])
    assert _error(lambda: _put(reader)) == "AccessDenied"
    assert _error(lambda: writer.describe_alarms()) == "AccessDenied"
    monitoring = _cloudwatch_as(emu, {"Effect": "Allow", "Action": "monitoring:PutMetricData", "Resource": "*"})
    assert _error(lambda: _put(monitoring)) == "AccessDenied"


def test_put_metric_data_honours_the_namespace_condition(emu):
    """cloudwatch_authz: the cloudwatch:namespace condition key (moto evaluated no identity
    policy condition, so the grant allowed every namespace)."""
    scoped = _cloudwatch_as(emu, {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                                  "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}})
    _put(scoped)
    assert _error(lambda: _put(scoped, namespace="Elsewhere")) == "AccessDenied"
    denied = _cloudwatch_as(emu, {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
                            {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                             "Condition": {"StringNotEquals": {"cloudwatch:namespace": "Elsewhere"}}})
    assert _error(lambda: _put(denied)) == "AccessDenied"
    _put(denied, namespace="Elsewhere")


def test_rest_reads_without_a_body_pass_signature_checks(emu):
    """bodyless_signature: moto verified a REST GET against a payload made of its headers:
    ListSchedules and ListFunctions answered SignatureDoesNotMatch, even to the admin."""
    assert "Schedules" in emu.client("scheduler").list_schedules()
    assert "ScheduleGroups" in emu.client("scheduler").list_schedule_groups()
    assert "Functions" in emu.client("lambda").list_functions()


# --------------------------------------------------------------------------- alarm state

def _health_alarm(emu, treat="breaching", actions=()):
    name = f"health-{uuid.uuid4().hex[:8]}"
    dimensions = [{"Name": "Stack", "Value": name}, {"Name": "Bucket", "Value": "acme-logs"}]
    emu.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace=NAMESPACE, MetricName="Healthy", Dimensions=dimensions, Statistic="Minimum",
        Period=300, EvaluationPeriods=1, Threshold=1, ComparisonOperator="LessThanThreshold",
        TreatMissingData=treat, AlarmActions=list(actions), OKActions=list(actions))
    return name, dimensions


def _healthy(emu, dimensions, value, at=None):
    datum = {"MetricName": "Healthy", "Dimensions": dimensions, "Value": value, "Unit": "Count"}
    if at is not None:
        datum["Timestamp"] = at
    emu.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=[datum])


def test_new_alarm_is_insufficient_data_and_a_redefinition_keeps_its_state(emu):
    """alarm_state: moto made a new alarm OK, and PutMetricAlarm on an existing one reset it to OK."""
    name, dimensions = _health_alarm(emu)
    alarm = _alarm(emu, name)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    emu.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    _health_alarm_again = emu.client("cloudwatch").put_metric_alarm
    _health_alarm_again(AlarmName=name, Namespace=NAMESPACE, MetricName="Healthy", Dimensions=dimensions,
                        Statistic="Minimum", Period=600, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="LessThanThreshold", TreatMissingData="breaching")
    alarm = _alarm(emu, name)
    assert (alarm["StateValue"], alarm["StateReason"], alarm["Period"]) == ("ALARM", "test", 600)


def test_evaluation_gives_alarm_for_zero_and_for_missing_data_and_ok_for_one(emu):
    """emulator.alarms: moto never evaluates an alarm (it stays INSUFFICIENT_DATA, or OK on
    plain moto, whatever data comes in)."""
    name, dimensions = _health_alarm(emu)
    result = evaluate(emu, name)  # no data point: missing is breaching
    assert (result.state, result.previous_state, result.datapoints) == ("ALARM", "INSUFFICIENT_DATA", (None,))
    assert "1 missing datapoint was treated as [Breaching]" in result.reason
    assert _alarm(emu, name)["StateValue"] == "ALARM"
    _healthy(emu, dimensions, 1)
    assert evaluate(emu, name).state == "OK" == _alarm(emu, name)["StateValue"]
    _healthy(emu, dimensions, 0)  # Minimum over the period: the 0 wins
    result = evaluate(emu, name)
    assert (result.state, result.datapoints) == ("ALARM", (0.0,))
    assert result.reason.startswith("Threshold Crossed: 1 datapoint [0.0 (") and "less than the threshold (1.0)" in result.reason
    alarm = _alarm(emu, name)
    assert alarm["StateValue"] == "ALARM" and json.loads(alarm["StateReasonData"])["recentDatapoints"] == [0.0]
    later = datetime.now(timezone.utc) + timedelta(minutes=10)  # both points out of the period
    assert evaluate(emu, name, now=later).datapoints == (None,)
    assert evaluate(emu, name, now=later).changed is False


def test_evaluation_treats_missing_data_as_the_alarm_says(emu):
    """emulator.alarms: notBreaching, ignore and missing; only the alarm's own dimensions count."""
    now = datetime.now(timezone.utc)
    quiet, _ = _health_alarm(emu, treat="notBreaching")
    assert evaluate(emu, quiet).state == "OK"
    ignoring, _ = _health_alarm(emu, treat="ignore")
    assert evaluate(emu, ignoring).changed is False and _alarm(emu, ignoring)["StateValue"] == "INSUFFICIENT_DATA"
    missing, dimensions = _health_alarm(emu, treat="missing")
    _healthy(emu, dimensions[:1], 0)  # not the alarm's metric: one dimension short
    result = evaluate(emu, missing, now=now + timedelta(seconds=1))
    assert result.changed is False and result.state == "INSUFFICIENT_DATA"
    _healthy(emu, dimensions, 1, at=now - timedelta(seconds=30))
    assert evaluate(emu, missing, now=now).state == "OK"


def test_alarm_notification_reaches_the_topic_when_cloudwatch_may_publish(emu, wait_stack):
    """emulator.alarms with the watch stack (a topic policy and a key policy that let
    cloudwatch.amazonaws.com publish): ALARM, then OK, each reach an SQS subscriber."""
    cfn, name, out = deployed(emu, wait_stack, prefix="watch", template=watch())
    sqs = emu.client("sqs")
    queue = sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    emu.client("sns").subscribe(TopicArn=out["Topic"], Protocol="sqs", Endpoint=queue_arn)
    first = evaluate(emu, out["Alarm"])
    assert first.state == "ALARM" and [n.delivered for n in first.notifications] == [True]
    _healthy(emu, [{"Name": "Stack", "Value": "Watched"}, {"Name": "Bucket", "Value": "acme-logs"}], 1)
    assert evaluate(emu, out["Alarm"]).state == "OK"
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    messages = [json.loads(body["Message"]) for body in bodies]
    assert [(m["OldStateValue"], m["NewStateValue"]) for m in messages] == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")]
    assert bodies[0]["Subject"] == f'ALARM: "{out["Alarm"]}" in US East (N. Virginia)'
    assert messages[0]["Trigger"]["Namespace"] == NAMESPACE and messages[0]["AlarmArn"] == out["AlarmArn"]


def test_alarm_notification_is_not_delivered_where_cloudwatch_may_not_publish(emu):
    """emulator.alarms: as on AWS, CloudWatch cannot use the AWS managed key alias/aws/sns,
    nor publish to a topic whose policy (a TLS-only Deny alone) allows it nothing."""
    sns = emu.client("sns")
    managed = sns.create_topic(Name=f"managed-{uuid.uuid4().hex[:8]}",
                               Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    tls_only = sns.create_topic(Name=f"tls-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.set_topic_attributes(TopicArn=tls_only, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "EnforceSSL", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": tls_only,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    default = sns.create_topic(Name=f"default-{uuid.uuid4().hex[:8]}")["TopicArn"]  # moto's default policy
    name, _ = _health_alarm(emu, actions=(managed, tls_only, default))
    result = {n.action: n for n in evaluate(emu, name).notifications}
    assert not result[managed].delivered and "AWS managed key alias/aws/sns" in result[managed].detail
    assert not result[tls_only].delivered
    assert "no resource-based policy allows the SNS:Publish action" in result[tls_only].detail
    assert result[default].delivered
