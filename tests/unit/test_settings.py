"""Each setting: a value that is accepted and one that stops synth with the fix."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from logzio_s3_archive.settings import ArchiveSettings, Lifecycle, SettingsError, Verify
from stacks.settings import AppSettings, ArchiveEntry
from tests.support import ROOT, synth


def entry(**context) -> ArchiveEntry:
    """One archive of the app, through the same entry point as app.py."""
    [archive] = AppSettings.from_context(context).archives
    return archive


def parse(**context) -> ArchiveSettings:
    """One archive's settings (what the library gets), through the same entry point as app.py."""
    return entry(**context).settings


def test_defaults():
    settings = parse()
    assert settings == ArchiveSettings()
    assert (settings.bucket_name, settings.verify, settings.key_deadline_seconds,
            settings.settle_seconds, settings.lifecycle) == (None, Verify.ON_CHANGE, 90, 30, None)
    assert settings.probe_timeout_seconds == 180


@pytest.mark.parametrize("name", ["logs-archive", "a.b-c.1", "abc", "x" * 63])
def test_valid_bucket_names(name):
    assert parse(bucketName=name).bucket_name == name


@pytest.mark.parametrize("name, why", [
    ("ab", "3 to 63"), ("x" * 64, "3 to 63"), ("Logs_Archive", "lowercase"),
    ("-logs", "begin and end"), ("logs..archive", "adjacent dots"), ("192.168.1.1", "IP address"),
    ("xn--logs", "xn--"), ("logs-s3alias", "-s3alias"),
])
def test_invalid_bucket_names(name, why):
    with pytest.raises(SettingsError) as error:
        parse(bucketName=name)
    assert "bucketName" in str(error.value) and why in str(error.value)
    assert "-c bucketName=" in str(error.value)


@pytest.mark.parametrize("value, expected", [("always", Verify.ALWAYS), ("on-change", Verify.ON_CHANGE)])
def test_verify(value, expected):
    assert parse(verify=value).verify is expected


def test_verify_refuses_other_values():
    with pytest.raises(SettingsError, match="verify 'sometimes' is not one of: on-change, always"):
        parse(verify="sometimes")


@pytest.mark.parametrize("setting, value, expected", [
    ("keyDeadlineSeconds", "120", 120), ("keyDeadlineSeconds", 5, 5),
    ("settleSeconds", "0", 0), ("settleSeconds", 300, 300)])
def test_deadlines(setting, value, expected):
    settings = parse(**{setting: value})
    field = {"keyDeadlineSeconds": "key_deadline_seconds", "settleSeconds": "settle_seconds"}[setting]
    assert getattr(settings, field) == expected


@pytest.mark.parametrize("setting, value, message", [
    ("keyDeadlineSeconds", "0", "out of range"), ("keyDeadlineSeconds", "601", "out of range"),
    ("settleSeconds", "-1", "out of range"), ("settleSeconds", "ten", "not a whole number"),
    ("settleSeconds", True, "not a whole number")])
def test_deadlines_refused(setting, value, message):
    with pytest.raises(SettingsError, match=f"{setting} .*{message}"):
        parse(**{setting: value})


@pytest.mark.parametrize("storage_class, days", [
    ("STANDARD_IA", "30"), ("ONEZONE_IA", 30), ("INTELLIGENT_TIERING", "0"), ("glacier_ir", "90")])
def test_restorable_lifecycle(storage_class, days):
    lifecycle = parse(storageClass=storage_class, transitionDays=days).lifecycle
    assert lifecycle == Lifecycle(int(days), storage_class.upper())


@pytest.mark.parametrize("storage_class, label", [
    ("GLACIER", "Glacier Flexible Retrieval"), ("DEEP_ARCHIVE", "Glacier Deep Archive")])
def test_unrestorable_storage_classes_refused(storage_class, label):
    with pytest.raises(SettingsError) as error:
        parse(storageClass=storage_class, transitionDays="90")
    message = str(error.value)
    assert f"storageClass {storage_class} ({label}) would break restore" in message
    assert "GLACIER_IR" in message


