"""The permission probe: act as the principal Logz.io will use and record what S3 allows.

Order of the checks follows what Logz.io does: archive (PutObject), then restore
(ListBucket to find objects, GetObject to read them), plus GetBucketLocation from its
sample policy. The probe writes one new object with a unique key under PROBE_PREFIX,
conditionally (If-None-Match: *), so it can never overwrite anything, and removes that
object and only that object afterwards, with separate credentials that may delete.

IAM is eventually consistent (docs/facts.md): a new access key answers
InvalidAccessKeyId for a while and a new policy may answer AccessDenied for a few
seconds. Both are retried, each until its own deadline measured from the probe's start;
throttling is retried until the hard deadline that the caller owns.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Callable, TypeVar

from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                 EndpointConnectionError, NoCredentialsError, PartialCredentialsError,
                                 ReadTimeoutError)

from . import checks
from .aws import S3Access
from .checks import CheckResult, ProbeAborted, ProbeReport, Status

log = logging.getLogger(__name__)
T = TypeVar("T")

#: While IAM propagates, poll at most this often: a grant that takes effect is seen within
#: one wait plus one call, so within a second. Each wait is jittered down to half of it
#: (probes started together do not poll in step).
PROPAGATION_POLL_SECONDS = 0.8
#: Throttling, 5xx and dropped connections back off exponentially (full jitter) up to this.
BACKOFF_CAP_SECONDS = 5.0
#: Network failures that say nothing about permissions: retried like throttling.
TRANSIENT_NETWORK = (ConnectionClosedError, EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)


@dataclass(frozen=True)
class Patience:
    """How long to wait for IAM to settle, in seconds from the probe's start."""

    #: Until then InvalidAccessKeyId means "not propagated yet"; after it, the key is bad.
    key_propagation: float = 90.0
    #: Until then AccessDenied may be a policy still propagating; after it, it is final.
    policy_settling: float = 30.0
    #: Absolute time.monotonic() value by which the probe must have finished, whatever else.
    hard_deadline: float | None = None


