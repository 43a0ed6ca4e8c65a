"""Typed CloudFormation custom-resource requests and the one response each must get.

A stack waits up to an hour for a custom resource that never answers, so the Responder
makes answering hard to get wrong: it sends exactly once (the first answer wins, a
later one is ignored), keeps the body within CloudFormation's 4 KiB, retries the PUT a
few times with a network timeout, and never raises.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .names import Property

log = logging.getLogger(__name__)

#: CloudFormation rejects response bodies over 4096 bytes (as sent: UTF-8, JSON-escaped).
MAX_BODY_BYTES = 4096
#: A first cut of the reason, in characters; the body is then cut to MAX_BODY_BYTES.
MAX_REASON = 3000
_CUT = " ... (see the log)"
#: Every request type CloudFormation sends; anything else is answered FAILED.
REQUEST_TYPES = ("Create", "Update", "Delete")
_REQUIRED = ("RequestType", "StackId", "RequestId", "LogicalResourceId")
#: Every name S3 accepts, legacy us-east-1 names included (botocore's own check).
_BUCKET_NAME = re.compile(r"[a-zA-Z0-9.\-_]{1,255}")
#: One answer's PUT: three tries of this many seconds each (the watchdog budgets for all).
PUT_TIMEOUT = 3.0
PUT_TRIES = 3


class BadRequest(ValueError):
    """A resource property is missing or malformed: a template problem, not a permission one."""


def required_property(props: Mapping[str, Any], name: str) -> str:
    """A resource property that must be a non-empty string (CloudFormation hands them so)."""
    value = props.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"resource property {name} is missing: redeploy the stack as synthesized")
    return value


@dataclass(frozen=True)
class ProbeProperties:
    bucket_name: str
    region: str
    key_deadline_seconds: float
    settle_seconds: float
    #: Secrets Manager secret that holds the key as JSON; the secret itself is never a property.
    secret_arn: str | None = None
    #: Or the role to assume, with the external id Logz.io uses.
    role_arn: str | None = None
    external_id: str | None = None
    #: Warnings fail the deploy too.
    strict: bool = False

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> "ProbeProperties":
        def required(name: str) -> str:
            return required_property(props, name)

        def seconds(name: str, default: float) -> float:
            # CloudFormation hands every scalar property to the handler as a string.
            try:
                value = float(props.get(name, default))
            except (TypeError, ValueError):
                raise BadRequest(f"resource property {name}={props.get(name)!r} is not a number of seconds") from None
            if not 0 <= value < float("inf"):  # NaN fails this too
                raise BadRequest(f"resource property {name} must be a finite number of seconds >= 0")
            return value

        bucket = required(Property.BUCKET_NAME)
        if not _BUCKET_NAME.fullmatch(bucket):
            # What S3 itself accepts (legacy us-east-1 names included); anything else would
            # only fail each call on the client side.
            raise BadRequest(f"resource property {Property.BUCKET_NAME}={bucket[:80]!r}"
                             f"{'...' if len(bucket) > 80 else ''} is not an S3 bucket name: redeploy "
                             "the stack as synthesized")
        strict = str(props.get(Property.STRICT, "false")).strip().lower()
        if strict not in ("true", "false"):
            raise BadRequest(f"resource property {Property.STRICT}={props.get(Property.STRICT)!r} "
                             "is not true or false: redeploy the stack as synthesized")
        common = dict(bucket_name=bucket, region=required(Property.REGION),
                      key_deadline_seconds=seconds(Property.KEY_DEADLINE_SECONDS, 90),
                      settle_seconds=seconds(Property.SETTLE_SECONDS, 30), strict=strict == "true")
        if props.get(Property.ROLE_ARN):
            return cls(**common, role_arn=required(Property.ROLE_ARN),
                       external_id=required(Property.EXTERNAL_ID))
        return cls(**common, secret_arn=required(Property.SECRET_ARN))


@dataclass(frozen=True)
class CustomResourceRequest:
    request_type: str  # Create | Update | Delete
    response_url: str
    stack_id: str
    request_id: str
    logical_resource_id: str
    resource_type: str
    physical_resource_id: str | None
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any] | None
    #: Top-level fields the event lacks: the request can still be answered (FAILED).
    missing: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: Any) -> "CustomResourceRequest":
        """Any event with a ResponseURL becomes a request, so that it can be answered;
        without one there is nobody to answer and BadRequest is raised."""
        if not isinstance(event, Mapping) or not isinstance(event.get("ResponseURL"), str) \
                or not event.get("ResponseURL"):
            raise BadRequest("not a CloudFormation custom-resource event: ResponseURL is missing, "
                             "so no answer can be sent")

        def text(name: str) -> str:
            value = event.get(name)
            return value if isinstance(value, str) else ""

        properties = event.get("ResourceProperties")
        old = event.get("OldResourceProperties")
        missing = [name for name in _REQUIRED if not text(name)]
        if properties is not None and not isinstance(properties, Mapping):
            missing.append("ResourceProperties")
        return cls(request_type=text("RequestType"), response_url=event["ResponseURL"],
                   stack_id=text("StackId"), request_id=text("RequestId"),
                   logical_resource_id=text("LogicalResourceId"), resource_type=text("ResourceType"),
                   physical_resource_id=text("PhysicalResourceId") or None,
                   properties=properties if isinstance(properties, Mapping) else {},
                   old_properties=old if isinstance(old, Mapping) else None, missing=tuple(missing))

    def malformed(self) -> str | None:
        """Why this request cannot be served (it is still answered), or None."""
        if self.missing:
            return (f"Not a complete CloudFormation custom-resource event: {', '.join(self.missing)} "
                    "missing. Redeploy the stack as synthesized")
        if self.request_type not in REQUEST_TYPES:
            return (f"Unknown custom-resource RequestType {self.request_type[:40]!r}: only "
                    f"{', '.join(REQUEST_TYPES)} are served. Redeploy the stack as synthesized")
        return None

    def redacted(self) -> dict:
        """The request as it may be logged: the pre-signed response URL is a credential."""
        return {"RequestType": self.request_type, "StackId": self.stack_id,
                "RequestId": self.request_id, "LogicalResourceId": self.logical_resource_id,
                "PhysicalResourceId": self.physical_resource_id,
                "ResourceProperties": dict(self.properties),
                "OldResourceProperties": dict(self.old_properties or {})}


Sender = Callable[[str, bytes, float], int]


class Responder:
    """Sends the one response a request gets; thread-safe, so a watchdog can answer too."""

    def __init__(self, request: CustomResourceRequest, send: Sender, default_physical_id: str):
        self.request = request
        self._send = send
        self._physical_id = request.physical_resource_id or default_physical_id
        self._lock = threading.Lock()
        self._delivered = threading.Event()  # set once the one answer's PUT attempts are over
        self.sent: dict | None = None

    @property
    def answered(self) -> bool:
        return self.sent is not None

    def wait_delivered(self, timeout: float) -> bool:
        """Block until the answer (from whichever thread gave it) has been PUT or given up.

        Lambda freezes the process when the handler returns: an answer still in flight
        from the watchdog thread would never arrive."""
        return self._delivered.wait(timeout)

    def succeed(self, data: Mapping[str, str], physical_id: str | None = None, reason: str = "") -> bool:
        return self._answer("SUCCESS", reason or "OK", dict(data), physical_id)

    def fail(self, reason: str, physical_id: str | None = None) -> bool:
        return self._answer("FAILED", reason, {}, physical_id)

    def _answer(self, status: str, reason: str, data: dict, physical_id: str | None) -> bool:
        with self._lock:
            if self.sent is not None:
                return False
            if len(reason) > MAX_REASON:
                reason = reason[: MAX_REASON - len(_CUT)] + _CUT
            body = {"Status": status, "Reason": reason,
                    "PhysicalResourceId": physical_id or self._physical_id,
                    "StackId": self.request.stack_id, "RequestId": self.request.request_id,
                    "LogicalResourceId": self.request.logical_resource_id,
                    "NoEcho": False, "Data": data}
            payload = _within_limit(body)
            self.sent = body
        try:
            for attempt in range(1, PUT_TRIES + 1):
                try:
                    status_code = self._send(self.request.response_url, payload, PUT_TIMEOUT)
                    log.info("sent %s response (HTTP %s): %s", status, status_code, reason)
                    return True
                except Exception as error:  # noqa: BLE001 - any failure here must not escape
                    log.error("sending the %s response failed (attempt %d of %d): %s", status,
                              attempt, PUT_TRIES, error)
            return False
        finally:
            self._delivered.set()


def _within_limit(body: dict) -> bytes:
    """The body as sent, its reason cut until the whole is at most MAX_BODY_BYTES. An
    escaped character takes 1 to 12 bytes, so the cut is scaled by what the reason costs
    per character, then checked."""
    payload = json.dumps(body).encode()
    reason = body["Reason"]
    base = len(json.dumps({**body, "Reason": _CUT}).encode())
    while len(payload) > MAX_BODY_BYTES and reason:
        reason = reason.removesuffix(_CUT)
        per_char = (len(payload) - base + len(json.dumps(_CUT)) - 2) / max(len(reason), 1)
        keep = min(len(reason) - 1, int((MAX_BODY_BYTES - base) / max(per_char, 1.0)))
        reason = reason[:max(keep, 0)]
        body["Reason"] = reason + _CUT if reason else ""
        payload = json.dumps(body).encode()
    data = body.get("Data") or {}
    while len(payload) > MAX_BODY_BYTES and data:
        # Every attribute stays (the template reads them all: a missing one fails the stack);
        # the longest is cut in half, then the next, until the whole fits.
        name = max(data, key=lambda k: len(json.dumps(data[k])))
        text = str(data[name])
        if len(text) <= 64:
            break
        data[name] = text[:len(text) // 2] + _CUT
        payload = json.dumps(body).encode()
    if len(payload) > MAX_BODY_BYTES:
        # Only a hostile event gets here (huge ids echoed back): an answer CloudFormation
        # can read beats one it rejects. Data goes first, then the ids are cut.
        body["Data"] = {}
        for field in ("PhysicalResourceId", "LogicalResourceId", "RequestId", "StackId"):
            payload = json.dumps(body).encode()
            if len(payload) <= MAX_BODY_BYTES:
                break
            body[field] = str(body[field])[:256]
        payload = json.dumps(body).encode()
    return payload
