"""A caller from another AWS account is served in its own account.

The emulator pins moto to its account with MOTO_ACCOUNT_ID (process-wide), and moto then
serves every request in that account: an access key of a user in another account (e.g.
Logz.io's, created in moto's IAM backend of 406095609952) is looked up in the emulator's
account, not found, and refused (InvalidClientTokenId). With this, a request whose access
key belongs to another account's IAM backend is authenticated, authorized and served in
that account; every other request (the emulator's own keys, unknown keys, temporary
credentials of a role in the emulator's account) stays in the pinned account.

Not modelled: cross-account resource access. Such a caller sees its own account's
resources only (an S3 bucket of the emulator's account is not visible to it); what it does
in practice is sts:AssumeRole into a role of the emulator's account (cross_account_trust)."""

from __future__ import annotations

import os
from typing import Any

_original: Any = None


def _owner_account(access_key: str) -> str | None:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import PARTITION_NAMES

    for account_id, account in list(iam_backends.items()):
        for partition in PARTITION_NAMES:
            if partition in account and access_key in account[partition].access_keys:
                return account_id
    return None


def get_current_account(self: Any) -> str:
    pinned = os.environ.get("MOTO_ACCOUNT_ID")
    if pinned is None:
        return _original(self)
    owner = _owner_account(self.get_access_key())
    return owner if owner is not None else pinned


def apply() -> None:
    global _original
    from moto.core.responses import BaseResponse

    _original = BaseResponse.get_current_account
    BaseResponse.get_current_account = get_current_account
