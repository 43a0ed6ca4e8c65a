"""Custom resources (``Custom::*`` and ``AWS::CloudFormation::CustomResource``).

moto lacks: moto invokes the ServiceToken function in a fire-and-forget thread,
gives it a ResponseURL that goes through IAM authentication (an unsigned PUT is
rejected once auth is on), ignores ``Status: FAILED`` (only SUCCESS is processed),
never sends Update or Delete requests, and silently skips
``AWS::CloudFormation::CustomResource``.

This extension:
  * ``EmulatedCustomResource`` (a subclass of moto's ``CustomModel``) sends
    Create / Update / Delete requests with the CloudFormation event shape
    (RequestType, ResponseURL, StackId, RequestId, LogicalResourceId, ResourceType,
    ResourceProperties, OldResourceProperties, PhysicalResourceId), invokes the
    function (InvocationType Event) and WAITS for the response;
  * the response endpoint ``/cloudformation_<region>/cfnresponse`` accepts the
    unsigned PUT like a pre-signed S3 URL, validates the body and hands it to the
    waiting request;
  * SUCCESS sets PhysicalResourceId and Data (for Fn::GetAtt); FAILED fails the
    resource with CloudFormation's text "Received response status [FAILED] from
    custom resource. Message returned: <Reason> (RequestId: <id>)", which makes the
    stack roll back (see stack_lifecycle); a failed Create is still sent a Delete
    during rollback, like CloudFormation does; a new physical id answered to an Update
    gets the old id a Delete in the update's cleanup (stack_update);
  * a handler that ends without responding fails the resource after a short grace
    period (CloudFormation would wait up to an hour, or ServiceTimeout seconds).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

from moto.cloudformation.custom_model import CustomModel

from . import STATE
from .stack_lifecycle import ResourceOperationFailed

log = logging.getLogger("emulator.custom_resource")

_PENDING: dict[str, "_Pending"] = {}
_PENDING_LOCK = threading.Lock()


class _Pending:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.response: dict[str, Any] | None = None


def _backend(account_id: str, region_name: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[account_id][region_name]


class EmulatedCustomResource(CustomModel):
    def __init__(self, region_name: str, request_id: str, logical_id: str, resource_name: str):
        super().__init__(region_name, request_id, logical_id, resource_name)
        self.account_id = ""
        self.stack_id = ""
        self.resource_type = ""
        self.properties: dict[str, Any] = {}
        self.physical_id: str | None = None

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id or self.resource_name

    # ----------------------------------------------------------------- protocol
    def _request(self, request_type: str, properties: dict[str, Any],
                 old_properties: dict[str, Any] | None = None) -> dict[str, Any]:
        from moto.awslambda.utils import get_backend as get_lambda_backend

        request_id = str(uuid.uuid4())
        token = properties.get("ServiceToken", "")
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": f"{STATE.endpoint_url}/cloudformation_{self.region_name}/cfnresponse"
                           f"?stack={quote(self.stack_id, safe='')}&request={request_id}",
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": self.logical_id,
            "ResourceType": self.resource_type,
            "ResourceProperties": properties,
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = self.physical_resource_id
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        try:
            fn = get_lambda_backend(self.account_id, self.region_name).get_function(token)
        except Exception:
            return {"Status": "FAILED", "_emu_reason": f"Invalid service token: {token}"}
        pending = _Pending()
        with _PENDING_LOCK:
            _PENDING[request_id] = pending
        try:
            headers = {"x-amz-invocation-type": "Event"}
            started = time.time()
            result = fn.invoke(json.dumps(event), headers, {})
            service_timeout = float(properties.get("ServiceTimeout", 0) or 0)
            grace = STATE.response_grace_seconds
            if service_timeout:
                grace = max(grace, service_timeout - (time.time() - started))
            if not pending.event.wait(grace):
                detail = result.decode() if isinstance(result, bytes) else str(result)
                return {"Status": "FAILED", "_emu_reason":
                        "CloudFormation did not receive a response from your Custom Resource. Please check your "
                        f"logs for requestId [{request_id}]. [emulator: the handler ended without responding; "
                        f"invocation result: {detail[:500]}]"}
            assert pending.response is not None
            return pending.response
        finally:
            with _PENDING_LOCK:
                _PENDING.pop(request_id, None)

    @staticmethod
    def _failure_reason(response: dict[str, Any]) -> str:
        if "_emu_reason" in response:
            return response["_emu_reason"]
        return ("Received response status [FAILED] from custom resource. Message returned: "
                f"{response.get('Reason', '')} (RequestId: {response.get('RequestId', '')})")

    # ----------------------------------------------------------------- CFN model API
    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> "EmulatedCustomResource":
        logical_id = kwargs["LogicalId"]
        stack = _backend(account_id, region_name).get_stack(kwargs["StackId"])
        res = cls(region_name, "", logical_id, resource_name)
        res.account_id = account_id
        res.stack_id = kwargs["StackId"]
        res.resource_type = kwargs["ResourceType"]
        res.properties = cloudformation_json.get("Properties", {})
        stack.add_custom_resource(res)
        response = res._request("Create", res.properties)
        res.physical_id = response.get("PhysicalResourceId") or None
        if response.get("Status") != "SUCCESS":
            # Registered as created so that the rollback sends it a Delete (as CloudFormation does).
            if res.physical_id is None:
                res.physical_id = f"{resource_name}-failed-create"
            res.cf_resource_type = res.resource_type
            res.logical_resource_id = logical_id
            stack.resource_map._parsed_resources[logical_id] = res
            order = stack.resource_map.__dict__.setdefault("_emu_order", [])
            order.append(logical_id)
            raise ResourceOperationFailed(logical_id, cls._failure_reason(response))
        res.set_data(response.get("Data") or {})
        return res

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "EmulatedCustomResource", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "EmulatedCustomResource":
        new_props = cloudformation_json.get("Properties", {})
        old_props = original_resource.properties
        response = original_resource._request("Update", new_props, old_properties=old_props)
        # Failed or not, these were the resource's last requested properties: a rollback
        # sends them as OldResourceProperties, as CloudFormation does.
        original_resource.properties = new_props
        if response.get("Status") != "SUCCESS":
            raise ResourceOperationFailed(original_resource.logical_id, cls._failure_reason(response))
        if response.get("PhysicalResourceId"):
            original_resource.physical_id = response["PhysicalResourceId"]
        original_resource.set_data(response.get("Data") or {})
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        response = self._request("Delete", self.properties)
        if response.get("Status") != "SUCCESS":
            raise ResourceOperationFailed(self.logical_id, self._failure_reason(response))

    def send_delete(self, physical_id: str, properties: dict[str, Any]) -> None:
        """The Delete CloudFormation sends in an update's cleanup when the handler answered a
        new physical id: to the old id, with the old properties; a failure is only logged."""
        current = self.physical_id
        self.physical_id = physical_id
        try:
            response = self._request("Delete", properties)
        finally:
            self.physical_id = current
        if response.get("Status") != "SUCCESS":
            log.warning("cleanup Delete of %s (%s) failed: %s", self.logical_id, physical_id,
                        self._failure_reason(response))


# --------------------------------------------------------------------------- response endpoint

def cfn_response_endpoint(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, Any], str]:
    """Receives the handler's PUT (no SigV4, like a pre-signed S3 URL)."""
    from urllib.parse import parse_qs, urlparse

    query = parse_qs(urlparse(full_url).query)
    raw = request.data if hasattr(request, "data") else request.body
    try:
        body = json.loads(raw or b"{}")
        assert isinstance(body, dict)
    except Exception:
        return 400, {"status": 400}, "malformed response body"
    request_id = body.get("RequestId") or (query.get("request") or [""])[0]
    with _PENDING_LOCK:
        pending = _PENDING.get(request_id)
    if pending is None:
        log.warning("custom resource response for unknown/expired request %s", request_id)
        return 200, {"status": 200}, ""
    status = body.get("Status")
    if status not in ("SUCCESS", "FAILED"):
        body = {"Status": "FAILED", "_emu_reason": f"Invalid response status [{status}] from custom resource"}
    elif status == "SUCCESS" and not body.get("PhysicalResourceId"):
        body = {"Status": "FAILED", "_emu_reason": "Invalid PhysicalResourceId"}
    elif len(json.dumps(body.get("Data") or {})) > 4096:
        body = {"Status": "FAILED", "_emu_reason": "Response object is too long."}
    pending.response = body
    pending.event.set()
    return 200, {"status": 200}, ""


def apply() -> None:
    from moto.cloudformation import parsing, urls

    parsing.CustomModel = EmulatedCustomResource
    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type == "AWS::CloudFormation::CustomResource" or resource_type.startswith("Custom::"):
            return EmulatedCustomResource
        return original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
    for key in list(urls.url_paths):
        if key.endswith("cfnresponse$"):
            urls.url_paths[key] = cfn_response_endpoint
