"""The archive bucket (new, or an existing one left untouched) and its encryption key."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .settings import ArchiveSettings, Encryption

#: Expiration never touches objects this small: Logz.io's `logzio-verified` marker must stay,
#: and an S3 lifecycle filter cannot exclude a key, only sizes (archive files are larger).
NEVER_EXPIRE_AT_OR_BELOW_BYTES = 1024


@dataclass
class BucketAndKey:
    bucket: s3.IBucket
    #: The KMS key that encrypts the archives, if any (ours or given).
    key: kms.IKey | None
    #: True when the stack created the bucket (it then owns its settings).
    created: bool


def archive_bucket(scope: Construct, settings: ArchiveSettings, *, bucket: s3.IBucket | None,
                   key: kms.IKey | None, description: str) -> BucketAndKey:
    """The user's bucket and key as given, or the ones this construct makes. `description`
    names the archive in the description of a key it makes."""
    key = key or _encryption_key(scope, settings, description)
    if bucket is not None:
        # The user's own: nothing in it is changed; the probe says whether it lets Logz.io in.
        return BucketAndKey(bucket, key, created=False)
    bucket = s3.Bucket(
        scope, "ArchiveBucket",
        bucket_name=settings.bucket_name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,
        # S3 Bucket Keys cut the KMS calls (and their cost) per object.
        bucket_key_enabled=True if key else None,
        enforce_ssl=True,
        # Logz.io's archive page requires ACLs enabled (not BucketOwnerEnforced).
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        # No archived object can be silently overwritten or lost.
        versioned=True,
        # RetainExceptOnCreate (UpdateReplacePolicy Retain): an update, a replacement or deleting
        # the stack never deletes logs. Only when the deploy that creates the bucket rolls back is
        # it deleted, so that deploy can be retried with the same bucketName. Such a bucket has
        # only ever held the probe object, which the probe removes (on rollback too, in its
        # Delete, before the bucket goes); were anything left, the delete would fail instead, as
        # CloudFormation never empties a bucket.
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        lifecycle_rules=_lifecycle_rules(settings) or None,
    )
    rule_ids = [rule.id for rule in _lifecycle_rules(settings)]
    if "ArchiveExpiration" in rule_ids:
        # CloudFormation types ObjectSizeGreaterThan as a string; the L2 renders a number.
        bucket.node.default_child.add_property_override(
            f"LifecycleConfiguration.Rules.{rule_ids.index('ArchiveExpiration')}.ObjectSizeGreaterThan",
            str(NEVER_EXPIRE_AT_OR_BELOW_BYTES))
    return BucketAndKey(bucket, key, created=True)


def _encryption_key(scope: Construct, settings: ArchiveSettings, description: str) -> kms.IKey | None:
    if settings.encryption is not Encryption.KMS:
        return None
    return kms.Key(scope, "ArchiveKey", enable_key_rotation=True,
                   description=f"Encrypts the Logz.io log archive of {description}",
                   # Archives encrypted with it must stay readable after the stack is gone, so
                   # it is kept on update, replacement and stack delete. Only a rollback of the
                   # deploy that creates it schedules its deletion (it then encrypted nothing but
                   # the probe object), so retries leave no unused keys behind.
                   removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)


def _lifecycle_rules(settings: ArchiveSettings) -> list[s3.LifecycleRule]:
    lifecycle = settings.lifecycle
    if lifecycle is None:
        return []
    rules = []
    if lifecycle.storage_class:
        rules.append(s3.LifecycleRule(
            id="ArchiveTransition",
            transitions=[s3.Transition(storage_class=s3.StorageClass(lifecycle.storage_class),
                                       transition_after=Duration.days(lifecycle.transition_days))]))
    if lifecycle.expire_days:
        rules.append(s3.LifecycleRule(
            id="ArchiveExpiration",
            expiration=Duration.days(lifecycle.expire_days),
            # With versioning on, the expired version lives on as noncurrent; it goes as late.
            noncurrent_version_expiration=Duration.days(lifecycle.expire_days),
            object_size_greater_than=NEVER_EXPIRE_AT_OR_BELOW_BYTES))
        # What expiration leaves on a versioned bucket: delete markers with no version behind
        # them, which would pile up and slow every listing a restore makes. A marker with a
        # version behind it (logzio-verified's included) is never such a marker.
        rules.append(s3.LifecycleRule(id="ArchiveExpiredDeleteMarkers", expired_object_delete_marker=True))
    return rules
