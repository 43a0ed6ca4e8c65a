"""Fault-injecting HTTP endpoints on 127.0.0.1, each served from a thread.

FaultServer stands where AWS would (AWS_ENDPOINT_URL, --endpoint-url): by default it
forwards every request unchanged (Host header included, so SigV4 still verifies) to the
embedded emulator; a script of faults, matched per request by service and operation, makes
it answer by itself instead: throttling in each service's own protocol, 5xx, a reset
connection, an accepted request that is never answered, an answer after a delay, or any
canned reply. Every request is recorded with what was done to it.

ResponseURL stands where CloudFormation's pre-signed S3 URL would: it records every PUT
and can answer 5xx, reset, hang, or not listen at all (connection refused).

Nothing here listens anywhere but 127.0.0.1, and the only upstream is the emulator's.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: How long a hung request is held at most (the suite never waits this long: the client
#: gives up first, or the server is closed).
HOLD_SECONDS = 60.0


# --------------------------------------------------------------------------- faults

@dataclass(frozen=True)
class Fault:
    """What the server does to a request. kind: forward | error | reset | hang | delay | reply."""

    kind: str
    status: int = 0
    code: str = ""
    message: str = ""
    seconds: float = 0.0
    body: bytes = b""
    content_type: str = ""

    def __str__(self) -> str:
        return f"{self.kind}{'(' + str(self.status) + ' ' + self.code + ')' if self.status else ''}"


FORWARD = Fault("forward")
RESET = Fault("reset")
HANG = Fault("hang")


def throttle() -> Fault:
    """Each service's own throttling answer (see ERRORS for the wire format)."""
    return Fault("error", code="@throttle")


def server_error(status: int = 500) -> Fault:
    """500 InternalError-like, 503 service unavailable, or 502 from a gateway (no AWS body)."""
    return Fault("error", status=status, code=f"@{status}")


def error(status: int, code: str, message: str = "injected by the fault suite") -> Fault:
    """Any AWS error, written in the protocol of the service it answers for."""
    return Fault("error", status=status, code=code, message=message)


def delay(seconds: float) -> Fault:
    """Hold the request `seconds`, then forward it."""
    return Fault("delay", seconds=seconds)


def reply(status: int, body: bytes | dict, content_type: str = "application/x-amz-json-1.1") -> Fault:
    """Answer by itself with this status and body."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Fault("reply", status=status, body=raw, content_type=content_type)


#: Each service's throttling and 5xx answers: (status, code, message).
THROTTLE = {"s3": (503, "SlowDown", "Please reduce your request rate."),
            "secretsmanager": (400, "ThrottlingException", "Rate exceeded"),
            "sts": (400, "Throttling", "Rate exceeded"),
            "cloudformation": (400, "Throttling", "Rate exceeded")}
SERVER_ERROR = {500: {"s3": "InternalError", "secretsmanager": "InternalServiceError",
                      "sts": "InternalFailure", "cloudformation": "InternalFailure"},
                503: {"s3": "ServiceUnavailable", "secretsmanager": "ServiceUnavailable",
                      "sts": "ServiceUnavailable", "cloudformation": "ServiceUnavailable"}}
JSON_SERVICES = {"secretsmanager"}


def _render_error(service: str, fault: Fault) -> tuple[int, bytes, str]:
    status, code, message = fault.status, fault.code, fault.message
    if code == "@throttle":
        status, code, message = THROTTLE[service]
    elif code.startswith("@"):
        if status == 502:  # a load balancer or proxy in the way: no AWS error document
            return 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        code, message = SERVER_ERROR[status][service], "injected server error"
    if service in JSON_SERVICES:
        return status, json.dumps({"__type": code, "message": message}).encode(), \
            "application/x-amz-json-1.1"
    if service == "s3":
        return status, (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                        f"<Message>{message}</Message><RequestId>FAULTSUITE</RequestId></Error>"
                        ).encode(), "application/xml"
    return status, (f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/"><Error>'
                    f"<Type>{'Receiver' if status >= 500 else 'Sender'}</Type><Code>{code}</Code>"
                    f"<Message>{message}</Message></Error><RequestId>FAULTSUITE</RequestId>"
                    "</ErrorResponse>").encode(), "text/xml"


# --------------------------------------------------------------------------- requests

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Seen:
    """One request as the fault server saw it."""

    service: str
    operation: str
    access_key: str
    path: str
    #: botocore's retry header: "attempt=1; max=1" for a client that never retries itself.
    sdk_request: str
    fault: str = "forward"
    received: float = 0.0
    #: For a hung request: when the client gave up and closed the connection.
    abandoned: float | None = None
    #: True while a hung request is held open.
    holding: bool = False

    @property
    def attempt(self) -> int | None:
        found = re.search(r"attempt=(\d+)", self.sdk_request)
        return int(found.group(1)) if found else None

    @property
    def max_attempts(self) -> int | None:
        found = re.search(r"max=(\d+)", self.sdk_request)
        return int(found.group(1)) if found else None


def _s3_operation(method: str, path: str, query: dict) -> str:
    parts = [p for p in path.split("/") if p]
    has_key = len(parts) > 1
    if method == "PUT":
        return "PutObject" if has_key else "PutBucket"
    if method == "DELETE":
        return "DeleteObject" if has_key else "DeleteBucket"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "POST":
        return "DeleteObjects" if "delete" in query else "PostObject"
    if has_key:
        return "GetObject"
    for name, operation in (("location", "GetBucketLocation"), ("versions", "ListObjectVersions"),
                            ("ownershipControls", "GetBucketOwnershipControls"),
                            ("versioning", "GetBucketVersioning")):
        if name in query:
            return operation
    return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"


def classify(method: str, path: str, headers, body: bytes) -> tuple[str, str, str]:
    """(service, operation, access key id) of a SigV4-signed AWS request."""
    scope = _SCOPE.search(headers.get("Authorization", "") or "")
    access_key, service = (scope.group(1), scope.group(3)) if scope else ("", "unknown")
    target = headers.get("X-Amz-Target")
    split = urlsplit(path)
    query = parse_qs(split.query, keep_blank_values=True)
    if target:
        operation = target.split(".")[-1]
    elif service == "s3":
        operation = _s3_operation(method, split.path, query)
    else:
        form = parse_qs(body.decode("utf-8", "replace"))
        operation = (form.get("Action") or query.get("Action") or ["?"])[0]
    return service, operation, access_key


# --------------------------------------------------------------------------- fault server

@dataclass
class Rule:
    fault: Fault
    service: str | None
    operations: frozenset[str] | None
    access_key: str | None
    #: How many requests it applies to; None: every one (a storm).
    times: int | None
    used: int = 0

    def matches(self, seen: Seen) -> bool:
        return ((self.times is None or self.used < self.times)
                and (self.service is None or self.service == seen.service)
                and (self.operations is None or seen.operation in self.operations)
                and (self.access_key is None or self.access_key == seen.access_key))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # a reset or hung-up client is the point
        pass


class _QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no access log, and a client gone before the answer was flushed is no error."""

    protocol_version = "HTTP/1.1"

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, *args):
        pass


