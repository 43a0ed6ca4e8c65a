import time

import pytest


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
