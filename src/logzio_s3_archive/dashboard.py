"""LogzioArchiveDashboard: one CloudWatch dashboard of several archives' watch. Per archive,
its health (Healthy), the four per-permission metrics and the age of the newest archive
(NewestArchiveAgeHours) as the scheduled re-check publishes them, and one alarm-status
widget of all their alarms.

The dashboard may live in another stack than the archives (the app puts one per account and
region into that region's first archive stack), so it takes nothing from their stacks but
plain strings: metrics are found by SEARCH expressions on their Stack dimension (a literal
stack name), alarms by their fixed names. A bucket's name is added to the search only when
it is a literal or the bucket is in the dashboard's own stack; a generated bucket of another
stack is a token of that stack, and naming it would make a cross-stack reference
(Fn::ImportValue), so a deploy of one stack could then block the other's."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from logzio_s3_archive_runtime.names import Attribute, Metric

from .archive import HIDDEN_ID, LogzioArchive
from .settings import SettingsError
from .watch import alarm_period_seconds

#: The schema every metric of the watch is published under: its namespace and dimensions.
SCHEMA = f"{{{Metric.NAMESPACE},{Metric.BUCKET},{Metric.STACK}}}"
#: What the graphs show by default: several re-checks even on a daily schedule.
DEFAULT_INTERVAL = Duration.days(7)
#: CloudWatch's dashboard grid is 24 units wide.
GRID_WIDTH = 24
ROW_HEIGHT = 6
#: CloudWatch's limit of alarms in one alarm-status widget.
ALARMS_PER_WIDGET = 100


def search_expression(metric_name: str, stack_name: str, bucket: str | None, statistic: str,
                      period_seconds: int) -> str:
    """CloudWatch's SEARCH for one of the watch's metrics of one stack (and bucket)."""
    terms = [f'MetricName="{metric_name}"', f'{Metric.STACK}="{stack_name}"']
    if bucket is not None:
        terms.append(f'{Metric.BUCKET}="{bucket}"')
    return f"SEARCH('{SCHEMA} {' '.join(terms)}', '{statistic}', {period_seconds})"


class LogzioArchiveDashboard(Construct):
    """A CloudWatch dashboard of `archives` (LogzioArchive constructs of this app, in this
    stack or others of the same account and region): their re-check metrics and alarms.
    `dashboard_name` is the dashboard's name (unique in the account; CloudFormation generates
    one when None). An archive whose watch is off (watch_schedule="off") publishes no metric
    and has no alarm: it is listed in a text widget that says so."""

    def __init__(self, scope: Construct, id: str, *, archives: Sequence[LogzioArchive],
                 dashboard_name: str | None = None):
        archives = list(archives)
        _refuse_bad_archives(archives)
        super().__init__(scope, id)
        stack = Stack.of(self)
        for archive in archives:
            _refuse_other_environment(archive, stack)
        self.archives = archives
        #: The alarm names the alarm-status widget shows (those of every watched archive).
        self.alarm_names: list[str] = [name for archive in archives if archive.watch is not None
                                       for name in (archive.watch.health_alarm_name,
                                                    archive.watch.freshness_alarm_name) if name]
        rows: list[list[cloudwatch.IWidget]] = [[_title(archives)]]
        alarms = [cloudwatch.Alarm.from_alarm_name(self, f"Alarm{index}", name)
                  for index, name in enumerate(self.alarm_names)]
        for start in range(0, len(alarms), ALARMS_PER_WIDGET):
            chunk = alarms[start:start + ALARMS_PER_WIDGET]
            rows.append([cloudwatch.AlarmStatusWidget(
                title="Archive alarms", alarms=chunk, width=GRID_WIDTH,
                height=2 + -(-len(chunk) // 4))])  # four alarms a line
        for archive in archives:
            rows.append(self._row(archive, stack))
        self.dashboard = cloudwatch.Dashboard(self, HIDDEN_ID, dashboard_name=dashboard_name,
                                              default_interval=DEFAULT_INTERVAL, widgets=rows)

    @property
    def dashboard_name(self) -> str:
        """The dashboard's name (a token: its Ref)."""
        return self.dashboard.dashboard_name

    def _row(self, archive: LogzioArchive, stack: Stack) -> list[cloudwatch.IWidget]:
        watch = archive.watch
        if watch is None:
            return [cloudwatch.TextWidget(width=GRID_WIDTH, height=2, markdown=(
                f"### {archive.archive_name}\nThe watch is off (watchSchedule=off): no re-check runs, so "
                "there are no metrics and no alarms to show. Give the archive a watchSchedule to see "
                "them here."))]
        settings = archive.settings
        period = alarm_period_seconds(settings.watch_schedule.period_seconds, settings.probe_timeout_seconds)
        bucket = _bucket_name(archive, stack)

        def search(metric_name: str, statistic: str, label: str) -> cloudwatch.MathExpression:
            return cloudwatch.MathExpression(
                expression=search_expression(metric_name, watch.stack_name, bucket, statistic, period),
                label=label, period=Duration.seconds(period))

        where = f"bucket `{bucket}`" if bucket and not Token.is_unresolved(bucket) else "its bucket"
        note = ""
        if bucket is None and _shares_its_stack(archive):
            note = (f"\n\nNote: stack {watch.stack_name} holds more than one archive and this one's bucket "
                    "is generated in another stack: these graphs show every archive of that stack.")
        alarms = ", ".join(f"`{name}`" for name in (watch.health_alarm_name, watch.freshness_alarm_name) if name)
        text = cloudwatch.TextWidget(width=6, height=ROW_HEIGHT, markdown=(
            f"### {archive.archive_name}\nStack `{watch.stack_name}`, {where}.\n\n"
            f"Re-check: `{settings.watch_schedule.expression}`; each point is the lowest (age: highest) "
            f"value of {period // 60} minutes, as the alarms see it.\n\nAlarms: {alarms}.\n\n"
            f"Why: `logzio-archive status --stack {watch.stack_name}`{note}"))
        health = cloudwatch.GraphWidget(
            title="Healthy (1: archive and restore work)", width=6, height=ROW_HEIGHT,
            left=[search(Metric.HEALTHY, "Minimum", Metric.HEALTHY)],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False),
            left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="alarm below 1")])
        permissions = cloudwatch.GraphWidget(
            title="Permissions granted (1: granted)", width=6, height=ROW_HEIGHT,
            left=[search(name, "Minimum", Attribute.OF_ACTION[action]) for action, name in Metric.OF_ACTION.items()],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False))
        freshness = [cloudwatch.HorizontalAnnotation(value=settings.max_archive_age_hours,
                                                     label="alarm above (maxArchiveAgeHours)")] \
            if settings.max_archive_age_hours is not None else None
        age = cloudwatch.GraphWidget(
            title="Newest archive's age (hours)", width=6, height=ROW_HEIGHT,
            left=[search(Metric.NEWEST_ARCHIVE_AGE_HOURS, "Maximum", "hours")],
            left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False), left_annotations=freshness)
        return [text, health, permissions, age]


