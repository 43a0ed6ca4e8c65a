"""`make demo`: the whole product on this machine, no AWS account needed.

Starts the embedded emulator on loopback, runs the real `cdk bootstrap` and
`cdk deploy --method=direct` of app.py into it, prints the permission probe's verdict
and the outputs a user pastes into Logz.io, then stops the emulator.

By default the deploy also hands the archive over to an embedded Logz.io API (one per
stack, on 127.0.0.1, with a random API token): the token is stored in a Secrets Manager
secret in the emulator before the deploy, as an admin would, and the stack is given that
secret's name (logzioApiTokenSecret) and the API's URL (logzioApiUrl); with -c principal=role
also Logz.io's external id and account (externalId, logzioAccountId: the server takes yours
when given). The demo then prints the registration and Logz.io's test result. --no-logzio,
or your own logzioApiTokenSecret / logzioRegion / logzioApiUrl, leaves this out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from botocore.exceptions import ClientError

from logzio_s3_archive_runtime.names import Metric, Output, WatchOutput
from stacks.settings import AppSettings, SettingsError

from . import schedules
from .logzio_api import LOGZIO_AWS_ACCOUNT, LogzioApiServer
from .server import Emulator, cdk_bootstrap, cdk_deploy

ROOT = Path(__file__).resolve().parent.parent
CDK = [str(ROOT / "node_modules" / ".bin" / "cdk")]

#: The outputs a user needs on Logz.io's archive page, in its order (keys, or IAM role).
PASTE_INTO_LOGZIO = (Output.BUCKET_NAME, Output.REGION, Output.ACCESS_KEY_ID, Output.SECRET_ARN,
                     Output.GET_SECRET_COMMAND, Output.ROLE_ARN, Output.EXTERNAL_ID)


class Phases:
    """Wall time of the demo's phases, for its closing `phases:` line (read by `python -m bench`).

    Each end(name) closes the phase that began where the previous one ended; what follows the
    last one (stopping the emulator, removing the work folder) is "other"."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def end(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self.last
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.started

    def line(self) -> str:
        total = self.total()
        parts = {**self.seconds, "other": total - sum(self.seconds.values())}
        return "phases: " + ", ".join(f"{name} {100 * seconds / total:.0f}%"
                                      for name, seconds in parts.items())


#: Context keys by which a user configures the hand-off to Logz.io's API themselves.
OWN_LOGZIO_KEYS = ("logzioApiTokenSecret", "logzioRegion", "logzioApiUrl")
#: A URL of the right shape for validating the settings before the embedded API listens.
PLACEHOLDER_URL = "http://127.0.0.1:1"


@dataclass
class EmbeddedLogzio:
    """One archive's Logz.io account in the demo: its API token, the secret that holds it, the
    external id and AWS account of its role trust, and (once started) its API server."""

    secret_name: str
    account_id: str
    external_id: str
    #: The context entry (the top level, or one of `archives`) the API's URL goes into.
    entry: dict[str, Any]
    token: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    server: LogzioApiServer | None = None

    def start(self, emu: Emulator) -> None:
        emu.client("secretsmanager").create_secret(
            Name=self.secret_name, SecretString=self.token,
            Description="Logz.io API token (the demo's embedded Logz.io API)")
        self.server = LogzioApiServer(emu, self.token, account_id=self.account_id, external_id=self.external_id)
        self.entry["logzioApiUrl"] = self.server.start()


