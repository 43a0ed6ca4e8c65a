"""`logzio-archive fleet` end to end: three archives deployed with the real `cdk deploy --all`
into a region of their own (nothing else of the session's emulator lives there), their
re-check schedules fired; then an administrator's bucket-policy Deny on uploads on one, its
schedule fired again, and on another the Logz.io setting repointed at a different bucket
through the embedded Logz.io API. The fleet sees one unhealthy with the denial, one with the
drift finding, one healthy, exit 1, in its table, its JSON and its JUnit report; --probe agrees
on the denial. And an archive in a second emulated account: two profiles list both accounts."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
import xml.etree.ElementTree as ElementTree

import pytest

from emulator import cdk_deploy, schedules
from emulator.alarms import evaluate
from emulator.logzio_api import LogzioApiServer
from logzio_s3_archive_runtime.names import FLEET_MARKER, Output, WatchOutput
from tests.e2e.support import CDK
from tests.support import ROOT

pytestmark = pytest.mark.e2e

REGION = "eu-central-1"
OK, DENIED, DRIFT = "E2eFleetOk", "E2eFleetDenied", "E2eFleetDrift"
OTHER_ACCOUNT = "210987654321"


class InRegion:
    """The session's emulator, seen from another region (what schedules.fire and
    alarms.evaluate need: clients, the account, the region)."""

    def __init__(self, emu, region: str):
        self.emu, self.region, self.account = emu, region, emu.account

    def client(self, service: str, **creds):
        import boto3

        return boto3.client(service, endpoint_url=self.emu.endpoint_url, region_name=self.region,
                            aws_access_key_id=creds.get("aws_access_key_id", self.emu.admin_access_key_id),
                            aws_secret_access_key=creds.get("aws_secret_access_key",
                                                            self.emu.admin_secret_access_key),
                            aws_session_token=creds.get("aws_session_token"))


def outputs(view, stack: str) -> dict:
    found = view.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def other_account_user(emu) -> tuple[str, str]:
    """An administrator of a second account (the emulator serves a key in its own account)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[OTHER_ACCOUNT]["aws"]
    iam.create_user(REGION, "fleet-admin")
    iam.put_user_policy("fleet-admin", "all", json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key("fleet-admin")
    return key.access_key_id, key.secret_access_key


def fleet(view, credentials, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in view.emu.admin_env().items() if not k.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true"})
    return subprocess.run([sys.executable, "-m", "logzio_s3_archive_runtime", "fleet", "--region", REGION,
                           "--endpoint-url", view.emu.endpoint_url, *args],
                          env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def fleet_world(bootstrapped, tmp_path_factory):
    emu = bootstrapped
    view = InRegion(emu, REGION)
    with tempfile.TemporaryDirectory() as empty:
        bootstrap = subprocess.run([*CDK, "bootstrap", f"aws://{emu.account}/{REGION}", "--no-notices"],
                                   cwd=empty, env=emu.admin_env(), capture_output=True, text=True, timeout=600)
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    server = LogzioApiServer(emu, token="token-fleet-0123456789abcdef")
    server.start()
    view.client("secretsmanager").create_secret(Name="e2e/fleet/logzio-api-token", SecretString=server.token)
    archives = [{"stackName": name, "region": REGION, "settleSeconds": "0"} for name in (OK, DENIED, DRIFT)]
    archives[2].update({"logzioApiTokenSecret": "e2e/fleet/logzio-api-token", "logzioApiUrl": server.url})
    code, output = cdk_deploy(emu, CDK, str(ROOT), ["--all"], context={"archives": json.dumps(archives)},
                              extra_args=["--app", f"{sys.executable} app.py",
                                          "--output", str(tmp_path_factory.mktemp("fleet-out"))])
    assert code == 0, output
    found = {name: outputs(view, name) for name in (OK, DENIED, DRIFT)}
    for name in found:
        assert schedules.fire(view, found[name][WatchOutput.SCHEDULE])["healthy"] == 1

    # An administrator denies uploads to the Logz.io user of one archive...
    s3 = view.client("s3")
    bucket = found[DENIED][Output.BUCKET_NAME]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    user = view.client("iam").get_user(UserName=found[DENIED][Output.USER_NAME])["User"]["Arn"]
    policy["Statement"].append({"Effect": "Deny", "Principal": {"AWS": user}, "Action": "s3:PutObject",
                                "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert schedules.fire(view, found[DENIED][WatchOutput.SCHEDULE])["healthy"] == 0
    alarm = evaluate(view, found[DENIED][WatchOutput.HEALTH_ALARM])

    # ... and someone repoints another archive's Logz.io setting at a different bucket.
    settings_id = found[DRIFT][Output.LOGZIO_SETTINGS_ID]
    headers = {"X-API-TOKEN": server.token, "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(f"{server.url}/v2/archive/settings/{settings_id}",
                                                       headers=headers)) as answer:
        held = json.load(answer)
    settings = held.get("settings", held)
    settings["amazonS3StorageSettings"]["path"] = "someone-elses-bucket"
    request = urllib.request.Request(f"{server.url}/v2/archive/settings/{settings_id}", method="PUT",
                                     data=json.dumps(settings).encode(), headers=headers)
    urllib.request.urlopen(request).close()

    key_id, secret = other_account_user(emu)
    credentials = tmp_path_factory.mktemp("fleet-credentials") / "credentials"
    credentials.write_text(f"[a]\naws_access_key_id = {emu.admin_access_key_id}\naws_secret_access_key = "
                           f"{emu.admin_secret_access_key}\n\n[b]\naws_access_key_id = {key_id}\n"
                           f"aws_secret_access_key = {secret}\n")
    other = InRegion(emu, REGION)
    other.account = OTHER_ACCOUNT
    template = {"Description": f"Logz.io archive {FLEET_MARKER}",
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {Output.BUCKET_NAME: {"Value": "other-account-archive"},
                            Output.PROBE_VERDICT: {"Value": "OK: all 4 permissions Logz.io needs are granted."}}}
    other.client("cloudformation", aws_access_key_id=key_id, aws_secret_access_key=secret).create_stack(
        StackName="E2eFleetOtherAccount", TemplateBody=json.dumps(template))
    yield {"view": view, "alarm": alarm, "credentials": str(credentials), "server": server,
           "junit": tmp_path_factory.mktemp("fleet-junit") / "fleet.xml"}
    server.stop()


def test_fleet_lists_the_three_worst_first_and_exits_1(fleet_world):
    view, credentials = fleet_world["view"], fleet_world["credentials"]
    assert fleet_world["alarm"].state == "ALARM"
    run = fleet(view, credentials, "--profile", "a", "--json", "--junit", str(fleet_world["junit"]))
    assert run.returncode == 1, run.stdout + run.stderr
    document = json.loads(run.stdout)
    by_name = {archive["name"]: archive for archive in document["archives"]}
    assert set(by_name) == {OK, DENIED, DRIFT}
    assert by_name[OK]["state"] == "healthy" and by_name[OK]["reasons"] == []
    assert by_name[DENIED]["state"] == "unhealthy"
    assert any("s3:PutObject missing" in reason for reason in by_name[DENIED]["reasons"])
    assert any(f"alarm in ALARM: {DENIED}-ArchiveHealth" == reason for reason in by_name[DENIED]["reasons"])
    [drift] = by_name[DRIFT]["findings"]
    assert drift["id"] == "logzio-setting-drift" and "someone-elses-bucket" in drift["message"]
    assert "Redeploy the stack" in drift["fix"]
    assert by_name[DRIFT]["logzio"]["bucket"] == "someone-elses-bucket"
    assert [archive["name"] for archive in document["archives"]][0] in (DENIED, DRIFT)


def test_junit_holds_three_cases_two_failures(fleet_world):
    fleet(fleet_world["view"], fleet_world["credentials"], "--profile", "a", "--junit", str(fleet_world["junit"]))
    suite = ElementTree.parse(fleet_world["junit"]).getroot().find("testsuite")
    cases = {case.get("name").rsplit("/", 1)[-1]: case for case in suite.iter("testcase")}
    assert (suite.get("tests"), suite.get("failures"), set(cases)) == ("3", "2", {OK, DENIED, DRIFT})
    assert cases[OK].find("failure") is None
    assert "logzio-setting-drift" in cases[DRIFT].find("failure").text
    assert "s3:PutObject missing" in cases[DENIED].find("failure").text


def test_probe_agrees_on_the_denial(fleet_world):
    run = fleet(fleet_world["view"], fleet_world["credentials"], "--profile", "a", "--json", "--probe")
    by_name = {archive["name"]: archive for archive in json.loads(run.stdout)["archives"]}
    probe = by_name[DENIED]["probe"]
    assert probe["exit_code"] == 1 and "s3:PutObject missing (AccessDenied" in probe["summary"]
    assert by_name[DENIED]["state"] == "failing"
    assert by_name[OK]["probe"]["exit_code"] == 0 and by_name[OK]["state"] == "healthy"


def test_two_profiles_list_both_accounts(fleet_world):
    run = fleet(fleet_world["view"], fleet_world["credentials"], "--profile", "a", "--profile", "b", "--json")
    accounts = {(archive["account"], archive["name"]) for archive in json.loads(run.stdout)["archives"]}
    assert (OTHER_ACCOUNT, "E2eFleetOtherAccount") in accounts
    assert {name for account, name in accounts if account != OTHER_ACCOUNT} == {OK, DENIED, DRIFT}