@pytest.mark.parametrize("context, message", [
    ({"storageClass": "COLD"}, "not a storage class restore can read"),
    ({"transitionDays": "30"}, "storageClass is not"),
    ({"storageClass": "STANDARD_IA"}, "transitionDays is not"),
    ({"storageClass": "STANDARD_IA", "transitionDays": "10"}, "transitionDays 10 is out of range"),
])
def test_incomplete_or_wrong_lifecycle_refused(context, message):
    with pytest.raises(SettingsError, match=message):
        parse(**context)


def test_unknown_setting_is_refused_with_a_suggestion():
    with pytest.raises(SettingsError, match="Unknown setting 'buckeName'. Did you mean 'bucketName'"):
        parse(buckeName="x")


def test_namespaced_context_is_not_a_setting():
    parse(**{"@aws-cdk/core:checkSecretUsage": True, "aws:cdk:enable-path-metadata": True})


def test_stack_name():
    assert entry(stackName="Logs-Prod").stack_name == "Logs-Prod"
    with pytest.raises(SettingsError, match="stackName 'logs_prod'"):
        parse(stackName="logs_prod")


def test_bad_setting_stops_synth_before_any_aws_call():
    """Through the real entry point: exit status 1, the message, no traceback."""
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "CDK_CONTEXT_JSON": '{"bucketName": "Bad_Name"}',
                                 "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                                 "AWS_EC2_METADATA_DISABLED": "true"}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: bucketName 'Bad_Name' is not a valid S3 bucket name")
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def customized():
    return synth({"bucketName": "acme-logzio-archive", "transitionDays": "30",
                  "storageClass": "STANDARD_IA", "verify": "always", "settleSeconds": "5",
                  "keyDeadlineSeconds": "120"})


