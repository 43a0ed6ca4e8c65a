"""The app: cdk.json settings -> ArchiveStack -> the library's LogzioArchive (src/logzio_s3_archive)."""
