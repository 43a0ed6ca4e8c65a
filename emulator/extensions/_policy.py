"""IAM policy evaluation for the emulator's own authorization checks (not an extension).

moto evaluates identity policies without request context (every condition holds) and treats
a statement whose condition fails as an explicit Deny. The checks that need conditions
(cloudwatch_authz; the delivery of alarm notifications in ``emulator.alarms``: topic policy
and KMS key policy) evaluate documents here, as IAM does: a statement applies when its
principal (resource policies only), Action/NotAction (wildcards, any case), Resource/NotResource
and every condition match; an applying Deny denies; otherwise one applying Allow allows.

Conditions are evaluated on the keys the caller models (``context`` holds their values, in
lower case); a key it does not model is left as moto leaves it: not evaluated, it holds.
Operators: String[Not]Equals[IgnoreCase], String[Not]Like, Arn[Not]Equals, Arn[Not]Like,
Bool, Null, each with ``...IfExists`` and the ``ForAnyValue:``/``ForAllValues:`` qualifiers
(single-valued keys only). A modelled key missing from the request fails a condition unless
the operator is negated or ``IfExists``; an operator not listed (Numeric*, Date*, IpAddress)
on a modelled key does not hold: refused, not guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

ALLOW, DENY, NEITHER = "allow", "deny", "neither"

#: operator -> (negated, ignore case, wildcards)
_MATCHERS = {
    "StringEquals": (False, False, False),
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, True, False),
    "StringNotEqualsIgnoreCase": (True, True, False),
    "StringLike": (False, False, True),
    "StringNotLike": (True, False, True),
    "ArnEquals": (False, False, True),
    "ArnLike": (False, False, True),
    "ArnNotEquals": (True, False, True),
    "ArnNotLike": (True, False, True),
    "Bool": (False, True, False),
}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = re.escape(str(pattern)).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, str(value), flags=re.IGNORECASE if ignore_case else 0) is not None


def condition_holds(operator: str, key: str, expected: Any, context: dict[str, str], modelled: Iterable[str]) -> bool:
    key = key.lower()
    if key not in {k.lower() for k in modelled}:
        return True  # not modelled: not evaluated (as moto)
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[: -len("IfExists")]
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(expected)]
    present = key in context
    if name == "Null":
        return any((v.lower() == "true") == (not present) for v in values)
    if name not in _MATCHERS:
        return False
    negated, ignore_case, wildcards = _MATCHERS[name]
    if not present:
        return if_exists or negated or qualifier == "ForAllValues"
    actual = str(context[key])
    if wildcards:
        matched = any(wildcard(v, actual, ignore_case) for v in values)
    elif ignore_case:
        matched = actual.lower() in {v.lower() for v in values}
    else:
        matched = actual in values
    return not matched if negated else matched


def principal_matches(statement: dict[str, Any], principal: dict[str, str]) -> bool:
    """Resource policies: does the statement's Principal name the caller (e.g. {"Service": ...})?"""
    if "NotPrincipal" in statement:
        return False  # not modelled: such a statement is taken not to apply
    named = statement.get("Principal")
    if named == "*":
        return True
    if not isinstance(named, dict):
        return False
    if "*" in as_list(named.get("AWS", [])):
        return True  # {"AWS": "*"} is every principal, as "*"
    return any(value in as_list(named.get(kind, [])) for kind, value in principal.items())


def statement_applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str],
                      modelled: Iterable[str], principal: dict[str, str] | None = None) -> bool:
    if principal is not None and not principal_matches(statement, principal):
        return False
    if "NotAction" in statement:
        if any(wildcard(a, action, True) for a in as_list(statement["NotAction"])):
            return False
    elif not any(wildcard(a, action, True) for a in as_list(statement.get("Action", []))):
        return False
    if "NotResource" in statement:
        if any(wildcard(r, resource) for r in as_list(statement["NotResource"])):
            return False
    elif not any(wildcard(r, resource) for r in as_list(statement.get("Resource", []))):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in (keys or {}).items():
            if not condition_holds(operator, key, expected, context, modelled):
                return False
    return True


def evaluate(documents: Iterable[Any], action: str, resource: str, context: dict[str, str],
             modelled: Iterable[str], principal: dict[str, str] | None = None) -> str:
    """ALLOW, DENY (an applying Deny) or NEITHER (no applying statement) for one action."""
    modelled = list(modelled)
    context = {k.lower(): v for k, v in context.items()}
    result = NEITHER
    for document in documents:
        if isinstance(document, str):
            document = json.loads(document)
        for statement in as_list((document or {}).get("Statement", [])):
            if not isinstance(statement, dict):
                continue
            if not statement_applies(statement, action, resource, context, modelled, principal):
                continue
            if statement.get("Effect") == "Deny":
                return DENY
            if statement.get("Effect") == "Allow":
                result = ALLOW
    return result
