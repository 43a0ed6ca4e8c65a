"""The watch after deploy (watchSchedule): an EventBridge Scheduler schedule that runs the
probe's own function with a re-check event, the alarms on the metrics that re-check
publishes, and the encrypted, TLS-only topic both alarms notify.

Construct code only; the re-check itself lives in logzio_s3_archive_runtime/ (the same probe, as the
same principal, as the deploy-time one)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from logzio_s3_archive_runtime.names import RECHECK_EVENT, STACK_NAME, Metric, Property, WatchOutput

from .probe import PermissionProbe
from .settings import ArchiveSettings, WatchSchedule

#: The sid of the probe role's statement that lets the re-check publish its metrics.
PUBLISH_METRICS_SID = "PublishRecheckMetrics"
CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


def alarm_period_seconds(interval_seconds: int, run_seconds: int) -> int:
    """The alarms' period: the re-check's interval plus slack. With a period of exactly the
    interval, a run that ends a little later than the one before (a cold start, a slow S3,
    the scheduler's own delivery) leaves one window empty, and an empty window counts as
    breaching: a false ALARM, then OK. The slack is a whole run (the function's timeout) plus
    5 minutes, or a tenth of the interval if longer, rounded up to a minute (CloudWatch wants
    a multiple of 60 s; periods of an hour or more may exceed a day)."""
    slack = max(run_seconds + 300, interval_seconds // 10)
    return -(-(interval_seconds + slack) // 60) * 60


class ArchiveWatch(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: ArchiveSettings, schedule: WatchSchedule,
                 bucket: s3.IBucket, probe: PermissionProbe, archive_name: str | None = None):
        """`archive_name` names this archive among the stack's (alarm names, descriptions):
        the stack's name when it holds one archive."""
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.stack_name = stack_name = stack.stack_name
        archive_name = archive_name or stack_name
        self.recheck_event = recheck_event(probe.properties, stack_name)
        period = Duration.seconds(alarm_period_seconds(schedule.period_seconds, settings.probe_timeout_seconds))
        # The role CDK would make, but in this construct, where the review of its grant can find it.
        self.schedule_role = iam.Role(
            self, "ScheduleRole", description="Lets EventBridge Scheduler invoke the archive probe's function.",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={"StringEquals": {
                "aws:SourceAccount": stack.account,
                "aws:SourceArn": stack.format_arn(service="scheduler", resource="schedule-group",
                                                  resource_name="default")}}))
        self.schedule = scheduler.Schedule(
            self, "Schedule", schedule=scheduler.ScheduleExpression.expression(schedule.expression),
            description=f"Re-checks that Logz.io can still archive to and restore from the bucket of "
                        f"stack {stack_name}",
            target=scheduler_targets.LambdaInvoke(
                probe.function, role=self.schedule_role,
                input=scheduler.ScheduleTargetInput.from_object(self.recheck_event),
                # A re-check that could not start before the next one is due is moot; the next
                # one publishes the same metrics.
                max_event_age=Duration.seconds(max(60, schedule.period_seconds)), retry_attempts=3))
        # Not before the deploy-time probe has passed: on a first deploy a new key or policy may not
        # work yet (IAM is eventually consistent; the probe waits for it), and a re-check then would
        # raise a false alarm. On an update, the schedule takes the new properties once they proved.
        self.schedule.node.add_dependency(probe.resource)
        probe.role.add_to_principal_policy(iam.PolicyStatement(
            sid=PUBLISH_METRICS_SID, actions=["cloudwatch:PutMetricData"],
            # PutMetricData has no resource type: the namespace condition is its only scope.
            resources=["*"], conditions={"StringEquals": {"cloudwatch:namespace": Metric.NAMESPACE}}))
        # The deploy-time probe publishes the first points (same names and dimensions), so a
        # green deploy leaves the health alarm OK (missing data is breaching, and the first
        # scheduled re-check may be hours away).
        probe.publish_first_metrics(stack_name)

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace=Metric.NAMESPACE, metric_name=name, statistic=statistic,
                                     period=period, dimensions_map={Metric.STACK: stack_name,
                                                                    Metric.BUCKET: bucket.bucket_name})

        where = (f"Why: logzio-archive status --stack {stack_name}; after a fix, re-check at once: "
                 f"logzio-archive check --stack {stack_name}.")
        # Names are fixed (not generated) so that the topic's and the key's policies can name the
        # alarms without depending on them (the alarms depend on the topic).
        self.health_alarm_name = f"{archive_name}-ArchiveHealth"
        self.health_alarm = cloudwatch.Alarm(
            self, "HealthAlarm", alarm_name=self.health_alarm_name,
            metric=metric(Metric.HEALTHY, "Minimum"), threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1, datapoints_to_alarm=1,
            # A re-check that stops running is itself an alarm.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            alarm_description=(
                f"Logz.io archive of stack {stack_name}: the scheduled re-check found a missing permission "
                "or a bucket setting that breaks archive or restore, or did not report within "
                f"{_duration(schedule.period_seconds)} ({schedule.expression}). {where}"))
        self.freshness_alarm_name = None
        self.freshness_alarm = None
        if settings.max_archive_age_hours is not None:
            hours = settings.max_archive_age_hours
            self.freshness_alarm_name = f"{archive_name}-ArchiveFreshness"
            self.freshness_alarm = cloudwatch.Alarm(
                self, "FreshnessAlarm", alarm_name=self.freshness_alarm_name,
                metric=metric(Metric.NEWEST_ARCHIVE_AGE_HOURS, "Maximum"), threshold=hours,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1, datapoints_to_alarm=1,
                # No age, no verdict: a re-check that did not run is the health alarm's business.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=(
                    f"Logz.io archive of stack {stack_name}: the newest archive Logz.io wrote to the bucket is "
                    f"older than {hours} hours (maxArchiveAgeHours). Check that archiving is enabled in "
                    f"Logz.io (Settings > Archive & restore) and that logs are arriving. {where}"))
        self.alarms = [alarm for alarm in (self.health_alarm, self.freshness_alarm) if alarm]
        for alarm in self.alarms:
            # After the deploy-time probe, like the schedule: the probe that passed has published
            # the first Healthy point by then, so the new alarm's first evaluation finds it. (Its
            # period outlasts the re-check's interval, so the first re-check follows in time.)
            alarm.node.add_dependency(probe.resource)
        alarm_arns = [stack.format_arn(service="cloudwatch", resource="alarm", resource_name=name,
                                       arn_format=ArnFormat.COLON_RESOURCE_NAME)
                      for name in (self.health_alarm_name, self.freshness_alarm_name) if name]
        self.topic = self._topic(stack, settings, alarm_arns)
        for alarm in self.alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
            alarm.add_ok_action(cloudwatch_actions.SnsAction(self.topic))

    def _topic(self, stack: Stack, settings: ArchiveSettings, alarm_arns: list[str]) -> sns.Topic:
        # A key of its own: CloudWatch can publish to an encrypted topic only if the key policy
        # lets it use the key, and the AWS managed key (alias/aws/sns) allows no such statement.
        self.key = kms.Key(
            self, "TopicKey", enable_key_rotation=True, pending_window=Duration.days(7),
            # It encrypts nothing but alarm messages in flight: nothing to keep after the stack.
            removal_policy=RemovalPolicy.DESTROY,
            description=f"Encrypts the archive alarm topic of stack {self.stack_name}")
        self.key.add_to_resource_policy(iam.PolicyStatement(
            # The statement AWS documents for alarms that notify an encrypted topic.
            sid="AlarmsEncryptNotifications", principals=[CLOUDWATCH],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"]))
        # (The display name is the sender of the mails; SNS allows 100 characters, so no stack name.)
        topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True,
                          display_name="Logz.io archive alarms")
        # The topic policy CDK writes (the TLS-only Deny) replaces SNS's default one: allow the
        # alarms of this stack, and nothing else, to publish.
        topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AlarmsPublish", principals=[CLOUDWATCH], actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": alarm_arns}}))
        if settings.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        return topic

    def add_outputs(self, output) -> None:
        """`output(name, value, description)` adds one stack output."""
        output(WatchOutput.HEALTH_ALARM, self.health_alarm_name,
               "Alarm on the scheduled re-check (Healthy < 1, or no re-check)")
        if self.freshness_alarm_name:
            output(WatchOutput.FRESHNESS_ALARM, self.freshness_alarm_name,
                   "Alarm on the age of the newest archive (maxArchiveAgeHours)")
        output(WatchOutput.TOPIC_ARN, self.topic.topic_arn, "SNS topic the archive alarms notify")
        output(WatchOutput.SCHEDULE, self.schedule.schedule_name,
               "EventBridge Scheduler schedule that runs the re-check")


def recheck_event(probe_properties: dict, stack_name: str) -> dict:
    """What the schedule hands the function: the probe's own properties (all but the
    per-deploy nonce), and the stack the metrics are published for."""
    properties = {name: value for name, value in probe_properties.items()
                  if name != Property.RUN_ON_EVERY_DEPLOY}
    return {RECHECK_EVENT: {**properties, STACK_NAME: stack_name}}


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
