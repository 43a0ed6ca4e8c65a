"""`make demo`: the whole product on this machine, no AWS account needed.

Starts the embedded emulator on loopback, runs the real `cdk bootstrap` and
`cdk deploy --method=direct` of app.py into it, prints the permission probe's verdict
and the outputs a user pastes into Logz.io, then stops the emulator.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from botocore.exceptions import ClientError

from archive_probe.names import Metric, Output, WatchOutput
from stacks.settings import AppSettings, SettingsError

from . import schedules
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


def print_verdict(found: dict[str, str]) -> None:
    principal = "IAM role" if Output.ROLE_ARN in found else "IAM user"
    # The outputs are the probe's own rendering of its diagnosis: shown, never re-read.
    print(f"\nPermission probe (ran during the deploy, as the Logz.io {principal}):")
    print(f"  checks:   {found.get(Output.PROBE_CHECKS, '(none)')}")
    print(f"  findings: {found.get(Output.PROBE_FINDINGS, '(none)')}")
    print(f"  verdict:  {found.get(Output.PROBE_VERDICT, '(none)')}")
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
    print(f"  later:    python -m archive_probe status --stack {stack}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="settings, as with cdk -c (repeatable), e.g. -c principal=role")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.context):
        parser.error("each -c takes KEY=VALUE, e.g. -c bucketName=acme-logs")
    context = dict(item.split("=", 1) for item in args.context)
    try:  # the app's own settings say which stacks there are, and refuse bad values early
        stacks = [archive.stack_name for archive in AppSettings.from_context(context).archives]
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    if not Path(CDK[0]).exists():
        print("Error: the CDK command line is not installed: run `make demo` (it runs npm ci).",
              file=sys.stderr)
        return 2
    # moto warns about each resource type it does not model (here AWS::S3::BucketPolicy and
    # AWS::CDK::Metadata); the stack events and the README say so, the demo stays quiet.
    logging.getLogger("moto").setLevel(logging.ERROR)
    phases = Phases()
    with tempfile.TemporaryDirectory(prefix="logzio-demo-") as work, Emulator(log_dir=work) as emu:
        phases.end("start")
        print(f"Embedded AWS emulator on {emu.endpoint_url} (account {emu.account}, {emu.region}, "
              "IAM enforced)")
        print("cdk bootstrap ...", flush=True)
        code, log = bootstrap(emu)
        phases.end("bootstrap")
        if code != 0:
            print(log, file=sys.stderr)
            print("Error: cdk bootstrap failed against the emulator (output above).", file=sys.stderr)
            return 1
        print(f"cdk deploy {' '.join(stacks)} --method=direct ...", flush=True)
        code, log = deploy(emu, stacks, context, os.path.join(work, "cdk.out"))
        phases.end("deploy")
        if code != 0:
            print(log, file=sys.stderr)
            print("\nThe deployment failed and was rolled back. CloudFormation says:", file=sys.stderr)
            for stack in stacks:
                for reason in failure_reasons(emu, stack):
                    print(f"  {stack}: {reason}", file=sys.stderr)
            return 1
        for stack in stacks:
            if len(stacks) > 1:
                print(f"\n== {stack}")
            found = outputs(emu, stack)
            print_verdict(found)
            if found.get(WatchOutput.SCHEDULE):
                print_recheck(stack, schedules.fire(emu, found[WatchOutput.SCHEDULE]))
        phases.end("verdict")
    print(f"\nDone in {phases.total():.0f} s; the emulator is stopped, nothing is left running.")
    print(phases.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
