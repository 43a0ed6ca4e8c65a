"""One bootstrap of the session's emulator, shared by every end-to-end test."""

from __future__ import annotations

import pytest

import sys

from emulator import cdk_bootstrap, cdk_deploy
from tests.e2e.support import CDK
from tests.support import ROOT


@pytest.fixture(scope="session")
def bootstrapped(emu):
    code, output = cdk_bootstrap(emu, CDK)  # no synth: the environment is named
    assert code == 0, output
    return emu


@pytest.fixture(scope="session")
def shipped_deploy(bootstrapped, tmp_path_factory):
    """The stack as shipped: app.py through the real command line, as a user runs it."""
    out = tmp_path_factory.mktemp("shipped")
    code, output = cdk_deploy(bootstrapped, CDK, str(ROOT), ["LogzioArchive"],
                              extra_args=["--app", f"{sys.executable} app.py", "--output", str(out)])
    return code, output
