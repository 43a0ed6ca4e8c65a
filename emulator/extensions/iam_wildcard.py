"""IAM's ``?`` wildcard in a policy's Resource and Action.

moto lacks (5.2.5): ``IAMPolicyStatement._match`` turns only ``*`` into a regex
(``.*``) and compiles the rest of the pattern as it is, so ``?`` is not a single-character
wildcard: it makes the character before it optional. A Resource such as
``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-??????`` (how a grant names a secret
without its random 6-character suffix, e.g. the Logz.io API token's secret) does not match
the secret's ARN, and ``??????`` is not even a valid regex: ``re.error: multiple repeat``,
so every call that policy is checked for fails with HTTP 500. The other regex characters
of a pattern (``.``, ``+``, ``(``...) were not literal either.

This extension: replaces ``_match`` with IAM's matching: ``*`` any run of characters
(none too), ``?`` exactly one character, everything else literal; the whole value must
match. Case sensitivity stays as moto has it (exact), for Action and Resource alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Match


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> "re.Pattern[str]":
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      flags=re.DOTALL)


def iam_match(pattern: str, string: str) -> Match[str] | None:
    """IAM's wildcards: ``*`` any run of characters, ``?`` exactly one, everything else literal."""
    return _regex(str(pattern)).fullmatch(str(string))


def apply() -> None:
    from moto.iam.access_control import IAMPolicyStatement

    IAMPolicyStatement._match = staticmethod(iam_match)
