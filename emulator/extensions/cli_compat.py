"""Small API gaps the CDK CLI trips over.

moto lacks: ``cloudtrail:LookupEvents`` (not implemented -> HTTP 500).  After a failed
deployment the CDK CLI (2.1148) calls it to enrich the error; every call fails and
is retried with back-off, adding ~20 s to each failed ``cdk deploy``.

This extension: ``CloudTrailResponse.lookup_events`` returning an empty page
(``{"Events": []}``) - no CloudTrail history is recorded by the emulator.
"""

from __future__ import annotations

import json


def _lookup_events(self) -> str:  # type: ignore[no-untyped-def]
    return json.dumps({"Events": []})


def apply() -> None:
    from moto.cloudtrail.responses import CloudTrailResponse

    if not hasattr(CloudTrailResponse, "lookup_events"):
        CloudTrailResponse.lookup_events = _lookup_events
