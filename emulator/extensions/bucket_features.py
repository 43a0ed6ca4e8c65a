"""A bucket's Requester Pays setting and its Intelligent-Tiering configurations.

moto lacks (5.2.5): S3 has no handler for the ``?requestPayment`` and
``?intelligent-tiering`` bucket sub-resources. A GET of either falls through to
ListObjects (GetBucketRequestPayment answers no ``Payer``, so every bucket reads as
``BucketOwner``; ListBucketIntelligentTieringConfigurations answers an empty list), a PUT
falls through to CreateBucket and changes nothing, and
DeleteBucketIntelligentTieringConfiguration falls through to DeleteBucket: it deletes an
empty bucket. Under IAM enforcement all of them are authorized as the bucket defaults,
``s3:ListBucket``, ``s3:CreateBucket`` and ``s3:DeleteBucket``. So a Requester Pays
bucket, or one whose Intelligent-Tiering configuration has an archive tier, cannot be
set up in the emulator, and the probe would always find neither.

This extension: the two sub-resources are modelled on moto's bucket (its own ``payer``
attribute; a dict of configurations by id), in the shapes of botocore's S3 model, and
authorized as the IAM actions AWS checks:

  * Put/GetBucketRequestPayment: ``s3:PutBucketRequestPayment`` / ``s3:GetBucketRequestPayment``;
    a Payer other than ``BucketOwner`` or ``Requester`` is ``MalformedXML``;
  * Put (204) and Delete (204) BucketIntelligentTieringConfiguration:
    ``s3:PutIntelligentTieringConfiguration``;
  * Get and List BucketIntelligentTieringConfiguration(s): ``s3:GetIntelligentTieringConfiguration``.

A configuration whose ``Id`` differs from the request's ``id``, or that lacks a status or
tiering, or names an unknown status or access tier, is ``MalformedXML``; getting or deleting
a missing one is ``NoSuchConfiguration`` (404). The list is sorted by id and comes in pages
of ``PAGE_SIZE`` with ``IsTruncated``, ``ContinuationToken`` (the one asked with) and
``NextContinuationToken``. Not modelled: the tiers' day ranges (90-730, 180-730) and the
1,000-configuration limit are not checked; nothing is ever billed to a requester or tiered.
"""

from __future__ import annotations

import base64
from typing import Any

PAGE_SIZE = 100

REQUEST_PAYMENT = "requestPayment"
TIERING = "intelligent-tiering"

PAYERS = ("BucketOwner", "Requester")
STATUSES = ("Enabled", "Disabled")
ACCESS_TIERS = ("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS")

#: (sub-resource, HTTP method) -> (IAM action, API operation).
ACTIONS = {
    (REQUEST_PAYMENT, "GET"): ("GetBucketRequestPayment", "GetBucketRequestPayment"),
    (REQUEST_PAYMENT, "PUT"): ("PutBucketRequestPayment", "PutBucketRequestPayment"),
    (TIERING, "GET"): ("GetIntelligentTieringConfiguration", None),  # Get or List, by `id`
    (TIERING, "PUT"): ("PutIntelligentTieringConfiguration", "PutBucketIntelligentTieringConfiguration"),
    (TIERING, "DELETE"): ("PutIntelligentTieringConfiguration", "DeleteBucketIntelligentTieringConfiguration"),
}


def configurations(bucket: Any) -> dict[str, dict[str, Any]]:
    """The bucket's Intelligent-Tiering configurations by id, in the API's shape."""
    return bucket.__dict__.setdefault("intelligent_tiering_configurations", {})


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _tag(node: Any) -> dict[str, str]:
    from moto.s3.exceptions import MalformedXML

    if not isinstance(node, dict) or not node.get("Key"):
        raise MalformedXML()
    return {"Key": _text(node["Key"]), "Value": _text(node.get("Value"))}


def _filter(node: Any) -> dict[str, Any]:
    """An IntelligentTieringFilter from its parsed XML: one of Prefix, Tag or And."""
    from moto.s3.exceptions import MalformedXML

    if not node:
        return {}
    if not isinstance(node, dict):
        raise MalformedXML()
    given = [name for name in ("Prefix", "Tag", "And") if name in node]
    if len(given) > 1:
        raise MalformedXML()
    if "Prefix" in node:
        return {"Prefix": _text(node["Prefix"])}
    if "Tag" in node:
        return {"Tag": _tag(node["Tag"])}
    if "And" in node:
        both = node["And"] or {}
        found: dict[str, Any] = {}
        if "Prefix" in both:
            found["Prefix"] = _text(both["Prefix"])
        tags = [_tag(tag) for tag in _listed(both.get("Tag"))]
        if tags:
            found["Tags"] = tags
        return {"And": found}
    return {}


def parse_configuration(body: bytes | str, config_id: str) -> dict[str, Any]:
    """PutBucketIntelligentTieringConfiguration's body, checked as S3 checks it."""
    import xmltodict
    from moto.s3.exceptions import MalformedXML

    try:
        root = xmltodict.parse(body)["IntelligentTieringConfiguration"]
    except Exception as error:  # not XML, or another document
        raise MalformedXML() from error
    root = root or {}
    if _text(root.get("Id")) != config_id or not config_id:
        raise MalformedXML()
    if root.get("Status") not in STATUSES:
        raise MalformedXML()
    tierings = []
    for tiering in _listed(root.get("Tiering")):
        if not isinstance(tiering, dict) or tiering.get("AccessTier") not in ACCESS_TIERS:
            raise MalformedXML()
        try:
            days = int(tiering.get("Days"))
        except (TypeError, ValueError) as error:
            raise MalformedXML() from error
        tierings.append({"Days": days, "AccessTier": tiering["AccessTier"]})
    if not tierings:
        raise MalformedXML()
    configuration: dict[str, Any] = {"Id": config_id}
    found = _filter(root.get("Filter"))
    if found:
        configuration["Filter"] = found
    configuration.update({"Status": root["Status"], "Tierings": tierings})
    return configuration


