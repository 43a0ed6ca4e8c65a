"""The fault suite's world and harness.

World: in the session's embedded emulator (tests/conftest.py `emu`, IAM enforced), a
versioned bucket seeded with objects that must never change, the IAM user Logz.io would
use (the four permissions), its key stored in secrets of every shape, a role that trusts
the Lambda's credentials with an external id, and two stacks for `check --stack`.

Harness: the runtime reaches AWS only through one FaultServer (net.py), which forwards to
the emulator unless a test scripts a fault; CloudFormation's response URL is a ResponseURL.
`invoke` runs logzio_s3_archive_runtime.handler.handler in-process, `cli` runs logzio_s3_archive_runtime.cli.main
in-process; both return everything the run left behind, and `assert_answered` /
`assert_no_verdict` hold each run to the suite's promises:

  * exactly one answer (one PUT, or the same body retried up to cfn.PUT_TRIES times only
    while the PUT failed), its body at most 4096 bytes; or exactly one exit status and one
    error message (and with --json, stdout is one JSON document);
  * returned before the deadline it was given (a correctness bound, not a benchmark);
  * no object outside the probe's prefix created, changed or deleted (every object version
    and delete marker, read as the emulator's admin, not through the fault server);
  * no secret value (secret access keys, session tokens, secret strings, the pre-signed
    URL's signature) in any answer, log record, stdout or stderr;
  * every AWS call one try: each request at the fault server is botocore's attempt 1 of 1,
    and each call the Retrier makes is exactly one request;
  * every client made with connect and read timeouts within aws.CALL_SECONDS.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from logzio_s3_archive_runtime import aws, cfn, checks, handler, probe
from logzio_s3_archive_runtime.cli import main as cli_main
from tests.cli_run import Run

from .net import FaultServer, ResponseURL

REGION = "us-east-1"
BUCKET = "faults-logzio-archive"
PRINCIPAL = "faults-logzio"
ROLE = "faults-logzio-role"
EXTERNAL_ID = "logzio:aws:extid:faults-suite"
STACK = "FaultsArchive"
ROLE_STACK = "FaultsArchiveRole"
EVENTS = Path(__file__).resolve().parent.parent / "events"

#: The Lambda's remaining time in most cases: short, as the issue asks.
DEADLINE = 30.0
#: A deadline that leaves the probe's Retrier this many seconds of retrying (enough for a
#: second try after the first backoff on a busy machine with two test workers; the handler
#: stops retrying ANSWER_MARGIN before the Lambda's end).
RETRY_WINDOW = 2.0
#: The operator command has no deadline of its own: it must be done well within this.
CLI_DEADLINE = 20.0
#: The command's --key-deadline-seconds: how long it retries throttling, 5xx and dropped
#: connections (it has no hard deadline), long enough for a second attempt.
CLI_PATIENCE = "0.5"

#: Objects already in the bucket; none may be created, changed or deleted by a probe. One
#: lives under the probe prefix without a probe key's shape: it must stay too.
SEED = {
    "logzio-verified": b"logzio verification object\n",
    "2026/11/27/00/archive-0001.json.gz": bytes(range(256)) * 4,
    f"{checks.PROBE_PREFIX}not-a-probe-object.bin": b"keep me",
    "logzio-archive-probe": b"a key that only looks like the prefix",
}

#: Secret-looking values of the malformed secrets: they must never be printed either.
NOT_JSON_SECRET = "notJsonSecretPart0123456789abcdefABCDEF"
NO_KEYS_SECRET = "noKeysSecretPart0123456789abcdefABCDEFG"
LIST_SECRET = "listSecretPart0123456789abcdefABCDEFGHI"
BINARY_SECRET = "binarySecretPart0123456789abcdefABCDEFG"
PRESIGNED = "presigned-signature-value"


@dataclass
class World:
    endpoint_url: str
    admin: tuple[str, str]
    principal: tuple[str, str] = ("", "")
    role_arn: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    #: Strings that must appear in no output.
    secret_values: set[str] = field(default_factory=set)
    _clients: dict = field(default_factory=dict)

    def client(self, service: str):
        """A client as the emulator's admin, straight to the emulator (never faulted)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, region_name=REGION, endpoint_url=self.endpoint_url,
                aws_access_key_id=self.admin[0], aws_secret_access_key=self.admin[1])
        return self._clients[service]


