"""What the probe checks and how it explains a failure.

One entry per S3 permission Logz.io needs, in the order the probe exercises them.
The hints are the fixes a platform engineer applies; they are kept here, next to the
error codes they explain, so the Lambda and the operator command say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

PUT_OBJECT = "s3:PutObject"
LIST_BUCKET = "s3:ListBucket"
GET_OBJECT = "s3:GetObject"
GET_BUCKET_LOCATION = "s3:GetBucketLocation"

#: The four permissions, in the order they are checked and reported.
ACTIONS: tuple[str, ...] = (PUT_OBJECT, LIST_BUCKET, GET_OBJECT, GET_BUCKET_LOCATION)

#: Every probe object lives below this prefix; nothing else is ever deleted.
PROBE_PREFIX = "logzio-archive-probe/"

#: Resource property (stacks/ sets it, the handler reads it): "true" lets an update move
#: the archive to another bucket, which the probe refuses otherwise.
ALLOW_BUCKET_CHANGE = "AllowBucketChange"
#: Resource attribute (the handler sets it, stacks/ outputs it): the access key id or role
#: ARN the probe ran as.
PROBED_CREDENTIALS = "ProbedCredentials"

# Error codes, grouped by what the probe does about them.
KEY_NOT_PROPAGATED = frozenset({"InvalidAccessKeyId"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AllAccessDisabled"})
#: Throttling and server-side failures, retried until the deadline (any HTTP 5xx is too).
THROTTLED = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable",
     "ServiceUnavailableException", "TooManyRequestsException", "InternalError", "InternalFailure",
     "InternalServiceError", "RequestTimeout", "RequestTimeoutException", "500", "502", "503", "504"}
)
WRONG_REGION = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301"}
)
BUCKET_MISSING = frozenset({"NoSuchBucket"})
BAD_SECRET = frozenset({"SignatureDoesNotMatch"})
#: Temporary (session) credentials that AWS no longer or never accepted.
SESSION_REJECTED = frozenset({"InvalidToken", "ExpiredToken", "TokenRefreshRequired",
                              "InvalidClientTokenId", "UnrecognizedClientException",
                              "ExpiredTokenException"})
KMS_CODES = frozenset({"KMS.DisabledException", "KMS.NotFoundException", "KMS.KMSInvalidStateException",
                       "KMS.AccessDeniedException", "KMSAccessDenied"})


class Status(str, Enum):
    GRANTED = "granted"
    MISSING = "missing"
    #: The check could not be made because an earlier one failed; never reported as granted.
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class CheckResult:
    action: str
    status: Status
    error_code: str | None = None
    hint: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.GRANTED

    def as_dict(self) -> dict:
        return {"action": self.action, "ok": self.ok, "status": self.status.value,
                "error_code": self.error_code, "hint": self.hint, "detail": self.detail}


@dataclass(frozen=True)
class ProbeReport:
    bucket: str
    region: str
    probe_key: str
    checks: tuple[CheckResult, ...]
    #: Where GetBucketLocation says the bucket is (None when that was denied).
    bucket_region: str | None = None
    #: Version id S3 gave the probe object (None on an unversioned bucket or if not written).
    probe_version_id: str | None = None
    #: Set when the probe object could not be removed: the exact key to delete by hand.
    left_behind: str | None = None
    cleanup_error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.ok)

    def check(self, action: str) -> CheckResult:
        return next(check for check in self.checks if check.action == action)

    def as_dict(self) -> dict:
        return {"bucket": self.bucket, "region": self.region, "ok": self.ok,
                "checks": [check.as_dict() for check in self.checks],
                "probe_key": self.probe_key, "left_behind": self.left_behind,
                "left_behind_version_id": self.probe_version_id if self.left_behind else None,
                "notes": list(self.notes)}

    def failure_reason(self) -> str:
        """One paragraph naming each permission that is not granted, its code and its fix."""
        parts = []
        for check in self.failed:
            code = f" ({check.error_code})" if check.error_code else ""
            hint = f": {check.hint}" if check.hint else ""
            parts.append(f"{check.action} {check.status.value}{code}{hint}")
        return (f"Logz.io cannot use bucket {self.bucket}: " + "; ".join(parts) + ".")


class ProbeAborted(Exception):
    """The check could not be made at all (credentials, bucket, network), as opposed to a
    permission found missing. Carries what happened and what to do next."""

    def __init__(self, what: str, fix: str, error_code: str | None = None):
        super().__init__(f"{what} {fix}")
        self.what = what
        self.fix = fix
        self.error_code = error_code
        #: When the probe object was written before the abort and could not be removed.
        self.left_behind: str | None = None
        self.left_behind_version_id: str | None = None


#: A KMS action named in AWS's message ("... not authorized to perform: kms:Decrypt ...");
#: a bare "kms" could be part of a bucket, user or stack name.
_KMS_ACTION = re.compile(r"\bkms:[A-Za-z]+")


def hint_for(action: str, code: str, message: str, bucket: str) -> str:
    """The fix for `action` failing with `code`; `message` is AWS's own error text."""
    text = message.lower()
    if code in WRONG_REGION:
        return (f"bucket {bucket} is in another region than the one used: "
                "use the bucket's own region (Logz.io asks for it on the archive page)")
    if action in (PUT_OBJECT, GET_OBJECT) and (code in KMS_CODES or _KMS_ACTION.search(message)):
        verb = "kms:GenerateDataKey" if action == PUT_OBJECT else "kms:Decrypt"
        return (f"the bucket's default encryption uses a KMS key: allow {verb} on that key "
                "in the principal's IAM policy and in the key policy")
    if "explicit deny" in text and "resource-based" in text:
        return (f"the bucket policy of {bucket} explicitly denies {action} to this principal "
                "(for example a Deny on uploads without an encryption header, or a source-IP/VPC "
                "condition): exempt the principal or remove the condition")
    if "explicit deny" in text:
        return (f"an explicit Deny for {action} in an IAM policy (identity policy, permissions "
                "boundary or SCP) overrides the Allow: remove or narrow that Deny")
    if code in DENIED:
        if action in (PUT_OBJECT, GET_OBJECT):
            return (f"allow {action} on arn:aws:s3:::{bucket}/* (the object ARN with /*; a grant "
                    f"on arn:aws:s3:::{bucket} alone does not cover objects)")
        return (f"allow {action} on arn:aws:s3:::{bucket} (the bucket ARN, without /*)")
    return f"{action} failed with {code}: {message}"
