"""Embedded AWS emulator (moto 5.2.5 server mode + extensions) for CDK deploy tests.

Not shipped in any Lambda.  See emulator/extensions/ for what each extension adds.
"""

from .server import Emulator, cdk_bootstrap, cdk_deploy, find_cdk_cli

__all__ = ["Emulator", "cdk_bootstrap", "cdk_deploy", "find_cdk_cli"]