def _principal_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}


def _setup(world: World) -> None:
    iam, s3, sm, cf = (world.client(s) for s in ("iam", "s3", "secretsmanager", "cloudformation"))
    iam.create_user(UserName=PRINCIPAL)
    iam.put_user_policy(UserName=PRINCIPAL, PolicyName="archive",
                        PolicyDocument=json.dumps(_principal_policy()))
    key = iam.create_access_key(UserName=PRINCIPAL)["AccessKey"]
    world.principal = (key["AccessKeyId"], key["SecretAccessKey"])
    admin_arn = iam.get_user(UserName="emulator-admin")["User"]["Arn"]
    world.role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": admin_arn},
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="archive", PolicyDocument=json.dumps(_principal_policy()))

    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    for name, body in SEED.items():
        s3.put_object(Bucket=BUCKET, Key=name, Body=body)
        s3.put_object(Bucket=BUCKET, Key=name, Body=body + b" v2")  # two versions of each

    key_id, secret = world.principal
    shapes: dict[str, Any] = {
        "documented": {"accessKeyId": key_id, "secretAccessKey": secret},
        # What `aws iam create-access-key` prints, and its inner object on its own.
        "create-access-key": {"AccessKey": {"UserName": PRINCIPAL, "AccessKeyId": key_id, "Status": "Active",
                                            "SecretAccessKey": secret, "CreateDate": "2026-11-27T00:00:00Z"}},
        "flat": {"AccessKeyId": key_id, "SecretAccessKey": secret},
        "not-json": f"{key_id}:{NOT_JSON_SECRET}",
        "no-keys": {"access_key": key_id, "secret_key": NO_KEYS_SECRET},
        "not-an-object": [key_id, LIST_SECRET],
    }
    for shape, value in shapes.items():
        text = value if isinstance(value, str) else json.dumps(value)
        world.secrets[shape] = sm.create_secret(Name=f"faults-{shape}", SecretString=text)["ARN"]
    world.secrets["binary"] = sm.create_secret(
        Name="faults-binary", SecretBinary=b"\x00\x01\xfe" + BINARY_SECRET.encode())["ARN"]
    world.secret_values |= {secret, world.admin[1], NOT_JSON_SECRET, NO_KEYS_SECRET, LIST_SECRET,
                            BINARY_SECRET}

    stacks = {STACK: {"BucketName": BUCKET, "Region": REGION, "UserName": PRINCIPAL,
                      "AccessKeyId": key_id, "SecretArn": world.secrets["documented"]},
              ROLE_STACK: {"BucketName": BUCKET, "Region": REGION, "RoleArn": world.role_arn,
                           "ExternalId": EXTERNAL_ID}}
    for stack, outputs in stacks.items():
        template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                    "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
        cf.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    ends = time.monotonic() + 30
    for stack in stacks:  # the emulator runs stack operations in the background
        while cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
            assert time.monotonic() < ends, f"stack {stack} never completed"
            time.sleep(0.05)


@pytest.fixture(scope="session")
def world(emu) -> World:
    import warnings

    warnings.filterwarnings("ignore", message=".*WaitConditionHandle.*", category=UserWarning)
    made = World(endpoint_url=emu.endpoint_url, admin=(emu.admin_access_key_id, emu.admin_secret_access_key))
    _setup(made)
    return made


@pytest.fixture(scope="session")
def fault_server(world):
    server = FaultServer(world.endpoint_url)
    yield server
    server.close()


@pytest.fixture
def faults(fault_server):
    """The session's fault server with an empty script and no requests recorded."""
    fault_server.reset_script()
    yield fault_server
    fault_server.reset_script()


@pytest.fixture
def response_url():
    """ResponseURL(mode, ...) factories; every one made is closed after the test."""
    made: list[ResponseURL] = []

    def make(mode: str = "ok", failures: int | None = None, status: int = 500) -> ResponseURL:
        made.append(ResponseURL(mode, failures, status))
        return made[-1]
    yield make
    for url in made:
        url.close()


