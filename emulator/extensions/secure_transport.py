"""Bucket policies evaluated as for a request sent over TLS (``aws:SecureTransport`` true).

moto lacks (5.2.5): ``FakeBucket.get_permission`` evaluates a bucket policy with no request
context, and moto's condition code knows ``StringEquals`` only: every other condition is
taken as met. So the TLS-only Deny (``Bool`` ``aws:SecureTransport`` ``false``, which
aws-cdk's ``enforce_ssl`` adds and the CDK bootstrap bucket carries) applies to every
request: each GetObject/PutObject/DeleteObject on such a bucket is refused, from every
caller. A Deny of ``aws:SecureTransport`` ``true`` refuses exactly as much, so neither says
anything. (The emulator speaks plain HTTP, so the request's own transport would be false
for every call.)

This extension: every request is taken as sent over HTTPS, as the AWS SDKs and the CDK
command line send it by default. Before moto evaluates a bucket policy, the statements
whose condition on ``aws:SecureTransport`` does not hold for ``true`` are left out (the
``_policy`` operators: ``Bool``, ``Null``, ``String*``, each with ``IfExists``), so the
TLS-only Deny refuses nothing and a Deny on ``true`` refuses what it names. Conditions on
other keys stay as moto leaves them (taken as met). The stored policy is unchanged
(GetBucketPolicy answers it as put). Patches ``FakeBucket.get_permission``, which every
bucket-policy check goes through (moto's object requests and DeleteObjects, and
bucket_policy_authz's check of the caller).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from . import _policy

KEY = "aws:SecureTransport"
#: The request context of every request: sent over TLS.
CONTEXT = {KEY.lower(): "true"}


def holds_over_tls(statement: Any) -> bool:
    """Whether every condition of `statement` on aws:SecureTransport holds for an HTTPS request."""
    if not isinstance(statement, dict):
        return True
    return all(_policy.condition_holds(operator, key, expected, CONTEXT, (KEY,))
               for operator, keys in (statement.get("Condition") or {}).items() if isinstance(keys, dict)
               for key, expected in keys.items())


def over_tls(policy: bytes | str) -> bytes | None:
    """The policy with the statements that do not apply to an HTTPS request left out (None:
    not a JSON policy document, left to moto)."""
    try:
        document = json.loads(policy)
    except (TypeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    statements = [s for s in _policy.as_list(document.get("Statement") or []) if holds_over_tls(s)]
    return json.dumps({**document, "Statement": statements}).encode()


def apply() -> None:
    from moto.s3.models import FakeBucket

    previous = FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        text = over_tls(self.policy) if self.policy is not None else None
        if text is None:
            return previous(self, action, resource)
        return previous(SimpleNamespace(policy=text), action, resource)

    FakeBucket.get_permission = get_permission
