"""logzio-s3-archive's construct library: `LogzioArchive`, one Logz.io archive in any stack,
and `LogzioArchiveDashboard`, a CloudWatch dashboard of several archives' watch.

Needs the `[cdk]` extra (aws-cdk-lib, constructs, cdk-nag). The runtime it deploys (the
probe's Lambda handler) is the package logzio_s3_archive_runtime of the same distribution."""

from logzio_s3_archive_runtime import __version__

from .archive import LogzioArchive
from .dashboard import LogzioArchiveDashboard
from .settings import ArchiveSettings, Encryption, OnDelete, Principal, SettingsError, Verify, parse_archive

__all__ = ["LogzioArchive", "LogzioArchiveDashboard", "ArchiveSettings", "Encryption", "OnDelete", "Principal",
           "SettingsError", "Verify", "parse_archive", "__version__"]
