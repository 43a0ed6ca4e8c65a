"""`logzio-archive fleet`: every archive this project deployed, in the accounts (profiles) and
regions given, on one screen, without naming stacks.

An archive stack is found by its marker: the stack's description holds FLEET_MARKER (the app's
stacks always had it; LogzioArchive adds it to any stack it is in). A stack may hold several
archives: each is the set of its outputs under one prefix that has a ProbeVerdict output
(`LogzioArchive.add_outputs(prefix=...)`).

Everything is read in batches, so the cost grows with pages, not archives: DescribeStacks
pages (every stack of a region with its outputs), GetMetricData with many queries per call
(the latest Healthy and NewestArchiveAgeHours of every archive), DescribeAlarms by lists of
up to 100 names, BatchGetSecretValue for the Logz.io API tokens (20 per call). What one
archive cannot give (a denied call, throttling, a stack without outputs) is that archive's
"not checked" row; it never stops the others.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, TextIO
from xml.sax.saxutils import escape, quoteattr

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from . import aws, checks
from .names import FLEET_MARKER, Metric, Output, WatchOutput

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_NO_VERDICT = 0, 1, 2
#: How far back the latest re-check is looked for: two days (the longest schedule is daily,
#: and a re-check older than two periods is stale anyway).
LOOKBACK = timedelta(days=2)
#: GetMetricData: at most 500 queries and 100,800 data points per call; 5-minute points over
#: the look-back make 576 per query (six queries per archive: about 29 archives per call).
METRIC_PERIOD_SECONDS = 300
QUERIES_PER_CALL = min(500, 100_800 // int(LOOKBACK.total_seconds() // METRIC_PERIOD_SECONDS))
#: DescribeAlarms takes up to 100 alarm names; BatchGetSecretValue up to 20 secret ids.
ALARMS_PER_CALL, SECRETS_PER_CALL = 100, 20

#: The states of an archive, worst first (the table's order).
FAILING, UNHEALTHY, STALE, NOT_CHECKED, HEALTHY = "failing", "unhealthy", "stale", "not checked", "healthy"
ORDER = (FAILING, UNHEALTHY, STALE, NOT_CHECKED, HEALTHY)
DRIFT = "logzio-setting-drift"


@dataclass
class Target:
    """One account (a profile, or the default credentials) in one region."""

    profile: str | None
    region: str | None

    @property
    def label(self) -> str:
        return f"{self.profile or 'default credentials'} in {self.region or 'the default region'}"


@dataclass
class Archive:
    target: Target
    account: str
    region: str
    stack: str
    #: The outputs' prefix of this archive in its stack ("" for the app's one archive).
    prefix: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    stack_updated: datetime | None = None
    last_recheck: datetime | None = None
    healthy: float | None = None
    newest_archive_age_hours: float | None = None
    #: The latest re-check's result per permission (1 granted, 0 not), as it published them.
    permissions: dict[str, float] = field(default_factory=dict)
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: What Logz.io holds now, when the stack has the hand-off and its token is readable.
    logzio: dict[str, Any] | None = None
    findings: list[dict[str, str]] = field(default_factory=list)
    #: With --probe: the real check's JSON document (docs/json-output.md).
    probe: dict[str, Any] | None = None
    #: Why a part could not be read (each one names what and the fix).
    not_checked: list[dict[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.stack}/{self.prefix}" if self.prefix else self.stack

    @property
    def bucket(self) -> str | None:
        return self.outputs.get(Output.BUCKET_NAME)

    @property
    def deploy_verdict(self) -> str:
        return self.outputs.get(Output.PROBE_VERDICT, "")

    @property
    def alarm_period_seconds(self) -> int | None:
        periods = [alarm["period"] for alarm in self.alarms.values() if alarm.get("period")]
        return max(periods) if periods else None

    def state(self, now: datetime) -> str:
        return self.judge(now)[0]

    def judge(self, now: datetime) -> tuple[str, list[str]]:
        """The archive's state and each reason for it, worst first."""
        reasons: dict[str, list[str]] = {state: [] for state in ORDER}
        verdict = self.deploy_verdict
        if verdict.startswith(("FAILED", "Could not check")):
            reasons[FAILING].append(f"deploy-time probe: {verdict}")
        elif verdict and not verdict.startswith("OK"):
            # "not checked during rollback: ...": the restored stack was never probed since.
            reasons[NOT_CHECKED].append(f"deploy-time probe: {verdict}")
        for finding in self.findings:
            if finding["severity"] == "error":
                reasons[FAILING].append(f"{finding['severity']} {finding['id']}: {finding['message']} "
                                        f"Fix: {finding['fix']}")
        if self.probe is not None and self.probe.get("exit_code") == 1:
            reasons[FAILING].append(f"probe: {self.probe.get('summary')}")
        firing = [name for name, alarm in self.alarms.items() if alarm["state"] == "ALARM"]
        if firing:
            reasons[UNHEALTHY].append(f"alarm in ALARM: {', '.join(firing)}")
        if self.healthy is not None and self.healthy < 1:
            missing = [action for action, value in self.permissions.items() if value < 1]
            broken = (f"{', '.join(missing)} missing" if missing
                      else "archive or restore broken (a bucket setting)")
            reasons[UNHEALTHY].append(f"the latest re-check ({_when(self.last_recheck)}) found {broken}; the "
                                      f"diagnosis and the fix: logzio-archive check --stack {self.stack}")
        period = self.alarm_period_seconds
        if period:
            due = timedelta(seconds=2 * period)
            since = self.last_recheck or self.stack_updated
            if since is not None and now - since > due:
                reasons[STALE].append(f"no re-check since {_when(self.last_recheck) if self.last_recheck else 'the deploy'}"
                                      f" (due within two periods, {_hours(due)}): check the schedule "
                                      f"{self.outputs.get(WatchOutput.SCHEDULE, '')} and the function's logs")
        for missing in self.not_checked:
            reasons[NOT_CHECKED].append(f"{missing['what']} {missing['fix']}")
        if self.probe is not None and self.probe.get("exit_code") == 2:
            reasons[NOT_CHECKED].append(f"probe: {self.probe.get('summary')}")
        for state in ORDER[:-1]:
            if reasons[state]:
                return state, [reason for s in ORDER[:-1] for reason in reasons[s]]
        return HEALTHY, []

    def as_dict(self, now: datetime) -> dict[str, Any]:
        state, reasons = self.judge(now)
        return {
            "account": self.account, "region": self.region, "stack": self.stack, "prefix": self.prefix,
            "name": self.name, "bucket": self.bucket, "state": state, "reasons": reasons,
            "deploy_verdict": self.deploy_verdict or None,
            "deploy_findings": self.outputs.get(Output.PROBE_FINDINGS),
            "last_recheck": self.last_recheck.isoformat() if self.last_recheck else None,
            "healthy": self.healthy, "newest_archive_age_hours": self.newest_archive_age_hours,
            "permissions": self.permissions,
            "alarms": {name: {"state": alarm["state"]} for name, alarm in self.alarms.items()},
            "logzio": self.logzio, "findings": self.findings, "probe": self.probe,
            "not_checked": self.not_checked,
        }