def test_settings_reach_the_template(customized):
    resources = customized.raw()["Resources"]
    bucket = next(r for r in resources.values() if r["Type"] == "AWS::S3::Bucket")
    assert bucket["Properties"]["BucketName"] == "acme-logzio-archive"
    assert bucket["Properties"]["LifecycleConfiguration"] == {"Rules": [{
        "Id": "ArchiveTransition", "Status": "Enabled",
        "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]}]}
    probe = next(r for r in resources.values() if r["Type"] == "Custom::LogzioArchiveProbe")
    assert probe["Properties"]["SettleSeconds"] == "5"
    assert probe["Properties"]["KeyDeadlineSeconds"] == "120"
    assert probe["Properties"]["RunOnEveryDeploy"].isdigit()
    fn = next(r for r in resources.values() if r["Type"] == "AWS::Lambda::Function")
    assert fn["Properties"]["Timeout"] == 210


# --- Settings real setups need (existing bucket, KMS, role, expiration, several archives)

from logzio_s3_archive.settings import Encryption, Principal  # noqa: E402

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = {"principal": "role", "logzioAccountId": "406095609952", "externalId": "logzio:aws:extid:x1"}


def test_existing_bucket():
    archive = entry(existingBucket="acme-logs")
    assert (archive.existing_bucket, archive.settings.bucket_name, archive.bucket) == ("acme-logs", None, "acme-logs")
    # Legacy us-east-1 names predate today's rules and still exist.
    assert entry(existingBucket="Legacy_Logs").existing_bucket == "Legacy_Logs"


@pytest.mark.parametrize("context, message", [
    ({"existingBucket": "acme logs"}, "existingBucket 'acme logs' is not an S3 bucket name"),
    ({"existingBucket": "acme-logs", "bucketName": "other-logs"}, "bucketName and existingBucket are both set"),
    ({"existingBucket": "acme-logs", "expireDays": "30"}, "cannot be used with existingBucket"),
])
def test_existing_bucket_refused(context, message):
    with pytest.raises(SettingsError, match=message):
        parse(**context)


def test_kms_with_a_new_or_a_given_key():
    assert parse(encryption="kms").encryption is Encryption.KMS
    archive = entry(encryption="kms", kmsKeyArn=KEY, existingBucket="acme-logs")
    assert (archive.kms_key_arn, archive.settings.encryption) == (KEY, Encryption.KMS)


@pytest.mark.parametrize("context, message", [
    ({"encryption": "aes"}, "encryption 'aes' is not one of: s3, kms"),
    ({"kmsKeyArn": KEY}, "kmsKeyArn is set but encryption is not kms"),
    ({"encryption": "kms", "kmsKeyArn": "alias/logs"}, "kmsKeyArn 'alias/logs' is not a KMS key ARN"),
    ({"encryption": "kms", "existingBucket": "acme-logs"}, "needs kmsKeyArn"),
])
def test_kms_refused(context, message):
    with pytest.raises(SettingsError, match=message):
        parse(**context)


def test_role_principal():
    settings = parse(**ROLE)
    assert (settings.principal, settings.logzio_account_id, settings.external_id) == (
        Principal.ROLE, "406095609952", "logzio:aws:extid:x1")


@pytest.mark.parametrize("context, message", [
    ({"principal": "group"}, "principal 'group' is not one of: user, role"),
    ({"principal": "role", "externalId": "abc"}, "principal=role needs logzioAccountId"),
    ({"principal": "role", "logzioAccountId": "4060956099"}, "not a 12-digit AWS account id"),
    ({"principal": "role", "logzioAccountId": "406095609952"}, "principal=role needs externalId"),
    ({**ROLE, "externalId": "has space"}, "is not a valid external id"),
    ({"externalId": "abc"}, "logzioAccountId/externalId are for principal=role"),
])
def test_role_principal_refused(context, message):
    with pytest.raises(SettingsError, match=message):
        parse(**context)


def test_expiration():
    assert parse(expireDays="365").lifecycle == Lifecycle(expire_days=365)
    both = parse(transitionDays="30", storageClass="GLACIER_IR", expireDays="400").lifecycle
    assert both == Lifecycle(30, "GLACIER_IR", 400)


@pytest.mark.parametrize("context, message", [
    ({"expireDays": "0"}, "expireDays 0 is out of range"),
    ({"transitionDays": "90", "storageClass": "GLACIER_IR", "expireDays": "60"},
     "expireDays 60 is not after transitionDays 90"),
])
def test_expiration_refused(context, message):
    with pytest.raises(SettingsError, match=message):
        parse(**context)


def test_region():
    assert entry(region="eu-central-1").region == "eu-central-1"
    with pytest.raises(SettingsError, match="region 'Frankfurt' is not an AWS region name"):
        parse(region="Frankfurt")


def test_several_archives_inherit_the_top_level_settings():
    settings = AppSettings.from_context({
        "settleSeconds": "5", "encryption": "kms",
        "archives": [{"stackName": "LogzioProd", "bucketName": "acme-prod"},
                     {"stackName": "LogzioEu", "region": "eu-west-1", "encryption": "s3", **ROLE}]})
    prod, eu = settings.archives
    assert (prod.stack_name, prod.settings.bucket_name, prod.settings.settle_seconds,
            prod.settings.encryption) == ("LogzioProd", "acme-prod", 5, Encryption.KMS)
    assert (eu.region, eu.settings.principal, eu.settings.encryption, eu.settings.settle_seconds) == (
        "eu-west-1", Principal.ROLE, Encryption.S3, 5)


def test_archives_given_as_json_on_the_command_line():
    settings = AppSettings.from_context({"archives": '[{"stackName": "A"}, {"stackName": "B"}]'})
    assert [a.stack_name for a in settings.archives] == ["A", "B"]


def test_one_archive_without_a_list():
    assert AppSettings.from_context({"bucketName": "acme-logs"}).archives == (
        ArchiveEntry(settings=ArchiveSettings(bucket_name="acme-logs")),)


@pytest.mark.parametrize("archives, message", [
    ([{"stackName": "A"}, {"stackName": "A"}], r"archives\[0\] and archives\[1\] both use stackName 'A'"),
    ([{"stackName": "A", "bucketName": "acme-x"}, {"stackName": "B", "existingBucket": "acme-x"}],
     "both use bucketName/existingBucket 'acme-x'"),
    ([{"bucketName": "acme-x"}], r"archives\[0\].stackName is missing"),
    ([{"stackName": "A"}, {"stackName": "B", "buckeName": "x"}],
     r"Unknown setting 'archives\[1\].buckeName'. Did you mean 'bucketName'"),
    ([{"stackName": "A", "storageClass": "DEEP_ARCHIVE", "transitionDays": "9"}],
     r"archives\[0\].storageClass DEEP_ARCHIVE \(Glacier Deep Archive\) would break restore"),
    ("[{oops", "archives is not valid JSON"),
    ([], "archives must be a non-empty list"),
])
def test_several_archives_refused(archives, message):
    with pytest.raises(SettingsError, match=message):
        AppSettings.from_context({"archives": archives})


def test_key_serial_rotates_the_user_key():
    assert parse(keySerial="2").key_serial == 2
    with pytest.raises(SettingsError, match="keySerial rotates the access key of principal=user"):
        parse(keySerial="2", **ROLE)
    with pytest.raises(SettingsError, match="keySerial 'two' is not a whole number"):
        parse(keySerial="two")


def test_keys_the_cdk_command_line_keeps_are_not_settings():
    """`cdk acknowledge` and `cdk cli-telemetry` write these into cdk.context.json."""
    parse(**{"acknowledged-issue-numbers": [32775], "cli-telemetry": False})


def test_kms_key_must_be_in_the_archive_region():
    assert entry(encryption="kms", kmsKeyArn=KEY, region="eu-west-1").kms_key_arn == KEY
    with pytest.raises(SettingsError, match="kmsKeyArn is in eu-west-1 but region is us-east-1"):
        parse(encryption="kms", kmsKeyArn=KEY, region="us-east-1")


def test_external_id_is_ascii():
    with pytest.raises(SettingsError, match="is not a valid external id"):
        parse(**{**ROLE, "externalId": "lögzio-ext"})


@pytest.mark.parametrize("value", [
    "logzio:aws:extid:...",  # the README's example, copied as is
    "logzio:aws:extid:", "...", "logzio:aws:extid:abc...",
    "<external-id>", "logzio:aws:extid:<id>", "logzio:aws:extid:\u2026",
])
def test_placeholder_external_id_stops_synth(value):
    with pytest.raises(SettingsError) as error:
        parse(**{**ROLE, "externalId": value})
    message = str(error.value)
    assert message.startswith(f"externalId {value!r} is a placeholder"), message
    assert "copy the external id from Logz.io's archive page" in message


def test_placeholder_external_id_names_the_archive_entry():
    with pytest.raises(SettingsError, match=r"archives\[0\]\.externalId 'logzio:aws:extid:\.\.\.' is a placeholder"):
        AppSettings.from_context({"archives": [{"stackName": "LogzioEu", **ROLE,
                                                "externalId": "logzio:aws:extid:..."}]})


@pytest.mark.parametrize("value", ["logzio:aws:extid:x1", "logzio:aws:extid:a1.b2",
                                   "3f2a9c1e-7d4b-4e8a-9b6c-1d2e3f4a5b6c", "ab"])
def test_real_external_ids_are_not_placeholders(value):
    assert parse(**{**ROLE, "externalId": value}).external_id == value


def test_placeholder_external_id_stops_synth_through_app_py():
    context = json.dumps({**ROLE, "externalId": "logzio:aws:extid:..."})
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True,
                            env={**APP_ENV, "CDK_CONTEXT_JSON": context}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: externalId 'logzio:aws:extid:...' is a placeholder")


APP_ENV = {"PATH": "/usr/bin:/bin", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
           "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.mark.parametrize("argv", [["-c", "bucketName=acme-logs"], ["synth"], ["--help"]])
def test_app_py_with_arguments_says_how_to_pass_settings(argv):
    """app.py is run by the cdk command line, which passes no arguments: any argument is a
    mistake (the settings would be ignored), so say how to pass them and exit 2."""
    result = subprocess.run([sys.executable, "app.py", *argv], cwd=ROOT, capture_output=True,
                            text=True, env={**APP_ENV, "CDK_CONTEXT_JSON": "{}"}, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    message = result.stderr
    assert "run by the cdk command line" in message
    assert "npx cdk synth -c key=value" in message and "cdk.json" in message
    assert " ".join(argv) in message
    assert "Traceback" not in message


def test_app_main_without_arguments_reads_the_settings(monkeypatch):
    import app

    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"bucketName": "Bad_Name"}))
    assert app.main([]) == 1  # reaches the settings: no arguments is how cdk runs it


def test_sovereign_and_gov_regions():
    for region in ("eusc-de-east-1", "us-gov-west-1", "ap-southeast-7"):
        assert entry(region=region).region == region


def test_inherited_values_are_named_where_they_are_set():
    with pytest.raises(SettingsError, match=r"settleSeconds \(top-level, used by archives\[1\]\) 'ten'"):
        AppSettings.from_context({"settleSeconds": "ten", "archives": [
            {"stackName": "A", "settleSeconds": "5"}, {"stackName": "B"}]})


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("true", True), ("false", False), ("TRUE", True), ("False", False),
    (" true ", True), ("", False), (None, False)])
