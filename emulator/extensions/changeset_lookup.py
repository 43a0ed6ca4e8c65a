"""DeleteChangeSet and DescribeChangeSet of a change set that does not exist.

moto lacks (5.2.5): before each change-set deploy the CDK command line deletes the
previous ``cdk-deploy-change-set``. AWS answers success when there is none; moto's
``delete_change_set`` crashes (``UnboundLocalError: to_delete``, HTTP 500) and the SDK
retries for about a minute, so the second ``cdk deploy`` of a stack hangs at "Waiting for
changeset ... to finish deleting". ``DescribeChangeSet`` of a missing change set answers
ValidationError where AWS answers ``ChangeSetNotFound`` (which the CLI waits for).

moto also finds a change set by name across every stack ever made, deleted ones
included: after a failed first deploy the CLI deletes the stack and creates it again with
a change set of the same name, and moto hands back the old, executed one.

This extension: deleting a missing change set succeeds and does nothing; describing one
raises ``ChangeSetNotFound``. A change set is found by ARN, or by name among the live
stacks' change sets (the stack given, when one is; the newest first), for Describe,
Delete and Execute alike.
"""

from __future__ import annotations

from typing import Any


def find(backend: Any, name: str, stack_name: str | None = None) -> str | None:
    """The change set's id: by ARN, else the newest of that name on a live stack (the one
    named, when one is). A deleted stack's change sets are gone, as in AWS."""
    if name in backend.change_sets:
        return name
    for change_set_id, change_set in reversed(list(backend.change_sets.items())):
        if change_set.change_set_name != name or change_set.stack_id not in backend.stacks:
            continue
        if stack_name in (None, "", change_set.stack_name, change_set.stack_id):
            return change_set_id
    return None


def delete_change_set(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    found = find(self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
    if found is not None:
        del self.cloudformation_backend.change_sets[found]
    return EmptyResult()


def describe_change_set(self: Any) -> Any:
    from moto.cloudformation.exceptions import CloudFormationError
    from moto.core.responses import ActionResult

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFound"

    name = self._get_param("ChangeSetName")
    found = find(self.cloudformation_backend, name, self._get_param("StackName"))
    if found is None:
        raise ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
    return ActionResult(self.cloudformation_backend.change_sets[found])


def apply() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    CloudFormationResponse.delete_change_set = delete_change_set
    CloudFormationResponse.describe_change_set = describe_change_set
