"""AWS::CloudWatch::Dashboard for moto's CloudFormation.

moto lacks (5.2.5): it has a model for the type, and one that mostly works under
stack_lifecycle and stack_update (create with DashboardName, a body update, delete), but a
dashboard without DashboardName is named with a random UUID, and every update deletes it and
makes another under a *new* UUID (Ref changes, the old name is gone; CloudFormation keeps the
generated name across updates); the body is not checked (PutDashboard refuses a body that is
not a JSON object, so the resource fails on AWS and was created here); and a new
DashboardName is deleted-then-created inside the update rather than replaced.

This extension: a model in place of moto's that puts the dashboard through moto's CloudWatch
backend (``put_dashboard``, so GetDashboard/ListDashboards answer it). ``Ref`` is its name,
generated as ``<stack>-<logical id>-<suffix>`` without DashboardName and kept by every
update; a body change is PutDashboard in place under the same name; a new DashboardName
replaces it (stack_update's CREATE_ONLY: the new one is made, the old one deleted in the
cleanup phase); delete is DeleteDashboards (one already gone is no error). Refused as
PutDashboard refuses them, so the resource fails: a missing DashboardBody, a body that is
not a JSON object or has no ``widgets`` list, a name that is not 1-255 of A-Z a-z 0-9 - _.

Not modelled: a DashboardName already taken by another dashboard of the account
(CloudFormation fails the create, "already exists"; here, as with PutDashboard, the body is
replaced), and dashboards being global to the account (moto keeps them per region:
GetDashboard answers in the stack's region only).
"""

from __future__ import annotations

import json
import re
from typing import Any

# moto's own model first: parsing's type map keeps the last model of a type, this one.
import moto.cloudwatch.models  # noqa: F401
from moto.core.common_models import CloudFormationModel

from ._cfn_model import CfnModel, register

NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")


def _backend(account_id: str, region_name: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region_name]


def validate(name: str, props: dict[str, Any]) -> str:
    """The body PutDashboard would take (a ValidationError/InvalidParameterInput on AWS)."""
    if not NAME.fullmatch(name):
        raise ValueError(f"DashboardName {name!r}: 1 to 255 of A-Z, a-z, 0-9, '-' and '_'")
    body = props.get("DashboardBody")
    if not isinstance(body, str) or not body:
        raise ValueError("DashboardBody is required")
    try:
        parsed = json.loads(body)
    except ValueError as error:
        raise ValueError(f"The field DashboardBody must be a valid JSON object ({error})") from None
    if not isinstance(parsed, dict):
        raise ValueError("The field DashboardBody must be a valid JSON object")
    if not isinstance(parsed.get("widgets"), list):
        raise ValueError("The field DashboardBody must have a widgets list")
    return body


class CloudWatchDashboardModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::CloudWatch::Dashboard"
    NAME_PROPERTY = "DashboardName"
    PHYSICAL_ID = "name"
    ATTRIBUTES: dict[str, str] = {}  # CloudFormation answers Ref only

    def __init__(self, name: str, arn: str, props: dict[str, Any]):
        self.name = name
        self.arn = arn
        self.props = props

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "CloudWatchDashboardModel":
        # resource_name: DashboardName, or the name moto's parsing generated without one.
        body = validate(resource_name, props)
        dashboard = _backend(account_id, region_name).put_dashboard(name=resource_name, body=body)
        return cls(dashboard.name, dashboard.arn, props)

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "CloudWatchDashboardModel":
        # In place under its own name: a generated one is kept, a new DashboardName is a
        # replacement (stack_update's CREATE_ONLY) and does not come here.
        body = validate(self.name, props)
        self.arn = _backend(account_id, region_name).put_dashboard(name=self.name, body=body).arn
        self.props = props
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        # DeleteDashboards of a dashboard already gone answers an error text; CloudFormation's
        # delete succeeds.
        _backend(account_id, region_name).delete_dashboards([self.name])

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _backend(account_id, region_name).delete_dashboards([resource_name])


def apply() -> None:
    from moto.cloudwatch.models import Dashboard

    # parsing finds a type's name property on the first model of that type, moto's, which
    # has none (so a DashboardName given was ignored for the generated name): say it there too.
    Dashboard.cloudformation_name_type = staticmethod(lambda: CloudWatchDashboardModel.NAME_PROPERTY)
    register(CloudWatchDashboardModel)
