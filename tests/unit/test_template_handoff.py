"""The hand-off to Logz.io's API in the template (logzioApiTokenSecret, logzioRegion,
logzioApiUrl, logzioOnDelete): the Custom::LogzioArchiveSettings resource, its properties
and order, the grant on the token's secret only, the token nowhere, the settings' errors,
and a stack without the setting exactly as without the feature."""

from __future__ import annotations

import copy
import json

import pytest

from logzio_s3_archive_runtime.names import HANDOFF_RESOURCE_TYPE, Output, Property
from logzio_s3_archive.settings import OnDelete, SettingsError
from stacks.settings import AppSettings
from tests.conftest import ROLE
from tests.support import of_type, only, synth
from tests.unit.test_static_checks import lint

TOKEN_NAME = "logzio-api-token"
TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:logzio-api-token-AbC123"
KEYS = {"logzioApiTokenSecret": TOKEN_NAME, "logzioRegion": "eu"}
ROLE_HANDOFF = {**ROLE, "logzioApiTokenSecret": TOKEN_ARN, "logzioApiUrl": "https://api-nl.logz.io/",
                "logzioOnDelete": "keep"}


@pytest.fixture(scope="module")
def keys():
    return synth(KEYS).raw()


@pytest.fixture(scope="module")
def role():
    return synth(ROLE_HANDOFF).raw()


@pytest.fixture(scope="module")
def plain(shipped):
    return shipped.raw()


def handoff(template) -> tuple[str, dict]:
    return only(template["Resources"], HANDOFF_RESOURCE_TYPE)


def probe_policy(template) -> tuple[str, dict]:
    [(name, policy)] = [(n, p) for n, p in of_type(template["Resources"], "AWS::IAM::Policy").items()
                        if n.startswith("PermissionProbeRoleDefaultPolicy")]
    return name, policy


def token_statement(template) -> dict:
    [statement] = [s for s in probe_policy(template)[1]["Properties"]["PolicyDocument"]["Statement"]
                   if s.get("Sid") == "ReadLogzioApiToken"]
    return statement


def test_the_resource_registers_bucket_and_key_by_reference(keys):
    name, resource = handoff(keys)
    props = resource["Properties"]
    resources = keys["Resources"]
    [key_id] = of_type(resources, "AWS::IAM::AccessKey")
    [secret_id] = of_type(resources, "AWS::SecretsManager::Secret")
    [bucket_id] = of_type(resources, "AWS::S3::Bucket")
    [function_id] = of_type(resources, "AWS::Lambda::Function")
    assert {k: v for k, v in props.items() if k not in ("ServiceToken", "ServiceTimeout")} == {
        Property.BUCKET_NAME: {"Ref": bucket_id},
        Property.REGION: {"Ref": "AWS::Region"},
        Property.SECRET_ARN: {"Ref": secret_id},
        Property.ACCESS_KEY_ID: {"Ref": key_id},
        Property.TOKEN_SECRET_ARN: TOKEN_NAME,
        Property.API_URL: "https://api-eu.logz.io",
        Property.ON_DELETE: "disable",
        # The bucket is this stack's: a failed first deploy removes Logz.io's test object.
        Property.BUCKET_CREATED: "true",
    }
    # Served by the probe's own function, within its service timeout.
    assert props["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
    [probe_id] = of_type(resources, "Custom::LogzioArchiveProbe")
    assert props["ServiceTimeout"] == resources[probe_id]["Properties"]["ServiceTimeout"]


def test_the_resource_runs_after_the_probe_and_is_updated_with_the_key(keys):
    """After the probe passed (DependsOn), and a dependent of the access key and its secret
    (Ref): a replaced key updates it before CloudFormation's cleanup deletes the old key."""
    name, resource = handoff(keys)
    [probe_id] = of_type(keys["Resources"], "Custom::LogzioArchiveProbe")
    assert resource["DependsOn"] == [probe_id]
    refs = json.dumps(resource["Properties"])
    for kind in ("AWS::IAM::AccessKey", "AWS::SecretsManager::Secret"):
        [found] = of_type(keys["Resources"], kind)
        assert json.dumps({"Ref": found}) in refs, kind


def test_role_mode_registers_the_role_arn_and_no_key(role):
    _, resource = handoff(role)
    props = resource["Properties"]
    [role_id] = [n for n in of_type(role["Resources"], "AWS::IAM::Role") if n.startswith("LogzioRole")]
    assert props[Property.ROLE_ARN] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert Property.SECRET_ARN not in props and Property.ACCESS_KEY_ID not in props
    assert Property.EXTERNAL_ID not in props  # Logz.io's own; the role's trust policy holds it
    assert props[Property.TOKEN_SECRET_ARN] == TOKEN_ARN
    assert props[Property.API_URL] == "https://api-nl.logz.io"
    assert props[Property.ON_DELETE] == "keep"


def test_the_token_grant_covers_the_named_secret_only(keys):
    statement = token_statement(keys)
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Effect"] == "Allow" and "Condition" not in statement
    assert statement["Resource"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":secretsmanager:", {"Ref": "AWS::Region"}, ":",
        {"Ref": "AWS::AccountId"}, f":secret:{TOKEN_NAME}-??????"]]}


