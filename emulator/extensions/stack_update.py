"""Stack updates the way CloudFormation makes them.

moto lacks (5.2.5): ``ResourceMap.update`` diffs the raw template text, so a resource
whose property *resolves* to a replaced resource's new value (the secret that holds a
rotated access key's ``Fn::GetAtt``, the probe that names the key by ``Ref``) is never
updated; a replacement happens inside each model's update as delete-then-create (the old
resource is gone before the new one exists), and a ``BucketName`` removed from the
template replaces nothing; there is no cleanup phase; and a rollback re-applies the old
template through the same diff, which replaces a resource once more instead of restoring
the old one.

This extension: ``update_resources`` walks the new template in dependency order (``Ref``,
``Fn::GetAtt``, ``Fn::Sub``, ``DependsOn``) and compares each resource's *resolved*
properties with what the deployed template resolves to:
  * unchanged: left alone (so a redeploy without changes touches nothing);
  * a create-only property changed (``CREATE_ONLY``, from the CloudFormation resource
    reference, for the types this project deploys): a new physical resource is created
    and takes the logical id; dependents are then updated to point at it; the old one is
    deleted in the cleanup phase unless its ``UpdateReplacePolicy`` is Retain/Snapshot;
  * anything else: updated in place through moto's own model update.
Resources gone from the template are deleted in the cleanup phase (``DeletionPolicy``
honoured). ``roll_back`` undoes a failed update from its journal: replaced resources get
their old physical resource back, every resource the update touched (the failed one
included) is updated again with the old properties (a custom resource gets an Update with
the old properties, as CloudFormation sends it), and the resources this update created
are deleted, except those whose ``DeletionPolicy`` is Retain/Snapshot
(``RetainExceptOnCreate`` ones are deleted: this operation created them).
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from moto.core.common_models import CloudFormationModel

from . import stack_lifecycle
from .stack_lifecycle import ResourceOperationFailed, add_resource_event

log = logging.getLogger("emulator.cloudformation")

#: Properties whose change makes CloudFormation replace the resource ("Update requires:
#: Replacement" in the resource reference). A property added or removed counts as changed.
CREATE_ONLY: dict[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": ("BucketName", "ObjectLockEnabled"),
    "AWS::S3::BucketPolicy": ("Bucket",),
    "AWS::IAM::AccessKey": ("Serial", "UserName"),
    "AWS::IAM::User": ("UserName",),
    "AWS::IAM::Role": ("RoleName", "Path"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "Path"),
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::KMS::Key": ("KeySpec", "MultiRegion"),
    "AWS::Lambda::Function": ("FunctionName", "PackageType"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::Scheduler::Schedule": ("Name",),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::SNS::Subscription": ("Endpoint", "Protocol", "TopicArn"),
}

_RETAINED = ("Retain", "Snapshot")
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


@dataclass
class Journal:
    """What one update did, in order, so that a failure can be undone."""

    old_template: dict[str, Any]
    old_parameters: dict[str, Any]
    #: logical id -> the old physical resource a new one replaced
    replaced: dict[str, Any] = field(default_factory=dict)
    #: logical ids updated in place (the one that failed last, if any)
    touched: list[str] = field(default_factory=list)
    #: logical ids new in this template and created by this update
    added: list[str] = field(default_factory=list)
    #: (logical id, physical resource) this update created, in creation order
    created: list[tuple[str, Any]] = field(default_factory=list)
    #: custom resources whose handler answered a new physical id: (resource, old id, old properties)
    custom_moved: list[tuple[Any, str, dict]] = field(default_factory=list)


# --------------------------------------------------------------------------- template helpers

def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a piece of template refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att:
            found.add(str(get_att[0]))
        elif isinstance(get_att, str):
            found.add(get_att.split(".", 1)[0])
        sub = value.get("Fn::Sub")
        if isinstance(sub, str):
            found.update(_SUB_REFERENCE.findall(sub))
        elif isinstance(sub, list) and sub and isinstance(sub[0], str):
            found.update(_SUB_REFERENCE.findall(sub[0]))
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids with every dependency before its dependents (template order otherwise)."""
    ordered: list[str] = []
    state: dict[str, int] = {}

    def visit(lid: str) -> None:
        if state.get(lid) == 2:
            return
        if state.get(lid) == 1:
            raise ResourceOperationFailed(lid, f"Circular dependency between resources: [{lid}]")
        state[lid] = 1
        body = resources[lid]
        depends = body.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else list(depends)
        for other in sorted(references(body.get("Properties", {})) | set(depends)):
            if other in resources and other != lid:
                visit(other)
        state[lid] = 2
        ordered.append(lid)

    for lid in resources:
        visit(lid)
    return ordered


