"""Names on both sides of the stack/runtime boundary, written once.

stacks/ sets the custom resource's properties and outputs the attributes the handler
answers; the handler reads those properties; the operator command reads the outputs.
A name typed on one side only would fail at deploy time, not at synth: every one is here.
"""

from __future__ import annotations

from . import checks


class Property:
    """Resource properties of Custom::LogzioArchiveProbe (CloudFormation hands them over as strings)."""

    BUCKET_NAME = "BucketName"
    REGION = "Region"
    SECRET_ARN = "SecretArn"
    ACCESS_KEY_ID = "AccessKeyId"
    ROLE_ARN = "RoleArn"
    EXTERNAL_ID = "ExternalId"
    POLICY_DIGEST = "PolicyDigest"
    KEY_DEADLINE_SECONDS = "KeyDeadlineSeconds"
    SETTLE_SECONDS = "SettleSeconds"
    RUN_ON_EVERY_DEPLOY = "RunOnEveryDeploy"
    #: "true" lets an update move the archive to another bucket, which the probe refuses otherwise.
    ALLOW_BUCKET_CHANGE = "AllowBucketChange"
    #: "true": warnings fail the deploy too.
    STRICT = "Strict"
    #: With a watch (watchSchedule): the stack the metrics are published for (their Stack
    #: dimension; Bucket is BUCKET_NAME). A probe that passes then publishes the first Healthy
    #: and per-permission points, as the re-check does. Absent without a watch.
    METRICS_STACK = "StackName"
    # Custom::LogzioArchiveSettings (the hand-off to Logz.io's API) also takes BUCKET_NAME,
    # REGION, SECRET_ARN + ACCESS_KEY_ID (keys) or ROLE_ARN (role), and these:
    #: Name or ARN of the secret whose value is the Logz.io API token (never the token).
    TOKEN_SECRET_ARN = "TokenSecretArn"
    #: Logz.io's API base URL (https://api-eu.logz.io, ...).
    API_URL = "ApiUrl"
    #: "disable" (default) or "keep": what stack delete does to Logz.io's archive setting.
    ON_DELETE = "OnDelete"
    #: "true" when this deploy created the bucket (absent otherwise): a failed Create of the
    #: hand-off then removes Logz.io's test object, so the rollback can delete the bucket.
    BUCKET_CREATED = "BucketCreated"


#: The custom resource types the one function serves (handler.py routes on ResourceType).
PROBE_RESOURCE_TYPE = "Custom::LogzioArchiveProbe"
HANDOFF_RESOURCE_TYPE = "Custom::LogzioArchiveSettings"


class Attribute:
    """What the handler answers on SUCCESS (Fn::GetAtt Probe.<name>)."""

    #: One per permission, its status ("granted", ...).
    OF_ACTION = {checks.PUT_OBJECT: "PutObject", checks.LIST_BUCKET: "ListBucket",
                 checks.GET_OBJECT: "GetObject", checks.GET_BUCKET_LOCATION: "GetBucketLocation"}
    CHECKS = "Checks"
    VERDICT = "Verdict"
    FINDINGS = "Findings"
    PROBE_KEY = "ProbeKey"
    BUCKET_REGION = "BucketRegion"
    #: The access key id or role ARN the probe ran as.
    PROBED_CREDENTIALS = "ProbedCredentials"
    #: Of Custom::LogzioArchiveSettings: Logz.io's id of the archive setting, and its test's verdict.
    SETTINGS_ID = "SettingsId"
    LOGZIO_TEST = "LogzioTest"


class Output:
    """Stack outputs (CfnOutput), read by the operator command and the demo."""

    BUCKET_NAME = "BucketName"
    REGION = "Region"
    USER_NAME = "UserName"
    ACCESS_KEY_ID = "AccessKeyId"
    SECRET_ARN = "SecretArn"
    GET_SECRET_COMMAND = "GetSecretCommand"
    ROLE_ARN = "RoleArn"
    EXTERNAL_ID = "ExternalId"
    PROBE_VERDICT = "ProbeVerdict"
    PROBE_CHECKS = "ProbeChecks"
    PROBE_FINDINGS = "ProbeFindings"
    PROBED_CREDENTIALS = "ProbedCredentials"
    #: With the hand-off to Logz.io's API (logzioApiTokenSecret).
    LOGZIO_SETTINGS_ID = "LogzioArchiveSettingsId"
    LOGZIO_TEST = "LogzioTest"
    #: Logz.io's API base URL, and the NAME or ARN of the secret holding the API token (never
    #: the token): what `logzio_s3_archive_runtime logzio-test` needs.
    LOGZIO_API_URL = "LogzioApiUrl"
    LOGZIO_API_TOKEN_SECRET = "LogzioApiTokenSecret"


#: Key of the scheduled re-check's event (EventBridge Scheduler's input to the function): its
#: value holds the same Property names as the custom resource, plus Property-like STACK_NAME.
RECHECK_EVENT = "LogzioArchiveRecheck"
#: In the re-check event (and the probe's properties, with a watch): the stack whose archive
#: is watched (the metrics' Stack dimension).
STACK_NAME = Property.METRICS_STACK


#: In the description of every stack that holds an archive: what `logzio-archive fleet` finds
#: archives by (the app's stacks always ended their description with it).
FLEET_MARKER = "(logzio-s3-archive)"


class Metric:
    """What the scheduled re-check publishes (CloudWatch), and the alarms read."""

    NAMESPACE = "LogzioArchive"
    #: 1 when every permission is granted and there is no error finding, else 0.
    HEALTHY = "Healthy"
    #: One per permission: 1 granted, 0 not.
    OF_ACTION = {checks.PUT_OBJECT: "PutObjectGranted", checks.LIST_BUCKET: "ListBucketGranted",
                 checks.GET_OBJECT: "GetObjectGranted", checks.GET_BUCKET_LOCATION: "GetBucketLocationGranted"}
    #: Age of the newest object Logz.io wrote (probe objects and logzio-verified aside).
    NEWEST_ARCHIVE_AGE_HOURS = "NewestArchiveAgeHours"
    #: Dimensions of every metric, in this order.
    STACK = "Stack"
    BUCKET = "Bucket"


class WatchOutput:
    """Stack outputs of the watch (present unless watchSchedule=off)."""

    HEALTH_ALARM = "HealthAlarmName"
    FRESHNESS_ALARM = "FreshnessAlarmName"
    TOPIC_ARN = "AlarmTopicArn"
    SCHEDULE = "RecheckScheduleName"