def test_the_token_grant_for_an_arn_is_that_secret_complete_or_partial(role):
    assert token_statement(role)["Resource"] == [TOKEN_ARN, TOKEN_ARN + "-??????"]


def test_the_function_may_read_no_other_secret(keys):
    """GetSecretValue: the token's secret and the access key's secret, nothing else."""
    granted = []
    for statement in probe_policy(keys)[1]["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a.startswith("secretsmanager:") for a in actions):
            granted.append(statement["Resource"])
    [secret_id] = of_type(keys["Resources"], "AWS::SecretsManager::Secret")
    assert {"Ref": secret_id} in granted and len(granted) == 2


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    else:
        yield str(value)


@pytest.mark.parametrize("fixture", ["keys", "role"])
def test_the_token_is_never_in_the_template_or_its_outputs(request, fixture):
    """No property or output holds anything but the secret's name or ARN; no dynamic
    reference or SecretValue resolves the token into the template."""
    template = request.getfixturevalue(fixture)
    text = json.dumps(template)
    assert "{{resolve:secretsmanager" not in text
    assert "SecretValue" not in text.replace("GetSecretValue", "")
    secret = TOKEN_NAME if fixture == "keys" else TOKEN_ARN
    _, resource = handoff(template)
    assert resource["Properties"][Property.TOKEN_SECRET_ARN] == secret
    # The secret's name appears only as that property and in the grant's ARN pattern.
    holders = [name for name, body in template["Resources"].items() if secret in json.dumps(body)]
    assert sorted(holders) == sorted([handoff(template)[0], probe_policy(template)[0]])
    # Outputs: the secret's name or ARN once (LogzioApiTokenSecret, for logzio-test), the
    # API's URL, and nothing else that names a token.
    outputs = template.get("Outputs", {})
    assert outputs[Output.LOGZIO_API_TOKEN_SECRET]["Value"] == secret
    assert outputs[Output.LOGZIO_API_URL]["Value"] == resource["Properties"][Property.API_URL]
    others = json.dumps({k: v for k, v in outputs.items() if k != Output.LOGZIO_API_TOKEN_SECRET})
    assert secret not in others and "Token" not in others.replace("LogzioTest", "")
    assert template["Outputs"][Output.LOGZIO_SETTINGS_ID]["Value"] == {
        "Fn::GetAtt": [handoff(template)[0], "SettingsId"]}
    assert template["Outputs"][Output.LOGZIO_TEST]["Value"] == {
        "Fn::GetAtt": [handoff(template)[0], "LogzioTest"]}
    # No parameter takes a token either.
    assert not any("token" in name.lower() for name in template.get("Parameters", {}))


def test_the_outputs_name_the_api_and_the_token_secret_for_logzio_test(keys, role, plain):
    """logzio-test reads them: the API's URL and the secret's name or ARN (as configured),
    only with the hand-off on."""
    assert keys["Outputs"][Output.LOGZIO_API_URL]["Value"] == "https://api-eu.logz.io"
    assert keys["Outputs"][Output.LOGZIO_API_TOKEN_SECRET]["Value"] == TOKEN_NAME
    assert role["Outputs"][Output.LOGZIO_API_URL]["Value"] == "https://api-nl.logz.io"
    assert role["Outputs"][Output.LOGZIO_API_TOKEN_SECRET]["Value"] == TOKEN_ARN
    assert Output.LOGZIO_API_URL not in plain["Outputs"]
    assert Output.LOGZIO_API_TOKEN_SECRET not in plain["Outputs"]


def test_without_the_token_setting_nothing_changes(plain, keys):
    """The stack with the hand-off, minus the hand-off's resource, grant and outputs, is the
    stack without it, byte for byte."""
    assert HANDOFF_RESOURCE_TYPE not in json.dumps(plain)
    assert "ReadLogzioApiToken" not in json.dumps(plain)
    stripped = copy.deepcopy(keys)
    del stripped["Resources"][handoff(keys)[0]]
    for name in (Output.LOGZIO_SETTINGS_ID, Output.LOGZIO_TEST, Output.LOGZIO_API_URL,
                 Output.LOGZIO_API_TOKEN_SECRET):
        del stripped["Outputs"][name]
    policy = stripped["Resources"][probe_policy(keys)[0]]["Properties"]["PolicyDocument"]
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") not in (
        "ReadLogzioApiToken", "RemoveLogzioTestObject", "FindLogzioTestObject")]
    assert stripped == plain


