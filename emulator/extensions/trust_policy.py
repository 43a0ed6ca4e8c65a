"""Role trust policies evaluated as AWS does.

moto checks a role's trust policy on sts:AssumeRole, but (1) a statement whose principal
does not match the caller counts as an explicit DENY instead of not applying, so a trust
policy that names two principals (Logz.io's account and the probe's execution role)
denies both; (2) an assumed-role session is compared by its session ARN, never by its
role's ARN, which is what a trust policy names. This replaces the trust check with: a
statement applies when its action and principal match and its conditions hold (moto's own
condition code, sts:ExternalId included); any applying Deny denies; otherwise at least
one applying Allow is needed.

Left as moto has it: an account principal (`arn:aws:iam::ACCOUNT:root`, or the bare id)
matches only that exact ARN, not the account's users and roles. The CDK bootstrap roles
trust the account that way, so the CDK command line cannot assume them here and deploys
with the emulator's admin credentials, as it does whenever it cannot assume them; moto
could not authorize its calls through those roles anyway (their template policies are
stored in a shape moto's authorizer cannot read, and ARN-scoped SSM grants)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable


def _matches(pattern: str, value: str) -> bool:
    """IAM action matching: wildcards, case-insensitive."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.IGNORECASE) is not None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _caller_identities(request: Any) -> set[str]:
    from moto.iam.access_control import AssumedRoleAccessKey

    key = request._access_key
    names = {key.arn}
    if isinstance(key, AssumedRoleAccessKey):
        try:
            names.add(key.backend.get_role(key._owner_role_name).arn)
        except Exception:  # the role is gone: only the session ARN is left
            pass
    return names


def _principal_applies(principal: Any, callers: set[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for expected in _as_list(principal.get("AWS", [])):
        if expected == "*" or expected in callers:
            return True
    return False


def trust_allows(request: Any, role: Any, callers: set[str],
                 also_holds: Callable[[dict], bool] | None = None) -> bool:
    """Whether ``role``'s trust policy lets ``callers`` make ``request``'s call: an applying Deny
    denies, otherwise one applying Allow is needed. A statement applies when its action and
    principal match, its conditions hold (moto's code) and ``also_holds`` (if given) says so."""
    from moto.iam.access_control import IAMPolicyStatement
    from moto.iam.utils import format_incoming_conditional_values

    document = role.assume_role_policy_document
    document = json.loads(document) if isinstance(document, str) else document
    conditions = format_incoming_conditional_values(request._data)
    allowed = False
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict):  # moto keeps Fn::If/AWS::NoValue entries as None
            continue
        if "NotAction" in statement or "NotPrincipal" in statement:
            # Not modelled: such a statement is refused rather than guessed at.
            if statement.get("Effect") == "Deny":
                return False
            continue
        if not any(_matches(a, request._action) for a in _as_list(statement.get("Action", []))):
            continue
        if not _principal_applies(statement.get("Principal"), callers):
            continue
        if not IAMPolicyStatement(statement)._check_conditions(conditions):
            continue
        if also_holds is not None and not also_holds(statement):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


def check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    return trust_allows(self, self.backend.get_role_by_arn(role_arn), _caller_identities(self))


def apply() -> None:
    from moto.iam.access_control import IAMRequestBase

    IAMRequestBase._check_role_trust_relationship = check_role_trust_relationship