def _title(archives: Sequence[LogzioArchive]) -> cloudwatch.TextWidget:
    watched = sum(1 for archive in archives if archive.watch is not None)
    return cloudwatch.TextWidget(width=GRID_WIDTH, height=2, markdown=(
        f"# Logz.io archives\n{len(archives)} archive{'s' if len(archives) != 1 else ''}, "
        f"{watched} watched: the scheduled re-check's metrics (namespace {Metric.NAMESPACE}) and its alarms. "
        "A gap in a graph is a re-check that did not report (the health alarm counts it as a failure)."))


def _refuse_bad_archives(archives: list) -> None:
    if not archives:
        raise SettingsError("LogzioArchiveDashboard got no archives: give archives=[...] with at least one "
                            "LogzioArchive.")
    for index, archive in enumerate(archives):
        if not isinstance(archive, LogzioArchive):
            raise SettingsError(f"LogzioArchiveDashboard archives[{index}] is a {type(archive).__name__}, not a "
                                "LogzioArchive: give the archive constructs themselves.")
    for index, archive in enumerate(archives):
        if any(other is archive for other in archives[:index]):
            raise SettingsError(f"LogzioArchiveDashboard archives[{index}] ({archive.archive_name}) is given twice: "
                                "give each archive once.")


def _refuse_other_environment(archive: LogzioArchive, stack: Stack) -> None:
    """Metrics and alarms are looked up in the dashboard's own account and region."""
    theirs = Stack.of(archive)
    for what in ("account", "region"):
        mine, its = getattr(stack, what), getattr(theirs, what)
        if not Token.is_unresolved(mine) and not Token.is_unresolved(its) and mine != its:
            raise SettingsError(
                f"LogzioArchiveDashboard: archive {archive.archive_name} is in {what} {its}, the dashboard's stack "
                f"{stack.stack_name} in {mine}. A dashboard shows the archives of its own account and region: "
                "make one per account and region (docs/dashboard.md says how to see several accounts in one "
                "place).")


def _bucket_name(archive: LogzioArchive, stack: Stack) -> str | None:
    """The bucket's name, if naming it takes nothing from another stack."""
    name = archive.bucket.bucket_name
    if not Token.is_unresolved(name):
        return name
    if archive.bucket_created and archive.settings.bucket_name:
        return archive.settings.bucket_name
    if Stack.of(archive.bucket) is stack:
        return name  # a Ref within the dashboard's own stack
    return None


def _shares_its_stack(archive: LogzioArchive) -> bool:
    """True when the archive's stack holds another watched archive: the Stack dimension alone
    does not tell their metrics apart."""
    return any(other is not archive and isinstance(other, LogzioArchive) and other.watch is not None
               for other in Stack.of(archive).node.find_all())
