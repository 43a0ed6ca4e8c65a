"""Change sets go through the real stack lifecycle (no false CREATE_COMPLETE).

moto lacks: ExecuteChangeSet applies the template through ``ResourceMap.update``
and then unconditionally records CREATE_COMPLETE/UPDATE_COMPLETE: custom resources
are never waited for, failures surface as API errors, nothing rolls back.  A CDK
deploy using change sets would report success without the probe having run.

This extension: replaces ``CloudFormationBackend.execute_change_set``.  A CREATE
change set loads the template into the REVIEW_IN_PROGRESS stack and runs the same
asynchronous create/rollback lifecycle as CreateStack; an UPDATE change set runs
the same lifecycle as UpdateStack (stack_lifecycle).  Set ``REFUSE = True`` to make
every ExecuteChangeSet fail loudly instead.
"""

from __future__ import annotations

from typing import Any

REFUSE = False


def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    from moto.cloudformation.exceptions import ValidationError

    from .changeset_lookup import find

    found = find(self, change_set_name, stack_name)
    change_set = self.change_sets[found] if found is not None else None
    if change_set is None:
        raise ValidationError(stack_name or change_set_name)
    if REFUSE:
        raise ValidationError(
            message="[emulator] change-set deployments are disabled; use `cdk deploy --method=direct`"
        )
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                                      f"execution status of [{change_set.execution_status}]")
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.parameters = change_set.parameters
        if change_set.tags:
            stack.tags = change_set.tags
        stack.resource_map = stack._create_resource_map()
        stack.output_map = stack._create_output_map()
        stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.create_resources()
    else:
        stack.update(change_set.template, change_set.role_arn, parameters=change_set.parameters,
                     tags=change_set.tags)
    change_set.execution_status = "EXECUTE_COMPLETE"


def apply() -> None:
    from moto.cloudformation.models import CloudFormationBackend

    CloudFormationBackend.execute_change_set = execute_change_set
