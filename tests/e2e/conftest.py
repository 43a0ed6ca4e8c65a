"""One bootstrap of the session's emulator, shared by every end-to-end test."""

from __future__ import annotations

import sys

import pytest

from emulator import cdk_bootstrap
from tests.e2e.support import CDK
from tests.support import ROOT


@pytest.fixture(scope="session")
def bootstrapped(emu, tmp_path_factory):
    out = tmp_path_factory.mktemp("bootstrap")
    code, output = cdk_bootstrap(emu, CDK, str(ROOT), extra_args=[
        "--app", f"{sys.executable} app.py", "--output", str(out)])
    assert code == 0, output
    return emu