class Clock:
    """time.monotonic, time.sleep and the jitter of waits, replaceable in tests."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def jitter(self) -> float:
        """The share of a nominal wait to wait this time: between a half and all of it."""
        return random.uniform(0.5, 1.0)


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or
                   error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "Unknown"))
    return type(error).__name__


def error_message(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", ""))
    return str(error)


class Retrier:
    """Runs AWS calls, retrying what IAM propagation, throttling and the network explain.

    InvalidAccessKeyId is retried until the key deadline (from the first call): a new key
    propagates endpoint by endpoint, so one success proves nothing about the next call.
    AccessDenied is retried until the settling window, which opens at the first answer
    that is not InvalidAccessKeyId: a slow key must not use up the policy's time. Both are
    polled at most every PROPAGATION_POLL_SECONDS. Throttling, 5xx and dropped connections
    back off up to BACKOFF_CAP_SECONDS, until the hard deadline."""

    def __init__(self, patience: Patience, clock: Clock):
        self.clock = clock
        self.patience = patience
        self.started = clock.now()
        hard = patience.hard_deadline if patience.hard_deadline is not None else float("inf")
        self.hard_deadline = hard
        self.key_deadline = min(self.started + patience.key_propagation, hard)
        self.settle_deadline: float | None = None  # set at the first answer the key got through

    def call(self, what: str, fn: Callable[[], T]) -> T:
        backoff = 0.5
        while True:
            try:
                result = fn()
                self._key_accepted()
                return result
            except ClientError as error:
                code = error_code(error)
                if code not in checks.KEY_NOT_PROPAGATED:
                    self._key_accepted()
                deadline = self._deadline_for(code, error)
                failure: Exception = error
            except TRANSIENT_NETWORK as error:
                code = type(error).__name__
                deadline = self._transient_deadline()
                failure = error
            now = self.clock.now()
            if now >= deadline:
                raise failure
            if code in checks.KEY_NOT_PROPAGATED or code in checks.DENIED:
                step = PROPAGATION_POLL_SECONDS
                reason = "IAM may still be propagating"
            else:
                step, backoff = backoff, min(backoff * 2, BACKOFF_CAP_SECONDS)
                reason = "throttled or unavailable"
            wait = min(step * self.clock.jitter(), deadline - now)
            log.info("%s answered %s; retrying in %.1fs (%s)", what, code, wait, reason)
            self.clock.sleep(wait)

    def waited(self) -> float:
        return self.clock.now() - self.started

    def _key_accepted(self) -> None:
        if self.settle_deadline is None:
            self.settle_deadline = min(self.clock.now() + self.patience.policy_settling, self.hard_deadline)

    def _transient_deadline(self) -> float:
        return self.hard_deadline if self.hard_deadline != float("inf") else self.key_deadline

    def _deadline_for(self, code: str, error: ClientError) -> float:
        if code in checks.KEY_NOT_PROPAGATED:
            return self.key_deadline
        if code in checks.DENIED:
            return self.settle_deadline
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in checks.THROTTLED or status >= 500:
            return self._transient_deadline()
        return float("-inf")  # anything else is final at once


def new_probe_key() -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"{checks.PROBE_PREFIX}{stamp}-{uuid.uuid4().hex}.txt"


def run_probe(user: S3Access, cleanup: S3Access | None, expected_region: str | None,
              patience: Patience = Patience(), clock: Clock | None = None,
              probe_key: str | None = None) -> ProbeReport:
    """Check the four permissions as `user`; remove the probe object as `cleanup`.

    Raises ProbeAborted when the check cannot be made at all (bucket missing, key
    rejected, wrong secret, network); then no permission verdict is possible."""
    clock = clock or Clock()
    retrier = Retrier(patience, clock)
    bucket = user.bucket
    key = probe_key or new_probe_key()
    body = f"Logz.io archive permission probe for s3://{bucket}/{key}\n".encode()
    results: dict[str, CheckResult] = {}
    notes: list[str] = []
    found_region: list[str] = []
    written: list[str | None] = []  # the version id, once the object exists

    def failure(action: str, error: Exception) -> CheckResult:
        code = error_code(error)
        _abort_if_fatal(code, error, bucket, retrier)
        return CheckResult(action, Status.MISSING, code,
                           checks.hint_for(action, code, error_message(error), bucket),
                           error_message(error))

    try:
        # 1. Archive: write a brand-new object; never overwrite anything.
        try:
            written.append(retrier.call("PutObject", lambda: user.put_new_object(key, body)))
            results[checks.PUT_OBJECT] = CheckResult(checks.PUT_OBJECT, Status.GRANTED,
                                                     detail=f"wrote {key}")
        except (ClientError, BotoCoreError) as error:
            results[checks.PUT_OBJECT] = failure(checks.PUT_OBJECT, error)

        # 2. Restore, step one: list, and see the object just written.
        try:
            keys = retrier.call("ListObjectsV2", lambda: user.list_keys(key))
            if written and key not in keys:
                results[checks.LIST_BUCKET] = CheckResult(
                    checks.LIST_BUCKET, Status.MISSING, "ProbeObjectNotListed",
                    f"listing works but did not show {key}: check s3:prefix conditions on "
                    f"s3:ListBucket for arn:aws:s3:::{bucket}", "object written but not listed")
            else:
                results[checks.LIST_BUCKET] = CheckResult(checks.LIST_BUCKET, Status.GRANTED,
                                                          detail="listed the probe prefix")
        except (ClientError, BotoCoreError) as error:
            results[checks.LIST_BUCKET] = failure(checks.LIST_BUCKET, error)

        # 3. Restore, step two: read the object back and compare.
        results[checks.GET_OBJECT] = _check_read(user, key, body, bool(written), results, retrier, failure)

        # 4. Locate: Logz.io's sample policy grants it; the region must match.
        try:
            region = retrier.call("GetBucketLocation", user.bucket_region)
            found_region.append(region)
            results[checks.GET_BUCKET_LOCATION] = CheckResult(
                checks.GET_BUCKET_LOCATION, Status.GRANTED, detail=f"bucket is in {region}")
            if expected_region and region != expected_region:
                notes.append(f"bucket {bucket} is in {region}, not {expected_region}: "
                             f"give Logz.io the region {region}")
        except (ClientError, BotoCoreError) as error:
            results[checks.GET_BUCKET_LOCATION] = failure(checks.GET_BUCKET_LOCATION, error)
    except BaseException as error:
        # Whatever went wrong, the probe object does not stay behind if it can be helped.
        if written:
            left_behind, _ = _remove_probe(cleanup, key, written[0])
            if isinstance(error, ProbeAborted) and left_behind:
                error.left_behind, error.left_behind_version_id = left_behind, written[0]
        raise

    version_id = written[0] if written else None
    left_behind, cleanup_error = _remove_probe(cleanup, key, version_id) if written else (None, None)
    return ProbeReport(bucket=bucket, region=expected_region or "", probe_key=key,
                       checks=tuple(results[action] for action in checks.ACTIONS),
                       bucket_region=found_region[0] if found_region else None,
                       probe_version_id=version_id, left_behind=left_behind,
                       cleanup_error=cleanup_error, notes=tuple(notes))


def _check_read(user, key, body, written, results, retrier, failure) -> CheckResult:
    if written:
        try:
            content = retrier.call("GetObject", lambda: user.read_object(key))
        except (ClientError, BotoCoreError) as error:
            return failure(checks.GET_OBJECT, error)
        if content != body:
            return CheckResult(checks.GET_OBJECT, Status.MISSING, "ContentMismatch",
                               "the object read back differs from what was written: check for "
                               "a Lambda/Object Lambda access point or replication rewriting objects",
                               f"read {len(content)} bytes, wrote {len(body)}")
        return CheckResult(checks.GET_OBJECT, Status.GRANTED, detail="read the probe object back")
    # Nothing was written, so read the (unique, absent) probe key instead: S3 answers
    # NoSuchKey only to a principal that holds s3:GetObject (and s3:ListBucket).
    try:
        retrier.call("GetObject", lambda: user.read_object(key))
        return CheckResult(checks.GET_OBJECT, Status.GRANTED, detail="read succeeded")
    except BotoCoreError as error:
        return failure(checks.GET_OBJECT, error)
    except ClientError as error:
        code = error_code(error)
        if code in ("NoSuchKey", "404"):
            return CheckResult(checks.GET_OBJECT, Status.GRANTED,
                               detail="granted (seen as NoSuchKey on an absent key; the write failed)")
        if code in checks.DENIED and not results[checks.LIST_BUCKET].ok:
            # Without ListBucket, S3 hides NoSuchKey behind AccessDenied: cannot tell.
            return CheckResult(checks.GET_OBJECT, Status.UNVERIFIED, code,
                               "fix s3:PutObject and s3:ListBucket first; s3:GetObject cannot "
                               "be tested without an object to read", error_message(error))
        return failure(checks.GET_OBJECT, error)


def _abort_if_fatal(code: str, error: Exception, bucket: str, retrier: Retrier) -> None:
    """Raise ProbeAborted for the errors after which no permission verdict is possible."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        raise ProbeAborted("No AWS credentials found.",
                           "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a profile.",
                           code) from error
    if code in checks.BUCKET_MISSING:
        raise ProbeAborted(f"Bucket {bucket} does not exist (NoSuchBucket).",
                           "Check the bucket name, or create the bucket first.", code) from error
    if code in checks.KEY_NOT_PROPAGATED:
        raise ProbeAborted("AWS rejects the credentials: the access key is unknown "
                           f"(InvalidAccessKeyId), still after {retrier.waited():.0f} s of "
                           "waiting for IAM to propagate it.",
                           "Check that the key exists and is active (aws iam list-access-keys); a "
                           "key created moments ago may need a longer key deadline "
                           "(keyDeadlineSeconds, --key-deadline-seconds).", code) from error
    if code in checks.BAD_SECRET:
        raise ProbeAborted("AWS rejects the credentials: the secret access key does not match "
                           "the access key id (SignatureDoesNotMatch).",
                           "Store the matching secret access key, or create a new key.", code) from error
    if code in checks.SESSION_REJECTED:
        raise ProbeAborted(f"AWS rejects the credentials ({code}): the session credentials are "
                           "expired or invalid.",
                           "Refresh them (aws sso login, a new session token), then retry.",
                           code) from error
    if isinstance(error, BotoCoreError):
        raise ProbeAborted(f"Could not reach S3: {error}.",
                           "Check the network path and the endpoint/region settings.", code) from error


