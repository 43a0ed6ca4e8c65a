"""DeleteChangeSet and DescribeChangeSet of a change set that does not exist.

moto lacks (5.2.5): before each change-set deploy the CDK command line deletes the
previous ``cdk-deploy-change-set``. AWS answers success when there is none; moto's
``delete_change_set`` crashes (``UnboundLocalError: to_delete``, HTTP 500) and the SDK
retries for about a minute, so the second ``cdk deploy`` of a stack hangs at "Waiting for
changeset ... to finish deleting". ``DescribeChangeSet`` of a missing change set answers
ValidationError where AWS answers ``ChangeSetNotFound`` (which the CLI waits for).

This extension: deleting a missing change set succeeds and does nothing; describing one
raises ``ChangeSetNotFound``. A change set is still found by ARN or by name (for the
stack given, when one is).
"""

from __future__ import annotations

from typing import Any


def _find(backend: Any, name: str) -> str | None:
    if name in backend.change_sets:
        return name
    for change_set_id, change_set in backend.change_sets.items():
        if change_set.change_set_name == name:
            return change_set_id
    return None


def delete_change_set(self: Any, change_set_name: str) -> None:
    found = _find(self, change_set_name)
    if found is not None:
        del self.change_sets[found]


def describe_change_set(self: Any, change_set_name: str) -> Any:
    from moto.cloudformation.exceptions import CloudFormationError

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFound"

    found = _find(self, change_set_name)
    if found is None:
        raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")
    return self.change_sets[found]


def apply() -> None:
    from moto.cloudformation.models import CloudFormationBackend

    CloudFormationBackend.delete_change_set = delete_change_set
    CloudFormationBackend.describe_change_set = describe_change_set