def test_allow_bucket_change(value, expected):
    assert parse(allowBucketChange=value).allow_bucket_change is expected


def test_allow_bucket_change_is_off_by_default():
    assert parse().allow_bucket_change is False


@pytest.mark.parametrize("value", ["yes", "1", 1, 0, "on", "truee", [True]])
def test_allow_bucket_change_refuses_other_values(value):
    with pytest.raises(SettingsError) as error:
        parse(allowBucketChange=value)
    assert str(error.value) == (f"allowBucketChange '{value}' is not one of: true, false "
                                "(leave it out for false).")


def test_allow_bucket_change_per_archive():
    settings = AppSettings.from_context({"archives": [
        {"stackName": "A", "allowBucketChange": "true"}, {"stackName": "B"}]})
    assert [a.settings.allow_bucket_change for a in settings.archives] == [True, False]
    with pytest.raises(SettingsError, match=r"archives\[1\].allowBucketChange 'maybe' is not one of: true, false"):
        AppSettings.from_context({"archives": [{"stackName": "A"},
                                               {"stackName": "B", "allowBucketChange": "maybe"}]})


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False), (None, False), (True, True)])
def test_strict(value, expected):
    assert parse(strict=value).strict is expected


def test_strict_refuses_other_values():
    with pytest.raises(SettingsError, match=r"^strict 'always' is not one of: true, false"):
        parse(strict="always")


