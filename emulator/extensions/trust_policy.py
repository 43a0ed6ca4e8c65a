"""Role trust policies evaluated as AWS does.

moto checks a role's trust policy on sts:AssumeRole, but (1) a statement whose principal
does not match the caller counts as an explicit DENY instead of not applying, so a trust
policy that names two principals (Logz.io's account and the probe's execution role)
denies both; (2) an assumed-role session is compared by its session ARN, never by its
role's ARN, which is what a trust policy names. This replaces the trust check with: a
statement applies when its action and principal match and its conditions hold (moto's own
condition code, sts:ExternalId included); any applying Deny denies; otherwise at least
one applying Allow is needed.

(3) moto never evaluates the global key ``aws:PrincipalArn`` in a trust policy (its
conditions know StringEquals on request parameters only; any other operator, ArnEquals
included, is taken as met), so a statement "this account, but only when the caller is role
X" let every caller in. Here ``aws:PrincipalArn`` is the caller's ARN as IAM gives it: a
user's ARN, and for an assumed-role session its role's ARN (not the session's), evaluated
with the operators of ``_policy`` (String*, Arn*, ...IfExists, Null). And such a statement,
one whose principal is the role's own account (``arn:aws:iam::ACCOUNT:root`` or the bare
id) narrowed by an ``aws:PrincipalArn`` condition, applies to the account's users and roles,
as in AWS (the caller's own identity policy must also allow sts:AssumeRole: moto checks
that); the condition then decides who. (4) A condition on ``sts:ExternalId`` fails when the
call carries no external id (moto: a condition on a key missing from the request held).

Left as moto has it: an account principal in a statement without an ``aws:PrincipalArn``
condition matches only that exact ARN, not the account's users and roles. The CDK bootstrap
roles trust the account that way, so the CDK command line cannot assume them here and
deploys with the emulator's admin credentials, as it does whenever it cannot assume them;
moto could not authorize its calls through those roles anyway (their template policies are
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


#: The global condition key this extension evaluates in trust policies.
PRINCIPAL_ARN = "aws:PrincipalArn"


def principal_arn(request: Any) -> str:
    """``aws:PrincipalArn`` of the caller: a user's ARN; an assumed-role session's role ARN."""
    from moto.iam.access_control import AssumedRoleAccessKey

    key = request._access_key
    if isinstance(key, AssumedRoleAccessKey):
        try:
            return key.backend.get_role(key._owner_role_name).arn
        except Exception:  # the role is gone: the ARN it had
            return f"arn:{key.partition}:iam::{key.account_id}:role/{key._owner_role_name}"
    return key.arn


def _narrowed_by_principal_arn(statement: dict) -> bool:
    return any(key.lower() == PRINCIPAL_ARN.lower() for keys in (statement.get("Condition") or {}).values()
               for key in (keys or {}))


#: The keys evaluated here, on top of moto's own condition check.
_MODELLED = (PRINCIPAL_ARN, "sts:ExternalId")


def _modelled_conditions_hold(statement: dict, context: dict[str, str]) -> bool:
    from ._policy import condition_holds

    return all(condition_holds(operator, key, expected, context, _MODELLED)
               for operator, keys in (statement.get("Condition") or {}).items()
               for key, expected in (keys or {}).items())


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
    context = {PRINCIPAL_ARN.lower(): principal_arn(request)}
    external_id = request._data.get("ExternalId")
    external_id = external_id[0] if isinstance(external_id, list) and external_id else external_id
    if isinstance(external_id, str):
        context["sts:externalid"] = external_id
    # The role's own account, as a principal: it names the account's users and roles in a
    # statement narrowed by aws:PrincipalArn (see the module's docstring).
    role_account = str(role.arn).split(":")[4]
    own_account = ({f"arn:aws:iam::{role_account}:root", role_account}
                   if role_account == getattr(request._access_key, "account_id", None) else set())
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
        if not _principal_applies(statement.get("Principal"), callers) and not (
                _narrowed_by_principal_arn(statement) and _principal_applies(statement.get("Principal"), own_account)):
            continue
        if not IAMPolicyStatement(statement)._check_conditions(conditions):
            continue
        if not _modelled_conditions_hold(statement, context):
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
