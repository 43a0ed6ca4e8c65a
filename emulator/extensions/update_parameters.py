"""``UsePreviousValue`` for a parameter that took its template default.

moto lacks (5.2.5): a stack keeps only the parameter values its caller passed. The CDK
command line creates a stack without ``BootstrapVersion`` (an SSM-typed parameter whose
default names ``/cdk-bootstrap/.../version``) and updates it with ``UsePreviousValue``,
which AWS resolves to that default. moto looks the key up among the passed values only:
UpdateStack crashes (``KeyError: 'BootstrapVersion'``, HTTP 500, which the CLI reports as
an XML parse error) and an UPDATE change set looks up the *resolved* SSM value as if it
were a parameter name.

This extension: ``Stack.stack_parameters`` is the stack's input values as AWS records
them, the passed ones plus each template default (for an SSM type, the parameter's name,
not its value); ``_resolve_update_parameters`` takes a previous value from there. So every
later deploy, direct or through a change set, needs no extra ``--parameters``.
"""

from __future__ import annotations

from typing import Any


def _input_values(stack: Any) -> dict[str, Any]:
    values = {name: slot["Default"] for name, slot in (stack.template_dict or {}).get("Parameters", {}).items()
              if "Default" in slot}
    values.update(stack.parameters or {})
    return values


def _resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict[str, Any]]) -> dict[str, Any]:
    from moto.cloudformation.exceptions import ValidationError

    # A StackSet keeps its passed values only (not used by this project).
    previous = instance.stack_parameters if hasattr(instance, "resource_map") else instance.parameters
    resolved: dict[str, Any] = {}
    for parameter in incoming_params:
        key = parameter["ParameterKey"]
        if "ParameterValue" in parameter:
            resolved[key] = parameter["ParameterValue"]
        elif parameter.get("UsePreviousValue", False):
            if key not in previous:
                raise ValidationError(message=f"Invalid input for parameter key {key}. Cannot specify "
                                              "usePreviousValue as true for a parameter key not in the "
                                              "previous template")
            resolved[key] = previous[key]
    return resolved


def apply() -> None:
    from moto.cloudformation.models import CloudFormationBackend, Stack

    Stack.stack_parameters = property(_input_values)
    CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters
