"""Detection lateness: how long after IAM starts accepting a call does the probe see it?

A key or a policy that becomes effective while the probe waits should be seen at most one
second later, at any point of the wait (issue 9, item 3). Lateness = the time the probe
receives its first successful answer minus the time T the call started to succeed.

Two measurements, both of the code as it is (logzio_s3_archive_runtime.probe):

* virtual sweep: logzio_s3_archive_runtime.probe.Retrier with a VirtualClock (its sleep advances
  time instead of waiting) calls a stub that answers AccessDenied (a policy propagating)
  or InvalidAccessKeyId (a key propagating) until T and succeeds from T on, for T spread
  densely across the whole wait (every --step seconds up to the deadline). Each call
  takes --call-seconds of virtual time and is decided at its midpoint (when it reaches
  S3). Instant, so every T is covered. The clock's jitter() is Clock's own (the `random`
  module), seeded per repeat: several seeds per T, the same ones in every run.
* real time, against the embedded emulator: the Retrier with the real clock runs the
  probe's first call (S3Access.put_new_object, a client configured as the probe's own) as a
  fresh IAM user; at T the emulator's admin client puts the user's policy (AccessDenied ->
  allowed), or the user's access key, hidden from moto's IAM model until then, is put back
  (InvalidAccessKeyId -> accepted). T is taken as the moment that flip returned; lateness
  runs to the return of the first PutObject that succeeded.

Target: worst lateness <= 1 s. No assertions on time.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from logzio_s3_archive_runtime.aws import S3Access
from logzio_s3_archive_runtime.probe import Clock, Patience, Retrier, new_probe_key

TARGET_SECONDS = 1.0
#: The Lambda's defaults (keyDeadlineSeconds, settleSeconds): the windows swept.
KEY_WINDOW = 90.0
POLICY_WINDOW = 30.0
#: Iterations of one retry loop before the sweep gives up on it (a loop that sleeps on
#: another clock than the one it was given would never end in virtual time).
MAX_CALLS = 100_000


class VirtualClock(Clock):
    """Monotonic time that moves only when the code sleeps (or a stubbed call takes time)."""

    def __init__(self, start: float = 1000.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class TooManyCalls(RuntimeError):
    pass


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} (benchmark stub)"},
                        "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject")


@dataclass
class Sample:
    code: str
    flip_at: float       # T, seconds after the retrier started
    seen_at: float | None  # when the first success came back; None: the retrier gave up first
    calls: int

    @property
    def lateness(self) -> float | None:
        return None if self.seen_at is None else self.seen_at - self.flip_at


def virtual_once(code: str, flip_at: float, patience: Patience, call_seconds: float, seed: int) -> Sample:
    """One retry loop in virtual time: `code` until flip_at, success from then on."""
    clock = VirtualClock()
    random.seed(seed)
    retrier = Retrier(patience, clock)
    start = clock.now()
    calls = 0

    def call() -> str:
        nonlocal calls
        calls += 1
        if calls > MAX_CALLS:
            raise TooManyCalls(f"more than {MAX_CALLS} calls: does the retrier sleep on its clock?")
        clock.sleep(call_seconds / 2)  # the request reaches S3
        succeeded = clock.now() - start >= flip_at
        clock.sleep(call_seconds / 2)  # the answer comes back
        if not succeeded:
            raise _error(code)
        return "ok"

    try:
        retrier.call("PutObject", call)
    except ClientError:
        return Sample(code, flip_at, None, calls)
    return Sample(code, flip_at, clock.now() - start, calls)


def sweep(code: str, window: float, step: float = 0.05, repeats: int = 3, call_seconds: float = 0.05,
          patience: Patience | None = None) -> dict:
    """Every T from `step` to the deadline (every `step` s), `repeats` seeds each."""
    if patience is None:
        patience = Patience(key_propagation=KEY_WINDOW, policy_settling=POLICY_WINDOW)
    samples = []
    count = int(round((window - step) / step))
    for i in range(1, count + 1):
        flip_at = round(i * step, 6)
        for seed in range(repeats):
            samples.append(virtual_once(code, flip_at, patience, call_seconds, seed))
    return summarize(samples, extra={"kind": "virtual", "code": code, "window_s": window, "step_s": step,
                                     "flip_times": count, "repeats": repeats, "call_seconds": call_seconds})


def summarize(samples: list[Sample], extra: dict | None = None) -> dict:
    seen = [s for s in samples if s.lateness is not None]
    missed = [s for s in samples if s.lateness is None]
    late = [s.lateness for s in seen]
    worst = max(seen, key=lambda s: s.lateness) if seen else None
    result = {
        **(extra or {}),
        "samples": len(samples), "missed": len(missed),
        "worst_s": round(worst.lateness, 3) if worst else None,
        "worst_at_s": worst.flip_at if worst else None,
        "mean_s": round(statistics.fmean(late), 3) if late else None,
        "p95_s": round(sorted(late)[int(0.95 * (len(late) - 1))], 3) if late else None,
        "missed_at_s": [s.flip_at for s in missed][:20],
        # a missed flip is worse than a late one: the probe gave up on a call that works now
        "ok": bool(seen) and not missed and worst.lateness <= TARGET_SECONDS,
    }
    if len(samples) <= 20:
        result["samples_s"] = [{"flip_at": s.flip_at, "lateness": None if s.lateness is None
                                else round(s.lateness, 3), "calls": s.calls} for s in samples]
    return result


# ------------------------------------------------------------------ real time, emulator

POLICY_FLIPS = (0.4, 1.3, 2.9, 5.2, 8.6)
KEY_FLIPS = (0.7, 3.4, 7.9)


def realtime(emu, bucket: str, policy_flips=POLICY_FLIPS, key_flips=KEY_FLIPS) -> dict:
    """Flip a real user's access at each T while the Retrier waits on it; one user per sample."""
    import boto3
    from moto.iam.models import iam_backends

    from logzio_s3_archive_runtime.aws import CLIENT_CONFIG

    iam, s3 = emu.client("iam"), emu.client("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    model = iam_backends[emu.account]["aws"]
    samples: list[Sample] = []
    admin_s3 = emu.client("s3")
    jobs = [("AccessDenied", t) for t in policy_flips] + [("InvalidAccessKeyId", t) for t in key_flips]
    for n, (code, flip_at) in enumerate(jobs):
        user = f"bench-lateness-{n}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        hidden = []
        if code == "AccessDenied":
            def flip(user=user):
                iam.put_user_policy(UserName=user, PolicyName="logzio-archive", PolicyDocument=policy)
        else:
            iam.put_user_policy(UserName=user, PolicyName="logzio-archive", PolicyDocument=policy)
            access_keys = model.users[user].access_keys
            hidden = list(access_keys)
            access_keys.clear()  # the key exists, but IAM (moto) does not know it yet

            def flip(access_keys=access_keys, hidden=hidden):
                access_keys.extend(hidden)
        # a client like the probe's own: one try per call, short timeouts
        client = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                               region_name=emu.region).client("s3", endpoint_url=emu.endpoint_url,
                                                               config=CLIENT_CONFIG)
        access = S3Access(client, bucket)
        key_name = new_probe_key()
        flipped: list[float] = []

        def at_t(flip=flip):
            flip()
            flipped.append(time.perf_counter())

        retrier = Retrier(Patience(key_propagation=flip_at + 30, policy_settling=flip_at + 30), Clock())
        started = time.perf_counter()
        timer = threading.Timer(flip_at, at_t)
        timer.start()
        seen = None
        try:
            version = retrier.call("PutObject", lambda: access.put_new_object(key_name, b"lateness probe\n"))
            seen = time.perf_counter() - started
            admin_s3.delete_object(Bucket=bucket, Key=key_name, **({"VersionId": version} if version else {}))
        except ClientError:
            pass  # never seen: a miss
        finally:
            timer.join()
        samples.append(Sample(code, round(flipped[0] - started, 3), seen, 0))
    return {
        "policy": summarize([s for s in samples if s.code == "AccessDenied"],
                            {"kind": "realtime", "code": "AccessDenied"}),
        "key": summarize([s for s in samples if s.code == "InvalidAccessKeyId"],
                         {"kind": "realtime", "code": "InvalidAccessKeyId"}),
        "all": summarize(samples, {"kind": "realtime", "code": "both"}),
    }


def measure(emu=None, bucket: str = "logzio-archive-lateness", step: float = 0.05, repeats: int = 3,
            call_seconds: float = 0.05) -> dict:
    result = {
        "virtual_policy": sweep("AccessDenied", POLICY_WINDOW, step, repeats, call_seconds),
        "virtual_key": sweep("InvalidAccessKeyId", KEY_WINDOW, step, repeats, call_seconds),
    }
    if emu is not None:
        result["realtime"] = realtime(emu, bucket)
    return result
