"""Logz.io archive permission probe: the custom-resource Lambda and the operator command.

Standard library and boto3 only: this folder is the Lambda asset as it is."""

__version__ = "0.1.0"
