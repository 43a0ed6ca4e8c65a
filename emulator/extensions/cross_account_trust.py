"""sts:AssumeRole of a role in another account checks that role's trust policy.

moto looks the role up in the caller's account: for a caller from another account (e.g.
Logz.io's, see caller_account) the role is not found there, so the call was not taken for
an assume-role operation and the trust policy was never read: any trust policy (without
Logz.io's account, without the external id) let Logz.io in. With this, the role is found
in the account its ARN names, and its trust policy is evaluated as trust_policy does, with
one addition that only applies across accounts: an account principal
(``arn:aws:iam::ACCOUNT:root`` or the bare id) names every user and role of that account,
as in AWS (the caller's own identity policy must also allow sts:AssumeRole: moto checks
that), and a condition on sts:ExternalId fails when the call carries no external id (moto:
a condition on a key missing from the request held). Same-account calls are left to
trust_policy unchanged."""

from __future__ import annotations

import re
from typing import Any

_previous_check: Any = None
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:iam::(\d{12}):role/")
_MODELLED = ("sts:ExternalId",)


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _role_account(role_arn: str) -> str | None:
    match = _ARN_ACCOUNT.match(role_arn or "")
    return match.group(1) if match else None


def _role_backend(request: Any, role_arn: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[_role_account(role_arn)][get_partition(request._region)]


def is_assuming_role_operation(self: Any, resource_arn: str) -> bool:
    from moto.iam.access_control import REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK
    from moto.iam.exceptions import NotFoundException

    if ":role" not in resource_arn.lower():
        return False
    account = _role_account(resource_arn)
    backend = self.backend if account in (None, self.account_id) else _role_backend(self, resource_arn)
    try:
        backend.get_role_by_arn(resource_arn)
    except NotFoundException:
        return False
    return self._action in REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK


def check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    account = _role_account(role_arn)
    if account in (None, self.account_id):
        return _previous_check(self, role_arn)
    from ._policy import condition_holds
    from .trust_policy import _caller_identities, trust_allows

    role = _role_backend(self, role_arn).get_role_by_arn(role_arn)
    callers = _caller_identities(self) | {f"arn:aws:iam::{self.account_id}:root", self.account_id}
    external_id = _first(self._data.get("ExternalId"))
    context = {} if external_id is None else {"sts:externalid": external_id}

    def external_id_holds(statement: dict) -> bool:
        return all(condition_holds(operator, key, expected, context, _MODELLED)
                   for operator, keys in (statement.get("Condition") or {}).items()
                   for key, expected in (keys or {}).items())

    return trust_allows(self, role, callers, external_id_holds)


def apply() -> None:
    global _previous_check
    from moto.iam.access_control import IAMRequestBase

    _previous_check = IAMRequestBase._check_role_trust_relationship
    IAMRequestBase._is_assuming_role_operation = is_assuming_role_operation
    IAMRequestBase._check_role_trust_relationship = check_role_trust_relationship
