"""SigV4 verification of a request without a body (GET, HEAD, DELETE of REST APIs).

moto lacks (5.2.5): under IAM enforcement moto recomputes the caller's signature over a
rebuilt request whose payload is the raw body or, when the body is empty, the request's
parameters re-encoded as a form; and a REST request without a query string has the HTTP
headers as its "parameters". So every GET/HEAD/DELETE of a REST-JSON API is verified
against a payload the client never sent, and fails with ``SignatureDoesNotMatch``:
EventBridge Scheduler's GetSchedule and ListSchedules, Lambda's GetFunction and
ListFunctions, ... (POST APIs such as STS, IAM, CloudFormation and CloudWatch are not hit).

This extension: a GET, HEAD or DELETE without a body is verified with an empty payload,
what the client signed (its query string is part of the canonical request's path already).
Other requests are verified as moto verifies them.
"""

from __future__ import annotations

from typing import Any

BODYLESS = ("GET", "HEAD", "DELETE")


def apply() -> None:
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase._create_aws_request

    def create_aws_request(self: Any) -> Any:
        request = original(self)
        if self._method in BODYLESS and not self._body:
            request.data = b""
        return request

    IAMRequestBase._create_aws_request = create_aws_request
