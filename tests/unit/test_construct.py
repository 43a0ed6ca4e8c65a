"""LogzioArchive in a user's own CDK app: props, what it exposes, two per stack, cdk-nag."""

from __future__ import annotations

import json

import pytest

from tests.support import FEATURE_FLAGS, of_type


def user_app(build, *, nag: bool = True):
    """A stack of the user's own, `build(stack)` adding to it; synthesized as `cdk synth` would."""
    from aws_cdk import App, Stack, Validations
    from cdk_nag import AwsSolutionsChecks

    app = App(context=FEATURE_FLAGS)
    stack = Stack(app, "Platform")
    built = build(stack)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    assembly = app.synth()
    return assembly.get_stack_by_name("Platform").template, built, assembly


def own_bucket(stack, **kwargs):
    from aws_cdk import Acknowledgment
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket(stack, "Logs", versioned=True, enforce_ssl=True,
                       object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED, **kwargs)
    # The user's own bucket is the user's to review (no access logs here); nothing of the
    # construct's is acknowledged by the test.
    from aws_cdk import Validations
    Validations.of(bucket).acknowledge(Acknowledgment(id="AwsSolutions-S1", reason="test bucket"))
    return bucket


@pytest.fixture(scope="module")
def with_own_bucket():
    from logzio_s3_archive import LogzioArchive

    def build(stack):
        return LogzioArchive(stack, "Archive", bucket=own_bucket(stack))
    return user_app(build)


def test_uses_the_given_bucket_and_changes_nothing_in_it(with_own_bucket):
    template, archive, _ = with_own_bucket
    resources = template["Resources"]
    [bucket_id] = of_type(resources, "AWS::S3::Bucket")
    assert bucket_id.startswith("Logs")  # the user's, no second bucket
    assert archive.bucket_created is False
    assert len(of_type(resources, "AWS::S3::BucketPolicy")) == 1  # the user's TLS-only policy only
    probe = next(iter(of_type(resources, "Custom::LogzioArchiveProbe").values()))
    assert probe["Properties"]["BucketName"] == {"Ref": bucket_id}
    # The user's bucket policy is in force before the probe runs.
    policy_id = next(iter(of_type(resources, "AWS::S3::BucketPolicy")))
    assert policy_id in probe["DependsOn"]


def test_adds_no_outputs_by_itself(with_own_bucket):
    template, _, _ = with_own_bucket
    assert "Outputs" not in template


def test_cdk_nag_is_clean_without_suppressions_of_the_users_own(with_own_bucket):
    _, _, assembly = with_own_bucket
    report = json.loads(open(f"{assembly.directory}/validation-report.json").read())
    assert report["pluginReports"] == []


def test_exposes_what_users_wire_further(with_own_bucket):
    from aws_cdk import Token

    _, archive, _ = with_own_bucket
    assert archive.user is not None and archive.role is None
    assert archive.access_key is not None and archive.access_key_secret is not None
    assert archive.probe_function is archive.probe.function
    for token in (archive.verdict, archive.checks, archive.findings, archive.probed_credentials):
        assert Token.is_unresolved(token)


def test_a_bucket_made_for_you_with_safe_defaults_and_prefixed_outputs():
    from logzio_s3_archive import LogzioArchive

    def build(stack):
        archive = LogzioArchive(stack, "Archive", bucket_name="acme-platform-logs", principal="role",
                                logzio_account_id="406095609952", external_id="logzio:aws:extid:x1")
        archive.add_outputs(prefix="Prod")
        return archive
    template, archive, _ = user_app(build)
    [bucket] = of_type(template["Resources"], "AWS::S3::Bucket").values()
    assert bucket["Properties"]["BucketName"] == "acme-platform-logs"
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    assert archive.role is not None and archive.user is None and archive.access_key_secret is None
    assert {"ProdBucketName", "ProdRoleArn", "ProdProbeVerdict", "ProdHealthAlarmName"} <= set(template["Outputs"])


def test_two_archives_in_one_stack():
    from logzio_s3_archive import LogzioArchive

    def build(stack):
        return (LogzioArchive(stack, "Prod", bucket_name="acme-prod-logs"),
                LogzioArchive(stack, "Staging", bucket_name="acme-staging-logs", watch_schedule="rate(1 day)"))
    template, (prod, staging), _ = user_app(build)
    resources = template["Resources"]
    assert len(of_type(resources, "AWS::S3::Bucket")) == 2
    assert len(of_type(resources, "AWS::IAM::User")) == 2
    # One probe function per archive.
    assert len(of_type(resources, "AWS::Lambda::Function")) == 2
    alarms = sorted(r["Properties"]["AlarmName"] for r in of_type(resources, "AWS::CloudWatch::Alarm").values())
    assert alarms == ["Platform-Prod-ArchiveHealth", "Platform-Staging-ArchiveHealth"]


