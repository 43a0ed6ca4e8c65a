"""IAM action names of the S3 bucket sub-resources the probe reads.

moto lacks (5.2.5): its S3 action map has no entry for ``?ownershipControls``,
``?encryption``, ``?replication`` or ``?object-lock``, so under IAM enforcement
GetBucketOwnershipControls is authorized as ``s3:ListBucket`` (the bucket GET default):
a role granted ``s3:GetBucketOwnershipControls`` is denied, and one granted
``s3:ListBucket`` alone may read the setting. (GetObjectLockConfiguration names itself
``GetObjectLockConfiguration`` only after the check, an action IAM does not have either.)

This extension: adds the missing names to moto's map (GET and PUT), so each call is
authorized as the IAM action AWS checks: ``s3:GetBucketOwnershipControls``,
``s3:GetEncryptionConfiguration``, ``s3:GetReplicationConfiguration``,
``s3:GetBucketObjectLockConfiguration`` and their Put counterparts. (``?requestPayment`` and ``?intelligent-tiering``, which moto does not handle
at all, are modelled and authorized by bucket_features.)
"""

from __future__ import annotations

GET = {"ownershipControls": "GetBucketOwnershipControls", "encryption": "GetEncryptionConfiguration",
       "replication": "GetReplicationConfiguration", "object-lock": "GetBucketObjectLockConfiguration"}
PUT = {"ownershipControls": "PutBucketOwnershipControls", "encryption": "PutEncryptionConfiguration",
       "replication": "PutReplicationConfiguration", "object-lock": "PutBucketObjectLockConfiguration"}


def apply() -> None:
    from moto.s3.responses import ACTION_MAP

    for method, names in (("GET", GET), ("PUT", PUT)):
        ACTION_MAP["BUCKET"][method].update(names)
