"""Every network call of the runtime, and nothing else.

The probe logic (probe.py, handler.py, cli.py) reaches AWS only through the objects made
here, so tests replace the network with botocore's Stubber (same clients, expected
parameters) or with a local HTTP server, and the logic is the same code that runs in
Lambda. Endpoints come from the standard AWS configuration (AWS_ENDPOINT_URL, profiles).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Mapping

import botocore.session
from botocore.config import Config

# Short network timeouts and no hidden retries: one call costs at most CALL_SECONDS, so a
# deadline checked between calls holds; the probe's own loop retries throttling and IAM
# propagation, each within its deadline.
# ("max_attempts": 1 would still allow one retry: total_max_attempts counts the first try.)
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=7, retries={"mode": "standard", "total_max_attempts": 1})
CALL_SECONDS = 10.0

#: The secret's documented shape, for messages (never with a value in it).
SECRET_SHAPE = '{"accessKeyId": "...", "secretAccessKey": "..."}'


class MalformedSecret(ValueError):
    """The secret exists but does not hold an access key in a shape the probe reads."""

    def __init__(self, what: str, fix: str):
        super().__init__(f"{what} {fix}")
        self.what = what
        self.fix = fix


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str = ""
    #: Set for temporary credentials (an assumed role).
    session_token: str | None = None

    def __repr__(self) -> str:  # never print the secret, not even in a traceback
        return f"AccessKey(access_key_id={self.access_key_id!r}, secret_access_key='***')"


class S3Access:
    """The probe's S3 calls as one principal. Thin: no decisions, no retries."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    def put_new_object(self, key: str, body: bytes) -> str | None:
        """Write `key` only if nothing exists there (If-None-Match: *); returns the version id."""
        response = self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*", ContentType="text/plain"
        )
        return response.get("VersionId")

    def head_version(self, key: str) -> str | None:
        """The version id of `key` (None on an unversioned bucket)."""
        return self.client.head_object(Bucket=self.bucket, Key=key).get("VersionId")

    def list_keys(self, prefix: str) -> list[str]:
        response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=10)
        return [item["Key"] for item in response.get("Contents", [])]

    def read_object(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def bucket_region(self) -> str:
        constraint = self.client.get_bucket_location(Bucket=self.bucket).get("LocationConstraint")
        # S3 reports us-east-1 as no constraint and the oldest EU buckets as "EU".
        return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, constraint)

    def object_ownership(self) -> str | None:
        """The bucket's object ownership setting; None when it has none (ACLs enabled)."""
        try:
            rules = self.client.get_bucket_ownership_controls(Bucket=self.bucket)[
                "OwnershipControls"]["Rules"]
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") == "OwnershipControlsNotFoundError":
                return None
            raise
        return rules[0]["ObjectOwnership"] if rules else None

    def lifecycle_rules(self) -> list[dict]:
        try:
            return self.client.get_bucket_lifecycle_configuration(Bucket=self.bucket).get("Rules", [])
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
                return []
            raise

    def intelligent_tiering_configurations(self) -> list[dict]:
        found: list[dict] = []
        params: dict = {"Bucket": self.bucket}
        while True:
            page = self.client.list_bucket_intelligent_tiering_configurations(**params)
            found.extend(page.get("IntelligentTieringConfigurationList", []))
            if not page.get("IsTruncated") or not page.get("NextContinuationToken"):
                return found
            params["ContinuationToken"] = page["NextContinuationToken"]

    def object_lock_retention(self) -> dict | None:
        """The bucket's Object Lock default retention ({"Mode", "Days" or "Years"}); None when
        Object Lock is off or has no default retention."""
        try:
            configuration = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
                return None
            raise
        rule = configuration.get("ObjectLockConfiguration", {}).get("Rule") or {}
        return rule.get("DefaultRetention") or None

    def request_payer(self) -> str:
        return self.client.get_bucket_request_payment(Bucket=self.bucket).get("Payer", "BucketOwner")

    def owned_by(self, account: str) -> bool:
        """Whether `account` owns the bucket: GetBucketRequestPayment with ExpectedBucketOwner,
        which S3 answers 403 when another account owns it. Asked right after a plain
        GetBucketRequestPayment that these credentials were allowed, so a denial here is the
        owner check's, not a missing permission."""
        try:
            self.client.get_bucket_request_payment(Bucket=self.bucket, ExpectedBucketOwner=account)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("AccessDenied", "403", "Forbidden"):
                return False
            raise
        return True

    def read_bucket_policy(self) -> None:
        """GetBucketPolicy; a bucket without a policy answers NoSuchBucketPolicy, which S3
        tells only a caller allowed to read it: both mean the call was allowed."""
        try:
            self.client.get_bucket_policy(Bucket=self.bucket)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchBucketPolicy":
                raise

    def list_all_buckets(self) -> None:
        self.client.list_buckets(MaxBuckets=1)

    def list_level(self, prefix: str) -> tuple[list[str], list[tuple[str, Any]]]:
        """One "folder": its sub-prefixes and its objects (key, last modified), one page."""
        page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, Delimiter="/", MaxKeys=1000)
        return ([p["Prefix"] for p in page.get("CommonPrefixes", [])],
                [(o["Key"], o["LastModified"]) for o in page.get("Contents", [])])

    def list_versions(self, prefix: str) -> list[tuple[str, str | None]]:
        """(key, version id) of every object version and delete marker under `prefix`."""
        found: list[tuple[str, str | None]] = []
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.append((item["Key"], item.get("VersionId")))
        return found

    def delete_object(self, key: str, version_id: str | None) -> str | None:
        """Delete one object version for good; without a version id, delete the object,
        which on a versioned bucket makes a delete marker: its version id is returned."""
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        response = self.client.delete_object(**params)
        return response.get("VersionId") if not version_id and response.get("DeleteMarker") else None


