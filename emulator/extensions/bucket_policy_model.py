"""AWS::S3::BucketPolicy for moto's CloudFormation.

moto lacks (5.2.5): its CloudFormation has no model for AWS::S3::BucketPolicy. The
resource is skipped ("NOT created"), so no bucket policy of any template is ever on its
bucket: GetBucketPolicy answers NoSuchBucketPolicy, and a template's Deny (the TLS-only one
of aws-cdk's ``enforce_ssl``, or a user's) deploys green and refuses nothing.

This extension: registers a CloudFormationModel that puts ``PolicyDocument`` (an object or
a JSON string) on ``Bucket`` through moto's S3 backend (a bucket that does not exist fails
the resource with NoSuchBucket; a statement without Principal fails it, as S3's
MalformedPolicy does). An update puts the new document on the same bucket; a
changed ``Bucket`` replaces the resource (stack_update's CREATE_ONLY: the policy goes on the
new bucket, and comes off the old one in the cleanup phase). Delete removes the policy (a
bucket gone already counts as done, as CloudFormation's delete succeeds). ``Ref`` and the
physical id are the bucket name, as CloudFormation gives. Whether a request is allowed
under the policy is secure_transport's and bucket_policy_authz's part.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel

from ._cfn_model import CfnModel, register


def _backend(bucket_name: str, account_id: str, region_name: str) -> Any:
    """The S3 backend that holds the bucket (its owner's, as moto keeps it), else the stack's."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    partition, owner = s3_backends.bucket_accounts.get(bucket_name, (get_partition(region_name), account_id))
    return s3_backends[owner][partition]


def _document(props: dict[str, Any]) -> tuple[str, str]:
    bucket, document = props.get("Bucket"), props.get("PolicyDocument")
    if not isinstance(bucket, str) or not bucket:
        raise ValueError("Bucket is required: the name of the bucket")
    if isinstance(document, str):
        document = json.loads(document)
    if not isinstance(document, dict) or not document.get("Statement"):
        raise ValueError("PolicyDocument is required, with at least one Statement")
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    if any(isinstance(s, dict) and "Principal" not in s and "NotPrincipal" not in s for s in statements):
        raise ValueError("MalformedPolicy: Missing required field Principal")
    return bucket, json.dumps(document, separators=(",", ":"))


class S3BucketPolicyModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::S3::BucketPolicy"
    NAME_PROPERTY = ""  # no name property: the physical id is the bucket's name
    PHYSICAL_ID = "bucket_name"
    ATTRIBUTES: dict[str, str] = {}

    def __init__(self, bucket_name: str, account_id: str, region_name: str):
        self.bucket_name = bucket_name
        self.account_id = account_id
        self.region_name = region_name

    def _put(self, text: str) -> None:
        _backend(self.bucket_name, self.account_id, self.region_name).put_bucket_policy(
            self.bucket_name, text.encode())

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "S3BucketPolicyModel":
        bucket, text = _document(props)
        model = cls(bucket, account_id, region_name)
        model._put(text)  # MissingBucket (NoSuchBucket) for a bucket that does not exist
        return model

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "S3BucketPolicyModel":
        bucket, text = _document(props)
        if bucket != self.bucket_name:  # stack_update replaces it first; this is the fallback
            self.delete(account_id, region_name)
            return self.cfn_create(new_resource_name, props, account_id, region_name)
        self._put(text)
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.exceptions import MissingBucket

        try:
            _backend(self.bucket_name, self.account_id, self.region_name).delete_bucket_policy(self.bucket_name)
        except MissingBucket:
            pass  # the bucket is gone, and its policy with it

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cls(resource_name, account_id, region_name).delete(account_id, region_name)


def apply() -> None:
    register(S3BucketPolicyModel)