@dataclass
class Fleet:
    archives: list[Archive]
    #: Searches that found nothing readable: {"target", "what", "fix"}.
    searched: list[dict[str, str]]
    now: datetime
    #: AWS calls made, for the bench (calls per archive).
    aws_calls: int = 0

    @property
    def exit_code(self) -> int:
        states = [archive.state(self.now) for archive in self.archives]
        if any(state in (FAILING, UNHEALTHY, STALE) for state in states):
            return EXIT_UNHEALTHY
        if not self.archives or NOT_CHECKED in states or any(s.get("what") for s in self.searched if s.get("error")):
            return EXIT_NO_VERDICT
        return EXIT_HEALTHY

    def ordered(self) -> list[Archive]:
        return sorted(self.archives, key=lambda a: (ORDER.index(a.state(self.now)), a.account, a.region, a.name))

    def summary(self) -> str:
        counts = {state: 0 for state in ORDER}
        for archive in self.archives:
            counts[archive.state(self.now)] += 1
        if not self.archives:
            where = "; ".join(s["target"] for s in self.searched) or "nowhere"
            return (f"No archive found (searched {where}): no stack there has the logzio-s3-archive marker. "
                    "Pass the --profile and --region of the accounts you deployed to.")
        told = ", ".join(f"{count} {state}" for state, count in counts.items() if count)
        return f"{len(self.archives)} archive{'s' if len(self.archives) != 1 else ''}: {told}."

    def as_dict(self) -> dict[str, Any]:
        return {"archives": [archive.as_dict(self.now) for archive in self.ordered()],
                "searched": self.searched, "exit_code": self.exit_code, "summary": self.summary(),
                "checked_at": self.now.isoformat()}


# --- Reading