# One botocore session per process (per profile): a session loads the service models and
# the credential chain once (the first client costs about 100 ms); a further client from it
# costs about 10 ms, and `check --stack` makes four. botocore rather than boto3's wrapper:
# boto3 also imports s3transfer, a third of the command's start-up, for nothing used here.
# A session is made again only when the environment it read changed (a test or a wrapper
# may switch credentials and endpoints between runs).
_ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE",
                "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
_sessions: dict[tuple, botocore.session.Session] = {}
_sessions_lock = threading.Lock()  # botocore sessions are not safe to build from two threads


def session(profile: str | None = None) -> botocore.session.Session:
    """The process's session for `profile` (None: the default credential chain)."""
    environment = tuple(os.environ.get(name) for name in _ENVIRONMENT)
    environment += tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL_")))
    cache_key = (profile, environment)
    with _sessions_lock:
        found = _sessions.get(cache_key)
        if found is None:
            _sessions.clear()  # an environment that changed does not come back
            found = _sessions[cache_key] = botocore.session.Session(profile=profile)
        return found


def client(service: str, region: str | None = None, profile: str | None = None,
           endpoint_url: str | None = None, key: "AccessKey | None" = None) -> Any:
    """A client of the process's session, acting as `key` when given (else as `profile` or
    the default chain), with the per-call cap of CLIENT_CONFIG."""
    credentials = {} if key is None else dict(
        aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
        aws_session_token=key.session_token)
    base = session(None if key is not None else profile)
    with _sessions_lock:
        return base.create_client(service, region_name=region, endpoint_url=endpoint_url,
                                  config=CLIENT_CONFIG, **credentials)


def s3_client(region: str | None, key: AccessKey | None = None, profile: str | None = None,
              endpoint_url: str | None = None) -> Any:
    """An S3 client acting as `key`, as `profile`, or as the default credential chain."""
    return client("s3", region, profile, endpoint_url, key)


def secretsmanager_client(secret_arn: str, profile: str | None = None,
                          endpoint_url: str | None = None) -> Any:
    # A secret's ARN names its region: read it there, whatever the caller's default is.
    parts = secret_arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else None
    return client("secretsmanager", region, profile, endpoint_url)


def read_access_key(secret_arn: str, client: Any = None) -> AccessKey:
    """The access key stored in a Secrets Manager secret: as this stack stores it
    ({"accessKeyId", "secretAccessKey"}), or as `aws iam create-access-key` prints it
    ({"AccessKey": {"AccessKeyId", "SecretAccessKey", ...}}, or that inner object alone)."""
    client = client or secretsmanager_client(secret_arn)
    return parse_access_key(secret_arn, client.get_secret_value(SecretId=secret_arn))


