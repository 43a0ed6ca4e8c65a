"""CloudFormation stack lifecycle: asynchronous create/update, resource events, rollback.

moto lacks: moto creates a stack synchronously inside the CreateStack call, emits
only stack-level events, has no failure handling (an exception while creating a
resource becomes an API error, the stack stays half-built) and no rollback; a
custom resource leaves the stack CREATE_IN_PROGRESS forever or CREATE_COMPLETE on
moto's say-so.  Deletion order is random (a custom resource's function may be
deleted before the custom resource), DescribeStacks/DescribeStackResources during
creation lazily create resources from the request thread, and a modified resource
without update support is silently replaced by ``None``.

This extension (patches on moto's Stack / ResourceMap / parsing functions):
  * CreateStack / UpdateStack return at once; the work runs in a background thread;
  * per-resource events CREATE_IN_PROGRESS / CREATE_COMPLETE / CREATE_FAILED
    (and UPDATE_*, DELETE_*, DELETE_SKIPPED) with CloudFormation-style reasons;
    resource types moto does not model get an event saying they were skipped;
  * a failed create -> ROLLBACK_IN_PROGRESS ("The following resource(s) failed to
    create: [X]. Rollback requested by user."), created resources deleted in reverse
    creation order (Retain kept, RetainExceptOnCreate deleted), ROLLBACK_COMPLETE
    (ROLLBACK_FAILED if a delete failed);
  * updates in CloudFormation's order with a cleanup phase, and a failed update ->
    UPDATE_ROLLBACK_IN_PROGRESS, undone from the update's journal, UPDATE_ROLLBACK_COMPLETE
    (the update engine itself is stack_update.py);
  * a failed delete -> DELETE_FAILED, the stack stays listed (moto lost it);
  * Outputs are hidden and resources are listed without lazy creation while a stack
    is not in a *_COMPLETE state.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

from moto.core.common_models import CloudFormationModel

from . import STATE

log = logging.getLogger("emulator.cloudformation")


class ResourceOperationFailed(BaseException):
    """A resource failed to create/update/delete.

    BaseException on purpose: moto's update/delete loops swallow ``Exception`` and
    retry up to five times, which would re-run custom resource handlers.
    """

    def __init__(self, logical_id: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


_orig: dict[str, Any] = {}


def get_stack_for(resources_map: Any) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[resources_map._account_id][resources_map._region_name]
    return backend.stacks.get(resources_map.stack_id) or backend.deleted_stacks.get(resources_map.stack_id)


def add_resource_event(stack: Any, logical_id: str, physical_id: str | None, rtype: str, status: str,
                       reason: str | None = None) -> None:
    from moto.cloudformation.models import Event

    if stack is None:
        return
    stack.events.append(Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
        physical_resource_id=physical_id or "", resource_type=rtype, resource_status=status,
        resource_status_reason=reason, resource_properties=None,
    ))


def _set_stack_status(stack: Any, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.stack_status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


# --------------------------------------------------------------------------- parsing hooks

def parse_and_create_resource(logical_id: str, resource_json: dict, resources_map: Any, account_id: str,
                              region_name: str) -> Any:
    from moto.cloudformation import parsing

    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    rtype = resource_json["Type"]
    stack = get_stack_for(resources_map)
    if parsing.resource_class_from_type(rtype) is None:
        add_resource_event(stack, logical_id, None, rtype, "CREATE_COMPLETE",
                           f"[emulator] resource type {rtype} is not modelled by moto: NOT created")
        return None
    add_resource_event(stack, logical_id, None, rtype, "CREATE_IN_PROGRESS")
    try:
        resource = _orig["parse_and_create_resource"](logical_id, resource_json, resources_map, account_id, region_name)
    except ResourceOperationFailed as failed:
        if failed.logical_id == logical_id:
            add_resource_event(stack, logical_id, None, rtype, "CREATE_FAILED", failed.reason)
        raise
    except Exception as exc:  # any moto error while creating = the resource failed
        log.debug("create of %s failed: %s", logical_id, traceback.format_exc())
        reason = f"Resource handler returned message: \"{exc}\""
        add_resource_event(stack, logical_id, None, rtype, "CREATE_FAILED", reason)
        raise ResourceOperationFailed(logical_id, reason) from exc
    order = resources_map.__dict__.setdefault("_emu_order", [])
    if logical_id not in order:
        order.append(logical_id)
    add_resource_event(stack, logical_id, getattr(resource, "physical_resource_id", None), rtype, "CREATE_COMPLETE")
    return resource


def parse_and_update_resource(logical_id: str, resource_json: dict, resources_map: Any, account_id: str,
                              region_name: str) -> Any:
    rtype = resource_json["Type"]
    stack = get_stack_for(resources_map)
    original = resources_map._parsed_resources.get(logical_id)
    add_resource_event(stack, logical_id, getattr(original, "physical_resource_id", None), rtype, "UPDATE_IN_PROGRESS")
    try:
        resource = _orig["parse_and_update_resource"](logical_id, resource_json, resources_map, account_id, region_name)
    except ResourceOperationFailed as failed:
        add_resource_event(stack, logical_id, None, rtype, "UPDATE_FAILED", failed.reason)
        raise
    except Exception as exc:
        reason = f"Resource handler returned message: \"{exc}\""
        add_resource_event(stack, logical_id, None, rtype, "UPDATE_FAILED", reason)
        raise ResourceOperationFailed(logical_id, reason) from exc
    if resource is None:  # moto has no update support for this type: keep the old one
        resource = original
        add_resource_event(stack, logical_id, getattr(resource, "physical_resource_id", None), rtype, "UPDATE_COMPLETE",
                           "[emulator] moto cannot update this resource type; kept unchanged")
    else:
        add_resource_event(stack, logical_id, getattr(resource, "physical_resource_id", None), rtype, "UPDATE_COMPLETE")
    return resource


# --------------------------------------------------------------------------- ResourceMap.delete

def resource_map_delete(self: Any, rollback: bool = False) -> None:
    """Delete created resources in reverse creation order, honouring DeletionPolicy."""
    stack = get_stack_for(self)
    order = list(self.__dict__.get("_emu_order", []))
    for lid, res in self._parsed_resources.items():
        if isinstance(res, CloudFormationModel) and lid not in order and lid in self._resource_json_map:
            order.insert(0, lid)
    pending = []
    for lid in reversed(order):
        res = self._parsed_resources.get(lid)
        rjson = self._resource_json_map.get(lid)
        if not isinstance(res, CloudFormationModel) or rjson is None:
            continue
        policy = rjson.get("DeletionPolicy", "Delete")
        if policy in ("Retain", "Snapshot") or (policy == "RetainExceptOnCreate" and not rollback):
            add_resource_event(stack, lid, getattr(res, "physical_resource_id", None), rjson["Type"], "DELETE_SKIPPED")
            self._parsed_resources.pop(lid, None)
            continue
        pending.append(lid)
    failures: list[ResourceOperationFailed] = []
    for lid in pending:  # one pass: deletes go on past a failure, as CloudFormation's do
        res = self._parsed_resources.get(lid)
        rjson = self._resource_json_map[lid]
        phys = getattr(res, "physical_resource_id", None)
        add_resource_event(stack, lid, phys, rjson["Type"], "DELETE_IN_PROGRESS")
        try:
            self._delete_resource(res, rjson)
        except (Exception, ResourceOperationFailed) as exc:
            failure = exc if isinstance(exc, ResourceOperationFailed) else ResourceOperationFailed(lid, str(exc))
            add_resource_event(stack, lid, phys, rjson["Type"], "DELETE_FAILED", failure.reason)
            failures.append(failure)
            continue
        add_resource_event(stack, lid, phys, rjson["Type"], "DELETE_COMPLETE")
        self._parsed_resources.pop(lid, None)
    if failures:
        raise failures[0]


# --------------------------------------------------------------------------- Stack lifecycle

def _run(stack: Any, target: Any) -> None:
    if STATE.async_stacks:
        threading.Thread(target=target, name=f"cfn-{stack.name}", daemon=True).start()
    else:
        target()


def stack_create_resources(self: Any) -> None:
    self.status = "CREATE_IN_PROGRESS"

    def work() -> None:
        try:
            self.resource_map.create(self.template_dict)
            self.description = self.template_dict.get("Description")
            _set_stack_status(self, "CREATE_COMPLETE")
        except (Exception, ResourceOperationFailed) as exc:
            failed = exc.logical_id if isinstance(exc, ResourceOperationFailed) else "?"
            if not isinstance(exc, ResourceOperationFailed):
                log.error("stack %s create crashed: %s", self.name, traceback.format_exc())
            _set_stack_status(self, "ROLLBACK_IN_PROGRESS",
                              f"The following resource(s) failed to create: [{failed}]. Rollback requested by user.")
            try:
                resource_map_delete(self.resource_map, rollback=True)
                _set_stack_status(self, "ROLLBACK_COMPLETE")
            except (Exception, ResourceOperationFailed) as dexc:
                _set_stack_status(self, "ROLLBACK_FAILED",
                                  f"The following resource(s) failed to delete: [{getattr(dexc, 'logical_id', '?')}].")

    _run(self, work)


def stack_update(self: Any, template: str, role_arn: str | None = None, parameters: dict | None = None,
                 tags: dict | None = None) -> None:
    from . import stack_update as engine

    journal = engine.Journal(old_template=self.template_dict,
                             old_parameters=dict(self.resource_map.input_parameters or {}))
    old_template = self.template
    self.status = "UPDATE_IN_PROGRESS"
    self._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
    self.template = template
    self._parse_template()
    new_template_dict = self.template_dict
    if tags is not None:
        self.tags = tags
    self.role_arn = role_arn

    def work() -> None:
        try:
            engine.update_resources(self, new_template_dict, parameters, journal)
            self.output_map = self._create_output_map()
            if parameters:
                self.parameters = parameters
        except (Exception, ResourceOperationFailed) as exc:
            failed = exc.logical_id if isinstance(exc, ResourceOperationFailed) else "?"
            if not isinstance(exc, ResourceOperationFailed):
                log.error("stack %s update crashed: %s", self.name, traceback.format_exc())
            _set_stack_status(self, "UPDATE_ROLLBACK_IN_PROGRESS",
                              f"The following resource(s) failed to update: [{failed}]. ")
            try:
                self.template = old_template
                self._parse_template()
                engine.roll_back(self, journal)
                self.output_map = self._create_output_map()
                _set_stack_status(self, "UPDATE_ROLLBACK_COMPLETE")
            except (Exception, ResourceOperationFailed) as rexc:
                log.error("stack %s update rollback failed: %s", self.name, traceback.format_exc())
                _set_stack_status(self, "UPDATE_ROLLBACK_FAILED", str(getattr(rexc, "reason", rexc)))
            return
        # Past this point CloudFormation never rolls back: a cleanup failure is only logged.
        _set_stack_status(self, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        try:
            engine.clean_up(self, journal)
        except (Exception, ResourceOperationFailed):
            log.error("stack %s update cleanup failed: %s", self.name, traceback.format_exc())
        _set_stack_status(self, "UPDATE_COMPLETE")

    _run(self, work)


def stack_delete(self: Any) -> None:
    self.status = "DELETE_IN_PROGRESS"
    self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        resource_map_delete(self.resource_map, rollback=False)
    except (Exception, ResourceOperationFailed) as exc:
        _set_stack_status(self, "DELETE_FAILED", "The following resource(s) failed to delete: "
                                                 f"[{getattr(exc, 'logical_id', '?')}]. ")
        return
    _set_stack_status(self, "DELETE_COMPLETE")


def backend_delete_stack(self: Any, name_or_stack_id: str) -> None:
    """DeleteStack answers at once; a stack whose delete failed stays, as DELETE_FAILED
    (moto dropped it from the list of stacks before deleting, and lost it on a failure)."""
    for stack in list(self.stacks.values()):
        if name_or_stack_id in (stack.stack_id, stack.name):
            stack.delete()
            if stack.status == "DELETE_FAILED":
                return
            self.stacks.pop(stack.stack_id, None)
            self.deleted_stacks[stack.stack_id] = stack
            for export in stack.exports:
                self.exports.pop(export.name, None)


_SETTLED = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


def _outputs(self: Any) -> Any:
    if self.status not in _SETTLED:
        return None
    return _orig["outputs"].fget(self)


def _stack_resources(self: Any) -> Any:
    return [r for r in self.resource_map._parsed_resources.values() if isinstance(r, CloudFormationModel)]


def apply() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Stack

    _orig["parse_and_create_resource"] = parsing.parse_and_create_resource
    _orig["parse_and_update_resource"] = parsing.parse_and_update_resource
    parsing.parse_and_create_resource = parse_and_create_resource
    parsing.parse_and_update_resource = parse_and_update_resource
    parsing.ResourceMap.delete = resource_map_delete
    _orig["outputs"] = Stack.outputs
    Stack.outputs = property(_outputs)
    Stack.stack_resources = property(_stack_resources)
    Stack.create_resources = stack_create_resources
    Stack.update = stack_update
    Stack.delete = stack_delete
    from moto.cloudformation.models import CloudFormationBackend

    CloudFormationBackend.delete_stack = backend_delete_stack
    Stack.stack_status_reason = None