def _resolved(resource_map: Any, body: dict[str, Any]) -> dict[str, Any]:
    from moto.cloudformation.parsing import clean_json

    return clean_json(copy.deepcopy(body.get("Properties") or {}), resource_map)


def _needs_replacement(rtype: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(old.get(name) != new.get(name) for name in CREATE_ONLY.get(rtype, ()))


def _is_model(value: Any) -> bool:
    return isinstance(value, CloudFormationModel)


def _condition_holds(resource_map: Any, body: dict[str, Any]) -> bool:
    condition = body.get("Condition")
    return not condition or bool(resource_map.lazy_condition_map[condition])


def _load_template(resource_map: Any, template: dict[str, Any], parameters: dict[str, Any] | None) -> None:
    resource_map._template = template
    if parameters is not None:
        resource_map.input_parameters = parameters
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template["Resources"]


# --------------------------------------------------------------------------- one resource

def _create(stack: Any, lid: str, body: dict[str, Any], replacing: Any) -> Any:
    """Create a replacement for `replacing` under `lid`, with CloudFormation's events."""
    rtype = body["Type"]
    rmap = stack.resource_map
    add_resource_event(stack, lid, replacing.physical_resource_id, rtype, "UPDATE_IN_PROGRESS",
                       "Requested update requires the creation of a new physical resource; hence creating one.")
    try:
        resource = stack_lifecycle._orig["parse_and_create_resource"](
            lid, body, rmap, rmap._account_id, rmap._region_name)
    except ResourceOperationFailed as failed:
        add_resource_event(stack, lid, None, rtype, "UPDATE_FAILED", failed.reason)
        raise
    except Exception as exc:  # any moto error while creating = the resource failed
        reason = f"Resource handler returned message: \"{exc}\""
        add_resource_event(stack, lid, None, rtype, "UPDATE_FAILED", reason)
        raise ResourceOperationFailed(lid, reason) from exc
    add_resource_event(stack, lid, resource.physical_resource_id, rtype, "UPDATE_COMPLETE")
    return resource


def _delete(stack: Any, lid: str, resource: Any, body: dict[str, Any], policy_key: str,
            created_now: bool = False) -> None:
    """Delete one physical resource unless its policy keeps it; a failure is logged as
    CloudFormation does in a cleanup phase (the stack operation still completes)."""
    rtype = body["Type"]
    policy = body.get(policy_key, "Delete")
    keep = policy in _RETAINED or (policy == "RetainExceptOnCreate" and not created_now)
    if keep:
        add_resource_event(stack, lid, resource.physical_resource_id, rtype, "DELETE_SKIPPED")
        return
    add_resource_event(stack, lid, resource.physical_resource_id, rtype, "DELETE_IN_PROGRESS")
    try:
        stack.resource_map._delete_resource(resource, body)
    except (Exception, ResourceOperationFailed) as exc:
        reason = str(getattr(exc, "reason", exc))
        log.warning("cleanup of %s (%s) failed: %s", lid, resource.physical_resource_id, reason)
        add_resource_event(stack, lid, resource.physical_resource_id, rtype, "DELETE_FAILED", reason)
        return
    add_resource_event(stack, lid, resource.physical_resource_id, rtype, "DELETE_COMPLETE")


def _update_in_place(stack: Any, lid: str, body: dict[str, Any], journal: Journal) -> None:
    from moto.cloudformation import parsing

    rmap = stack.resource_map
    before = rmap._parsed_resources[lid]
    old_id, old_properties = before.physical_resource_id, copy.deepcopy(getattr(before, "properties", {}))
    journal.touched.append(lid)
    updated = parsing.parse_and_update_resource(lid, body, rmap, rmap._account_id, rmap._region_name)
    rmap._parsed_resources[lid] = updated
    if hasattr(updated, "send_delete") and updated.physical_resource_id != old_id:
        # A custom resource that answers a new physical id was replaced: CloudFormation
        # sends the old one a Delete in the cleanup phase.
        journal.custom_moved.append((updated, old_id, old_properties))


# --------------------------------------------------------------------------- the operation

def update_resources(stack: Any, template: dict[str, Any], parameters: dict[str, Any] | None,
                     journal: Journal) -> None:
    """Bring the stack's resources to `template`; cleanup is left to `clean_up`."""
    from moto.cloudformation import parsing

    rmap = stack.resource_map
    old_bodies = rmap._resource_json_map
    old_resolved = {lid: _resolved(rmap, body) for lid, body in old_bodies.items()
                    if _is_model(rmap._parsed_resources.get(lid))}
    _load_template(rmap, template, parameters)
    order = rmap.__dict__.setdefault("_emu_order", [])
    for lid in dependency_order(template["Resources"]):
        body = template["Resources"][lid]
        if not _condition_holds(rmap, body):
            continue
        current = rmap._parsed_resources.get(lid)
        if lid in old_bodies and lid not in old_resolved and parsing.resource_class_from_type(body["Type"]) is None:
            continue  # a type moto does not model: it was reported NOT created already
        if lid not in old_resolved:
            if lid in rmap._parsed_resources:
                rmap._parsed_resources.pop(lid)
            journal.added.append(lid)
            if _is_model(rmap[lid]):  # creates it, with its events (stack_lifecycle)
                journal.created.append((lid, rmap._parsed_resources[lid]))
            continue
        new = _resolved(rmap, body)
        if new == old_resolved[lid] and body["Type"] == old_bodies[lid]["Type"]:
            continue
        if _needs_replacement(body["Type"], old_resolved[lid], new):
            journal.replaced[lid] = current
            rmap._parsed_resources[lid] = _create(stack, lid, body, current)
            journal.created.append((lid, rmap._parsed_resources[lid]))
            if lid not in order:
                order.append(lid)
        else:
            _update_in_place(stack, lid, body, journal)


def removed_resources(journal: Journal, stack: Any) -> list[str]:
    rmap = stack.resource_map
    new = rmap._resource_json_map
    old = journal.old_template.get("Resources", {})
    gone = [lid for lid in old if lid not in new or not _condition_holds(rmap, new[lid])]
    order = dependency_order(old)
    return [lid for lid in reversed(order) if lid in gone]


def clean_up(stack: Any, journal: Journal) -> None:
    """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: old physical resources and removed ones go."""
    rmap = stack.resource_map
    old_bodies = journal.old_template.get("Resources", {})
    for custom, old_id, old_properties in journal.custom_moved:
        custom.send_delete(old_id, old_properties)
    for lid, old in reversed(list(journal.replaced.items())):
        _delete(stack, lid, old, old_bodies[lid], "UpdateReplacePolicy")
    order = rmap.__dict__.setdefault("_emu_order", [])
    for lid in removed_resources(journal, stack):
        resource = rmap._parsed_resources.pop(lid, None)
        if lid in order:
            order.remove(lid)
        if _is_model(resource):
            _delete(stack, lid, resource, old_bodies[lid], "DeletionPolicy")


def roll_back(stack: Any, journal: Journal) -> None:
    """Undo a failed update (UPDATE_ROLLBACK_IN_PROGRESS up to the rollback cleanup)."""
    from moto.cloudformation import parsing

    rmap = stack.resource_map
    new_bodies = dict(rmap._resource_json_map)
    for lid, old in journal.replaced.items():
        rmap._parsed_resources[lid] = old
    order = rmap.__dict__.setdefault("_emu_order", [])
    for lid in journal.added:
        rmap._parsed_resources.pop(lid, None)
        if lid in order:
            order.remove(lid)
    _load_template(rmap, journal.old_template, journal.old_parameters)
    old_bodies = journal.old_template["Resources"]
    touched = set(journal.touched)
    # What the old template resolves to now that the old physical resources are back.
    for lid in dependency_order(old_bodies):
        if lid in touched and _is_model(rmap._parsed_resources.get(lid)):
            rmap._parsed_resources[lid] = parsing.parse_and_update_resource(
                lid, old_bodies[lid], rmap, rmap._account_id, rmap._region_name)
    stack_lifecycle._set_stack_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    # Newest first, so nothing is deleted while something this update made still uses it.
    for lid, resource in reversed(journal.created):
        _delete(stack, lid, resource, new_bodies[lid], "DeletionPolicy", created_now=True)