# --- The scheduled re-check: watchSchedule, maxArchiveAgeHours, alarmEmail

from logzio_s3_archive.settings import DEFAULT_WATCH_SCHEDULE, WatchSchedule  # noqa: E402


def test_watch_defaults():
    settings = parse()
    assert settings.watch_schedule == DEFAULT_WATCH_SCHEDULE == WatchSchedule("rate(6 hours)", 6 * 3600)
    assert (settings.max_archive_age_hours, settings.alarm_email) == (None, None)


@pytest.mark.parametrize("value, expression, period", [
    ("rate(1 minute)", "rate(1 minute)", 60), ("rate(30 minutes)", "rate(30 minutes)", 1800),
    ("rate(1 hour)", "rate(1 hour)", 3600), (" rate( 12  hours ) ", "rate(12 hours)", 43200),
    ("rate(24 hours)", "rate(24 hours)", 86400), ("rate(1 day)", "rate(1 day)", 86400),
    ("cron(0 6 * * ? *)", "cron(0 6 * * ? *)", 86400), ("cron(0/15 * ? * * *)", "cron(0/15 * ? * * *)", 86400),
    ("cron(5 0,12 * * ? *)", "cron(5 0,12 * * ? *)", 86400), ("cron(0  6 * * ? *)", "cron(0 6 * * ? *)", 86400),
])
def test_watch_schedules(value, expression, period):
    assert parse(watchSchedule=value).watch_schedule == WatchSchedule(expression, period)


