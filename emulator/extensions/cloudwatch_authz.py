"""CloudWatch calls authorized as ``cloudwatch:<Action>``, with the ``cloudwatch:namespace`` key.

moto lacks (5.2.5): under IAM enforcement moto names the action after the request's SigV4
signing name, which for CloudWatch is ``monitoring``: PutMetricData is authorized as
``monitoring:PutMetricData``, a name no AWS policy uses. A least-privilege grant of
``cloudwatch:PutMetricData`` (what CDK's ``Metric.grantPutMetricData`` writes) is denied, and
only ``monitoring:*`` or ``*`` allows it. Identity-policy conditions are never evaluated
either (moto passes no request values to them, so every condition holds): a grant limited to
``cloudwatch:namespace`` = ``LogzioArchive`` allows any namespace. And the denial comes back
as an XML body on CloudWatch's CBOR protocol, which botocore cannot read: the caller sees
error code ``403`` with the XML as its message.

This extension: CloudWatch requests are authorized as ``cloudwatch:<Action>`` (PutMetricData,
GetMetricStatistics, GetMetricData, ListMetrics, DescribeAlarms, PutMetricAlarm, ...), against
the caller's identity policies evaluated as IAM does (``_policy``: a statement applies when its Action or
NotAction, Resource or NotResource and conditions match; any applying Deny denies, else one
applying Allow is needed). The request context holds ``cloudwatch:namespace`` for
PutMetricData (its Namespace), so a condition on it is evaluated (StringEquals, StringLike,
their negations, ``...IfExists``, ``Null``; a request without the key, such as
GetMetricStatistics, fails a non-negated condition on it, as on AWS). Conditions on keys the
emulator does not model (``aws:SourceIp``, ``aws:PrincipalTag/...``) are left as moto leaves
them: not evaluated, they hold. A denial is answered ``AccessDenied`` (403) in CloudWatch's own
protocol, as AWS answers it. The resource stays ``*`` (moto's): PutMetricData, the metric reads
and ListMetrics have no resource on AWS either; a grant scoped to an alarm ARN is not modelled.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from . import _policy

SERVICE = "cloudwatch"
NAMESPACE_KEY = "cloudwatch:namespace"
#: Condition keys this module puts into the request context; conditions on others hold (moto).
MODELLED_KEYS = (NAMESPACE_KEY,)


def _request_class() -> type:
    from moto.iam.access_control import IAMPolicy, IAMRequest

    class CloudWatchIAMRequest(IAMRequest):
        def __init__(self, *args: Any, context: dict[str, str], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # The signature is still checked with the signing name (self._service).
            self._action = f"{SERVICE}:{self._action.split(':', 1)[1]}"
            self.context = context

        def check_action_permitted(self, resource: str) -> None:
            documents = [IAMPolicy(policy)._policy_json for policy in self._access_key.collect_policies()]
            if _policy.evaluate(documents, self._action, resource, self.context, MODELLED_KEYS) != _policy.ALLOW:
                self._raise_access_denied()

    return CloudWatchIAMRequest


def apply() -> None:
    from moto.cloudwatch.exceptions import CloudWatchException
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult
    from werkzeug.exceptions import HTTPException

    request_class = _request_class()

    class Answered(HTTPException):
        """An error already serialized in the service's protocol (moto's call_action sends
        an HTTPException's description as the body, with its code as the status)."""

    def authorize(self: Any, resource: str = "*") -> None:
        context: dict[str, str] = {}
        if self._get_action() == "PutMetricData" and self._get_param("Namespace") is not None:
            context[NAMESPACE_KEY] = str(self._get_param("Namespace"))
        try:
            self._authenticate_and_authorize_action(functools.partial(request_class, context=context), resource)
        except HTTPException as error:
            code = getattr(error, "error_type", None)
            if not code:
                raise
            with warnings.catch_warnings():  # AccessDenied is no error shape of CloudWatch's model
                warnings.simplefilter("ignore")
                _status, headers, body = self.serialized(
                    ActionResult(CloudWatchException(code, getattr(error, "message", "") or code)))
            headers.pop("status", None)
            self.response_headers.update(headers)
            answered = Answered(description=body)
            answered.code = error.code
            raise answered from error

    CloudWatchResponse._authenticate_and_authorize_normal_action = authorize