def parse_payer(body: bytes | str) -> str:
    import xmltodict
    from moto.s3.exceptions import MalformedXML

    try:
        payer = (xmltodict.parse(body)["RequestPaymentConfiguration"] or {}).get("Payer")
    except Exception as error:
        raise MalformedXML() from error
    if payer not in PAYERS:
        raise MalformedXML()
    return payer


def _token(config_id: str) -> str:
    return base64.urlsafe_b64encode(config_id.encode()).decode()


def _from_token(token: str) -> str:
    from moto.s3.exceptions import InvalidContinuationToken

    try:
        config_id = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except Exception as error:
        raise InvalidContinuationToken() from error
    if not config_id:
        raise InvalidContinuationToken()
    return config_id


def list_page(found: dict[str, dict[str, Any]], token: str | None) -> dict[str, Any]:
    """One page of ListBucketIntelligentTieringConfigurations, by id."""
    ids = sorted(found)
    start = 0
    if token is not None:
        after = _from_token(token)
        start = next((i for i, config_id in enumerate(ids) if config_id >= after), len(ids))
    page = ids[start:start + PAGE_SIZE]
    result: dict[str, Any] = {"IsTruncated": start + PAGE_SIZE < len(ids)}
    if token is not None:
        result["ContinuationToken"] = token
    if result["IsTruncated"]:
        result["NextContinuationToken"] = _token(ids[start + PAGE_SIZE])
    if page:
        result["IntelligentTieringConfigurationList"] = [found[config_id] for config_id in page]
    return result


class NoSuchConfiguration(Exception):
    """Raised within a handler; answered as S3 does (404), not moto's default 400."""


def handle(self: Any, method: str, bucket_name: str, querystring: dict[str, Any]) -> Any:
    """Authorize and answer one request for a modelled sub-resource."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import S3ClientError

    sub_resource = REQUEST_PAYMENT if REQUEST_PAYMENT in querystring else TIERING
    iam_action, operation = ACTIONS[(sub_resource, method)]
    config_id = (querystring.get("id") or [None])[0]
    if operation is None:
        operation = ("GetBucketIntelligentTieringConfiguration" if config_id is not None
                     else "ListBucketIntelligentTieringConfigurations")
    self.data["Action"] = iam_action
    self._authenticate_and_authorize_s3_action(bucket_name=bucket_name)
    self.data["Action"] = operation
    bucket = self.backend.get_bucket(bucket_name)

    if sub_resource == REQUEST_PAYMENT:
        if method == "PUT":
            bucket.payer = parse_payer(self.body)
            return 200, {}, ""
        return self.serialized(ActionResult({"Payer": bucket.payer}))

    found = configurations(bucket)
    try:
        if operation == "ListBucketIntelligentTieringConfigurations":
            token = (querystring.get("continuation-token") or [None])[0]
            return self.serialized(ActionResult(list_page(found, token)))
        if method == "PUT":
            configuration = parse_configuration(self.body, config_id or "")
            found[configuration["Id"]] = configuration
            return 204, {}, ""
        if config_id not in found:
            raise NoSuchConfiguration()
        if method == "DELETE":
            del found[config_id]
            return 204, {}, ""
        return self.serialized(ActionResult({"IntelligentTieringConfiguration": found[config_id]}))
    except NoSuchConfiguration:
        error = S3ClientError("NoSuchConfiguration", "The specified configuration does not exist.")
        _, headers, body = self.serialized(ActionResult(error))
        return 404, headers, body


def _modelled(querystring: dict[str, Any]) -> bool:
    return REQUEST_PAYMENT in querystring or TIERING in querystring


def apply() -> None:
    from moto.s3.responses import S3Response

    original_get = S3Response._bucket_response_get
    original_put = S3Response._bucket_response_put
    original_delete = S3Response._bucket_response_delete

    def bucket_get(self, bucket_name, querystring):  # type: ignore[no-untyped-def]
        if _modelled(querystring):
            return handle(self, "GET", bucket_name, querystring)
        return original_get(self, bucket_name, querystring)

    def bucket_put(self, request, bucket_name, querystring):  # type: ignore[no-untyped-def]
        if _modelled(querystring):
            if not request.headers.get("Content-Length"):
                return 411, {}, "Content-Length required"
            return handle(self, "PUT", bucket_name, querystring)
        return original_put(self, request, bucket_name, querystring)

    def bucket_delete(self, bucket_name, querystring):  # type: ignore[no-untyped-def]
        if TIERING in querystring:
            return handle(self, "DELETE", bucket_name, querystring)
        return original_delete(self, bucket_name, querystring)

    S3Response._bucket_response_get = bucket_get
    S3Response._bucket_response_put = bucket_put
    S3Response._bucket_response_delete = bucket_delete
