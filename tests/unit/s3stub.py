"""Stubber-backed S3Access objects: the real boto3 client with the network replaced by a
queue of expected calls (operation, expected parameters, response or error)."""

from __future__ import annotations

import io

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber

from logzio_s3_archive_runtime.aws import S3Access

BUCKET = "acme-logzio-archive"
#: The AWS account the principals of these tests belong to (STS GetCallerIdentity).
ACCOUNT = "123456789012"
KEY = "logzio-archive-probe/20261127T000000Z-0123456789abcdef0123456789abcdef.txt"
BODY = f"Logz.io archive permission probe for s3://{BUCKET}/{KEY}\n".encode()

DENIED_PUT = ("User: arn:aws:iam::123456789012:user/logzio is not authorized to perform: "
              "s3:PutObject on resource: \"arn:aws:s3:::acme-logzio-archive/x\" because no "
              "identity-based policy allows the s3:PutObject action")


def stubbed(bucket: str = BUCKET) -> tuple[S3Access, Stubber]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="AKIATEST",
                          aws_secret_access_key="test")
    stub = Stubber(client)
    stub.activate()
    return S3Access(client, bucket), stub


class Script:
    """Builds the queue of expected S3 calls for one principal."""

    def __init__(self, stub: Stubber, bucket: str = BUCKET, key: str = KEY):
        self.stub, self.bucket, self.key = stub, bucket, key

    def error(self, operation: str, params: dict, code: str, message: str = "", status: int = 403):
        self.stub.add_client_error(operation, service_error_code=code, service_message=message or code,
                                   http_status_code=status, expected_params=params)
        return self

    # Each method queues one call; `error=` makes it fail with that code instead.
    def put(self, error: str | None = None, message: str = "", version: str = "v1", status: int = 403):
        params = {"Bucket": self.bucket, "Key": self.key, "Body": BODY, "IfNoneMatch": "*",
                  "ContentType": "text/plain"}
        if error:
            return self.error("put_object", params, error, message, status)
        self.stub.add_response("put_object", {"VersionId": version}, params)
        return self

    def list(self, error: str | None = None, keys: tuple[str, ...] | None = None):
        params = {"Bucket": self.bucket, "Prefix": self.key, "MaxKeys": 10}
        if error:
            return self.error("list_objects_v2", params, error)
        contents = [{"Key": k} for k in (keys if keys is not None else (self.key,))]
        self.stub.add_response("list_objects_v2", {"Contents": contents} if contents else {}, params)
        return self

    def get(self, error: str | None = None, body: bytes = BODY, message: str = "", status: int = 403):
        params = {"Bucket": self.bucket, "Key": self.key}
        if error:
            return self.error("get_object", params, error, message, status)
        self.stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))}, params)
        return self

    def locate(self, error: str | None = None, constraint: str | None = None):
        params = {"Bucket": self.bucket}
        if error:
            return self.error("get_bucket_location", params, error)
        self.stub.add_response("get_bucket_location",
                               {"LocationConstraint": constraint} if constraint else {}, params)
        return self

    def delete(self, version: str | None = "v1", key: str | None = None, error: str | None = None):
        params = {"Bucket": self.bucket, "Key": key or self.key}
        if version:
            params["VersionId"] = version
        if error:
            return self.error("delete_object", params, error)
        self.stub.add_response("delete_object", {}, params)
        return self

    def extras(self, policy: str | None = "AccessDenied", buckets: str | None = "AccessDenied"):
        """The principal's safe calls for extra grants: GetBucketPolicy, then ListBuckets.
        Denied (the default) is what a least-privilege principal answers; None: allowed."""
        params = {"Bucket": self.bucket}
        if policy:
            self.error("get_bucket_policy", params, policy)
        else:
            self.stub.add_response("get_bucket_policy", {"Policy": "{}"}, params)
        if buckets:
            return self.error("list_buckets", {"MaxBuckets": 1}, buckets)
        self.stub.add_response("list_buckets", {"Buckets": []}, {"MaxBuckets": 1})
        return self

    def self_delete(self, error: str | None = "AccessDenied", marker: str | None = None):
        """The principal deletes its own probe object (no version id): denied by default."""
        params = {"Bucket": self.bucket, "Key": self.key}
        if error:
            return self.error("delete_object", params, error)
        self.stub.add_response("delete_object", {"DeleteMarker": True, "VersionId": marker} if marker else {},
                               params)
        return self

    def level(self, prefix: str, folders: tuple[str, ...] = (), objects: tuple[tuple[str, object], ...] = ()):
        """One level of the newest-archive walk: ListObjectsV2 with Delimiter "/"."""
        params = {"Bucket": self.bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": 1000}
        response = {"CommonPrefixes": [{"Prefix": f} for f in folders],
                    "Contents": [{"Key": k, "LastModified": m} for k, m in objects]}
        self.stub.add_response("list_objects_v2", response, params)
        return self

    def tail(self):
        """What a least-privilege principal answers after the four checks, object written."""
        return self.extras().self_delete()

    def bucket_settings(self, ownership: str | None = "BucketOwnerPreferred", rules: list | None = None,
                        tierings: list | None = None, payer: str = "BucketOwner", lock: dict | None = None,
                        owner: str | None = ACCOUNT, denied: tuple = ()):
        """The reader's five reads: ownership, lifecycle, Intelligent-Tiering, request payment,
        Object Lock (`lock`: its DefaultRetention; None: Object Lock off). A name in `denied`
        ("ownership", "lifecycle", "tiering", "payer", "lock") answers AccessDenied. A
        Requester Pays bucket is then asked whether ACCOUNT owns it (ExpectedBucketOwner): yes
        when `owner` is ACCOUNT, 403 otherwise; `owner=None` queues no such call (the
        principal's account was not to be had)."""
        params = {"Bucket": self.bucket}
        if "ownership" in denied:
            self.error("get_bucket_ownership_controls", params, "AccessDenied")
        else:
            self.ownership(ownership)
        if "lifecycle" in denied:
            self.error("get_bucket_lifecycle_configuration", params, "AccessDenied")
        elif rules is None:
            self.error("get_bucket_lifecycle_configuration", params, "NoSuchLifecycleConfiguration", status=404)
        else:
            self.stub.add_response("get_bucket_lifecycle_configuration", {"Rules": rules}, params)
        if "tiering" in denied:
            self.error("list_bucket_intelligent_tiering_configurations", params, "AccessDenied")
        else:
            self.stub.add_response("list_bucket_intelligent_tiering_configurations", {
                "IsTruncated": False, "IntelligentTieringConfigurationList": tierings or []}, params)
        if "payer" in denied:
            self.error("get_bucket_request_payment", params, "AccessDenied")
        else:
            self.stub.add_response("get_bucket_request_payment", {"Payer": payer}, params)
            if payer == "Requester" and owner is not None:
                expected = {**params, "ExpectedBucketOwner": ACCOUNT}
                if owner == ACCOUNT:
                    self.stub.add_response("get_bucket_request_payment", {"Payer": payer}, expected)
                else:
                    self.error("get_bucket_request_payment", expected, "AccessDenied")
        if "lock" in denied:
            return self.error("get_object_lock_configuration", params, "AccessDenied")
        if lock is None:
            return self.error("get_object_lock_configuration", params, "ObjectLockConfigurationNotFoundError",
                              status=404)
        self.stub.add_response("get_object_lock_configuration", {"ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": lock}}}, params)
        return self

    def ownership(self, setting: str | None = "BucketOwnerPreferred"):
        params = {"Bucket": self.bucket}
        if setting is None:
            return self.error("get_bucket_ownership_controls", params, "OwnershipControlsNotFoundError", status=404)
        self.stub.add_response("get_bucket_ownership_controls", {
            "OwnershipControls": {"Rules": [{"ObjectOwnership": setting}]}}, params)
        return self

    def versions(self, items: list[tuple[str, str]], markers: list[tuple[str, str]] = (), error: str | None = None):
        params = {"Bucket": self.bucket, "Prefix": "logzio-archive-probe/"}
        if error:
            return self.error("list_object_versions", params, error)
        self.stub.add_response("list_object_versions", {
            "Versions": [{"Key": k, "VersionId": v} for k, v in items],
            "DeleteMarkers": [{"Key": k, "VersionId": v} for k, v in markers]}, params)
        return self


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self):
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def jitter(self) -> float:
        return 1.0  # every wait at its nominal length: sleeps are exact in the tests
