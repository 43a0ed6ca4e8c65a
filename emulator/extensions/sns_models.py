"""SNS in CloudFormation: topics updated in place, topic policies and subscriptions.

moto lacks (5.2.5): its CloudFormation models AWS::SNS::Topic only, and updates it by deleting
the topic and creating another under a new generated name: any change (a DisplayName, a
KmsMasterKeyId) gives the topic a new ARN, drops its subscriptions and resets its policy,
where CloudFormation updates those properties in place. AWS::SNS::TopicPolicy and
AWS::SNS::Subscription have no model at all ("NOT created"): a topic keeps moto's default
policy whatever the template says, and a subscription never exists. A created topic's Tags
are not kept as tags either.

This extension:
  * AWS::SNS::Topic: an update sets DisplayName, KmsMasterKeyId, DeliveryPolicy,
    SignatureVersion, TracingConfig, ContentBasedDeduplication, ArchivePolicy and
    DataProtectionPolicy on the same topic (a property removed goes back to its default),
    replaces its Tags and adds/removes the inline ``Subscription`` entries that changed;
    TopicName and FifoTopic replace it (stack_update's CREATE_ONLY); Tags are kept as tags.
  * AWS::SNS::TopicPolicy: sets PolicyDocument as the policy of each topic in Topics (a topic
    that does not exist fails the resource); an update re-applies it, and a topic no longer
    listed gets the default policy back, as does every topic when the resource is deleted.
    ``Ref`` is its generated id. The policy is stored and read back (GetTopicAttributes);
    moto's SNS API does not enforce it on Publish; ``emulator.alarms`` does evaluate it for
    an alarm's notification, as CloudWatch's delivery is subject to it.
  * AWS::SNS::Subscription: Subscribe with TopicArn, Protocol and Endpoint (all three
    create-only: a change replaces it), then RawMessageDelivery, FilterPolicy (object or
    string), FilterPolicyScope, RedrivePolicy, DeliveryPolicy and SubscriptionRoleArn as
    subscription attributes, updated in place; ``Ref`` is the subscription ARN; delete is
    Unsubscribe. As in moto, an email subscription counts as confirmed and no mail is sent.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel

from ._cfn_model import CfnModel, register

#: Topic properties updated in place -> (attribute on moto's Topic, default when removed).
TOPIC_ATTRIBUTES = {
    "DisplayName": ("display_name", ""),
    "KmsMasterKeyId": ("kms_master_key_id", ""),
    "DeliveryPolicy": ("delivery_policy", ""),
    "SignatureVersion": ("signature_version", None),
    "TracingConfig": ("tracing_config", None),
    "ContentBasedDeduplication": ("content_based_deduplication", False),
    "ArchivePolicy": ("archive_policy", None),
    "DataProtectionPolicy": ("data_protection_policy", None),
}
SUBSCRIPTION_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicyScope", "FilterPolicy", "RedrivePolicy",
                           "DeliveryPolicy", "SubscriptionRoleArn")


def _backend_for(arn: str, account_id: str, region_name: str) -> Any:
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    if len(parts) > 4 and parts[2] == "sns":
        account_id, region_name = parts[4], parts[3]
    return sns_backends[account_id][region_name]


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _tags(props: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in props.get("Tags") or []}


def _inline(props: dict[str, Any]) -> set[tuple[str, str]]:
    return {(item["Protocol"], item["Endpoint"]) for item in props.get("Subscription") or []}


# --------------------------------------------------------------------------- AWS::SNS::Topic

def _topic_create(original: Any) -> Any:
    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        topic = original.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json.get("Properties") or {}
        topic._tags = _tags(props)
        topic.emu_inline = _inline(props)
        return topic

    return classmethod(create_from_cloudformation_json)


def topic_update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
                 account_id: str, region_name: str) -> Any:
    """In place: the same topic, its ARN, subscriptions and policy kept."""
    topic = original_resource
    props = cloudformation_json.get("Properties") or {}
    for prop, (attribute, default) in TOPIC_ATTRIBUTES.items():
        value = props.get(prop, default)
        if prop in ("DeliveryPolicy", "ArchivePolicy", "DataProtectionPolicy") and value:
            value = _json_text(value)
        setattr(topic, attribute, value)
    topic._tags = _tags(props)
    backend = topic.sns_backend
    before, after = getattr(topic, "emu_inline", set()), _inline(props)
    for protocol, endpoint in sorted(before - after):
        found = backend._find_subscription(topic.arn, endpoint, protocol)
        if found is not None:
            backend.unsubscribe(found.arn)
    for protocol, endpoint in sorted(after - before):
        backend.subscribe(topic.arn, endpoint, protocol)
    topic.emu_inline = after
    return topic


# --------------------------------------------------------------------------- AWS::SNS::TopicPolicy

def _default_policy(topic: Any) -> dict[str, Any]:
    return topic._create_default_topic_policy(topic.sns_backend.region_name, topic.account_id, topic.name)


class SNSTopicPolicyModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::TopicPolicy"
    NAME_PROPERTY = ""  # no name property: CloudFormation generates the id
    PHYSICAL_ID = "policy_id"
    ATTRIBUTES = {"Id": "policy_id"}

    def __init__(self, policy_id: str, topics: list[str], document: Any, account_id: str, region_name: str):
        self.policy_id = policy_id
        self.topics = topics
        self.document = document
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def _parse(props: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        topics, document = props.get("Topics"), props.get("PolicyDocument")
        if not isinstance(topics, list) or not topics:
            raise ValueError("Topics is required: a list of topic ARNs")
        if isinstance(document, str):
            document = json.loads(document)
        if not isinstance(document, dict) or not document.get("Statement"):
            raise ValueError("PolicyDocument is required, with at least one Statement")
        return [str(t) for t in topics], document

    def _apply(self) -> None:
        text = json.dumps(self.document, separators=(",", ":"))
        found = [_backend_for(arn, self.account_id, self.region_name).get_topic(arn) for arn in self.topics]
        for topic in found:  # every topic exists (TopicNotFound otherwise) before any is changed
            topic.policy = text

    def _reset(self, arns: list[str]) -> None:
        from moto.sns.exceptions import TopicNotFound

        for arn in arns:
            try:
                topic = _backend_for(arn, self.account_id, self.region_name).get_topic(arn)
            except TopicNotFound:
                continue
            topic._policy_json = _default_policy(topic)

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SNSTopicPolicyModel":
        topics, document = cls._parse(props)
        model = cls(resource_name, topics, document, account_id, region_name)
        model._apply()
        return model

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SNSTopicPolicyModel":
        topics, document = self._parse(props)
        dropped = [arn for arn in self.topics if arn not in topics]
        self.topics, self.document = topics, document
        self._apply()
        self._reset(dropped)
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        self._reset(self.topics)


# --------------------------------------------------------------------------- AWS::SNS::Subscription

class SNSSubscriptionModel(CfnModel, CloudFormationModel):
    CFN_TYPE = "AWS::SNS::Subscription"
    PHYSICAL_ID = "arn"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, arn: str, topic_arn: str, account_id: str, region_name: str, props: dict[str, Any]):
        self.arn = arn
        self.topic_arn = topic_arn
        self.account_id = account_id
        self.region_name = region_name
        self.props = props

    def _set_attributes(self, props: dict[str, Any], previous: dict[str, Any]) -> None:
        backend = _backend_for(self.topic_arn, self.account_id, self.region_name)
        for name in SUBSCRIPTION_ATTRIBUTES:
            if name in props:
                value = props[name]
                if name == "RawMessageDelivery":
                    value = "true" if str(value).lower() == "true" else "false"
                elif name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
                    value = _json_text(value)
                backend.set_subscription_attributes(self.arn, name, value)
            elif name in previous:  # removed from the template: back to the default
                default = "false" if name == "RawMessageDelivery" else ""
                backend.set_subscription_attributes(self.arn, name, default)

    @classmethod
    def cfn_create(
        cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SNSSubscriptionModel":
        for name in ("TopicArn", "Protocol"):
            if not props.get(name):
                raise ValueError(f"{name} is required")
        backend = _backend_for(props["TopicArn"], account_id, region_name)
        subscription = backend.subscribe(props["TopicArn"], props.get("Endpoint") or "", props["Protocol"])
        model = cls(subscription.arn, props["TopicArn"], account_id, region_name, props)
        model._set_attributes(props, {})
        return model

    def cfn_update(
        self, new_resource_name: str, props: dict[str, Any], account_id: str, region_name: str
    ) -> "SNSSubscriptionModel":
        self._set_attributes(props, self.props)
        self.props = props
        return self

    def delete(self, account_id: str, region_name: str) -> None:
        _backend_for(self.topic_arn, account_id, region_name).unsubscribe(self.arn)


def apply() -> None:
    from moto.sns.models import Topic

    Topic.create_from_cloudformation_json = _topic_create(Topic.create_from_cloudformation_json)
    Topic.update_from_cloudformation_json = classmethod(topic_update)
    register(SNSTopicPolicyModel, SNSSubscriptionModel)