def _reset(connection: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not an orderly FIN."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    except OSError:
        pass


def _hold(connection: socket.socket, closing: threading.Event, limit: float = HOLD_SECONDS) -> float | None:
    """Accept and never answer: wait until the client hangs up (returns when) or closing."""
    ends = time.monotonic() + limit
    while not closing.is_set() and time.monotonic() < ends:
        try:
            readable, _, _ = select.select([connection], [], [], 0.05)
            if readable and connection.recv(1, socket.MSG_PEEK) == b"":
                return time.monotonic()
        except OSError:
            return time.monotonic()
    return None


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection",
               "te", "trailer", "upgrade"}
#: Set by this server itself on every answer.
_OWN = {"server", "date", "content-type"}
#: Secret values in answers that pass through: SecretString (and its fields), SecretAccessKey,
#: SessionToken. Collected so tests can prove none of them is printed or logged.
_SECRET_XML = re.compile(rb"<(SecretAccessKey|SessionToken)>([^<]+)</\1>")


class FaultServer:
    """A local AWS endpoint that forwards to `upstream` unless a scripted fault applies."""

    def __init__(self, upstream: str | None = None):
        self.upstream = urlsplit(upstream) if upstream else None
        self.requests: list[Seen] = []
        self.rules: list[Rule] = []
        #: Secret values seen in forwarded answers (see _SECRET_XML and GetSecretValue).
        self.secrets_seen: set[str] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(_QuietHandler):
            def _serve(self) -> None:
                body = _read_body(self)
                service, operation, access_key = classify(self.command, self.path, self.headers, body)
                seen = Seen(service, operation, access_key, self.path,
                            self.headers.get("amz-sdk-request", ""), received=time.monotonic())
                fault = server._choose(seen)
                seen.fault = str(fault)
                if fault.kind == "reset":
                    _reset(self.connection)
                    self.close_connection = True
                    return
                if fault.kind == "hang":
                    seen.holding = True
                    try:
                        seen.abandoned = _hold(self.connection, server._closing)
                    finally:
                        seen.holding = False
                    _reset(self.connection)
                    self.close_connection = True
                    return
                if fault.kind == "delay":
                    server._closing.wait(fault.seconds)
                if fault.kind == "error":
                    self._answer(*_render_error(service, fault))
                elif fault.kind == "reply":
                    self._answer(fault.status, fault.body, fault.content_type)
                else:
                    self._forward(body, service, operation)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve  # noqa: N815

            def _answer(self, status: int, body: bytes, content_type: str, headers=()) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if not headers:  # an answer of its own; a forwarded one keeps the emulator's id
                    self.send_header("x-amz-request-id", "FAULTSUITE")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self, body: bytes, service: str, operation: str) -> None:
                if server.upstream is None:
                    self._answer(*_render_error(service, server_error(500)))
                    return
                upstream = http.client.HTTPConnection(server.upstream.hostname, server.upstream.port,
                                                      timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    headers["Content-Length"] = str(len(body))
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    answer = response.read()
                    passed = [(k, v) for k, v in response.getheaders()
                              if k.lower() not in _HOP_BY_HOP | _OWN]
                    server._collect_secrets(operation, answer)
                    self._answer(response.status, answer, response.getheader("Content-Type", ""), passed)
                finally:
                    upstream.close()

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                         daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- scripting
    def inject(self, fault: Fault, service: str | None = None, operations: str | tuple | None = None,
               times: int | None = None, access_key: str | None = None) -> Rule:
        """Apply `fault` to matching requests, `times` of them (None: all, a storm).
        Earlier rules win; unmatched requests are forwarded."""
        if isinstance(operations, str):
            operations = (operations,)
        rule = Rule(fault, service, frozenset(operations) if operations else None, access_key, times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def storm(self, fault: Fault, service: str | None = None, operations=None, access_key=None) -> Rule:
        return self.inject(fault, service, operations, None, access_key)

    def reset_script(self) -> None:
        with self._lock:
            self.rules.clear()
            self.requests.clear()
            self.secrets_seen.clear()

    def _choose(self, seen: Seen) -> Fault:
        with self._lock:
            self.requests.append(seen)
            for rule in self.rules:
                if rule.matches(seen):
                    rule.used += 1
                    return rule.fault
        return FORWARD

    def _collect_secrets(self, operation: str, answer: bytes) -> None:
        found = {m.group(2).decode() for m in _SECRET_XML.finditer(answer)}
        if operation == "GetSecretValue":
            try:
                value = json.loads(answer).get("SecretString") or ""
            except ValueError:
                value = ""
            found |= _secret_fields(value)
        with self._lock:
            self.secrets_seen |= {s for s in found if len(s) >= 8}

    # ----------------------------------------------------------------- reading
    def seen(self, service: str | None = None, operation: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.requests if (service is None or s.service == service)
                    and (operation is None or s.operation == operation)]

    def settle(self, timeout: float = 2.0) -> None:
        """Wait (briefly) until no hung request is held open any more: a client that gave up
        has closed its connection by then, and its `abandoned` time is recorded."""
        ends = time.monotonic() + timeout
        while any(s.holding for s in self.seen()) and time.monotonic() < ends:
            time.sleep(0.01)

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _secret_fields(value: str) -> set[str]:
    """The secret parts of a SecretString: secret-looking values of a JSON document at any
    depth, or the whole string when it is not JSON."""
    try:
        doc = json.loads(value)
    except ValueError:
        return {value} if value else set()
    found: set[str] = set()

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and re.search(r"secret|token|password", key, re.IGNORECASE):
            found.add(node)
    walk(doc)
    return found


# --------------------------------------------------------------------------- response URL

@dataclass
class Put:
    body: bytes
    headers: dict
    answered: str  # "200", "500", "reset", "hang"


@dataclass
class ResponseURL:
    """CloudFormation's pre-signed response URL. mode: ok | 5xx | reset | hang | refused;
    `failures`: how many PUTs get the bad treatment before the rest are answered 200
    (None: all of them)."""

    mode: str = "ok"
    failures: int | None = None
    status: int = 500
    puts: list[Put] = field(default_factory=list)

    def __post_init__(self):
        self._closing = threading.Event()
        self._lock = threading.Lock()
        if self.mode == "refused":
            # Bound but never listening: a connection attempt is refused at once, and no
            # other process can take the port meanwhile.
            self._socket = socket.socket()
            self._socket.bind(("127.0.0.1", 0))
            self.url = (f"http://127.0.0.1:{self._socket.getsockname()[1]}/cfn-response"
                        "?X-Amz-Signature=presigned-signature-value")
            self._httpd = None
            return
        owner = self

        class Handler(_QuietHandler):
            def do_PUT(self):  # noqa: N802
                body = _read_body(self)
                with owner._lock:
                    bad = owner.mode != "ok" and (owner.failures is None or owner.failures > 0)
                    if bad and owner.failures is not None:
                        owner.failures -= 1
                    treatment = owner.mode if bad else "ok"
                    owner.puts.append(Put(body, dict(self.headers),
                                          {"ok": "200", "5xx": str(owner.status)}.get(treatment, treatment)))
                if treatment == "reset":
                    _reset(self.connection)
                    self.close_connection = True
                    return
                if treatment == "hang":
                    _hold(self.connection, owner._closing)
                    _reset(self.connection)
                    self.close_connection = True
                    return
                self.send_response(200 if treatment == "ok" else owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = (f"http://127.0.0.1:{self._httpd.server_port}/cfn-response"
                    "?X-Amz-Signature=presigned-signature-value")
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def answers(self) -> list[dict]:
        return [json.loads(put.body) for put in self.puts]

    def close(self) -> None:
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        else:
            self._socket.close()

