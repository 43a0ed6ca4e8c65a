"""One bootstrap of the session's emulator, shared by every end-to-end test."""

from __future__ import annotations

import pytest

from emulator import cdk_bootstrap
from tests.e2e.support import CDK


@pytest.fixture(scope="session")
def bootstrapped(emu):
    code, output = cdk_bootstrap(emu, CDK)  # no synth: the environment is named
    assert code == 0, output
    return emu
