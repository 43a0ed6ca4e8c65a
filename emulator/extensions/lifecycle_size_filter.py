"""The object-size conditions of a lifecycle rule's filter, stored and read back.

moto lacks (5.2.5): its lifecycle filter model keeps a prefix, a tag and an ``And`` of
prefix and tags, but not ``ObjectSizeGreaterThan`` or ``ObjectSizeLessThan``.
GetBucketLifecycleConfiguration of a rule put with ``Filter: {ObjectSizeGreaterThan:
1024}`` answers ``Filter: {}``, and one with ``And: {Prefix, ObjectSizeGreaterThan}``
answers the prefix alone: the rule reads back as applying to objects of every size.

This extension: after moto's own parsing (which checks everything else), the size
conditions of each rule's ``Filter`` (at its top or in its ``And``) are kept on moto's
filter objects, and GetBucketLifecycleConfiguration answers them where they were put.
moto still runs no lifecycle rule, so no size is ever compared.
"""

from __future__ import annotations

from typing import Any

SIZES = ("ObjectSizeGreaterThan", "ObjectSizeLessThan")


def _sizes(node: Any) -> dict[str, int]:
    if not isinstance(node, dict):
        return {}
    return {name: int(node[name]) for name in SIZES if node.get(name) not in (None, "")}


def keep_sizes(rule_dict: dict[str, Any], rule: Any) -> None:
    """Attach the size conditions of `rule_dict`'s Filter to moto's parsed `rule`."""
    lc_filter = getattr(rule, "filter", None)
    given = rule_dict.get("Filter")
    if lc_filter is None or not isinstance(given, dict):
        return
    lc_filter.object_sizes = _sizes(given)
    if lc_filter.and_filter is not None:
        lc_filter.and_filter.object_sizes = _sizes(given.get("And"))


def add_sizes(answered: dict[str, Any], rule: Any) -> None:
    """Put `rule`'s size conditions into its answered Filter (and its And)."""
    lc_filter = getattr(rule, "filter", None)
    if lc_filter is None or "Filter" not in answered:
        return
    answered["Filter"].update(getattr(lc_filter, "object_sizes", {}))
    if lc_filter.and_filter is not None and "And" in answered["Filter"]:
        answered["Filter"]["And"].update(getattr(lc_filter.and_filter, "object_sizes", {}))


def apply() -> None:
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    original_set = FakeBucket.set_lifecycle
    original_get = S3Response.get_bucket_lifecycle

    def set_lifecycle(self, rules):  # type: ignore[no-untyped-def]
        original_set(self, rules)
        for rule_dict, rule in zip(rules, self.rules):
            keep_sizes(rule_dict, rule)

    def get_bucket_lifecycle(self):  # type: ignore[no-untyped-def]
        rules = list(self.backend.get_bucket_lifecycle(self.bucket_name))
        serialized = self.serialized

        def with_sizes(action_result):  # type: ignore[no-untyped-def]
            result = action_result.result
            if isinstance(result, dict):
                for answered, rule in zip(result.get("Rules", []), rules):
                    add_sizes(answered, rule)
            return serialized(action_result)

        self.serialized = with_sizes
        try:
            return original_get(self)
        finally:
            del self.serialized

    FakeBucket.set_lifecycle = set_lifecycle
    S3Response.get_bucket_lifecycle = get_bucket_lifecycle