def _remove_probe(cleanup: S3Access | None, key: str, version_id: str | None) -> tuple[str | None, str | None]:
    """Delete exactly the probe object's version; report the key if that is not possible."""
    if cleanup is None:
        return key, "no credentials that may delete were given"
    try:
        cleanup.delete_object(key, version_id)
        return None, None
    except (ClientError, BotoCoreError) as error:
        log.warning("could not remove probe object %s: %s", key, error)
        return key, f"{error_code(error)}: {error_message(error)}"


def ownership_problem(bucket_reader: S3Access) -> str | None:
    """Why the bucket's object ownership keeps Logz.io out, if it does.

    Logz.io's archive requires ACLs enabled on the bucket; BucketOwnerEnforced disables
    them. Not one of the principal's four permissions: it is read with other credentials
    (the Lambda's role), and a bucket whose setting cannot be read is given the benefit of
    the doubt, with a log line."""
    try:
        ownership = bucket_reader.object_ownership()
    except (ClientError, BotoCoreError) as error:
        log.warning("could not read the object ownership of %s: %s", bucket_reader.bucket, error_code(error))
        return None
    if ownership != "BucketOwnerEnforced":
        return None
    return (f"bucket {bucket_reader.bucket} has object ownership BucketOwnerEnforced (ACLs disabled), "
            "but Logz.io's archive requires ACLs enabled: set it to BucketOwnerPreferred (aws s3api "
            f"put-bucket-ownership-controls --bucket {bucket_reader.bucket} --ownership-controls "
            "'Rules=[{ObjectOwnership=BucketOwnerPreferred}]')")


def remove_leftovers(cleanup: S3Access, deadline: float = float("inf"), clock: Clock | None = None) -> list[str]:
    """Delete every version of every probe object under PROBE_PREFIX; return what was removed.

    Only keys that have the probe's own shape are touched; what is left at `deadline` stays."""
    clock = clock or Clock()
    removed = []
    for key, version_id in cleanup.list_versions(checks.PROBE_PREFIX):
        if clock.now() >= deadline:
            log.warning("out of time: further leftover probe objects stay")
            break
        if _is_probe_key(key):
            cleanup.delete_object(key, version_id)
            removed.append(key)
    return removed


PROBE_KEY = re.compile(re.escape(checks.PROBE_PREFIX) + r"\d{8}T\d{6}Z-[0-9a-f]{32}\.txt")


def _is_probe_key(key: str) -> bool:
    """Exactly the shape new_probe_key() makes: nobody else's object matches by accident."""
    return PROBE_KEY.fullmatch(key) is not None