@pytest.mark.parametrize("value", ["off", "OFF", " Off "])
def test_watch_schedule_off(value):
    assert parse(watchSchedule=value).watch_schedule is None


@pytest.mark.parametrize("value, message", [
    ("rate(6 weeks)", "the unit must be minute(s), hour(s) or day(s), not 'weeks', e.g. rate(6 hours)"),
    ("rate(0 hours)", "the value must be a positive whole number, e.g. rate(6 hours)"),
    ("rate(-2 hours)", "the value must be a positive whole number"),
    ("rate(1.5 hours)", "the value must be a positive whole number"),
    ("rate(hours)", "the value must be a positive whole number"),
    ("rate(1 hours)", "with 1 the unit is singular: write rate(1 hour)"),
    ("rate(5 minute)", "with 5 the unit is plural: write rate(5 minutes)"),
    ("rate(2 days)", "runs less than once a day: the health alarm counts a day without a re-check as broken"),
    ("rate(25 hours)", "Use at most rate(1 day), a cron(...) that runs every day, or off"),
    ("cron(0 6 * * ?)", "has 5 fields; EventBridge cron takes six: minutes hours day-of-month month day-of-week "
                        "year, one of the two days being ?, e.g. cron(0 6 * * ? *)"),
    ("cron(0 6 * * ? * *)", "has 7 fields"),
    ("cron(0 25 * * ? *)", "the hours field '25' is not valid; it takes 0-23"),
    ("cron(60 6 * * ? *)", "the minutes field '60' is not valid"),
    ("cron(0 6 * FOO ? *)", "the month field 'FOO' is not valid; it takes 1-12 or JAN-DEC"),
    ("cron(0 6 ? * 1/2 *)", "the day-of-week field '1/2' is not valid"),
    ("cron(0 6 ? * * 1969)", "the year field '1969' is not valid"),
    ("cron(0 6 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 6 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 6 ? * MON-FRI *)", "does not run every day: the health alarm counts a day without a re-check"),
    ("cron(0 6 1 * ? *)", "does not run every day"),
    ("cron(0 6 * JAN ? *)", "does not run every day"),
    ("at(2030-01-01T00:00:00)", "runs once: the re-check needs a recurring schedule"),
    ("every 6 hours", "is not a schedule: give rate(N minutes|hours|days) such as rate(6 hours), a six-field "
                      "cron(...) such as cron(0 6 * * ? *) (every day at 06:00 UTC), or off"),
    ("6h", "is not a schedule"),
])
def test_watch_schedule_refused(value, message):
    with pytest.raises(SettingsError) as error:
        parse(watchSchedule=value)
    assert str(error.value).startswith(f"watchSchedule '{value.strip()}'")
    assert message in str(error.value)


@pytest.mark.parametrize("value, expected", [("24", 24), (1, 1), ("8760", 8760), (None, None)])
def test_max_archive_age_hours(value, expected):
    assert parse(maxArchiveAgeHours=value).max_archive_age_hours == expected


@pytest.mark.parametrize("value, message", [
    ("0", "maxArchiveAgeHours 0 is out of range: give a number from 1 to 8760."),
    ("-1", "maxArchiveAgeHours -1 is out of range: give a number from 1 to 8760."),
    ("8761", "maxArchiveAgeHours 8761 is out of range"),
    ("x", "maxArchiveAgeHours 'x' is not a whole number: give a number from 1 to 8760."),
    ("1.5", "maxArchiveAgeHours '1.5' is not a whole number"),
    (True, "maxArchiveAgeHours 'True' is not a whole number"),
])
def test_max_archive_age_hours_refused(value, message):
    with pytest.raises(SettingsError) as error:
        parse(maxArchiveAgeHours=value)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("value", ["ops@example.com", "first.last+logs@mail.example.co.uk", " ops@example.com "])
