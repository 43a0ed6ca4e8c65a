"""Time `python -m archive_probe check` against Logz.io's manual test, on one emulator bucket.

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

Each variant runs --runs times (after one warm-up), interleaved round by round; the table
shows the median, min and max wall time and the ratio manual / check (how many times
longer the manual test takes; reading its three outputs is not counted). Results JSON:
bench/results/cli_vs_manual-<UTC time>.json (and latest.json). No assertions on time.
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
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
    return [[sys.executable, "-m", "archive_probe", "check", "--bucket", BUCKET, "--region", REGION,
             "--endpoint-url", emu.endpoint_url]]


def manual_commands(s3_command: list[str], endpoint: list[str]) -> list[list[str]]:
    """Logz.io's three commands, `s3_command` standing for `aws s3`."""
    return [[*s3_command, "mv", "dummy", f"s3://{BUCKET}/", *endpoint],
            [*s3_command, "ls", f"s3://{BUCKET}/", *endpoint],
            [*s3_command, "cp", f"s3://{BUCKET}/dummy", ".", *endpoint]]


def time_once(commands: list[list[str]], env: dict[str, str], manual: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-") as cwd:
        started = time.perf_counter()
        if manual:  # step 0 of the guide: create a dummy file
            Path(cwd, "dummy").write_text("dummy file for the Logz.io archive test\n")
        for cmd in commands:
            _run(cmd, env, cwd)
        return time.perf_counter() - started


def _version(cmd: list[str]) -> str:
    proc = subprocess.run([*cmd, "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per variant (default 7)")
    parser.add_argument("--manual", choices=("auto", "aws", "boto3", "both"), default="both",
                        help="how to run the manual test (default both: the aws CLI if installed, "
                             "and the boto3 stand-in)")
    parser.add_argument("--seed-objects", type=int, default=48,
                        help="objects already in the bucket (default 48)")
    args = parser.parse_args(argv)

    aws = find_aws_cli()
    if args.manual == "aws" and aws is None:
        print("the aws CLI is not installed: use --manual boto3, or pip install awscli", file=sys.stderr)
        return 2
    want_aws = args.manual in ("aws", "both", "auto") and aws is not None
    want_boto3 = args.manual in ("boto3", "both") or (args.manual == "auto" and aws is None)

    with Emulator(region=REGION) as emu:
        env = _env(emu, setup(emu, args.seed_objects))
        variants: list[tuple[str, list[list[str]], bool]] = [
            ("archive_probe check (1 command, 4 checks)", check_command(emu), False)]
        if want_aws:
            variants.append(("manual: aws s3 mv + ls + cp (aws CLI)",
                             manual_commands([*aws, "s3"], ["--endpoint-url", emu.endpoint_url]), True))
        if want_boto3:  # the stand-in reads the endpoint from AWS_ENDPOINT_URL
            variants.append(("manual: boto3 stand-in for mv + ls + cp",
                             manual_commands([sys.executable, "-m", "bench.manual_boto3"], []), True))

        times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
        for _, cmds, manual in variants:  # warm-up: .pyc files, page cache
            time_once(cmds, env, manual)
        for round_ in range(args.runs):
            order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
            for name, cmds, manual in order:
                times[name].append(time_once(cmds, env, manual))

    check_name = variants[0][0]
    check_median = statistics.median(times[check_name])
    rows = []
    for name, cmds, _ in variants:
        median = statistics.median(times[name])
        rows.append({"variant": name, "processes": len(cmds), "runs": len(times[name]),
                     "median_s": round(median, 3), "min_s": round(min(times[name]), 3),
                     "max_s": round(max(times[name]), 3),
                     "ratio_to_check": round(median / check_median, 2),
                     "commands": [" ".join(c) for c in cmds], "times_s": [round(t, 4) for t in times[name]]})

    width = max(len(r["variant"]) for r in rows)
    print(f"{'variant':<{width}}  procs  median s   min s   max s  x check")
    for r in rows:
        print(f"{r['variant']:<{width}}  {r['processes']:>5}  {r['median_s']:>8.3f}  {r['min_s']:>6.3f}"
              f"  {r['max_s']:>6.3f}  {r['ratio_to_check']:>7.2f}")
    for r in rows[1:]:
        print(f"ratio: {r['variant']} takes {r['ratio_to_check']:.2f}x the time of the check "
              f"(check / manual = {check_median / r['median_s']:.2f}), median of {r['runs']} runs")

    result = {
        "benchmark": "cli_vs_manual", "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": args.runs, "seed_objects": args.seed_objects, "rows": rows,
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "platform": platform.platform(),
                        "aws_cli": _version(aws) if aws else None,
                        "moto": _pkg_version("moto"), "boto3": _pkg_version("boto3"),
                        "emulator": "the embedded emulator (moto server) in the benchmark process, IAM enforced"},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"cli_vs_manual-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT)}")
    return 0


def _pkg_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None
