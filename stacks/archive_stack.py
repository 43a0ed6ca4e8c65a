"""The app's stack: one Logz.io archive (the library's LogzioArchive) and its outputs."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from logzio_s3_archive import LogzioArchive
from logzio_s3_archive.archive import HIDDEN_ID
from logzio_s3_archive.principal import PolicyStatements, logzio_policy_statements

from .settings import ArchiveEntry


class ArchiveStack(Stack):
    def __init__(self, scope: Construct, id: str, *, archive: ArchiveEntry,
                 policy_statements: PolicyStatements = logzio_policy_statements, **kwargs):
        """`policy_statements` builds the principal's statements from the bucket; tests pass
        deliberately broken ones to prove the probe catches them."""
        super().__init__(scope, id, description="Logz.io log archive bucket, principal and "
                         "deploy-time permission probe (logzio-s3-archive)", **kwargs)
        self.entry = archive
        # An existing bucket or key, given by name, is imported here (it changes nothing).
        bucket = (s3.Bucket.from_bucket_name(self, "ArchiveBucket", archive.existing_bucket)
                  if archive.existing_bucket else None)
        key = kms.Key.from_key_arn(self, "ArchiveKey", archive.kms_key_arn) if archive.kms_key_arn else None
        # The id "Default" is left out of logical ids: every resource keeps the logical id it had
        # before the construct existed (a changed id would replace the bucket, the key, the user...).
        self.archive = LogzioArchive(self, HIDDEN_ID, bucket=bucket, kms_key=key, settings=archive.settings,
                                     policy_statements=policy_statements)
        self.archive.add_outputs(self)