# --------------------------------------------------------------------------- bucket state

def is_probe_key(key: str) -> bool:
    return probe.PROBE_KEY.fullmatch(key) is not None


def bucket_state(world: World) -> dict:
    """Every version and delete marker of every object but the probe's own, with its etag."""
    state = {}
    for page in world.client("s3").get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for item in page.get("Versions", []):
            if not is_probe_key(item["Key"]):
                state[item["Key"], item["VersionId"]] = (item["ETag"], item["Size"], item["IsLatest"])
        for item in page.get("DeleteMarkers", []):
            if not is_probe_key(item["Key"]):
                state[item["Key"], item["VersionId"]] = ("delete-marker", 0, item["IsLatest"])
    return state


def probe_objects(world: World) -> list[tuple[str, str]]:
    response = world.client("s3").list_object_versions(Bucket=BUCKET, Prefix=checks.PROBE_PREFIX)
    return [(item["Key"], item["VersionId"]) for item in
            response.get("Versions", []) + response.get("DeleteMarkers", []) if is_probe_key(item["Key"])]


@pytest.fixture(autouse=True)
def no_leftovers(world):
    """Tests start from the seeded bucket: probe objects a run left are removed after it."""
    yield
    for key, version_id in probe_objects(world):
        world.client("s3").delete_object(Bucket=BUCKET, Key=key, VersionId=version_id)


# --------------------------------------------------------------------------- spies

@dataclass
class Spies:
    #: Retrier attempts per call name ("PutObject", "GetSecretValue", ...).
    attempts: dict[str, int] = field(default_factory=dict)
    #: Every try of the response PUT: (body, outcome).
    put_tries: list[tuple[bytes, str]] = field(default_factory=list)
    #: (service, botocore Config) of every client the runtime made.
    clients: list[tuple[str, Any]] = field(default_factory=list)


@pytest.fixture
def spies(monkeypatch):
    found = Spies()
    real_call = probe.Retrier.call
    real_put = aws.put_response
    real_client = boto3.session.Session.client

    def call(self, what, fn):
        def counted():
            found.attempts[what] = found.attempts.get(what, 0) + 1
            return fn()
        return real_call(self, what, counted)

    def put(url, body, timeout):
        try:
            status = real_put(url, body, timeout)
        except BaseException as error:
            found.put_tries.append((body, f"{type(error).__name__}: {error}"))
            raise
        found.put_tries.append((body, str(status)))
        return status

    def client(self, service_name, *args, **kwargs):
        made = real_client(self, service_name, *args, **kwargs)
        if sys._getframe(1).f_globals.get("__name__", "").startswith("logzio_s3_archive_runtime"):
            found.clients.append((service_name, made.meta.config))  # the runtime's, not the suite's
        return made

    monkeypatch.setattr(probe.Retrier, "call", call)
    monkeypatch.setattr(aws, "put_response", put)
    monkeypatch.setattr(boto3.session.Session, "client", client)
    return found


@pytest.fixture
def short_timeouts(monkeypatch):
    """Connect and read timeouts of 1 s instead of CLIENT_CONFIG's, so that a silent endpoint
    costs a second per call, and PUT tries of 0.3 s: the logic under test is the same (one
    case, test_deadline_a_few_seconds_away_with_a_silent_s3_and_real_timeouts, runs
    with the real values)."""
    from botocore.config import Config

    monkeypatch.setattr(aws, "CLIENT_CONFIG", aws.CLIENT_CONFIG.merge(Config(connect_timeout=1, read_timeout=1)))
    monkeypatch.setattr(cfn, "PUT_TIMEOUT", 0.3)


# --------------------------------------------------------------------------- environments

def _clean_env(monkeypatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def lambda_env(monkeypatch, world, faults):
    """As in Lambda: the function's own credentials in the environment (here the emulator's
    admin), every AWS endpoint the fault server."""
    _clean_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin[1])
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", faults.url)
    monkeypatch.setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/27/[$LATEST]faults")


# --------------------------------------------------------------------------- the handler

class Context:
    log_stream_name = "2026/11/27/[$LATEST]faults"

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline - time.monotonic()) * 1000), 0)


