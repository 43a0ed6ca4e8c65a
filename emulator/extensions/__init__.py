"""Extensions that close the gaps between moto 5.2.5 and real AWS for CDK deploys.

Every module patches one of moto's own model/response classes in a small, bounded
way.  ``apply_all()`` is idempotent and must run before the moto server handles
its first CloudFormation request (``Emulator.start()`` does this).

Modules:
  secret_model      - CloudFormation model for AWS::SecretsManager::Secret
  local_lambda      - run Python Lambda functions in a local subprocess (no Docker)
  custom_resource   - Custom:: resources: invoke, wait for the cfn response, honour FAILED
  stack_lifecycle   - asynchronous create/update with per-resource events and rollback
  resource_authz    - IAM authorization against the real resource ARN (secretsmanager, kms, lambda)
  changeset_guard   - change-set execution goes through the same lifecycle (no false CREATE_COMPLETE)
  cli_compat        - cloudtrail:LookupEvents stub (the CDK CLI calls it after a failed deploy)
  iam_inline_policy - user-only inline policies no longer break every role delete
  trust_policy      - role trust policies evaluated as AWS does (several principals, sessions)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class EmulatorState:
    """Process-wide settings the extensions need at request time."""

    endpoint_url: str = "http://localhost:5000"
    log_dir: str | None = None
    # Run stack create/update in a background thread (like CloudFormation does).
    async_stacks: bool = True
    # Seconds to wait for a custom-resource response after the handler process ended.
    response_grace_seconds: float = 3.0
    lambda_log_echo: bool = False
    applied: set = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)


STATE = EmulatorState()


def apply_all() -> None:
    from . import (
        changeset_guard,
        cli_compat,
        custom_resource,
        iam_inline_policy,
        local_lambda,
        resource_authz,
        secret_model,
        stack_lifecycle,
        trust_policy,
    )

    with STATE.lock:
        for mod in (
            secret_model,
            local_lambda,
            custom_resource,
            stack_lifecycle,
            resource_authz,
            changeset_guard,
            cli_compat,
            iam_inline_policy,
            trust_policy,
        ):
            if mod.__name__ not in STATE.applied:
                mod.apply()
                STATE.applied.add(mod.__name__)
