"""The permission probe: act as the principal Logz.io will use and record what S3 allows.

Order of the checks follows what Logz.io does: archive (PutObject), then restore
(ListBucket to find objects, GetObject to read them), plus GetBucketLocation from its
sample policy. The probe writes one new object with a unique key under PROBE_PREFIX,
conditionally (If-None-Match: *), so it can never overwrite anything, and removes that
object and only that object afterwards, with separate credentials that may delete.

IAM is eventually consistent (docs/facts.md): a new access key answers
InvalidAccessKeyId for a while and a new policy may answer AccessDenied for a few
seconds; so is KMS: a bucket's new KMS key may answer KMS.NotFoundException or
KMS.KMSInvalidStateException through S3 at first, retried like a new access key. Each is
retried until its own deadline measured from the probe's start;
throttling is retried until the hard deadline that the caller owns.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
import uuid
from dataclasses import dataclass
from dataclasses import replace
from typing import Any, Callable, Sequence, TypeVar

from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                 EndpointConnectionError, NoCredentialsError, PartialCredentialsError,
                                 ReadTimeoutError)

from . import checks
from .aws import S3Access
from .checks import CheckResult, ProbeAborted, Status
from .diagnosis import Abort, Diagnosis, Finding, LeftBehind, NotChecked
from .findings import (NO_PROBE_OBJECT, AccountLookup, ExtraGrants, SettingsReader, bucket_findings,
                       over_privileged, region_mismatch)

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
    #: True once nobody waits for the answer any more (the Lambda's watchdog answered):
    #: no further try is started.
    cancelled: Callable[[], bool] | None = None


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
    propagates endpoint by endpoint, so one success proves nothing about the next call. A
    KMS key S3 cannot use yet (checks.KMS_NOT_READY) is waited for until the same deadline.
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
        self._lock = threading.Lock()

    def call(self, what: str, fn: Callable[[], T]) -> T:
        backoff = 0.5
        while True:
            if self.patience.cancelled is not None and self.patience.cancelled():
                raise ProbeAborted(f"The probe ran out of time before {what}.",
                                   "Deploy again; if it repeats, raise keyDeadlineSeconds or check "
                                   "that S3 answers from the function's network.", "OutOfTime")
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
            elif code in checks.KMS_NOT_READY:
                step = PROPAGATION_POLL_SECONDS
                reason = "a new KMS key may still be propagating"
            else:
                step, backoff = backoff, min(backoff * 2, BACKOFF_CAP_SECONDS)
                reason = "throttled or unavailable"
            wait = min(step * self.clock.jitter(), deadline - now)
            log.info("%s answered %s; retrying in %.1fs (%s)", what, code, wait, reason)
            self.clock.sleep(wait)

    def waited(self) -> float:
        return self.clock.now() - self.started

    def _key_accepted(self) -> None:
        with self._lock:  # calls run on several threads; the window opens once
            if self.settle_deadline is None:
                self.settle_deadline = min(self.clock.now() + self.patience.policy_settling, self.hard_deadline)

    def _transient_deadline(self) -> float:
        return self.hard_deadline if self.hard_deadline != float("inf") else self.key_deadline

    def _deadline_for(self, code: str, error: ClientError) -> float:
        if code in checks.KEY_NOT_PROPAGATED or code in checks.KMS_NOT_READY:
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


#: Who removes the probe object: (label, S3 access) pairs, tried in order.
Cleaners = Sequence[tuple[str, S3Access]]
#: The principal, when it could delete its own object (it should not need to).
BY_PRINCIPAL = "the checked principal"


#: Calls that do not depend on each other run at the same time, each on a thread of its
#: own (boto3 clients are thread-safe): the probe costs its longest chain of calls (write,
#: list, read, then the deletes), not the sum of its twelve. Tests that script one stubbed
#: client's calls in order set it to False; the order is then the order written below.
CONCURRENT = True


def together(*tasks: Callable[[], Any]) -> list[Any]:
    """Run `tasks` at once and return their results in order. When some raise, all are
    still waited for, then the first one's exception (in task order) is raised."""
    if not CONCURRENT or len(tasks) < 2:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="probe") as pool:
        futures = [pool.submit(task) for task in tasks]
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return [future.result() for future in futures]


