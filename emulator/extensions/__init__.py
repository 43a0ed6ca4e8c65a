"""Extensions that close the gaps between moto 5.2.5 and real AWS for CDK deploys.

Every module patches one of moto's own model/response classes in a small, bounded
way, written against moto MOTO_VERSION and nothing else: ``apply_all()`` refuses to run
on another moto version (the patched internals change between releases).  It is
idempotent and must run before the moto server handles its first CloudFormation request
(``Emulator.start()`` does this).

Modules:
  secret_model      - CloudFormation model for AWS::SecretsManager::Secret
  local_lambda      - run Python Lambda functions in a local subprocess (no Docker)
  custom_resource   - Custom:: resources: invoke, wait for the cfn response, honour FAILED
  stack_lifecycle   - asynchronous create/update with per-resource events and rollback
  stack_update      - updates in CloudFormation's order: resolved-property diff, replacement
                      (create new, update dependents, delete old at cleanup), journal rollback
  update_parameters - UsePreviousValue for a parameter that took its default (BootstrapVersion)
  changeset_lookup  - deleting a missing change set succeeds; describing one: ChangeSetNotFound
  bucket_settings   - a CloudFormation bucket's versioning, ownership, public access block, lifecycle
  s3_action_names   - GetBucketOwnershipControls (and kin) authorized as their own IAM actions
  bucket_features   - Requester Pays and Intelligent-Tiering configurations (moto has neither
                      sub-resource), authorized as their IAM actions
  expected_bucket_owner - ExpectedBucketOwner naming another account than the bucket's: 403 AccessDenied
                      (moto ignored the header)
  lifecycle_size_filter - a lifecycle rule's ObjectSizeGreaterThan/LessThan filter kept and read back
  resource_authz    - IAM authorization against the real resource ARN (secretsmanager, kms, lambda,
                      cloudformation)
  changeset_guard   - change-set execution goes through the same lifecycle (no false CREATE_COMPLETE)
  cli_compat        - cloudtrail:LookupEvents stub (the CDK CLI calls it after a failed deploy)
  iam_inline_policy - user-only inline policies no longer break every role delete
  trust_policy      - role trust policies evaluated as AWS does (several principals, sessions)
  caller_account    - a caller whose access key belongs to another account is served in that account
                      (moto: MOTO_ACCOUNT_ID pinned every request to the emulator's account)
  cross_account_trust - AssumeRole into another account's role reads that role's trust policy (moto:
                      looked in the caller's account, missed it, skipped the check); an account
                      principal names that account's users and roles
  cloudwatch_authz  - CloudWatch calls authorized as cloudwatch:<Action> (moto: monitoring:), with
                      the cloudwatch:namespace condition key; AccessDenied in CloudWatch's protocol
  bodyless_signature - a GET/HEAD/DELETE without a body passes SigV4 verification (moto: REST
                      GETs such as GetSchedule or ListFunctions failed SignatureDoesNotMatch)
  alarm_state       - a new alarm is INSUFFICIENT_DATA (moto: OK); redefining one keeps its state
  alarm_model       - CloudFormation model for AWS::CloudWatch::Alarm
  dashboard_model   - CloudFormation model for AWS::CloudWatch::Dashboard in place of moto's: a
                      generated name kept by updates (moto: a new UUID each update), the body
                      checked as PutDashboard checks it, a new DashboardName a replacement
  scheduler_model   - CloudFormation model for AWS::Scheduler::Schedule
  sns_models        - AWS::SNS::Topic updated in place (moto: replaced); models for
                      AWS::SNS::TopicPolicy and AWS::SNS::Subscription
  iam_wildcard      - IAM's ? wildcard (one character) in a policy's Resource and Action (moto: a
                      regex quantifier; NAME-?????? raised "multiple repeat", a 500 on every call)
  bucket_policy_model - CloudFormation model for AWS::S3::BucketPolicy (moto: NOT created)
  secure_transport  - bucket policies evaluated for a request over TLS (aws:SecureTransport true;
                      moto took every condition as met: the TLS-only Deny refused every call)
  bucket_policy_authz - the bucket policy evaluated for the caller when IAM authorizes an S3
                      request: a Deny on s3:ListBucket holds, a Deny names its principals, the
                      answer is AccessDenied (moto: object requests only, every caller, a bare 403)

  metric_data_index - GetMetricData in time proportional to the data (moto: queries x periods x
                      points, seconds for a fleet's batch where CloudWatch takes a fraction of one)

Not extensions: _policy.py evaluates IAM policy documents for cloudwatch_authz and emulator/alarms.py
(and secure_transport's aws:SecureTransport conditions); _cfn_model.py is what the CloudFormation
models above (secret, alarm, dashboard, scheduler, sns, bucket policy) share;
emulator/alarms.py evaluates an alarm when a test asks (moto never does).
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

#: The moto release every extension was written and tested against.
MOTO_VERSION = "5.2.5"


class UnsupportedMotoVersion(RuntimeError):
    pass


def apply_all() -> None:
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"The emulator's extensions patch moto {MOTO_VERSION} internals, but moto {moto.__version__} "
            f"is installed. Install the pinned one (pip install -r requirements-dev.txt -c constraints.txt, "
            f"or `make setup`), or port emulator/extensions/ to the new release and change MOTO_VERSION.")
    from . import (
        alarm_model,
        alarm_state,
        bodyless_signature,
        bucket_features,
        bucket_policy_authz,
        bucket_policy_model,
        bucket_settings,
        caller_account,
        changeset_guard,
        changeset_lookup,
        cli_compat,
        cloudwatch_authz,
        cross_account_trust,
        custom_resource,
        dashboard_model,
        expected_bucket_owner,
        iam_inline_policy,
        iam_wildcard,
        lifecycle_size_filter,
        local_lambda,
        metric_data_index,
        resource_authz,
        s3_action_names,
        scheduler_model,
        secret_model,
        secure_transport,
        sns_models,
        stack_lifecycle,
        trust_policy,
        update_parameters,
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
            caller_account,
            cross_account_trust,
            update_parameters,
            changeset_lookup,
            bucket_settings,
            s3_action_names,
            bucket_features,
            expected_bucket_owner,
            lifecycle_size_filter,
            cloudwatch_authz,
            bodyless_signature,
            alarm_state,
            alarm_model,
            dashboard_model,
            scheduler_model,
            sns_models,
            iam_wildcard,
            metric_data_index,
            bucket_policy_model,
            secure_transport,
            bucket_policy_authz,
        ):
            if mod.__name__ not in STATE.applied:
                mod.apply()
                STATE.applied.add(mod.__name__)
