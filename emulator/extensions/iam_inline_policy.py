"""AWS::IAM::Policy attached to users only, next to a role being deleted.

moto keeps an absent `Roles`/`Users`/`Groups` list of an inline policy as None, and
deleting any AWS::IAM::Role walks every inline policy's role names: with a user-only
policy anywhere in the account (the Logz.io user's policy, in any stack), every role
delete fails with "'NoneType' object is not iterable" and the stack ends in
ROLLBACK_FAILED / DELETE_FAILED. This keeps the three lists as lists."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    from moto.iam.models import InlinePolicy

    original = InlinePolicy.update

    def update(self: Any, policy_name, policy_document, group_names, role_names, user_names) -> None:
        original(self, policy_name, policy_document, group_names or [], role_names or [], user_names or [])

    InlinePolicy.update = update