class _Counter:
    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        with self._lock:
            self.calls += 1

    def client(self, service: str, target: Target, endpoint_url: str | None, region: str | None = None) -> Any:
        made = aws.client(service, region or target.region, target.profile, endpoint_url)
        made.meta.events.register("before-call", self)
        return made


def run(targets: list[Target], *, endpoint_url: str | None = None, probe: bool = False, concurrency: int = 8,
        key_deadline_seconds: float = 10, settle_seconds: float = 0, progress: TextIO | None = None,
        now: datetime | None = None) -> Fleet:
    """Never raises for what AWS or Logz.io answers: each failure is a row's not-checked part."""
    counter = _Counter()
    now = now or datetime.now(timezone.utc)
    archives: list[Archive] = []
    searched: list[dict[str, str]] = []
    for target in targets:
        try:
            found = discover(target, counter, endpoint_url)
            searched.append({"target": target.label, "found": len(found)})
        except (ClientError, BotoCoreError) as error:
            searched.append({"target": target.label, "error": True, **_failure(
                error, f"list the stacks ({target.label})", "cloudformation:DescribeStacks")})
            continue
        archives += found
        if not found:
            continue
        watched = [a for a in found if a.bucket]
        _guarded(watched, lambda: read_metrics(watched, target, counter, endpoint_url, now),
                 "read the re-check's metrics", "cloudwatch:GetMetricData")
        _guarded(found, lambda: read_alarms(found, target, counter, endpoint_url),
                 "read the alarms", "cloudwatch:DescribeAlarms")
        compare_logzio(found, target, counter, endpoint_url)
    if probe:
        probe_all(archives, endpoint_url, concurrency, key_deadline_seconds, settle_seconds, progress)
    return Fleet(archives, searched, now, counter.calls)



def discover(target: Target, counter: _Counter, endpoint_url: str | None) -> list[Archive]:
    """Every archive of the target's region: DescribeStacks page by page."""
    cloudformation = counter.client("cloudformation", target, endpoint_url)
    region = target.region or cloudformation.meta.region_name
    found = []
    token = None
    while True:
        page = cloudformation.describe_stacks(**({"NextToken": token} if token else {}))
        for stack in page.get("Stacks", []):
            if FLEET_MARKER not in (stack.get("Description") or "") or stack.get("StackStatus", "").startswith("DELETE"):
                continue
            found += _archives_of(stack, target, region)
        token = page.get("NextToken")
        if not token:
            return found


def _archives_of(stack: dict, target: Target, region: str) -> list[Archive]:
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    account = stack["StackId"].split(":")[4] if stack.get("StackId", "").count(":") >= 5 else "?"
    updated = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    prefixes = sorted(key[:-len(Output.PROBE_VERDICT)] for key in outputs if key.endswith(Output.PROBE_VERDICT))
    if not prefixes:
        archive = Archive(target, account, region, stack["StackName"], stack_updated=_utc(updated))
        archive.not_checked.append({
            "what": f"Stack {stack['StackName']} holds a Logz.io archive but has no archive outputs "
                    f"(status {stack.get('StackStatus')}).",
            "fix": "Call LogzioArchive.add_outputs() in the app (or wait for the deploy to finish)."})
        return [archive]
    # (An archive's outputs are read by their exact names: the unprefixed archive of a stack is
    # not confused by another one's ProdBucketName.)
    return [Archive(target, account, region, stack["StackName"], prefix,
                    {key[len(prefix):]: value for key, value in outputs.items() if key.startswith(prefix)},
                    stack_updated=_utc(updated))
            for prefix in prefixes]