def run_probe(user: S3Access, cleaners: Cleaners, expected_region: str | None,
              patience: Patience = Patience(), clock: Clock | None = None,
              probe_key: str | None = None, settings: SettingsReader | None = None,
              notes: Sequence[str] = (), principal_account: AccountLookup | None = None) -> Diagnosis:
    """Check the four permissions as `user`, look for extra grants with safe calls, read the
    bucket's settings with `settings`, then remove the probe object (as `user` first: that is
    one of the safe calls, then as `cleaners`). `principal_account` gives `user`'s AWS account
    (asked only for a Requester Pays bucket).

    Never raises for what AWS answers: a probe that cannot be made at all (bucket missing,
    key rejected, network) is a Diagnosis with `abort` set."""
    clock = clock or Clock()
    retrier = Retrier(patience, clock)
    bucket = user.bucket
    key = probe_key or new_probe_key()
    base = Diagnosis(bucket=bucket, region=expected_region, probe_key=key, notes=tuple(notes))
    written: list[str | None] = []  # the version id, once the object exists
    failure = _failure(bucket, retrier)
    unknown: list[tuple[str, str]] = []
    try:
        # Archive then restore is a chain (the read needs the write); the rest stands alone.
        results, (locate, region), policy, buckets, (findings, not_checked, found_notes) = together(
            lambda: _archive_and_restore(user, key, retrier, failure, written),
            lambda: _locate(user, retrier, failure),
            lambda: _extra_grant(user.read_bucket_policy, "s3:GetBucketPolicy", unknown),
            lambda: _extra_grant(user.list_all_buckets, "s3:ListAllMyBuckets", unknown),
            lambda: bucket_findings(settings or SettingsReader(()), bucket, run=together,
                                    principal_account=principal_account))
    except ProbeAborted as aborted:
        version_id = written[0] if written else None
        left = _remove_probe(user, cleaners, key, version_id, unknown=[])[0] if written else None
        return replace(base, abort=Abort(aborted.what, aborted.fix, aborted.error_code), left_behind=left,
                       probe_version_id=version_id)
    results[checks.GET_BUCKET_LOCATION] = locate
    held = [permission for permission in (policy, buckets) if permission]
    version_id = written[0] if written else None
    left, removed_by = None, None
    if written:
        left, removed_by, may_delete = _remove_probe(user, cleaners, key, version_id, unknown)
        if may_delete:
            held.insert(0, "s3:DeleteObject")
    else:
        unknown.append(("s3:DeleteObject", NO_PROBE_OBJECT))
    findings, not_checked = list(findings), list(not_checked)
    for result in [region_mismatch(bucket, region, expected_region),
                   *over_privileged(ExtraGrants(tuple(held), tuple(unknown)), bucket)]:
        if isinstance(result, Finding):
            findings.append(result)
        elif result is not None:
            not_checked.append(result)
    return replace(base, checks=tuple(results[action] for action in checks.ACTIONS),
                   findings=tuple(findings), not_checked=tuple(not_checked), bucket_region=region,
                   notes=base.notes + tuple(str(note) for note in found_notes),
                   probe_version_id=version_id, left_behind=left, removed_by=removed_by)


def _failure(bucket: str, retrier: Retrier) -> Callable[[str, Exception], CheckResult]:
    """The MISSING result of `action` failing with `error`; raises ProbeAborted instead when
    the error leaves no verdict possible."""
    def failure(action: str, error: Exception) -> CheckResult:
        code = error_code(error)
        _abort_if_fatal(code, error, bucket, retrier)
        detail = error_message(error)
        if code in checks.KMS_NOT_READY:
            detail += f" (still after {retrier.waited():.0f} s of waiting for the key)"
        return CheckResult(action, Status.MISSING, code,
                           checks.hint_for(action, code, error_message(error), bucket), detail)
    return failure


def _archive_and_restore(user: S3Access, key: str, retrier: Retrier, failure: Callable,
                         written: list[str | None]) -> dict[str, CheckResult]:
    """PutObject, then ListBucket and GetObject on what was written, as Logz.io archives and
    restores. `written` gets the object's version id once it exists."""
    bucket = user.bucket
    body = f"Logz.io archive permission probe for s3://{bucket}/{key}\n".encode()
    results: dict[str, CheckResult] = {}
    # 1. Archive: write a brand-new object; never overwrite anything.
    try:
        written.append(retrier.call("PutObject", lambda: user.put_new_object(key, body)))
        results[checks.PUT_OBJECT] = CheckResult(checks.PUT_OBJECT, Status.GRANTED, detail=f"wrote {key}")
    except ClientError as error:
        if error_code(error) not in ("PreconditionFailed", "412"):
            results[checks.PUT_OBJECT] = failure(checks.PUT_OBJECT, error)
        else:
            # The key is new and ours alone: it exists because an earlier try of ours was
            # written and its answer lost (a timeout, a dropped connection). The write works.
            written.append(_version_of(user, key))
            results[checks.PUT_OBJECT] = CheckResult(
                checks.PUT_OBJECT, Status.GRANTED, detail=f"wrote {key} (an earlier try's answer was lost)")
    except BotoCoreError as error:
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
    return results


