"""The runtime of logzio-s3-archive: the permission probe's Lambda handler and the
`logzio-archive` command.

Standard library and botocore only (the Lambda's Python runtime ships botocore): the
handler's modules of this folder are the Lambda asset as they are, and the command installs
without the CDK."""

#: The one version of the distribution: pyproject.toml, `logzio-archive --version` and
#: `logzio_s3_archive.__version__` all read it here.
__version__ = "1.0.0"
