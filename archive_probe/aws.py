"""Every network call of the runtime, and nothing else.

The probe logic (probe.py, handler.py, cli.py) reaches AWS only through the objects made
here, so tests replace the network with botocore's Stubber (same clients, expected
parameters) or with a local HTTP server, and the logic is the same code that runs in
Lambda. Endpoints come from the standard AWS configuration (AWS_ENDPOINT_URL, profiles).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# Short network timeouts and no hidden retries: one call costs at most CALL_SECONDS, so a
# deadline checked between calls holds; the probe's own loop retries throttling and IAM
# propagation, each within its deadline.
# ("max_attempts": 1 would still allow one retry: total_max_attempts counts the first try.)
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=7, retries={"mode": "standard", "total_max_attempts": 1})
CALL_SECONDS = 10.0


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

    def list_versions(self, prefix: str) -> list[tuple[str, str | None]]:
        """(key, version id) of every object version and delete marker under `prefix`."""
        found: list[tuple[str, str | None]] = []
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.append((item["Key"], item.get("VersionId")))
        return found

    def delete_object(self, key: str, version_id: str | None) -> None:
        """Delete one object version for good (no delete marker left behind)."""
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        self.client.delete_object(**params)


def s3_client(region: str | None, key: AccessKey | None = None, profile: str | None = None,
              endpoint_url: str | None = None) -> Any:
    """An S3 client acting as `key`, as `profile`, or as the default credential chain."""
    if key is not None:
        session = boto3.Session(aws_access_key_id=key.access_key_id,
                                aws_secret_access_key=key.secret_access_key,
                                aws_session_token=key.session_token, region_name=region)
    else:
        session = boto3.Session(profile_name=profile, region_name=region)
    return session.client("s3", endpoint_url=endpoint_url, config=CLIENT_CONFIG)


def secretsmanager_client(secret_arn: str, profile: str | None = None,
                          endpoint_url: str | None = None) -> Any:
    # A secret's ARN names its region: read it there, whatever the caller's default is.
    parts = secret_arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else None
    session = boto3.Session(profile_name=profile, region_name=region)
    return session.client("secretsmanager", endpoint_url=endpoint_url, config=CLIENT_CONFIG)


def read_access_key(secret_arn: str, client: Any = None) -> AccessKey:
    """The access key stored as {"accessKeyId", "secretAccessKey"} in a Secrets Manager secret."""
    client = client or secretsmanager_client(secret_arn)
    value = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return AccessKey(value["accessKeyId"], value["secretAccessKey"])


def assume_role(role_arn: str, external_id: str, region: str | None = None, profile: str | None = None,
                endpoint_url: str | None = None) -> AccessKey:
    """Temporary credentials of `role_arn`, asked for as Logz.io asks: with the external id."""
    session = boto3.Session(profile_name=profile, region_name=region)
    client = session.client("sts", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
    credentials = client.assume_role(RoleArn=role_arn, ExternalId=external_id,
                                     RoleSessionName="logzio-archive-probe",
                                     DurationSeconds=900)["Credentials"]
    return AccessKey(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                     credentials["SessionToken"])


def cloudformation_client(region: str | None = None, profile: str | None = None,
                          endpoint_url: str | None = None) -> Any:
    session = boto3.Session(profile_name=profile, region_name=region)
    return session.client("cloudformation", endpoint_url=endpoint_url, config=CLIENT_CONFIG)


def stack_outputs(stack_name: str, region: str | None = None, profile: str | None = None,
                  endpoint_url: str | None = None) -> dict[str, str]:
    client = cloudformation_client(region, profile, endpoint_url)
    stack = client.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def put_response(url: str, body: bytes, timeout: float) -> int:
    """PUT a custom-resource response to CloudFormation's pre-signed URL; returns the status.

    The pre-signed URL is signed for an empty Content-Type, so none is sent."""
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https URL from CloudFormation)
        return response.status
