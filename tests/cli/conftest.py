"""The operator command's world, in the session's embedded emulator (IAM enforced):
users with the usual policy mistakes, buckets seeded with objects that must never change,
a deployed-looking stack whose secret holds a user's key, and a credentials file with one
profile per user. Set up once, as the emulator's admin user."""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

# Never real AWS: no instance metadata, no real profile (also set by tests/conftest.py).
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402
import pytest  # noqa: E402

from logzio_s3_archive_runtime import checks  # noqa: E402
from logzio_s3_archive_runtime.cli import main  # noqa: E402
from tests.cli_run import Run  # noqa: E402

REGION = "us-east-1"
VERSIONED = "logzio-archive-versioned"
PLAIN = "logzio-archive-plain"
MISSING_BUCKET = "logzio-archive-does-not-exist"
#: Buckets made with one setting each from tests/bucket_cases.py (test_findings.py), all
#: open to the "finder" user.
FINDINGS_PREFIX = "logzio-findings-"
STACK = "LogzioArchiveTest"
#: Role-mode stacks: one whose role trusts the "admin" user (with the external id), one
#: whose role trusts Logz.io's account only, as deployed.
ROLE_STACK_TRUSTED = "LogzioRoleTrusted"
ROLE_STACK_LOGZIO_ONLY = "LogzioRoleLogzioOnly"
EXTERNAL_ID = "logzio:aws:extid:cli"
#: A stack whose secret holds another key than its AccessKeyId output names, and a key that
#: IAM does not know: the command notes the mismatch, then AWS rejects the key.
STALE_KEY_STACK = "LogzioStaleKey"
UNKNOWN_KEY_ID = "AKIAUNKNOWNSTALEKEY0"
ALL_ACTIONS = checks.ACTIONS
BUCKET_ACTIONS = (checks.LIST_BUCKET, checks.GET_BUCKET_LOCATION)

#: Objects already in the buckets: they must be byte-for-byte unchanged after every test.
#: One key lives under the probe prefix but does not have a probe key's shape.
SEED = {
    "logzio-verified": b"logzio verification object\n",
    "2024/06/01/00/archive-0001.json.gz": bytes(range(256)) * 4,
    "2024/06/01/01/archive-0002.json.gz": b"\x1f\x8b\x08\x00" + b"\x00" * 100,
    f"{checks.PROBE_PREFIX}not-a-probe-object.bin": b"keep me",
}


def policy(buckets, actions=ALL_ACTIONS, slash=True, deny=(), extra_object_actions=()):
    """The least-privilege policy (docs/facts.md) for `actions`, with the usual mistakes."""
    statements = []
    bucket_actions = [a for a in actions if a in BUCKET_ACTIONS]
    object_actions = [a for a in actions if a not in BUCKET_ACTIONS] + list(extra_object_actions)
    bucket_arns = [f"arn:aws:s3:::{b}" for b in buckets]
    object_arns = [f"arn:aws:s3:::{b}/*" if slash else f"arn:aws:s3:::{b}" for b in buckets]
    if bucket_actions:
        statements.append({"Effect": "Allow", "Action": bucket_actions, "Resource": bucket_arns})
    if object_actions:
        statements.append({"Effect": "Allow", "Action": object_actions, "Resource": object_arns})
    for action in deny:
        arns = bucket_arns if action in BUCKET_ACTIONS else [f"arn:aws:s3:::{b}/*" for b in buckets]
        statements.append({"Effect": "Deny", "Action": action, "Resource": arns})
    return {"Version": "2012-10-17", "Statement": statements}


def _short(action: str) -> str:
    return action.split(":")[1].lower()


