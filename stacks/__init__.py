"""CDK construct code of logzio-s3-archive (the runtime is archive_probe/)."""
