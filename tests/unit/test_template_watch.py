"""The scheduled re-check in the template (watchSchedule, maxArchiveAgeHours, alarmEmail):
for each part, the variant that has it and the one that must not.

Three apps: the shipped one (the default watch), watchSchedule=off, and a custom one with
every optional part (cron schedule, freshness alarm, email, verify=always); all three are in
conftest's COMBINATIONS or the shipped fixture, so cdk-nag (every synth) and cfn-lint
(test_template_settings) run on each."""

from __future__ import annotations

import json

import pytest

from logzio_s3_archive_runtime.names import RECHECK_EVENT, STACK_NAME, Metric, Property, WatchOutput
from logzio_s3_archive.settings import SettingsError
from tests.support import of_type, only, synth

#: What the watch adds to a stack, and nothing else does.
WATCH_TYPES = {"AWS::Scheduler::Schedule", "AWS::CloudWatch::Alarm", "AWS::SNS::Topic",
               "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription"}
CUSTOM = "watch-custom"


@pytest.fixture(scope="module")
def default(shipped):
    return shipped.raw()


@pytest.fixture(scope="module")
def off(combination):
    return combination("watch-off").raw()


@pytest.fixture(scope="module")
def custom(combination):
    return combination(CUSTOM).raw()


def alarms(template) -> dict:
    """The alarms by metric name."""
    return {a["Properties"]["MetricName"]: a for a in of_type(template["Resources"], "AWS::CloudWatch::Alarm").values()}


def schedule_input(schedule: dict) -> dict:
    """The schedule's Input, a JSON text CloudFormation joins around tokens, as an object
    whose token values are the template's own (Ref, Fn::GetAtt)."""
    raw = schedule["Properties"]["Target"]["Input"]
    if isinstance(raw, str):
        return json.loads(raw)
    text, tokens = "", {}
    for part in raw["Fn::Join"][1]:
        if isinstance(part, str):
            text += part
        else:
            marker = f"@token{len(tokens)}@"
            tokens[marker] = part
            text += marker

    def restore(value):
        if isinstance(value, dict):
            return {key: restore(item) for key, item in value.items()}
        return tokens.get(value, value)
    return restore(json.loads(text))


def probe_properties(template) -> dict:
    _, probe = only(template["Resources"], "Custom::LogzioArchiveProbe")
    return {name: value for name, value in probe["Properties"].items()
            if name not in ("ServiceToken", "ServiceTimeout")}


def probe_role_statements(template) -> list[dict]:
    [policy] = [p for name, p in of_type(template["Resources"], "AWS::IAM::Policy").items()
                if name.startswith("PermissionProbeRoleDefaultPolicy")]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def alarm_arn(name: str) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":alarm:{name}"]]}


# --- The schedule


