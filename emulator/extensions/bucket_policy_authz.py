"""A bucket policy evaluated for the caller, on every S3 request IAM authorizes.

moto lacks (5.2.5): a bucket policy is consulted only by object requests
(``S3Response._key_response``, and each key of a DeleteObjects), through
``FakeBucket.get_permission``, *before* authentication and without the caller. A bucket
request never consults it: a Deny on ``s3:ListBucket`` (ListObjects, ListObjectsV2) refuses
nothing. Where it is consulted, a Deny naming one principal (``{"AWS": USER_ARN}``)
refuses every caller, the administrator included, and the refusal is a bare 403 without an
error document (botocore reports code ``403``, ``Forbidden``), where S3 answers
``AccessDenied``.

This extension: for a request moto authorizes (IAM enforced, a signed request), the bucket
policy is evaluated in the authorization step, ``S3IAMRequest.check_action_permitted``,
after the caller's identity policies, for the IAM action and resource moto authorizes
(``s3:ListBucket`` on the bucket ARN, ``s3:GetObject`` on the object ARN, ...). Only the
statements whose principal names the caller count: ``"*"`` or ``{"AWS": "*"}``, the caller's
user ARN, its role session's ARN or role ARN, its account id or ``arn:aws:iam::ACCOUNT:root``
(a ``NotPrincipal`` statement counts for every caller it does not name). They are evaluated
through ``FakeBucket.get_permission`` (moto's Action/Resource/Effect evaluation, with
secure_transport's request context); an applying Deny answers ``AccessDenied`` (403, S3's
error document), as AWS answers an explicit deny in a resource-based policy. moto's own
caller-less check of an object request is skipped for such a request (it would refuse first,
with the bare 403); it stays for requests moto does not authorize (IAM not enforced, not
signed) and for DeleteObjects' per-key check. Patches ``S3IAMRequest.check_action_permitted``,
``S3Response._key_response`` (marks such a request, per thread) and ``FakeBucket.get_permission``
(neutral while a marked request awaits its authorization).

Not modelled: an Allow in a bucket policy grants nothing by itself (moto still requires an
identity policy that allows); CopyObject's source bucket policy is not consulted.
"""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

from ._policy import as_list

#: Per request thread: the object request in flight is authorized (and its bucket policy
#: evaluated for the caller) later, in check_action_permitted.
_request = threading.local()


def _names(principal: Any, callers: set[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(name == "*" or name in callers for name in as_list(principal.get("AWS", [])))


def names_caller(statement: dict[str, Any], callers: set[str]) -> bool:
    """Whether the statement's Principal (or NotPrincipal) covers one of the caller's names."""
    if "NotPrincipal" in statement:
        return not _names(statement["NotPrincipal"], callers)
    return _names(statement.get("Principal"), callers)


def caller_names(request: Any) -> set[str]:
    """The names a bucket policy may give the caller of `request` (an S3IAMRequest)."""
    from moto.utilities.utils import get_partition

    from .trust_policy import _caller_identities

    account = request._access_key.account_id
    return _caller_identities(request) | {account, f"arn:{get_partition(request._region)}:iam::{account}:root"}


def bucket_of(resource: str) -> Any:
    """The bucket an S3 resource ARN (``arn:aws:s3:::BUCKET[/KEY]``) names, if it exists."""
    from moto.s3.models import s3_backends

    if not resource.startswith("arn:") or ":::" not in resource:
        return None
    name = resource.split(":::", 1)[1].split("/", 1)[0]
    owner = s3_backends.bucket_accounts.get(name)
    if name in ("", "*") or owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition].buckets.get(name)


def caller_permission(bucket: Any, action: str, resource: str, callers: set[str]) -> Any:
    """moto's PermissionResult of `bucket`'s policy for the statements that name the caller."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    try:
        document = json.loads(bucket.policy)
    except (TypeError, ValueError):
        return PermissionResult.NEUTRAL
    if not isinstance(document, dict):
        return PermissionResult.NEUTRAL
    statements = [{**{k: v for k, v in s.items() if k not in ("Principal", "NotPrincipal")}, "Principal": "*"}
                  for s in as_list(document.get("Statement") or [])
                  if isinstance(s, dict) and names_caller(s, callers)]
    if not statements:
        return PermissionResult.NEUTRAL
    policy = json.dumps({**document, "Statement": statements}).encode()
    return FakeBucket.get_permission(SimpleNamespace(policy=policy), action, resource)


def _authorized_by_moto(request: Any) -> bool:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    return ("Authorization" in request.headers
            and ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT)


def apply() -> None:
    from moto.iam.access_control import PermissionResult, S3IAMRequest
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    previous_check = S3IAMRequest.check_action_permitted
    previous_permission = FakeBucket.get_permission
    previous_key_response = S3Response._key_response

    def check_action_permitted(self: Any, resource: str) -> None:
        _request.deferred = False  # the caller-less pre-check (if any) is over
        previous_check(self, resource)
        bucket = bucket_of(resource)
        if bucket is None or bucket.policy is None:
            return
        if caller_permission(bucket, self._action, resource, caller_names(self)) == PermissionResult.DENIED:
            self._raise_access_denied()

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if getattr(_request, "deferred", False):
            return PermissionResult.NEUTRAL  # decided for the caller in check_action_permitted
        return previous_permission(self, action, resource)

    def key_response(self: Any, request: Any, full_url: str) -> Any:
        _request.deferred = _authorized_by_moto(request)
        try:
            return previous_key_response(self, request, full_url)
        finally:
            _request.deferred = False

    S3IAMRequest.check_action_permitted = check_action_permitted
    FakeBucket.get_permission = get_permission
    S3Response._key_response = key_response
