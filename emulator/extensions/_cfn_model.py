"""What the emulator's own CloudFormation models share (not an extension: it patches nothing).

moto's CloudFormation finds a model only as a *direct* subclass of CloudFormationModel
(``parsing.get_model_list`` is ``CloudFormationModel.__subclasses__()``), so this is a mixin
placed before it, ``class XModel(CfnModel, CloudFormationModel)``, not a base class between
them. A model names its type, name property, physical id and ``Fn::GetAtt`` attributes as
class attributes and implements ``cfn_create`` (a classmethod) and ``cfn_update`` with the
resource's Properties; ``register`` makes the models visible to moto's parsing.
"""

from __future__ import annotations

from typing import Any


class CfnModel:
    #: The resource type, e.g. "AWS::CloudWatch::Alarm".
    CFN_TYPE = ""
    #: Its name property ("": none, CloudFormation generates the id).
    NAME_PROPERTY = ""
    #: The instance attribute that is the physical id (what ``Ref`` answers).
    PHYSICAL_ID = ""
    #: ``Fn::GetAtt`` attribute -> the instance attribute that answers it.
    ATTRIBUTES: dict[str, str] = {}

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @property
    def physical_resource_id(self) -> str:
        return getattr(self, self.PHYSICAL_ID)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name in self.ATTRIBUTES:
            return getattr(self, self.ATTRIBUTES[attribute_name])
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        return cls.cfn_create(resource_name, cloudformation_json.get("Properties") or {}, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        return original_resource.cfn_update(
            new_resource_name, cloudformation_json.get("Properties") or {}, account_id, region_name)

    @classmethod
    def cfn_create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        raise NotImplementedError

    def cfn_update(self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        """Update from the new Properties; return the resource (this one when in place)."""
        raise NotImplementedError


def register(*models: type[CfnModel]) -> None:
    """Make the models visible to moto's CloudFormation (call from an extension's apply())."""
    from moto.cloudformation import parsing

    # parsing caches the subclass list; the new models must be visible to it.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    found = parsing.get_model_map()
    for model in models:
        assert found[model.CFN_TYPE] is model