def parse_access_key(secret_arn: str, secret: Mapping[str, Any]) -> AccessKey:
    """The key in a GetSecretValue answer; MalformedSecret (naming the secret and the shape
    it must have, never a value) when it holds none."""
    def malformed(problem: str) -> MalformedSecret:
        return MalformedSecret(
            f"Secret {secret_arn} {problem}; it must hold JSON {SECRET_SHAPE} (or the output of "
            "`aws iam create-access-key`).",
            "Put the key back with: aws secretsmanager put-secret-value --secret-id "
            f"{secret_arn} --secret-string file://key.json (or redeploy the stack).")

    text = secret.get("SecretString")
    if not isinstance(text, str):
        raise malformed("holds binary data (SecretBinary), not a JSON string")
    try:
        value = json.loads(text)
    except ValueError:
        raise malformed("is not JSON") from None  # the decoder's error holds the text
    if isinstance(value, Mapping) and isinstance(value.get("AccessKey"), Mapping):
        value = value["AccessKey"]
    if not isinstance(value, Mapping):
        raise malformed(f"holds a JSON {type(value).__name__}, not an object")
    for id_field, secret_field in (("accessKeyId", "secretAccessKey"), ("AccessKeyId", "SecretAccessKey")):
        key_id, secret_key = value.get(id_field), value.get(secret_field)
        if isinstance(key_id, str) and key_id and isinstance(secret_key, str) and secret_key:
            return AccessKey(key_id, secret_key)
    # Field names only, and only name-like ones: a key pasted as a field name stays out.
    names = sorted(str(name) for name in value if re.fullmatch(r"[A-Za-z_]{1,40}", str(name)))
    fields = ", ".join(names[:8]) or "none by name"
    raise malformed(f"holds JSON without a non-empty access key id and secret access key "
                    f"(fields found: {fields})")


def assume_role(role_arn: str, external_id: str, region: str | None = None, profile: str | None = None,
                endpoint_url: str | None = None) -> AccessKey:
    """Temporary credentials of `role_arn`, asked for as Logz.io asks: with the external id."""
    sts = client("sts", region, profile, endpoint_url)
    credentials = sts.assume_role(RoleArn=role_arn, ExternalId=external_id,
                                  RoleSessionName="logzio-archive-probe",
                                  DurationSeconds=900)["Credentials"]
    return AccessKey(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                     credentials["SessionToken"])


def caller_account(region: str | None = None, key: "AccessKey | None" = None, profile: str | None = None,
                   endpoint_url: str | None = None) -> str:
    """The AWS account of `key` (or `profile`, or the default chain): STS GetCallerIdentity,
    which needs no permission."""
    return client("sts", region, profile, endpoint_url, key).get_caller_identity()["Account"]


def cloudformation_client(region: str | None = None, profile: str | None = None,
                          endpoint_url: str | None = None) -> Any:
    return client("cloudformation", region, profile, endpoint_url)


def cloudwatch_client(region: str | None = None, profile: str | None = None,
                      endpoint_url: str | None = None) -> Any:
    return client("cloudwatch", region, profile, endpoint_url)


def put_metrics(region: str | None, namespace: str, dimensions: Mapping[str, str],
                values: Mapping[str, tuple[float, str]]) -> None:
    """One PutMetricData call: each metric name with its (value, unit), same dimensions."""
    dims = [{"Name": name, "Value": value} for name, value in dimensions.items()]
    cloudwatch_client(region).put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Dimensions": dims, "Value": value, "Unit": unit}
        for name, (value, unit) in values.items()])


def alarm_states(names: list[str], region: str | None = None, profile: str | None = None,
                 endpoint_url: str | None = None) -> dict[str, dict]:
    """Each named alarm's StateValue, StateReason and StateUpdatedTimestamp."""
    answer = cloudwatch_client(region, profile, endpoint_url).describe_alarms(AlarmNames=names)
    return {alarm["AlarmName"]: alarm for alarm in answer.get("MetricAlarms", [])}


def latest_datapoint(namespace: str, metric: str, dimensions: Mapping[str, str], statistic: str,
                     since_seconds: float, region: str | None = None, profile: str | None = None,
                     endpoint_url: str | None = None) -> dict | None:
    """The newest data point of a metric in the last `since_seconds` (5-minute periods)."""
    from datetime import datetime, timedelta, timezone
    now = datetime.now(timezone.utc)
    answer = cloudwatch_client(region, profile, endpoint_url).get_metric_statistics(
        Namespace=namespace, MetricName=metric, StartTime=now - timedelta(seconds=since_seconds),
        EndTime=now + timedelta(minutes=5), Period=300, Statistics=[statistic],
        Dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()])
    points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
    return points[-1] if points else None


def stack_outputs(stack_name: str, region: str | None = None, profile: str | None = None,
                  endpoint_url: str | None = None) -> dict[str, str]:
    stack = cloudformation_client(region, profile, endpoint_url).describe_stacks(StackName=stack_name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def put_response(url: str, body: bytes, timeout: float) -> int:
    """PUT a custom-resource response to CloudFormation's pre-signed URL; returns the status.

    The pre-signed URL is signed for an empty Content-Type, so none is sent."""
    import urllib.request  # the Lambda's answer only: not loaded by the operator command
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https URL from CloudFormation)
        return response.status