def _version_of(user: S3Access, key: str) -> str | None:
    """The probe object's version id, to remove exactly it; None when it cannot be read
    (an unversioned bucket, or no s3:GetObject): the object is then removed by key."""
    try:
        return user.head_version(key)
    except (ClientError, BotoCoreError) as error:
        log.info("could not read the version of %s: %s", key, error_code(error))
        return None


def _locate(user: S3Access, retrier: Retrier, failure: Callable) -> tuple[CheckResult, str | None]:
    """GetBucketLocation: Logz.io's sample policy grants it; the region is judged with the findings."""
    try:
        region = retrier.call("GetBucketLocation", user.bucket_region)
    except (ClientError, BotoCoreError) as error:
        return failure(checks.GET_BUCKET_LOCATION, error), None
    return CheckResult(checks.GET_BUCKET_LOCATION, Status.GRANTED, detail=f"bucket is in {region}"), region


def _extra_grant(call: Callable[[], None], permission: str, unknown: list[tuple[str, str]]) -> str | None:
    """`permission` when the principal holds it, which Logz.io never needs: tried with a call
    that changes nothing. One try: a denial is the expected answer, not one to wait out."""
    try:
        call()
        return permission
    except ClientError as error:
        if error_code(error) not in checks.DENIED:
            unknown.append((permission, error_code(error)))
    except BotoCoreError as error:
        unknown.append((permission, type(error).__name__))
    return None


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
                           "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile PROFILE "
                           "(aws configure --profile PROFILE), or use --stack STACK_NAME.",
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
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) \
        if isinstance(error, ClientError) else 0
    if code in checks.THROTTLED or (status or 0) >= 500:
        # Retried until the deadline: a storm says nothing about permissions.
        raise ProbeAborted(f"S3 kept answering {code} (throttled or unavailable) for "
                           f"{retrier.waited():.0f} s, until the probe's deadline.",
                           "Retry later; if it persists, look for S3 request-rate limits on this "
                           "bucket (AWS Health, CloudTrail) and for other traffic on it.", code) from error
    if isinstance(error, BotoCoreError):
        raise ProbeAborted(f"Could not reach S3: {error}.",
                           "Check the network path and the endpoint/region settings.", code) from error


def _remove_probe(user: S3Access, cleaners: Cleaners, key: str, version_id: str | None,
                  unknown: list[tuple[str, str]]) -> tuple[LeftBehind | None, str | None, bool]:
    """Remove the probe object, and only it. First as the principal, without a version id:
    if that works the principal holds s3:DeleteObject (a finding); on a versioned bucket it
    leaves a delete marker. What remains (the probe's version, that marker) is deleted by
    exact version with the first cleaner that may. Returns what is left behind, who removed
    the object, and whether the principal could delete."""
    marker: str | None = None
    by_principal = False
    try:
        marker = user.delete_object(key, None)
        by_principal = True
    except ClientError as error:
        if error_code(error) not in checks.DENIED:
            unknown.append(("s3:DeleteObject", error_code(error)))
    except BotoCoreError as error:
        unknown.append(("s3:DeleteObject", type(error).__name__))
    if by_principal and version_id is None:
        return None, BY_PRINCIPAL, True  # unversioned: the object is gone
    remaining: list[str | None] = [version_id] + ([marker] if marker else [])
    tried = [f"{BY_PRINCIPAL}: deleted, delete marker {marker} left"] if marker else []
    for label, access in cleaners:
        try:
            while remaining:
                access.delete_object(key, remaining[0])
                remaining.pop(0)
            return None, label, by_principal
        except (ClientError, BotoCoreError) as error:
            log.warning("could not remove probe object %s as %s: %s", key, label, error_code(error))
            tried.append(f"{label}: {error_code(error)}")
    if not cleaners:
        tried.append("no credentials that may delete were given")
    return LeftBehind(key, version_id, "; ".join(tried), marker), None, by_principal


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