def test_default_schedule_runs_the_probe_function_every_six_hours(default):
    _, schedule = only(default["Resources"], "AWS::Scheduler::Schedule")
    function_id, _ = only(default["Resources"], "AWS::Lambda::Function")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(6 hours)"
    assert props["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert props["State"] == "ENABLED" and props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # A re-check that could not start before the next one is due is dropped, not queued for a day.
    assert props["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 6 * 3600, "MaximumRetryAttempts": 3}


def test_schedule_and_alarms_come_after_the_deploy_time_probe(default, custom):
    """A first re-check before the new key or policy works (IAM is eventually consistent; the
    deploy-time probe waits for it) would be a false alarm."""
    for template in (default, custom):
        probe_id, _ = only(template["Resources"], "Custom::LogzioArchiveProbe")
        watched = {**of_type(template["Resources"], "AWS::Scheduler::Schedule"),
                   **of_type(template["Resources"], "AWS::CloudWatch::Alarm")}
        assert len(watched) == (2 if template is default else 3)
        for resource in watched.values():
            assert probe_id in resource["DependsOn"]


def test_schedule_input_is_the_probe_properties_and_the_stack(default):
    _, schedule = only(default["Resources"], "AWS::Scheduler::Schedule")
    event = schedule_input(schedule)
    assert list(event) == [RECHECK_EVENT]
    assert event[RECHECK_EVENT] == {**probe_properties(default), STACK_NAME: "LogzioArchive"}
    assert event[RECHECK_EVENT][Property.BUCKET_NAME] == {"Ref": only(default["Resources"], "AWS::S3::Bucket")[0]}


def test_schedule_input_leaves_out_the_per_deploy_nonce(custom):
    """verify=always gives the custom resource a new RunOnEveryDeploy each synth; the schedule
    must not change with it."""
    _, schedule = only(custom["Resources"], "AWS::Scheduler::Schedule")
    properties = probe_properties(custom)
    assert Property.RUN_ON_EVERY_DEPLOY in properties
    del properties[Property.RUN_ON_EVERY_DEPLOY]
    assert schedule_input(schedule)[RECHECK_EVENT] == {**properties, STACK_NAME: "LogzioArchive"}


@pytest.mark.parametrize("name", ["role", "existing"])
def test_schedule_input_follows_the_principal_and_the_bucket(combination, name):
    template = combination(name).raw()
    _, schedule = only(template["Resources"], "AWS::Scheduler::Schedule")
    event = schedule_input(schedule)[RECHECK_EVENT]
    assert event == {**probe_properties(template), STACK_NAME: "LogzioArchive"}
    if name == "role":
        assert Property.ROLE_ARN in event and Property.SECRET_ARN not in event
    else:
        assert event[Property.BUCKET_NAME] == "acme-existing-logs"


def test_custom_cron_schedule_and_its_daily_period(custom):
    _, schedule = only(custom["Resources"], "AWS::Scheduler::Schedule")
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert schedule["Properties"]["Target"]["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    # A day plus slack (a tenth of the day): a run a little late never leaves a window empty.
    assert {a["Properties"]["Period"] for a in alarms(custom).values()} == {86400 + 8640}


def test_the_schedule_role_may_only_invoke_the_probe_function(default):
    _, schedule = only(default["Resources"], "AWS::Scheduler::Schedule")
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = default["Resources"][role_id]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    [policy] = [p for p in of_type(default["Resources"], "AWS::IAM::Policy").values()
                if p["Properties"].get("Roles") == [{"Ref": role_id}]]
    function_id, _ = only(default["Resources"], "AWS::Lambda::Function")
    arn = {"Fn::GetAtt": [function_id, "Arn"]}
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [{
        "Action": "lambda:InvokeFunction", "Effect": "Allow",
        "Resource": [arn, {"Fn::Join": ["", [arn, ":*"]]}]}]


# --- The metrics grant


def test_the_probe_role_may_put_metrics_in_its_namespace_only(default, off):
    [statement] = [s for s in probe_role_statements(default) if "cloudwatch" in json.dumps(s["Action"])]
    assert statement == {"Sid": "PublishRecheckMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
                         "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespace": Metric.NAMESPACE}}}
    assert not [s for s in probe_role_statements(off) if "cloudwatch" in json.dumps(s["Action"])]


# --- The alarms


def test_health_alarm_fires_on_an_unhealthy_or_a_missing_recheck(default):
    [(name, alarm)] = alarms(default).items()
    assert name == Metric.HEALTHY
    topic_id, _ = only(default["Resources"], "AWS::SNS::Topic")
    bucket_id, _ = only(default["Resources"], "AWS::S3::Bucket")
    props = dict(alarm["Properties"])  # (a copy: the template is the session's shared one)
    description = props.pop("AlarmDescription")
    assert props == {
        "AlarmName": "LogzioArchive-ArchiveHealth", "Namespace": Metric.NAMESPACE, "MetricName": Metric.HEALTHY,
        "Dimensions": [{"Name": Metric.BUCKET, "Value": {"Ref": bucket_id}},
                       {"Name": Metric.STACK, "Value": "LogzioArchive"}],
        "Statistic": "Minimum", "Period": 6 * 3600 + 2160, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
        "ComparisonOperator": "LessThanThreshold", "Threshold": 1, "TreatMissingData": "breaching",
        "AlarmActions": [{"Ref": topic_id}], "OKActions": [{"Ref": topic_id}]}
    assert "logzio-archive status --stack LogzioArchive" in description
    assert "logzio-archive check --stack LogzioArchive" in description


def test_freshness_alarm_only_when_max_archive_age_is_set(default, custom):
    assert Metric.NEWEST_ARCHIVE_AGE_HOURS not in alarms(default)
    found = alarms(custom)
    assert set(found) == {Metric.HEALTHY, Metric.NEWEST_ARCHIVE_AGE_HOURS}
    props = found[Metric.NEWEST_ARCHIVE_AGE_HOURS]["Properties"]
    topic_id, _ = only(custom["Resources"], "AWS::SNS::Topic")
    assert (props["AlarmName"], props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
        "LogzioArchive-ArchiveFreshness", "Maximum", "GreaterThanThreshold", 48)
    assert (props["EvaluationPeriods"], props["TreatMissingData"]) == (1, "notBreaching")
    assert props["Dimensions"] == found[Metric.HEALTHY]["Properties"]["Dimensions"]
    assert props["AlarmActions"] == props["OKActions"] == [{"Ref": topic_id}]
    assert "logzio-archive status --stack LogzioArchive" in props["AlarmDescription"]


def test_each_archive_watches_its_own_stack(combination):
    several = combination("several")
    for stack in ("LogzioProd", "LogzioEu"):
        [alarm] = alarms(several.raw(stack)).values()
        assert alarm["Properties"]["AlarmName"] == f"{stack}-ArchiveHealth"
        assert {"Name": Metric.STACK, "Value": stack} in alarm["Properties"]["Dimensions"]


# --- The topic


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(default):
    resources = default["Resources"]
    _, topic = only(resources, "AWS::SNS::Topic")
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = resources[key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    # The AWS managed key (alias/aws/sns) would not let CloudWatch publish: the alarms would
    # go off in silence.
    assert {"Sid": "AlarmsEncryptNotifications", "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"} in key["Properties"]["KeyPolicy"]["Statement"]


@pytest.mark.parametrize("variant, names", [
    ("default", ["LogzioArchive-ArchiveHealth"]),
    (CUSTOM, ["LogzioArchive-ArchiveHealth", "LogzioArchive-ArchiveFreshness"])])
def test_topic_is_tls_only_and_open_to_this_stack_s_alarms_only(shipped, combination, variant, names):
    template = shipped.raw() if variant == "default" else combination(variant).raw()
    topic_id, _ = only(template["Resources"], "AWS::SNS::Topic")
    _, policy = only(template["Resources"], "AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    deny, allow = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    assert allow == {"Sid": "AlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": {"Ref": topic_id},
                     "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                   "ArnLike": {"aws:SourceArn": [alarm_arn(name) for name in names]}}}


def test_email_subscription_only_when_alarm_email_is_set(default, custom):
    assert not of_type(default["Resources"], "AWS::SNS::Subscription")
    topic_id, _ = only(custom["Resources"], "AWS::SNS::Topic")
    _, subscription = only(custom["Resources"], "AWS::SNS::Subscription")
    assert subscription["Properties"] == {"Protocol": "email", "Endpoint": "ops@example.com",
                                          "TopicArn": {"Ref": topic_id}}


# --- Outputs, and off


def test_outputs_name_the_alarms_the_topic_and_the_schedule(default, custom):
    outputs = default["Outputs"]
    topic_id, _ = only(default["Resources"], "AWS::SNS::Topic")
    schedule_id, _ = only(default["Resources"], "AWS::Scheduler::Schedule")
    assert outputs[WatchOutput.HEALTH_ALARM]["Value"] == alarms(default)[Metric.HEALTHY]["Properties"]["AlarmName"]
    assert outputs[WatchOutput.TOPIC_ARN]["Value"] == {"Ref": topic_id}
    assert outputs[WatchOutput.SCHEDULE]["Value"] == {"Ref": schedule_id}
    assert WatchOutput.FRESHNESS_ALARM not in outputs
    assert custom["Outputs"][WatchOutput.FRESHNESS_ALARM]["Value"] == "LogzioArchive-ArchiveFreshness"


def test_off_creates_none_of_the_watch_resources(default, off):
    types = {r["Type"] for r in off["Resources"].values()}
    assert not types & WATCH_TYPES
    assert WATCH_TYPES - {"AWS::SNS::Subscription"} <= {r["Type"] for r in default["Resources"].values()}
    assert not of_type(off["Resources"], "AWS::KMS::Key"), "the topic's key goes with the topic"
    assert [name for name in of_type(off["Resources"], "AWS::IAM::Role")] == \
        [name for name in of_type(default["Resources"], "AWS::IAM::Role") if name.startswith("PermissionProbeRole")]
    assert not {WatchOutput.HEALTH_ALARM, WatchOutput.FRESHNESS_ALARM, WatchOutput.TOPIC_ARN,
                WatchOutput.SCHEDULE} & set(off["Outputs"])
    # The watch adds one property to the probe's, the stack its metrics are for (the probe
    # that passed publishes the first Healthy point), and changes none of the others.
    with_watch = dict(probe_properties(default))
    assert with_watch.pop(Property.METRICS_STACK) == "LogzioArchive"
    assert probe_properties(off) == with_watch


# --- Invalid values stop synth (before any construct exists) with the setting and the fix


@pytest.mark.parametrize("context, message", [
    ({"watchSchedule": "rate(6 weeks)"}, "watchSchedule 'rate(6 weeks)': the unit must be minute(s), hour(s) "
                                         "or day(s), not 'weeks', e.g. rate(6 hours)."),
    ({"watchSchedule": "rate(0 hours)"}, "watchSchedule 'rate(0 hours)': the value must be a positive whole "
                                         "number, e.g. rate(6 hours)."),
    ({"watchSchedule": "cron(0 6 * * ?)"}, "watchSchedule 'cron(0 6 * * ?)' has 5 fields; EventBridge cron "
                                           "takes six: minutes hours day-of-month month day-of-week year"),
    ({"alarmEmail": "ops@example"}, "alarmEmail 'ops@example' is not an email address: give one address "
                                    "such as ops@example.com"),
    ({"maxArchiveAgeHours": "0"}, "maxArchiveAgeHours 0 is out of range: give a number from 1 to 8760."),
    ({"maxArchiveAgeHours": "-1"}, "maxArchiveAgeHours -1 is out of range: give a number from 1 to 8760."),
    ({"maxArchiveAgeHours": "x"}, "maxArchiveAgeHours 'x' is not a whole number: give a number from 1 to 8760."),
])
def test_invalid_watch_settings_stop_synth(context, message):
    with pytest.raises(SettingsError) as error:
        synth(context)
    assert str(error.value).startswith(message)


def test_cdk_nag_would_catch_a_plain_topic(monkeypatch):
    """The non-compliant case of SNS3: the same topic without its key and TLS-only policy.
    (cdk-nag 3's AwsSolutions pack has no SNS2, the encryption rule: the key is asserted above.)"""
    import re

    import logzio_s3_archive.watch

    class PlainTopic(logzio_s3_archive.watch.sns.Topic):
        def __init__(self, scope, id, *, master_key=None, enforce_ssl=None, **kwargs):
            super().__init__(scope, id, **kwargs)

    monkeypatch.setattr(logzio_s3_archive.watch.sns, "Topic", PlainTopic)
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        synth({"stackName": "PlainTopic"})
    found = set(re.findall(r"Acknowledge with 'AwsSolutions::([^']+)'", str(failure.value)))
    assert found == {"AwsSolutions-SNS3"}


@pytest.mark.parametrize("interval, run, period", [
    (6 * 3600, 180, 6 * 3600 + 2160),  # a tenth of the interval
    (300, 180, 300 + 480),  # a whole run plus 5 minutes
    (3600, 700, 3600 + 1020),  # rounded up to a whole minute (700 + 300 = 1000 s -> 1020)
])
def test_the_alarm_period_leaves_room_for_a_late_run(interval, run, period):
    from logzio_s3_archive.watch import alarm_period_seconds
    assert alarm_period_seconds(interval, run) == period
    assert period % 60 == 0 and period > interval + run
