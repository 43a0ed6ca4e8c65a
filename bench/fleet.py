"""The fleet's two figures: 200 archives read at once against one archive's status, and 20
archives probed at once against one `check --stack`.

The archives are made through the CloudFormation API (no `cdk deploy` per stack): each stack
carries what the fleet reads (the marker, the outputs), its re-check metrics and alarm are put
beside it. The probed ones are real: a bucket, an IAM user with the four grants, its key in a
secret, so `--probe` checks each as its principal. Each variant runs as an operator runs it (a
new `logzio-archive` process) in interleaved rounds; the figures are ratios (bench/stats.py).

  6  fleet for 200 / status --stack for one      target <= 3
     AWS calls per archive (in-process count)    target <= 0.1
  7  fleet --probe for 20 / one check --stack    (reported)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

from emulator import Emulator

from .stats import children_cpu, load, ratios

FLEET_REGION = "eu-west-3"
PROBE_REGION = "eu-south-1"
MARKER = "(logzio-s3-archive)"


def _client(emu: Emulator, service: str, region: str):
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=emu.endpoint_url,
                        aws_access_key_id=emu.admin_access_key_id,
                        aws_secret_access_key=emu.admin_secret_access_key)


def _stack(cloudformation, name: str, outputs: dict) -> None:
    template = {"Description": f"Logz.io log archive {MARKER}",
                "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


def _wait(cloudformation, names: list[str]) -> None:
    deadline = time.monotonic() + 300
    pending = set(names)
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"stacks never completed: {sorted(pending)[:5]}")
        for page in cloudformation.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                if stack["StackStatus"] == "CREATE_COMPLETE":
                    pending.discard(stack["StackName"])
        time.sleep(0.2)


def make_watched(emu: Emulator, count: int) -> list[str]:
    """`count` archive stacks with a recent healthy re-check and an OK alarm each."""
    cloudformation = _client(emu, "cloudformation", FLEET_REGION)
    cloudwatch = _client(emu, "cloudwatch", FLEET_REGION)
    now = datetime.now(timezone.utc)
    names, data = [], []
    for index in range(count):
        name, bucket = f"FleetBench{index:03d}", f"fleet-bench-{index:03d}"
        names.append(name)
        _stack(cloudformation, name, {"BucketName": bucket, "HealthAlarmName": f"{name}-ArchiveHealth",
                                      "ProbeVerdict": f"OK: all 4 permissions Logz.io needs are granted on bucket {bucket}.",
                                      "ProbeFindings": "none"})
        dimensions = [{"Name": "Stack", "Value": name}, {"Name": "Bucket", "Value": bucket}]
        data.append({"MetricName": "Healthy", "Value": 1, "Unit": "Count", "Timestamp": now, "Dimensions": dimensions})
        cloudwatch.put_metric_alarm(AlarmName=f"{name}-ArchiveHealth", Namespace="LogzioArchive",
                                    MetricName="Healthy", Statistic="Minimum", Period=22200, EvaluationPeriods=1,
                                    Threshold=1, ComparisonOperator="LessThanThreshold", Dimensions=dimensions)
    # (20 per call: the emulator's signature check fails on larger bodies.)
    for start in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace="LogzioArchive", MetricData=data[start:start + 20])
    _wait(cloudformation, names)
    return names


def make_probed(emu: Emulator, count: int) -> list[str]:
    """`count` archives with a real bucket and principal each (key in a secret)."""
    s3 = _client(emu, "s3", PROBE_REGION)
    iam = _client(emu, "iam", PROBE_REGION)
    secrets = _client(emu, "secretsmanager", PROBE_REGION)
    cloudformation = _client(emu, "cloudformation", PROBE_REGION)
    names = []
    for index in range(count):
        name, bucket, user = f"ProbeBench{index:02d}", f"probe-bench-{index:02d}", f"probe-bench-{index:02d}"
        names.append(name)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": PROBE_REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="logzio", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                 "Resource": f"arn:aws:s3:::{bucket}"},
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        arn = secrets.create_secret(Name=f"{user}-key", SecretString=json.dumps(
            {"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}))["ARN"]
        _stack(cloudformation, name, {"BucketName": bucket, "Region": PROBE_REGION, "SecretArn": arn,
                                      "AccessKeyId": key["AccessKeyId"], "ProbeFindings": "none",
                                      "ProbeVerdict": f"OK: all 4 permissions Logz.io needs are granted on bucket {bucket}."})
    _wait(cloudformation, names)
    return names


def _env(emu: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"AWS_ACCESS_KEY_ID": emu.admin_access_key_id, "AWS_SECRET_ACCESS_KEY": emu.admin_secret_access_key,
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "NO_PROXY": "localhost,127.0.0.1",
                "no_proxy": "localhost,127.0.0.1"})
    return env


def _command() -> list[str]:
    return [sys.executable, "-m", "logzio_s3_archive_runtime"]


def _time(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    cpu = children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd[2:6])} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return wall, children_cpu() - cpu


def _rounds(variants: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, dict[str, list[float]]]:
    times = {name: {"wall": [], "cpu": []} for name in variants}
    for cmd in variants.values():  # warm-up: compiled modules, the emulator's first answers
        _time(cmd, env)
    for _ in range(runs):
        for name, cmd in variants.items():
            wall, cpu = _time(cmd, env)
            times[name]["wall"].append(wall)
            times[name]["cpu"].append(cpu)
    return times


def measure(emu: Emulator, runs: int = 5, archives: int = 200, probed: int = 20) -> dict:
    from logzio_s3_archive_runtime import fleet

    started = time.perf_counter()
    watched = make_watched(emu, archives)
    probes = make_probed(emu, probed)
    setup_s = time.perf_counter() - started
    env = _env(emu)
    endpoint = ["--endpoint-url", emu.endpoint_url]

    # Calls per archive, counted in-process by the fleet itself.
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    try:
        counted = fleet.run([fleet.Target(None, FLEET_REGION)], endpoint_url=emu.endpoint_url)
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    found = [a for a in counted.archives if a.stack in set(watched)]
    if len(found) != archives or counted.exit_code != 0:
        raise RuntimeError(f"fleet found {len(found)} of {archives} archives, exit {counted.exit_code}: "
                           f"{counted.summary()}")

    times = _rounds({"fleet": [*_command(), "fleet", "--region", FLEET_REGION, *endpoint, "--json"],
                     "status": [*_command(), "status", "--stack", watched[0], "--region", FLEET_REGION, *endpoint]},
                    env, runs)
    probe_times = _rounds({"fleet_probe": [*_command(), "fleet", "--region", PROBE_REGION, *endpoint, "--probe",
                                           "--concurrency", "8", "--json"],
                           "check": [*_command(), "check", "--stack", probes[0], "--region", PROBE_REGION, *endpoint,
                                     "--settle-seconds", "0", "--key-deadline-seconds", "10"]},
                          env, runs)
    return {
        "archives": archives, "probed": probed, "runs": runs, "setup_s": round(setup_s, 1), "load": load(),
        "aws_calls": counted.aws_calls, "calls_per_archive": round(counted.aws_calls / archives, 4),
        "fleet_over_status": ratios(times["fleet"]["wall"], times["status"]["wall"],
                                    times["fleet"]["cpu"], times["status"]["cpu"]),
        "probe_over_check": ratios(probe_times["fleet_probe"]["wall"], probe_times["check"]["wall"],
                                   probe_times["fleet_probe"]["cpu"], probe_times["check"]["cpu"]),
        "medians_s": {name: round(statistics.median(t["wall"]), 3)
                      for name, t in {**times, **probe_times}.items()},
    }


def main() -> int:
    with Emulator(region=FLEET_REGION) as emu:
        print(json.dumps(measure(emu, runs=3), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