def event(world: World, url: str, kind: str = "create", secret: str = "documented", **properties) -> dict:
    """A CloudFormation event from tests/events for the suite's bucket and secret; for an
    Update the old properties are the same but the policy digest."""
    data = json.loads((EVENTS / f"{kind}.json").read_text())
    data["ResponseURL"] = url
    props = data["ResourceProperties"]
    props.update(BucketName=BUCKET, Region=REGION, SecretArn=world.secrets[secret],
                 AccessKeyId=world.principal[0], KeyDeadlineSeconds="2", SettleSeconds="0")
    if "OldResourceProperties" in data:
        data["OldResourceProperties"] = {**props, "PolicyDigest": "aaaabbbbccccdddd"}
    if "PhysicalResourceId" in data:
        data["PhysicalResourceId"] = handler.physical_id(BUCKET)
    props.update(properties)
    return data


def role_event(world: World, url: str, kind: str = "create", **properties) -> dict:
    """The same event in role mode: RoleArn and ExternalId instead of SecretArn and AccessKeyId."""
    data = event(world, url, kind, **{"RoleArn": world.role_arn, "ExternalId": EXTERNAL_ID, **properties})
    for name in ("SecretArn", "AccessKeyId"):
        if name not in properties:
            data["ResourceProperties"].pop(name)
    return data


@dataclass
class Invocation:
    deadline: float
    elapsed: float
    raised: BaseException | None
    url: ResponseURL
    spies: Spies
    faults: FaultServer
    logs: str
    printed: str
    before: dict
    after: dict

    @property
    def answers(self) -> list[dict]:
        return self.url.answers()

    @property
    def answer(self) -> dict:
        bodies = {put.body for put in self.url.puts}
        assert len(bodies) == 1, f"{len(bodies)} different answers: {self.answers}"
        return self.answers[-1]


@pytest.fixture
def invoke(lambda_env, world, faults, spies, response_url, caplog, capsys):
    """invoke(event_or_builder, seconds) -> Invocation; the response URL is made here unless
    `url` (a ResponseURL) is given; `event` may be a function of the URL."""
    def run(make_event, seconds: float = DEADLINE, url: ResponseURL | None = None) -> Invocation:
        url = url or response_url()
        data = make_event(url.url) if callable(make_event) else make_event
        caplog.clear()
        # The runtime's own loggers at DEBUG; everything else at INFO, as in Lambda (the
        # handler sets the root logger to INFO there): botocore's DEBUG lines carry every
        # response body, secrets included, whatever the runtime does.
        caplog.set_level(logging.INFO)
        caplog.set_level(logging.DEBUG, logger="logzio_s3_archive_runtime")
        before = bucket_state(world)
        context = Context(seconds)
        started = time.monotonic()
        raised = None
        try:
            handler.handler(data, context)
        except BaseException as error:  # noqa: BLE001 - recorded, asserted by the test
            raised = error
        elapsed = time.monotonic() - started
        faults.settle()
        printed = capsys.readouterr()
        return Invocation(seconds, elapsed, raised, url, spies, faults, caplog.text,
                          printed.out + printed.err, before, bucket_state(world))
    return run


def _assert_common(world: World, faults: FaultServer, spies: Spies, before: dict, after: dict,
                   outputs: dict[str, str]) -> None:
    # Nothing but probe objects touched.
    assert after == before, "objects outside the probe's own changed: " + repr(
        {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)})
    # No secret in any output.
    secrets = world.secret_values | faults.secrets_seen | {PRESIGNED}
    for where, text in outputs.items():
        leaked = [s[:6] + "..." for s in secrets if s and s in text]
        assert not leaked, f"secret values {leaked} appear in {where}"
    # Every AWS call one try: botocore's attempt 1 of 1, and one request per Retrier attempt.
    retried = [(s.service, s.operation, s.sdk_request) for s in faults.seen()
               if s.attempt != 1 or s.max_attempts != 1]
    assert not retried, f"requests retried (or retryable) inside botocore: {retried}"
    for what, attempts in spies.attempts.items():
        sent = len(faults.seen(operation=what))
        assert sent == attempts, f"{what}: {attempts} Retrier attempts but {sent} requests"
    for service, config in spies.clients:
        assert config.connect_timeout is not None and config.read_timeout is not None, service
        assert config.connect_timeout + config.read_timeout <= aws.CALL_SECONDS, (service, config.connect_timeout,
                                                                                 config.read_timeout)
        assert (config.retries or {}).get("total_max_attempts") == 1, (service, config.retries)