def _archive_entries(value: Any) -> list | None:
    """The `archives` list as given (a JSON string from -c, or a list), None if unreadable
    (the settings say why)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list) and value and all(isinstance(entry, dict) for entry in value):
        return value
    return None


def embed_logzio(context: dict[str, Any]) -> tuple[dict[str, Any], list[EmbeddedLogzio]]:
    """The context with the embedded Logz.io API's settings, one Logz.io account per archive
    (Logz.io keeps one archive setting per account), and those accounts, in archive order.
    Unchanged, with none, when the user configures the hand-off themselves."""
    context = dict(context)
    entries = _archive_entries(context.get("archives")) if "archives" in context else None
    if "archives" in context and entries is None:
        return context, []  # not a list of objects: the settings refuse it with the fix
    entries = [dict(entry) for entry in entries] if entries is not None else None
    if any(key in place for place in [context, *(entries or [])] for key in OWN_LOGZIO_KEYS):
        return context, []
    accounts = []
    for index, entry in enumerate(entries if entries is not None else [context]):
        role = str(entry.get("principal", context.get("principal", ""))).strip().lower() == "role"
        account = entry.get("logzioAccountId") or context.get("logzioAccountId") or LOGZIO_AWS_ACCOUNT
        external_id = (entry.get("externalId") or context.get("externalId")
                       or f"logzio:aws:extid:{secrets.token_hex(8)}")
        name = "logzio-api-token" if entries is None else f"logzio-api-token-{index + 1}"
        entry.update(logzioApiTokenSecret=name, logzioApiUrl=PLACEHOLDER_URL)
        if role:
            entry.update(logzioAccountId=str(account), externalId=str(external_id))
        accounts.append(EmbeddedLogzio(name, str(account), str(external_id), entry))
    if entries is not None:
        context["archives"] = entries
    return context, accounts


def cdk_context(context: dict[str, Any]) -> dict[str, str]:
    """The context as `cdk -c` values (a list, such as `archives`, as JSON)."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in context.items()}


def print_logzio(found: dict[str, str], logzio: EmbeddedLogzio) -> None:
    """The hand-off: Logz.io's setting and test as the stack reports them (its outputs), and
    what the embedded Logz.io API now holds."""
    server = logzio.server
    assert server is not None
    print(f"\nLogz.io hand-off (Logz.io's API, embedded on {server.url}; the token in secret "
          f"{logzio.secret_name}):")
    settings_id = found.get(Output.LOGZIO_SETTINGS_ID, "")
    stored = server.settings.get(int(settings_id)) if settings_id.isdigit() else None
    operations = [change["operation"] + "d" for change in server.changes if str(change["id"]) == settings_id]
    state = "" if stored is None else ("enabled" if stored["enabled"] else "DISABLED")
    print(f"  setting:  {settings_id or '(none)'} ({', '.join(operations + [state] if state else operations)})")
    print(f"  test:     {found.get(Output.LOGZIO_TEST, '(none)')}")
    if stored is None:
        print("  holds:    nothing")
        return
    s3 = stored["amazonS3StorageSettings"]
    if s3["credentialsType"] == "IAM":
        print(f"  holds:    bucket {s3['path']}, IAM role {s3['s3IamCredentials']['arn']}")
        print(f"            (its test assumed the role as account {server.account_id} with external id "
              f"{s3['s3IamCredentials']['externalId']})")
    else:
        print(f"  holds:    bucket {s3['path']}, access key {s3['s3SecretCredentials']['accessKey']} "
              "and its secret key")


def deploy(emu: Emulator, stacks: list[str], context: dict[str, str], out_dir: str) -> tuple[int, str]:
    app = ["--app", f"{sys.executable} app.py", "--output", out_dir]
    return cdk_deploy(emu, CDK, str(ROOT), stacks, context=context, extra_args=app)


def bootstrap(emu: Emulator) -> tuple[int, str]:
    return cdk_bootstrap(emu, CDK)  # no synth: the environment is named


def outputs(emu: Emulator, stack: str) -> dict[str, str]:
    description = emu.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}


def failure_reasons(emu: Emulator, stack: str) -> list[str]:
    try:
        events = emu.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:  # never created: synth or an earlier stack failed (output above)
        return []
    return [f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}" for e in events
            if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")]


def print_verdict(found: dict[str, str], registered: bool = False) -> None:
    principal = "IAM role" if Output.ROLE_ARN in found else "IAM user"
    # The outputs are the probe's own rendering of its diagnosis: shown, never re-read.
    print(f"\nPermission probe (ran during the deploy, as the Logz.io {principal}):")
    print(f"  checks:   {found.get(Output.PROBE_CHECKS, '(none)')}")
    print(f"  findings: {found.get(Output.PROBE_FINDINGS, '(none)')}")
    print(f"  verdict:  {found.get(Output.PROBE_VERDICT, '(none)')}")
    if registered:
        print("\nGiven to Logz.io through its API (below); by hand, Settings > Archive & restore:")
    else:
        print("\nPaste into Logz.io (Settings > Archive & restore):")
    for key in PASTE_INTO_LOGZIO:
        if key in found:
            print(f"  {key:<17} {found[key]}")
    if Output.SECRET_ARN in found:
        print("  (the secret key itself is only in Secrets Manager; read it with GetSecretCommand)")