def test_alarm_email(value):
    assert parse(alarmEmail=value).alarm_email == value.strip()


@pytest.mark.parametrize("value", ["ops", "ops@example", "ops@@example.com", "ops @example.com", "<email>",
                                   "a@example.com,b@example.com", "ops@.example.com", ".ops@example.com"])
def test_alarm_email_refused(value):
    with pytest.raises(SettingsError) as error:
        parse(alarmEmail=value)
    assert str(error.value) == (f"alarmEmail '{value}' is not an email address: give one address such as "
                                "ops@example.com (SNS mails it a link to confirm first), or leave alarmEmail "
                                "out for no mail.")


@pytest.mark.parametrize("setting, value", [("alarmEmail", "ops@example.com"), ("maxArchiveAgeHours", "24")])
def test_watch_options_need_the_watch(setting, value):
    with pytest.raises(SettingsError) as error:
        parse(watchSchedule="off", **{setting: value})
    assert str(error.value) == (f"{setting} is set but watchSchedule is off: without the scheduled re-check there "
                                f"is no alarm to use it. Leave {setting} out, or give watchSchedule a schedule "
                                "such as rate(6 hours).")


def test_watch_per_archive():
    quiet, busy = AppSettings.from_context({
        "watchSchedule": "rate(1 hour)", "alarmEmail": "ops@example.com",
        "archives": [{"stackName": "LogzioQuiet", "watchSchedule": "rate(1 day)"},
                     {"stackName": "LogzioBusy", "maxArchiveAgeHours": "2"}]}).archives
    quiet, busy = quiet.settings, busy.settings
    assert (quiet.watch_schedule.expression, quiet.max_archive_age_hours, quiet.alarm_email) == (
        "rate(1 day)", None, "ops@example.com")
    assert (busy.watch_schedule.expression, busy.max_archive_age_hours, busy.alarm_email) == (
        "rate(1 hour)", 2, "ops@example.com")


def test_watch_refusals_name_the_archive_entry():
    with pytest.raises(SettingsError, match=r"archives\[1\].watchSchedule 'rate\(0 hours\)'"):
        AppSettings.from_context({"archives": [{"stackName": "A"}, {"stackName": "B", "watchSchedule": "rate(0 hours)"}]})
    # The email comes from the top level, the off from the entry: each is named where it is set.
    with pytest.raises(SettingsError, match=r"alarmEmail \(top-level, used by archives\[0\]\) is set but "
                                            r"archives\[0\].watchSchedule is off"):
        AppSettings.from_context({"alarmEmail": "ops@example.com",
                                  "archives": [{"stackName": "A", "watchSchedule": "off"}]})


def test_account_per_archive():
    prod, other = AppSettings.from_context({"archives": [
        {"stackName": "LogzioProd"}, {"stackName": "LogzioOther", "account": "210987654321", "region": "eu-west-1"}]}
    ).archives
    assert (prod.account, other.account, other.region) == (None, "210987654321", "eu-west-1")
    with pytest.raises(SettingsError, match=r"archives\[0\].account 'prod' is not a 12-digit AWS account id"):
        AppSettings.from_context({"archives": [{"stackName": "A", "account": "prod"}]})


def test_the_stack_deploys_to_the_archives_account():
    synthesized = synth({"archives": [{"stackName": "LogzioOther", "account": "210987654321",
                                       "region": "eu-west-1"}]})
    assert (synthesized.regions, synthesized.accounts) == ({"LogzioOther": "eu-west-1"},
                                                           {"LogzioOther": "210987654321"})