def assert_answered(world: World, run: Invocation, status: str) -> dict:
    """Exactly one answer with `status`, before the deadline, and every promise kept."""
    assert run.raised is None, f"the handler raised {run.raised!r}"
    tries = run.spies.put_tries
    assert tries, "no answer was even tried"
    assert len(tries) <= cfn.PUT_TRIES, f"{len(tries)} PUTs"
    assert len({body for body, _ in tries}) == 1, "more than one answer: " + repr([b for b, _ in tries])
    assert all(outcome != "200" for _, outcome in tries[:-1]), f"a PUT repeated after it succeeded: {tries}"
    if run.url.mode != "refused":  # what reached the response URL is what was sent
        assert [put.body for put in run.url.puts] == [body for body, _ in tries]
    body = tries[0][0]
    assert len(body) <= cfn.MAX_BODY_BYTES, f"answer of {len(body)} bytes"
    answer = json.loads(body)
    _assert_common(world, run.faults, run.spies, run.before, run.after,
                   {"the answer": body.decode(), "the log": run.logs, "stdout/stderr": run.printed})
    assert run.elapsed < run.deadline, f"returned after {run.elapsed:.1f} s, deadline {run.deadline:.1f} s"
    assert answer["Status"] == status, answer["Reason"]
    return answer


# --------------------------------------------------------------------------- the command

@dataclass
class CliRun(Run):
    elapsed: float
    before: dict
    after: dict


@pytest.fixture
def cli(monkeypatch, world, faults, spies):
    """cli(*args, as_="principal"|"admin"|None, endpoint=True) -> CliRun: the command in-process,
    as the principal's key (environment) or the admin's, against the fault server."""
    _clean_env(monkeypatch)

    def run(*args: str, as_: str | None = "principal", endpoint: bool = True,
            patience: bool = True) -> CliRun:
        if as_ is not None:
            key_id, secret = world.principal if as_ == "principal" else world.admin
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        argv = ["check", *args]
        if patience:
            argv += ["--key-deadline-seconds", CLI_PATIENCE, "--settle-seconds", "0"]
        if endpoint:
            argv += ["--endpoint-url", faults.url]
        out, err = io.StringIO(), io.StringIO()
        before = bucket_state(world)
        started = time.monotonic()
        code = cli_main(argv, out=out, err=err)
        elapsed = time.monotonic() - started
        faults.settle()
        return CliRun(code, out.getvalue(), err.getvalue(), elapsed, before, bucket_state(world))
    run.spies = spies
    return run


def assert_exit(world: World, faults: FaultServer, spies: Spies, run: CliRun, code: int,
                json_doc: bool = False, deadline: float = CLI_DEADLINE) -> dict | None:
    """One exit status `code`, one error message when it is 2, before the deadline."""
    _assert_common(world, faults, spies, run.before, run.after, {"stdout": run.out, "stderr": run.err})
    assert "Traceback" not in run.err, run.err
    doc = None
    if json_doc:
        doc = json.loads(run.out)  # exactly one JSON document, nothing else on stdout
        assert isinstance(doc, dict)
    errors = [line for line in run.err.splitlines() if line.startswith("error:")]
    if code == 2:
        assert len(errors) == 1, f"expected one error message, got stderr:\n{run.err}"
        if not json_doc:
            assert len([line for line in run.err.splitlines() if line.startswith("next:")]) == 1, run.err
        else:
            assert doc.get("ok") is False and isinstance(doc.get("error"), dict), doc
    else:
        assert not errors, run.err
    assert run.elapsed < deadline, f"returned after {run.elapsed:.1f} s"
    assert run.code == code, f"exit {run.code}, expected {code}\nstdout:\n{run.out}\nstderr:\n{run.err}"
    return doc
