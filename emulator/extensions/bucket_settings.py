"""The settings of a CloudFormation ``AWS::S3::Bucket``, applied and readable.

moto lacks (5.2.5): its CloudFormation bucket model applies only ``BucketEncryption`` and
``Tags``. ``VersioningConfiguration``, ``OwnershipControls``,
``PublicAccessBlockConfiguration`` and ``LifecycleConfiguration`` are dropped, so a
deployed bucket is unversioned with ACLs in whatever state moto defaults to, and nothing
the stack set can be read back through the S3 API. Deleting a bucket that still holds
objects silently does nothing, where CloudFormation's delete fails.

This extension: after moto's own create and in-place update, the four settings are
applied through moto's S3 backend (an absent one is removed on update, as CloudFormation
does), so GetBucketVersioning, GetBucketOwnershipControls, GetPublicAccessBlock and
GetBucketLifecycleConfiguration answer what the template says. A lifecycle rule keeps its
id, status, prefix, object-size filter (``ObjectSizeGreaterThan``/``ObjectSizeLessThan``, with
the prefix under ``And``; read back through lifecycle_size_filter, never enforced: moto runs
no lifecycle), transitions, expiration, noncurrent-version expiration and
expired-delete-marker cleanup. Deleting a bucket that is not empty fails with S3's
``BucketNotEmpty``.
"""

from __future__ import annotations

from typing import Any


def rule_filter(cfn: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation rule's Prefix and object-size bounds as the S3 API's Filter: one
    condition alone, several under ``And``."""
    sizes = {name: str(cfn[name]) for name in ("ObjectSizeGreaterThan", "ObjectSizeLessThan")
             if cfn.get(name) not in (None, "")}
    if not sizes:
        return {"Prefix": cfn.get("Prefix", "")}
    conditions = {**({"Prefix": cfn["Prefix"]} if cfn.get("Prefix") else {}), **sizes}
    return conditions if len(conditions) == 1 else {"And": conditions}


def lifecycle_rules(cfn_rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's LifecycleConfiguration.Rules in the S3 API's shape."""
    rules = []
    for cfn in cfn_rules:
        rule: dict[str, Any] = {"Status": cfn.get("Status", "Enabled"), "Filter": rule_filter(cfn)}
        if "Id" in cfn:
            rule["ID"] = cfn["Id"]
        transitions = list(cfn.get("Transitions") or []) + ([cfn["Transition"]] if "Transition" in cfn else [])
        if transitions:
            rule["Transition"] = [{"Days": str(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
                                  for t in transitions if "TransitionInDays" in t]
        if "ExpirationInDays" in cfn:
            rule["Expiration"] = {"Days": str(cfn["ExpirationInDays"])}
        elif cfn.get("ExpiredObjectDeleteMarker") is not None:
            rule["Expiration"] = {"ExpiredObjectDeleteMarker": str(cfn["ExpiredObjectDeleteMarker"]).lower()}
        noncurrent = cfn.get("NoncurrentVersionExpiration") or (
            {"NoncurrentDays": cfn["NoncurrentVersionExpirationInDays"]}
            if "NoncurrentVersionExpirationInDays" in cfn else None)
        if noncurrent:
            rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(noncurrent["NoncurrentDays"])}
        if cfn.get("AbortIncompleteMultipartUpload"):
            rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": str(cfn["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
        rules.append(rule)
    return rules


def apply_settings(bucket: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    backend = s3_backends[account_id][get_partition(region_name)]
    name = bucket.name
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(name, versioning.get("Status", "Suspended"))
    elif bucket.versioning_status == "Enabled":
        # A versioned bucket can only be suspended, never unversioned again.
        backend.put_bucket_versioning(name, "Suspended")
    rules = (properties.get("OwnershipControls") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_ownership_controls(name, rules[0]["ObjectOwnership"])
    else:
        backend.delete_bucket_ownership_controls(name)
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(name, {key: str(bool(value)).lower() for key, value in block.items()})
    elif bucket.public_access_block is not None:
        backend.delete_public_access_block(name)
    lifecycle = (properties.get("LifecycleConfiguration") or {}).get("Rules")
    if lifecycle:
        backend.put_bucket_lifecycle_configuration(name, lifecycle_rules(lifecycle))
    elif bucket.rules:
        backend.delete_bucket_lifecycle(name)


def apply() -> None:
    from moto.s3.models import FakeBucket, s3_backends
    from moto.utilities.utils import get_partition

    original_create = FakeBucket.create_from_cloudformation_json.__func__
    original_update = FakeBucket.update_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        bucket = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        apply_settings(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
        return bucket

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        bucket = original_update(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                                 region_name)
        apply_settings(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
        return bucket

    def delete(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        from moto.s3.exceptions import BucketNotEmpty

        backend = s3_backends[account_id][get_partition(region_name)]
        if backend.get_bucket(resource_name).keys:
            raise BucketNotEmpty(resource_name)
        backend.delete_bucket(resource_name)

    FakeBucket.create_from_cloudformation_json = classmethod(create)
    FakeBucket.update_from_cloudformation_json = classmethod(update)
    FakeBucket.delete_from_cloudformation_json = classmethod(delete)
