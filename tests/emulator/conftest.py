import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from emulator import Emulator  # noqa: E402


@pytest.fixture(scope="session")
def emu():
    with Emulator(region="us-east-1") as e:
        yield e


def _wait_stack(cfn, name, timeout=60):
    deadline = time.time() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.time() > deadline:
            return stack
        time.sleep(0.3)


@pytest.fixture
def wait_stack():
    return _wait_stack
