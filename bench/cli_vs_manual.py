"""Time `logzio-archive check` against Logz.io's manual test and against the floor
of any Python + boto3 tool, on one emulator bucket.

Logz.io's guide has the user test an IAM user by hand: create a dummy file, then
    aws s3 mv dummy s3://BUCKET/
    aws s3 ls s3://BUCKET/
    aws s3 cp s3://BUCKET/dummy .
and read three outputs. The operator command replaces that with one process that checks
four permissions (and tries to remove its probe object). Both run here, in the same run,
against the same bucket of an IAM-enforcing moto server on localhost, as the same
least-privilege user, each a fresh process per command as a user would type it.

Manual variants:
  aws    the real aws CLI (`aws` on PATH; pyenv shims are resolved to the real script so
         the shim's own start-up is not counted)
  boto3  bench/manual_boto3.py: the same S3 calls in fresh Python processes that import
         boto3 only; for machines without the aws CLI; it starts faster than the real CLI,
         so it flatters the manual test
  auto   aws when installed, else boto3;   both: the two of them

The floor: `python -c "import boto3; boto3.client('s3').get_bucket_location(...)"`, one
fresh process that imports boto3, makes one client and one S3 call, as the same user: a
Python tool built on boto3 can hardly start, call S3 and exit faster. The check makes five calls
(write, list, read, locate, remove) and formats a report, so check / bare tells what the
command costs beyond that floor.

Each variant runs --runs times (after one warm-up), interleaved round by round; the table
shows the median, min and max wall time, the processes' CPU time and check / variant: the
median of the per-round ratios, with the ratio of the minimums and of the CPU times beside
it (bench/stats.py). Reading the manual test's three outputs is not counted. `python -m bench` runs this as part of the whole
suite (bench/suite.py); `python -m bench.cli_vs_manual` runs it alone. Results JSON:
bench/results/. No assertions on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulator import Emulator

from .stats import children_cpu, load, ratios

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
REGION = "us-east-1"
BUCKET = "logzio-archive-bench"
USER = "logzio-archive-user"


def setup(emu: Emulator, seed_objects: int) -> tuple[str, str]:
    """A seeded, versioned bucket and a least-privilege user; returns the user's key."""
    iam, s3 = emu.client("iam"), emu.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for i in range(seed_objects):  # an archive bucket is not empty
        s3.put_object(Bucket=BUCKET, Key=f"2024/06/{i // 24 + 1:02d}/{i % 24:02d}/archive.json.gz",
                      Body=os.urandom(1024))
    s3.put_object(Bucket=BUCKET, Key="logzio-verified", Body=b"ok")
    # The least-privilege policy (docs/facts.md): what Logz.io needs, nothing to delete with.
    iam.create_user(UserName=USER)
    iam.put_user_policy(UserName=USER, PolicyName="logzio-archive", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": f"arn:aws:s3:::{BUCKET}"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
             "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _env(emu: Emulator, key: tuple[str, str]) -> dict[str, str]:
    # As on a user's machine, Python caches compiled modules: the warm-up writes the .pyc files
    # (PYTHONDONTWRITEBYTECODE, set in some sandboxes, would recompile the project per run).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({
        "AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1],
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": emu.endpoint_url,
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": "",
        "PYTHONPATH": str(ROOT), "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1",
    })
    return env


def find_aws_cli() -> list[str] | None:
    found = shutil.which("aws")
    if not found:
        return None
    if "/shims/" in found and shutil.which("pyenv"):
        real = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        if real.returncode == 0 and real.stdout.strip():
            found = real.stdout.strip()
    return [found]


def _run(cmd: list[str], env: dict[str, str], cwd: str) -> None:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")


def check_command(emu: Emulator) -> list[list[str]]:
    return [[sys.executable, "-m", "logzio_s3_archive_runtime", "check", "--bucket", BUCKET, "--region", REGION,
             "--endpoint-url", emu.endpoint_url]]


#: The floor: one fresh Python process, boto3 imported, one client, one S3 call.
BARE_BOTO3 = ("import boto3; boto3.client('s3').get_bucket_location(Bucket={bucket!r})")


def bare_command(bucket: str = BUCKET) -> list[list[str]]:
    """One process as any Python + boto3 tool would be at least (endpoint and key from the env)."""
    return [[sys.executable, "-c", BARE_BOTO3.format(bucket=bucket)]]


def manual_commands(s3_command: list[str], endpoint: list[str]) -> list[list[str]]:
    """Logz.io's three commands, `s3_command` standing for `aws s3`."""
    return [[*s3_command, "mv", "dummy", f"s3://{BUCKET}/", *endpoint],
            [*s3_command, "ls", f"s3://{BUCKET}/", *endpoint],
            [*s3_command, "cp", f"s3://{BUCKET}/dummy", ".", *endpoint]]


def time_once(commands: list[list[str]], env: dict[str, str], manual: bool) -> tuple[float, float]:
    """Wall time and the processes' CPU time of one variant."""
    with tempfile.TemporaryDirectory(prefix="bench-") as cwd:
        cpu = children_cpu()
        started = time.perf_counter()
        if manual:  # step 0 of the guide: create a dummy file
            Path(cwd, "dummy").write_text("dummy file for the Logz.io archive test\n")
        for cmd in commands:
            _run(cmd, env, cwd)
        return time.perf_counter() - started, children_cpu() - cpu