def print_recheck(stack: str, result: dict) -> None:
    """The scheduled re-check, run once now as the schedule will run it after every interval."""
    age = result.get("newest_archive_age_hours")
    print("\nScheduled re-check (run once now, as EventBridge Scheduler will on its schedule):")
    print(f"  result:   {'healthy' if result.get('healthy') == 1 else 'UNHEALTHY'} (metric "
          f"{Metric.NAMESPACE}/{Metric.HEALTHY} = {result.get('healthy')})")
    print(f"  newest archive: {'none yet' if age is None else f'{age:g} hours old'}")
    print(f"  verdict:  {result.get('summary')}")
    print(f"  later:    logzio-archive status --stack {stack}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="settings, as with cdk -c (repeatable), e.g. -c principal=role")
    parser.add_argument("--no-logzio", action="store_true",
                        help="no embedded Logz.io API: print what to paste into Logz.io instead")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.context):
        parser.error("each -c takes KEY=VALUE, e.g. -c bucketName=acme-logs")
    context: dict[str, Any] = dict(item.split("=", 1) for item in args.context)
    logzio: list[EmbeddedLogzio] = []
    if not args.no_logzio:
        context, logzio = embed_logzio(context)
    try:  # the app's own settings say which stacks there are, and refuse bad values early
        stacks = [archive.stack_name for archive in AppSettings.from_context(context).archives]
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    if not Path(CDK[0]).exists():
        print("Error: the CDK command line is not installed: run `make demo` (it runs npm ci).",
              file=sys.stderr)
        return 2
    # moto warns about each resource type it does not model (here AWS::CDK::Metadata); the
    # stack events and the README say so, the demo stays quiet.
    logging.getLogger("moto").setLevel(logging.ERROR)
    phases = Phases()
    with tempfile.TemporaryDirectory(prefix="logzio-demo-") as work, Emulator(log_dir=work) as emu:
        try:
            code = run(emu, work, stacks, context, logzio, phases)
        finally:
            for account in logzio:
                if account.server is not None:
                    account.server.stop()
    if code != 0:
        return code
    print(f"\nDone in {phases.total():.0f} s; the emulator is stopped, nothing is left running.")
    print(phases.line())
    return 0


def run(emu: Emulator, work: str, stacks: list[str], context: dict[str, Any], logzio: list[EmbeddedLogzio],
        phases: Phases) -> int:
    """Bootstrap, deploy and print the verdicts; the exit code."""
    for account in logzio:  # as an admin would, before the deploy: the token into Secrets Manager
        account.start(emu)
    phases.end("start")
    print(f"Embedded AWS emulator on {emu.endpoint_url} (account {emu.account}, {emu.region}, "
          "IAM enforced)")
    for stack, account in zip(stacks, logzio):
        assert account.server is not None
        print(f"Embedded Logz.io API on {account.server.url} for {stack} (Logz.io's AWS account "
              f"{account.account_id}, external id {account.external_id}); its API token is in "
              f"secret {account.secret_name}")
    print("cdk bootstrap ...", flush=True)
    code, log = bootstrap(emu)
    phases.end("bootstrap")
    if code != 0:
        print(log, file=sys.stderr)
        print("Error: cdk bootstrap failed against the emulator (output above).", file=sys.stderr)
        return 1
    print(f"cdk deploy {' '.join(stacks)} --method=direct ...", flush=True)
    code, log = deploy(emu, stacks, cdk_context(context), os.path.join(work, "cdk.out"))
    phases.end("deploy")
    if code != 0:
        print(log, file=sys.stderr)
        print("\nThe deployment failed and was rolled back. CloudFormation says:", file=sys.stderr)
        for stack in stacks:
            for reason in failure_reasons(emu, stack):
                print(f"  {stack}: {reason}", file=sys.stderr)
        return 1
    for index, stack in enumerate(stacks):
        if len(stacks) > 1:
            print(f"\n== {stack}")
        found = outputs(emu, stack)
        print_verdict(found, registered=Output.LOGZIO_SETTINGS_ID in found)
        if index < len(logzio):
            print_logzio(found, logzio[index])
        if found.get(WatchOutput.SCHEDULE):
            print_recheck(stack, schedules.fire(emu, found[WatchOutput.SCHEDULE]))
    phases.end("verdict")
    return 0

if __name__ == "__main__":
    sys.exit(main())