def read_metrics(archives: list[Archive], target: Target, counter: _Counter, endpoint_url: str | None,
                 now: datetime) -> None:
    """The latest Healthy (and its time), per-permission result and NewestArchiveAgeHours of every
    archive, with as many queries per GetMetricData call as it takes."""
    cloudwatch = counter.client("cloudwatch", target, endpoint_url)
    metrics = [(Metric.HEALTHY, "Minimum", "h"), (Metric.NEWEST_ARCHIVE_AGE_HOURS, "Maximum", "a")]
    metrics += [(Metric.OF_ACTION[action], "Minimum", f"p{number}") for number, action in enumerate(checks.ACTIONS)]
    queries = []
    for index, archive in enumerate(archives):
        dimensions = [{"Name": Metric.STACK, "Value": archive.stack}, {"Name": Metric.BUCKET, "Value": archive.bucket}]
        for metric, statistic, kind in metrics:
            queries.append({"Id": f"{kind}_{index}", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": Metric.NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                "Period": METRIC_PERIOD_SECONDS, "Stat": statistic}})
    permissions: dict[int, dict[str, tuple[datetime, float]]] = {}
    for start in range(0, len(queries), QUERIES_PER_CALL):
        chunk = queries[start:start + QUERIES_PER_CALL]
        token = None
        while True:
            answer = cloudwatch.get_metric_data(MetricDataQueries=chunk, StartTime=now - LOOKBACK,
                                                EndTime=now + timedelta(minutes=5), ScanBy="TimestampDescending",
                                                **({"NextToken": token} if token else {}))
            for result in answer.get("MetricDataResults", []):
                if not result.get("Values"):
                    continue
                newest = max(range(len(result["Timestamps"])), key=lambda i: result["Timestamps"][i])
                kind, index = result["Id"].split("_")
                archive = archives[int(index)]
                when, value = _utc(result["Timestamps"][newest]), result["Values"][newest]
                if kind == "h":
                    if archive.last_recheck is None or when > archive.last_recheck:
                        archive.last_recheck, archive.healthy = when, value
                elif kind == "a":
                    archive.newest_archive_age_hours = round(value, 1)
                else:
                    permissions.setdefault(int(index), {})[checks.ACTIONS[int(kind[1:])]] = (when, value)
            token = answer.get("NextToken")
            if not token:
                break
    for index, found in permissions.items():
        archive = archives[index]
        # The latest re-check's own results only (an older one may have said otherwise).
        archive.permissions = {action: value for action, (when, value) in found.items()
                               if archive.last_recheck is None or when >= archive.last_recheck}


def read_alarms(archives: list[Archive], target: Target, counter: _Counter, endpoint_url: str | None) -> None:
    cloudwatch = counter.client("cloudwatch", target, endpoint_url)
    wanted = {}
    for archive in archives:
        for output in (WatchOutput.HEALTH_ALARM, WatchOutput.FRESHNESS_ALARM):
            if archive.outputs.get(output):
                wanted[archive.outputs[output]] = archive
    names = sorted(wanted)
    for start in range(0, len(names), ALARMS_PER_CALL):
        answer = cloudwatch.describe_alarms(AlarmNames=names[start:start + ALARMS_PER_CALL],
                                            MaxRecords=ALARMS_PER_CALL)
        for alarm in answer.get("MetricAlarms", []):
            wanted[alarm["AlarmName"]].alarms[alarm["AlarmName"]] = {
                "state": alarm.get("StateValue", "?"), "period": alarm.get("Period"),
                "reason": alarm.get("StateReason", "")}


def compare_logzio(archives: list[Archive], target: Target, counter: _Counter, endpoint_url: str | None) -> None:
    """What Logz.io holds now, against the stack: enabled, same bucket, same key or role."""
    from .logzio_api import LogzioApi, LogzioApiError

    handed = [a for a in archives if a.outputs.get(Output.LOGZIO_SETTINGS_ID)
              and a.outputs.get(Output.LOGZIO_API_TOKEN_SECRET) and a.outputs.get(Output.LOGZIO_API_URL)]
    if not handed:
        return
    tokens: dict[str, str] = {}
    secret_ids = sorted({a.outputs[Output.LOGZIO_API_TOKEN_SECRET] for a in handed})
    try:
        secrets = counter.client("secretsmanager", target, endpoint_url)
        for start in range(0, len(secret_ids), SECRETS_PER_CALL):
            answer = secrets.batch_get_secret_value(SecretIdList=secret_ids[start:start + SECRETS_PER_CALL])
            for value in answer.get("SecretValues", []):
                for wanted in secret_ids:
                    if wanted in (value.get("ARN"), value.get("Name")) or value.get("ARN", "").startswith(wanted + "-"):
                        tokens[wanted] = value.get("SecretString", "").strip()
    except (ClientError, BotoCoreError) as error:
        failure = _failure(error, "read the Logz.io API token", "secretsmanager:BatchGetSecretValue and "
                           "secretsmanager:GetSecretValue on the token's secret")
        for archive in handed:
            archive.not_checked.append(failure)
        return
    for archive in handed:
        secret = archive.outputs[Output.LOGZIO_API_TOKEN_SECRET]
        if not tokens.get(secret):
            archive.not_checked.append({"what": f"The Logz.io API token in secret {secret} could not be read.",
                                        "fix": "Allow secretsmanager:GetSecretValue on it to see what Logz.io "
                                               "holds (drift)."})
            continue
        try:
            api = LogzioApi(archive.outputs[Output.LOGZIO_API_URL], tokens[secret],
                            deadline=None)
            held = api.get_settings(archive.outputs[Output.LOGZIO_SETTINGS_ID])
        except LogzioApiError as error:
            archive.not_checked.append({"what": f"Logz.io's archive setting could not be read: {error.what}",
                                        "fix": error.fix})
            continue
        archive.logzio, drift = logzio_drift(held, archive.outputs)
        if drift:
            archive.findings.append({
                "id": DRIFT, "severity": "error",
                "message": f"Logz.io's archive setting {archive.outputs[Output.LOGZIO_SETTINGS_ID]} no longer "
                           f"matches stack {archive.stack}: {'; '.join(drift)}.",
                "fix": f"Redeploy the stack (its hand-off writes the setting back), or run logzio-archive "
                       f"logzio-test --stack {archive.stack}; if the change in Logz.io was intended, change the "
                       "stack to match."})


def logzio_drift(held: dict, outputs: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """What Logz.io's setting says (no secret), and each way it differs from the stack's."""
    settings = held.get("settings", held) if isinstance(held, dict) else {}
    storage = settings.get("amazonS3StorageSettings") or {}
    keys = storage.get("s3SecretCredentials") or {}
    role = storage.get("s3IamCredentials") or {}
    seen = {"enabled": settings.get("enabled"), "bucket": storage.get("path"),
            "credentials_type": storage.get("credentialsType"),
            "access_key": keys.get("accessKey"), "role_arn": role.get("arn")}
    drift = []
    if seen["enabled"] is False:
        drift.append("archiving is disabled in Logz.io")
    if outputs.get(Output.BUCKET_NAME) and seen["bucket"] != outputs[Output.BUCKET_NAME]:
        drift.append(f"Logz.io archives to bucket {seen['bucket']!r}, the stack's bucket is "
                     f"{outputs[Output.BUCKET_NAME]!r}")
    if outputs.get(Output.ROLE_ARN):
        if seen["role_arn"] != outputs[Output.ROLE_ARN]:
            drift.append(f"Logz.io uses role {seen['role_arn'] or seen['access_key'] or 'none'}, the stack's role "
                         f"is {outputs[Output.ROLE_ARN]}")
    elif outputs.get(Output.ACCESS_KEY_ID) and seen["access_key"] != outputs[Output.ACCESS_KEY_ID]:
        drift.append(f"Logz.io uses access key {seen['access_key'] or seen['role_arn'] or 'none'}, the stack's key "
                     f"is {outputs[Output.ACCESS_KEY_ID]}")
    return seen, drift


def probe_all(archives: list[Archive], endpoint_url: str | None, concurrency: int, key_deadline_seconds: float,
              settle_seconds: float, progress: TextIO | None) -> None:
    """The real check of each archive as its principal (`check --stack`), `concurrency` at a time."""
    from . import cli

    todo = [a for a in archives if a.outputs.get(Output.PROBE_VERDICT)]
    for archive in [a for a in todo if a.outputs.get(Output.ROLE_ARN)]:
        # The role trusts Logz.io's account and the stack's own probe function only: no operator
        # may assume it, by design. Its scheduled re-check probes it as the role.
        todo.remove(archive)
        archive.probe = {"exit_code": None, "summary": "not probed: only Logz.io and the stack's own probe "
                                                       "function may assume its role; the scheduled re-check "
                                                       "probes it as the role (see last_recheck)"}

    def one(archive: Archive) -> dict[str, Any]:
        args = argparse.Namespace(
            command="check", bucket=None, stack=archive.stack, region=archive.region,
            profile=archive.target.profile, cleanup_profile=None, endpoint_url=endpoint_url,
            key_deadline_seconds=key_deadline_seconds, settle_seconds=settle_seconds, strict=False,
            json=True, verbose=False, outputs_prefix=archive.prefix)
        outcome = cli.check(args)
        return cli.document(outcome, False)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {pool.submit(one, archive): archive for archive in todo}
        for future in as_completed(futures):
            archive = futures[future]
            try:
                archive.probe = future.result()
            except Exception as error:  # noqa: BLE001 - one archive's failure is its own row
                archive.probe = {"exit_code": 2, "summary": f"the check failed unexpectedly: "
                                                            f"{type(error).__name__}: {error}"}
            done += 1
            if progress is not None:
                progress.write(f"\rprobed {done} of {len(todo)} archives")
                progress.flush()
    if progress is not None and todo:
        progress.write("\n")


def _guarded(archives: list[Archive], read: Callable[[], None], doing: str, permission: str) -> None:
    try:
        read()
    except (ClientError, BotoCoreError) as error:
        failure = _failure(error, doing, permission)
        for archive in archives:
            archive.not_checked.append(failure)


def _failure(error: Exception, doing: str, permission: str) -> dict[str, str]:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Error")
        message = error.response.get("Error", {}).get("Message", "")
        if code in ("Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"):
            return {"what": f"Could not {doing}: AWS kept throttling ({code}).",
                    "fix": "Run it again later, or with fewer --region/--profile at once."}
        return {"what": f"Could not {doing} ({code}: {message}).",
                "fix": f"Use credentials allowed {permission}."}
    if isinstance(error, (ProfileNotFound, NoCredentialsError)):
        return {"what": f"Could not {doing}: {error}.",
                "fix": "Configure the profile (aws configure --profile NAME) or pass another --profile."}
    return {"what": f"Could not {doing}: {error}.", "fix": "Check the network path, --endpoint-url and --region."}


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} hours"


# --- Rendering

def write_text(fleet: Fleet, out: TextIO) -> None:
    """A table, worst first, one line per archive (its first reason), the other reasons under it."""
    header = ("STATE", "ARCHIVE", "ACCOUNT", "REGION", "LAST RE-CHECK", "NEWEST ARCHIVE")
    rows = []
    for archive in fleet.ordered():
        state, reasons = archive.judge(fleet.now)
        age = archive.newest_archive_age_hours
        rows.append(((state if state == HEALTHY else state.upper(), archive.name, archive.account, archive.region,
                      _when(archive.last_recheck) if archive.last_recheck else "-",
                      "-" if age is None else f"{age:g} h"), reasons or ["OK"]))
    widths = [max(len(cells[i]) for cells in [header] + [cells for cells, _ in rows]) for i in range(len(header))]
    indent = " " * (sum(widths) + 2 * len(widths))
    print("  ".join(cell.ljust(width) for cell, width in zip(header, widths)) + "  WHY", file=out)
    for cells, reasons in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + "  " + reasons[0], file=out)
        for reason in reasons[1:]:
            print(indent + reason, file=out)
    for search in fleet.searched:
        if search.get("error"):
            print(f"not searched: {search['target']}: {search['what']} {search['fix']}", file=out)
    print(fleet.summary(), file=out)


def write_json(fleet: Fleet, out: TextIO) -> None:
    json.dump(fleet.as_dict(), out, indent=2)
    out.write("\n")


def write_junit(fleet: Fleet, path: str) -> None:
    """One test case per archive; unhealthy, failing and stale ones fail, not-checked ones are
    errors; each carries the reasons, with the fix."""
    cases = []
    failures = errors = 0
    for archive in fleet.ordered():
        state, reasons = archive.judge(fleet.now)
        body = escape("\n".join(reasons))
        name = quoteattr(f"{archive.account}/{archive.region}/{archive.name}")
        if state in (FAILING, UNHEALTHY, STALE):
            failures += 1
            inner = f'<failure message={quoteattr(f"{state}: {reasons[0]}")} type="{state}">{body}</failure>'
        elif state == NOT_CHECKED:
            errors += 1
            inner = f'<error message={quoteattr(f"not checked: {reasons[0]}")} type="not-checked">{body}</error>'
        else:
            inner = ""
        cases.append(f'  <testcase classname="logzio-archive.fleet" name={name}>{inner}</testcase>')
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="logzio-archive fleet" '
           f'tests="{len(cases)}" failures="{failures}" errors="{errors}" '
           f'timestamp="{fleet.now.strftime("%Y-%m-%dT%H:%M:%S")}">\n' + "\n".join(cases)
           + "\n</testsuite>\n</testsuites>\n")
    with open(path, "w", encoding="utf-8") as file:
        file.write(xml)


def targets(profiles: Iterable[str] | None, regions: Iterable[str] | None) -> list[Target]:
    profiles = list(profiles or []) or [None]
    regions = list(regions or []) or [None]
    return [Target(profile, region) for profile in profiles for region in regions]


def progress_stream(err: TextIO) -> TextIO | None:
    """Progress goes to a terminal only; piped or in CI, nothing."""
    try:
        return err if err.isatty() and not os.environ.get("CI") else None
    except (AttributeError, ValueError):
        return None