def _version(cmd: list[str]) -> str:
    proc = subprocess.run([*cmd, "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip()


CHECK = "logzio_s3_archive_runtime check (1 command, 4 checks)"
MANUAL_AWS = "manual: aws s3 mv + ls + cp (aws CLI)"
MANUAL_BOTO3 = "manual: boto3 stand-in for mv + ls + cp"
BARE = "bare: python -c 'import boto3' + 1 call"


def measure(emu: Emulator, runs: int = 15, manual: str = "both", seed_objects: int = 48,
            bare: bool = True) -> dict:
    """Time the variants on `emu`, interleaved round by round; the ratios are to the check."""
    aws = find_aws_cli()
    if manual == "aws" and aws is None:
        raise RuntimeError("the aws CLI is not installed: use --manual boto3, or pip install awscli")
    want_aws = manual in ("aws", "both", "auto") and aws is not None
    want_boto3 = manual in ("boto3", "both") or (manual == "auto" and aws is None)

    env = _env(emu, setup(emu, seed_objects))
    variants: list[tuple[str, list[list[str]], bool]] = [(CHECK, check_command(emu), False)]
    if want_aws:
        variants.append((MANUAL_AWS, manual_commands([*aws, "s3"], ["--endpoint-url", emu.endpoint_url]), True))
    if want_boto3:  # the stand-in reads the endpoint from AWS_ENDPOINT_URL
        variants.append((MANUAL_BOTO3, manual_commands([sys.executable, "-m", "bench.manual_boto3"], []), True))
    if bare:  # reads the endpoint from AWS_ENDPOINT_URL too
        variants.append((BARE, bare_command(), False))

    times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    load_before = load()
    for _, cmds, is_manual in variants:  # warm-up: .pyc files, page cache
        time_once(cmds, env, is_manual)
    for round_ in range(runs):
        order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
        for name, cmds, is_manual in order:
            wall, used = time_once(cmds, env, is_manual)
            times[name].append(wall)
            cpu[name].append(used)

    rows = []
    for name, cmds, _ in variants:
        check_over = ratios(times[CHECK], times[name], cpu[CHECK], cpu[name])
        rows.append({"variant": name, "processes": len(cmds), "runs": len(times[name]),
                     "median_s": round(statistics.median(times[name]), 3), "min_s": round(min(times[name]), 3),
                     "max_s": round(max(times[name]), 3), "cpu_median_s": round(statistics.median(cpu[name]), 3),
                     # the figure: check / this, the median of the per-round ratios
                     "check_over_this": check_over["paired_median"], "check_over_this_all": check_over,
                     "commands": [" ".join(c) for c in cmds], "times_s": [round(t, 4) for t in times[name]],
                     "cpu_s": [round(t, 4) for t in cpu[name]]})
    return {"runs": runs, "seed_objects": seed_objects, "rows": rows, "load_before": load_before,
            "load_after": load(), "aws_cli": _version(aws) if aws else None}


def print_rows(result: dict) -> None:
    rows = result["rows"]
    width = max(len(r["variant"]) for r in rows)
    print(f"{'variant':<{width}}  procs  median s   min s   max s   cpu s  check/this  (of min, of cpu)")
    for r in rows:
        also = r["check_over_this_all"]
        print(f"{r['variant']:<{width}}  {r['processes']:>5}  {r['median_s']:>8.3f}  {r['min_s']:>6.3f}"
              f"  {r['max_s']:>6.3f}  {r['cpu_median_s']:>6.3f}  {r['check_over_this']:>10.2f}"
              f"  ({also['of_minimums']:.2f}, {also['of_cpu_medians']:.2f})")
    print(f"({result['runs']} interleaved rounds after one warm-up; check/this is the median of the "
          f"per-round ratios; load average {result['load_before'][0]} before, {result['load_after'][0]} "
          "after; times are this run's only, quote the ratios)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_vs_manual", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per variant (default 15)")
    parser.add_argument("--manual", choices=("auto", "aws", "boto3", "both"), default="both",
                        help="how to run the manual test (default both: the aws CLI if installed, "
                             "and the boto3 stand-in)")
    parser.add_argument("--seed-objects", type=int, default=48,
                        help="objects already in the bucket (default 48)")
    args = parser.parse_args(argv)
    try:
        with Emulator(region=REGION) as emu:
            result = measure(emu, args.runs, args.manual, args.seed_objects)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    print_rows(result)
    result.update({"benchmark": "cli_vs_manual", "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "environment": environment()})
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"cli_vs_manual-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    return 0


def environment() -> dict:
    aws = find_aws_cli()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "aws_cli": _version(aws) if aws else None, "moto": _pkg_version("moto"),
            "boto3": _pkg_version("boto3"),
            "emulator": "the embedded emulator (moto server) in the benchmark process, IAM enforced"}


def _pkg_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