def test_only_a_created_bucket_lets_a_failed_create_remove_logzios_test_object(keys):
    """The probe role may delete exactly logzio-verified (every version) and list versions
    under exactly that prefix, in the bucket this stack made; with an existing bucket,
    neither the grant nor the property exists."""
    [bucket_id] = of_type(keys["Resources"], "AWS::S3::Bucket")
    statements = {s.get("Sid"): s for s in keys["Resources"][probe_policy(keys)[0]]["Properties"]
                  ["PolicyDocument"]["Statement"]}
    assert statements["RemoveLogzioTestObject"] == {
        "Sid": "RemoveLogzioTestObject", "Effect": "Allow", "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/logzio-verified"]]}}
    assert statements["FindLogzioTestObject"] == {
        "Sid": "FindLogzioTestObject", "Effect": "Allow", "Action": "s3:ListBucketVersions",
        "Resource": {"Fn::GetAtt": [bucket_id, "Arn"]},
        "Condition": {"StringEquals": {"s3:prefix": "logzio-verified"}}}
    existing = synth({**KEYS, "existingBucket": "acme-existing-logs"}).raw()
    _, resource = handoff(existing)
    assert Property.BUCKET_CREATED not in resource["Properties"]
    text = json.dumps(existing["Resources"][probe_policy(existing)[0]])
    assert "RemoveLogzioTestObject" not in text and "FindLogzioTestObject" not in text
    assert "logzio-verified" not in text


@pytest.mark.parametrize("fixture", ["keys", "role"])
def test_cfn_lint_is_clean_with_the_handoff(request, fixture):
    assert lint(request.getfixturevalue(fixture)) == []


# --- Settings: each bad value stops synth, naming the setting and the fix.

def archive(**context):
    return AppSettings.from_context(context).archives[0].settings


def test_settings_defaults_and_urls():
    assert archive().logzio is None
    found = archive(logzioApiTokenSecret=TOKEN_NAME, logzioRegion="us").logzio
    assert (found.token_secret, found.api_url, found.on_delete) == (TOKEN_NAME, "https://api.logz.io",
                                                                    OnDelete.DISABLE)
    for region in ("au", "ca", "eu", "uk", "nl"):
        assert archive(logzioApiTokenSecret=TOKEN_NAME, logzioRegion=region).logzio.api_url == \
            f"https://api-{region}.logz.io"
    local = archive(logzioApiTokenSecret=TOKEN_NAME, logzioApiUrl="http://127.0.0.1:8123/")
    assert local.logzio.api_url == "http://127.0.0.1:8123"
    assert archive(logzioApiTokenSecret=TOKEN_ARN, logzioRegion="EU", logzioOnDelete="keep").logzio.on_delete \
        is OnDelete.KEEP


@pytest.mark.parametrize("context, message", [
    ({"logzioRegion": "eu"}, "logzioRegion is set but logzioApiTokenSecret is not"),
    ({"logzioApiUrl": "https://api.logz.io"}, "logzioApiUrl is set but logzioApiTokenSecret is not"),
    ({"logzioOnDelete": "keep"}, "logzioOnDelete is set but logzioApiTokenSecret is not"),
    ({"logzioApiTokenSecret": TOKEN_NAME}, "neither logzioRegion nor logzioApiUrl is: give"),
    ({**KEYS, "logzioApiUrl": "https://api-eu.logz.io"}, "logzioRegion and logzioApiUrl are both set"),
    ({**KEYS, "logzioRegion": "mars"}, "logzioRegion 'mars' is not a Logz.io region .* logzioApiUrl="),
    ({"logzioApiTokenSecret": TOKEN_NAME, "logzioApiUrl": "http://api.logz.io"},
     "logzioApiUrl 'http://api.logz.io' is not an API URL: give https://HOST"),
    ({"logzioApiTokenSecret": TOKEN_NAME, "logzioApiUrl": "api-eu.logz.io"}, "logzioApiUrl .* is not an API URL"),
    ({"logzioApiTokenSecret": TOKEN_NAME, "logzioApiUrl": "https://x.io/?token=1"}, "without query"),
    ({**KEYS, "logzioOnDelete": "delete"}, "logzioOnDelete 'delete' is not one of: disable, keep"),
    ({**KEYS, "logzioApiTokenSecret": "arn:aws:s3:::bucket"}, "is not a Secrets Manager secret ARN"),
    ({**KEYS, "logzioApiTokenSecret": "my token!"}, "never the token itself"),
    ({**KEYS, "logzioApiTokenSecret": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"},
     "looks like an API token, not a secret's name"),
])
def test_settings_errors_name_the_setting_and_the_fix(context, message):
    with pytest.raises(SettingsError, match=message):
        archive(**context)


def test_settings_errors_never_repeat_a_token_given_by_mistake():
    token = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    with pytest.raises(SettingsError) as error:
        archive(logzioApiTokenSecret=token, logzioRegion="eu")
    assert token not in str(error.value)


def test_settings_per_archive_name_the_entry():
    with pytest.raises(SettingsError, match=r"archives\[1\]\.logzioRegion 'xx'"):
        AppSettings.from_context({"logzioApiTokenSecret": TOKEN_NAME, "archives": [
            {"stackName": "A", "logzioRegion": "eu"}, {"stackName": "B", "logzioRegion": "xx"}]})
    several = AppSettings.from_context({"archives": [
        {"stackName": "A", **KEYS}, {"stackName": "B"}]}).archives
    assert several[0].settings.logzio is not None and several[1].settings.logzio is None