def test_a_bucket_encrypted_with_its_own_key_gives_the_principal_that_key():
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from logzio_s3_archive import LogzioArchive

    def build(stack):
        key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
        return LogzioArchive(stack, "Archive", bucket=own_bucket(
            stack, encryption=s3.BucketEncryption.KMS, encryption_key=key))
    template, archive, _ = user_app(build)
    assert archive.kms_key is not None
    policies = of_type(template["Resources"], "AWS::IAM::Policy")
    principal_policy = next(p for name, p in policies.items() if name.startswith("ArchiveLogzioPolicy"))
    [kms_statement] = [s for s in principal_policy["Properties"]["PolicyDocument"]["Statement"]
                       if s.get("Sid") == "LogzioUseArchiveKey"]
    assert kms_statement["Resource"] == {"Fn::GetAtt": [next(iter(of_type(template["Resources"], "AWS::KMS::Key"))), "Arn"]}


@pytest.mark.parametrize("props, message", [
    ({"bucket_name": "Bad_Name"}, "bucket_name 'Bad_Name' is not a valid S3 bucket name: it may contain only "
                                  "lowercase letters, digits, dots and hyphens. Pass another name with "
                                  "bucket_name='...', or leave it out to get a generated one."),
    ({"bucket_nmae": "acme"}, "LogzioArchive has no prop 'bucket_nmae'. Did you mean 'bucket_name'?"),
    ({"storage_class": "STANDARD_IA"}, "storage_class STANDARD_IA is set but transition_days is not: add "
                                       "transition_days=N"),
    ({"storage_class": "GLACIER", "transition_days": 30}, "storage_class GLACIER (Glacier Flexible Retrieval) "
                                                          "would break restore"),
    ({"principal": "role", "logzio_account_id": "406095609952"}, "principal=role needs external_id"),
    ({"external_id": "logzio:aws:extid:x1"}, "logzio_account_id/external_id are for principal=role: add "
                                             "principal='role', or leave them out."),
    ({"watch_schedule": "rate(2 days)"}, "watch_schedule 'rate(2 days)' runs less than once a day"),
    ({"logzio_region": "eu"}, "logzio_region is set but logzio_api_token_secret is not"),
    ({"strict": "maybe"}, "strict 'maybe' is not one of: true, false"),
])
def test_invalid_props_raise_at_construction_naming_the_prop_and_the_fix(props, message):
    from aws_cdk import App, Stack

    from logzio_s3_archive import LogzioArchive, SettingsError

    stack = Stack(App(), "Platform")
    with pytest.raises(SettingsError) as error:
        LogzioArchive(stack, "Archive", **props)
    assert message in str(error.value)
    assert not stack.node.children, "nothing is built from invalid props"


def test_existing_bucket_rules_apply_to_the_bucket_prop():
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from logzio_s3_archive import LogzioArchive, SettingsError

    stack = Stack(App(), "Platform")
    bucket = s3.Bucket.from_bucket_name(stack, "Imported", "acme-existing-logs")
    with pytest.raises(SettingsError, match="cannot be used with bucket: the stack changes nothing"):
        LogzioArchive(stack, "Archive", bucket=bucket, expire_days=30)
    with pytest.raises(SettingsError, match="encryption=kms with bucket needs kms_key"):
        LogzioArchive(stack, "Archive2", bucket=bucket, encryption="kms")


def test_settings_or_props_not_both():
    from aws_cdk import App, Stack

    from logzio_s3_archive import ArchiveSettings, LogzioArchive, SettingsError

    with pytest.raises(SettingsError, match="got settings= and strict"):
        LogzioArchive(Stack(App(), "Platform"), "Archive", settings=ArchiveSettings(), strict=True)


def test_every_setting_is_a_prop():
    import inspect

    from logzio_s3_archive import LogzioArchive
    from logzio_s3_archive.settings import ARCHIVE_KEYS, prop_name

    parameters = inspect.signature(LogzioArchive.__init__).parameters
    assert [prop_name(key) for key in ARCHIVE_KEYS if prop_name(key) not in parameters] == []
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in parameters.items()
               if name not in ("self", "scope", "id", "unknown"))
