"""What the probe checks and how it explains a failure.

One entry per S3 permission Logz.io needs, in the order the probe exercises them.
The hints are the fixes a platform engineer applies; they are kept here, next to the
error codes they explain, so the Lambda and the operator command say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

PUT_OBJECT = "s3:PutObject"
LIST_BUCKET = "s3:ListBucket"
GET_OBJECT = "s3:GetObject"
GET_BUCKET_LOCATION = "s3:GetBucketLocation"

#: The four permissions, in the order they are checked and reported.
ACTIONS: tuple[str, ...] = (PUT_OBJECT, LIST_BUCKET, GET_OBJECT, GET_BUCKET_LOCATION)

#: Every probe object lives below this prefix; nothing else is ever deleted.
PROBE_PREFIX = "logzio-archive-probe/"

# Error codes, grouped by what the probe does about them.
KEY_NOT_PROPAGATED = frozenset({"InvalidAccessKeyId"})
#: A bare 403 is what botocore reports when S3 answers Forbidden without an error body
#: (a HEAD request, some proxies and endpoints): a denial all the same.
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403", "Forbidden"})
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
#: How S3 passes on KMS's answers for a key it cannot use yet: NotFoundException for a key
#: that KMS does not know (a new key, eventually consistent, or a wrong one), and
#: KMSInvalidStateException for one in no usable state (pending import, pending deletion,
#: unavailable). Retried like a new access key, until the key deadline (docs/facts.md).
KMS_NOT_READY = frozenset({"KMS.NotFoundException", "KMS.KMSInvalidStateException"})


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


class ProbeAborted(Exception):
    """Raised inside the probe when no check can be made at all (credentials, bucket,
    network); run_probe turns it into Diagnosis.abort. Carries what happened and the fix."""

    def __init__(self, what: str, fix: str, error_code: str | None = None):
        super().__init__(f"{what} {fix}")
        self.what = what
        self.fix = fix
        self.error_code = error_code
        #: Whether the probe object was written before the abort, and its version id.
        self.written = False
        self.version_id: str | None = None


#: A KMS action named in AWS's message ("... not authorized to perform: kms:Decrypt ...");
#: a bare "kms" could be part of a bucket, user or stack name.
_KMS_ACTION = re.compile(r"\bkms:[A-Za-z]+")
#: The key in AWS's message: its ARN ("Key 'arn:aws:kms:...:key/ID' does not exist"), or the
#: id or alias after "keyId" ("Invalid keyId aws/s3"), or a bare key id (a UUID or mrk-...).
_KMS_KEY = re.compile(r"arn:aws[\w-]*:kms:[\w-]*:\d*:(?:key|alias)/[\w/-]+"
                      r"|(?<=keyId )'?[\w/:-]+"
                      r"|\b(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")


def kms_key_in(message: str) -> str | None:
    """The KMS key AWS's error message names, or None."""
    found = _KMS_KEY.search(message)
    return found.group(0).strip("'") if found else None


def _kms_not_ready_hint(code: str, message: str, bucket: str) -> str:
    key = kms_key_in(message)
    named = f"KMS key {key}" if key else "a KMS key"
    look = (f"aws kms describe-key --key-id {key}" if key else
            f"aws s3api get-bucket-encryption --bucket {bucket} names it, aws kms describe-key --key-id KEY")
    if code == "KMS.NotFoundException":
        return (f"the bucket's default encryption uses {named}, which KMS does not find (it does not exist, "
                "or is in another region or account), still after waiting the key deadline for a new key: "
                f"check it ({look}); point the bucket's default encryption at a key that exists in the "
                f"bucket's region (aws s3api put-bucket-encryption --bucket {bucket} ...), or raise "
                "keyDeadlineSeconds (--key-deadline-seconds) if the key was created moments ago")
    return (f"the bucket's default encryption uses {named}, which is in no usable state (pending "
            "deletion, pending import or unavailable), still after waiting the key deadline: check its "
            f"KeyState ({look}); cancel a pending deletion (aws kms cancel-key-deletion, then aws kms "
            "enable-key), finish the key material import, or point the bucket's default encryption at "
            f"another key (aws s3api put-bucket-encryption --bucket {bucket} ...)")


def hint_for(action: str, code: str, message: str, bucket: str) -> str:
    """The fix for `action` failing with `code`; `message` is AWS's own error text."""
    text = message.lower()
    if code in WRONG_REGION:
        return (f"bucket {bucket} is in another region than the one used: "
                "use the bucket's own region (Logz.io asks for it on the archive page)")
    if action in (PUT_OBJECT, GET_OBJECT) and code in KMS_NOT_READY:
        return _kms_not_ready_hint(code, message, bucket)
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