#: user name -> policy document. Profiles in the credentials file carry the same names.
USERS = {
    "full": policy([VERSIONED, PLAIN]),
    "no-slash": policy([VERSIONED, PLAIN], slash=False),
    "deleter": policy([VERSIONED, PLAIN],
                      extra_object_actions=("s3:DeleteObject", "s3:DeleteObjectVersion")),
    "ghost": policy([MISSING_BUCKET]),
    "finder": policy([FINDINGS_PREFIX + "*"]),
    **{f"no-{_short(a)}": policy([VERSIONED, PLAIN], [x for x in ALL_ACTIONS if x != a])
       for a in ALL_ACTIONS},
    **{f"deny-{_short(a)}": policy([VERSIONED, PLAIN], deny=(a,)) for a in ALL_ACTIONS},
    "admin": {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
}


@dataclass
class World:
    endpoint_url: str
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    credentials_file: Path | None = None
    secret_arn: str = ""

    clients: dict = field(default_factory=dict)

    def client(self, service: str, user: str = "admin"):
        """A cached client (a new one costs ~0.1 s of model loading)."""
        if (service, user) not in self.clients:
            key_id, secret = self.keys[user]
            self.clients[service, user] = boto3.client(
                service, region_name=REGION, endpoint_url=self.endpoint_url,
                aws_access_key_id=key_id, aws_secret_access_key=secret)
        return self.clients[service, user]


def _setup(emu: World, admin_key: tuple[str, str], tmp: Path) -> None:
    anyone = boto3.Session(aws_access_key_id=admin_key[0], aws_secret_access_key=admin_key[1],
                           region_name=REGION)
    iam = anyone.client("iam", endpoint_url=emu.endpoint_url)
    for user, document in USERS.items():
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="archive", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        emu.keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])

    s3 = anyone.client("s3", endpoint_url=emu.endpoint_url)
    for bucket in (VERSIONED, PLAIN):
        s3.create_bucket(Bucket=bucket)
        for key, body in SEED.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})
    for key, body in SEED.items():  # a second version of every object
        s3.put_object(Bucket=VERSIONED, Key=key, Body=body + b" v2")

    # The deployed stack as the command sees it: outputs, and the key in a secret.
    full_id, full_secret = emu.keys["full"]
    emu.secret_arn = anyone.client("secretsmanager", endpoint_url=emu.endpoint_url).create_secret(
        Name="LogzioAccessKeySecret",
        SecretString=json.dumps({"accessKeyId": full_id, "secretAccessKey": full_secret}))["ARN"]
    outputs = {"BucketName": VERSIONED, "Region": REGION, "UserName": "full",
               "AccessKeyId": full_id, "SecretArn": emu.secret_arn}
    stale_arn = anyone.client("secretsmanager", endpoint_url=emu.endpoint_url).create_secret(
        Name="LogzioStaleKeySecret",
        SecretString=json.dumps({"accessKeyId": UNKNOWN_KEY_ID, "secretAccessKey": "s" * 40}))["ARN"]
    cfn = anyone.client("cloudformation", endpoint_url=emu.endpoint_url)
    stacks = {STACK: outputs, STALE_KEY_STACK: {**outputs, "SecretArn": stale_arn}}
    admin_arn = iam.get_user(UserName="admin")["User"]["Arn"]
    for stack, trusted in ((ROLE_STACK_TRUSTED, admin_arn), (ROLE_STACK_LOGZIO_ONLY, "arn:aws:iam::406095609952:root")):
        role_arn = iam.create_role(RoleName=f"{stack}-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": trusted},
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}]}))["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"{stack}-role", PolicyName="archive",
                            PolicyDocument=json.dumps(policy([VERSIONED, PLAIN])))
        stacks[stack] = {"BucketName": VERSIONED, "Region": REGION, "RoleArn": role_arn,
                         "ExternalId": EXTERNAL_ID}
    for stack, values in stacks.items():
        template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                    "Outputs": {name: {"Value": value} for name, value in values.items()}}
        cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    # The emulator runs stack operations in the background, as CloudFormation does.
    deadline = time.monotonic() + 30
    for stack in stacks:
        while cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
            assert time.monotonic() < deadline, "test stack never completed"
            time.sleep(0.1)

    emu.credentials_file = tmp / "credentials"
    emu.credentials_file.write_text("".join(
        f"[{user}]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n\n"
        for user, (key_id, secret) in emu.keys.items()))


@pytest.fixture(scope="session")
def emulator(emu, tmp_path_factory):
    import warnings

    # moto has no model for the test stack's WaitConditionHandle; it only carries outputs.
    warnings.filterwarnings("ignore", message=".*WaitConditionHandle.*", category=UserWarning)
    world = World(endpoint_url=emu.endpoint_url)
    _setup(world, (emu.admin_access_key_id, emu.admin_secret_access_key), tmp_path_factory.mktemp("aws"))
    return world


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, emulator):
    """Only the test's own profiles; no ambient credentials, no real endpoints."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(emulator.credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


def snapshot(emu: World, bucket: str) -> dict:
    """Every version of every non-probe object: (key, version id) -> (latest, body)."""
    s3 = emu.client("s3")
    found = {}
    response = s3.list_object_versions(Bucket=bucket)
    for item in response.get("Versions", []):
        if _is_probe_object(item["Key"]):
            continue
        params = {"Bucket": bucket, "Key": item["Key"]}
        if item.get("VersionId") and item["VersionId"] != "null":
            params["VersionId"] = item["VersionId"]
        body = s3.get_object(**params)["Body"].read()
        found[(item["Key"], item.get("VersionId"))] = (item["IsLatest"], body)
    for item in response.get("DeleteMarkers", []):
        found[(item["Key"], item.get("VersionId"))] = ("delete-marker", b"")
    return found


def _is_probe_object(key: str) -> bool:
    return key.startswith(checks.PROBE_PREFIX) and key.endswith(".txt")


def probe_objects(emu: World, bucket: str) -> list[tuple[str, str | None]]:
    response = emu.client("s3").list_object_versions(Bucket=bucket, Prefix=checks.PROBE_PREFIX)
    return [(item["Key"], item.get("VersionId"))
            for item in response.get("Versions", []) + response.get("DeleteMarkers", [])
            if _is_probe_object(item["Key"])]


@pytest.fixture(scope="session")
def seeded(emulator):
    return {bucket: snapshot(emulator, bucket) for bucket in (VERSIONED, PLAIN)}


@pytest.fixture(autouse=True)
def existing_objects_unchanged(emulator, seeded):
    """After every test: the seeded objects are byte-for-byte the same, version ids included;
    then the probe objects a test left behind are removed (by the test harness, as admin)."""
    yield
    for bucket, before in seeded.items():
        assert snapshot(emulator, bucket) == before, f"objects in {bucket} changed"
    s3 = emulator.client("s3")
    for bucket in (VERSIONED, PLAIN):
        for key, version_id in probe_objects(emulator, bucket):
            params = {"Bucket": bucket, "Key": key}
            if version_id and version_id != "null":
                params["VersionId"] = version_id
            s3.delete_object(**params)


@pytest.fixture
def run(emulator):
    """Run the command in-process: run("--bucket", B, "--profile", "full") -> Run."""
    def _run(*args: str, endpoint: bool = True) -> Run:
        argv = ["check", *args, "--settle-seconds", "0", "--key-deadline-seconds", "0"]
        if endpoint:
            argv += ["--endpoint-url", emulator.endpoint_url]
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())
    return _run
