"""The archives' dashboard in the template (the `dashboard` setting, LogzioArchiveDashboard):
one per account and region, in the first archive stack of that region, naming only metrics
the re-check publishes (names.Metric) and alarms the stacks create, for every archive of its
region; none with dashboard=false, and nothing else of the stacks changed by it. Then the
construct in a user's own stacks."""

from __future__ import annotations

import json
import re

import pytest

from logzio_s3_archive_runtime.names import Metric
from logzio_s3_archive.settings import SettingsError
from tests.conftest import ROLE
from tests.support import FEATURE_FLAGS, of_type, synth

DASHBOARD = "AWS::CloudWatch::Dashboard"
#: Every metric name the re-check (and the deploy-time probe) publishes.
PUBLISHED = {Metric.HEALTHY, *Metric.OF_ACTION.values(), Metric.NEWEST_ARCHIVE_AGE_HOURS}
OTHER_ACCOUNT = "111111111111"
#: Archives in two regions and two accounts, a generated bucket, a freshness alarm, a watch off.
ARCHIVES = [
    {"stackName": "LogzioProd", "bucketName": "acme-logs-prod", "region": "eu-west-1", "maxArchiveAgeHours": "24"},
    {"stackName": "LogzioEu", "region": "eu-west-1", **ROLE},
    {"stackName": "LogzioQuiet", "region": "eu-west-1", "watchSchedule": "off"},
    {"stackName": "LogzioUs", "region": "us-east-1"},
    {"stackName": "LogzioOther", "region": "eu-west-1", "account": OTHER_ACCOUNT},
]
#: Stacks by (account, region) as the app groups them; the first of each holds its dashboard.
PLACES = {(None, "eu-west-1"): ["LogzioProd", "LogzioEu", "LogzioQuiet"], (None, "us-east-1"): ["LogzioUs"],
          (OTHER_ACCOUNT, "eu-west-1"): ["LogzioOther"]}
SEARCH = re.compile(r"SEARCH\('(\{[^}]*\}) ([^']*)', '(\w+)', (\d+)\)")
TERM = re.compile(r'(\w+)="([^"]*)"')


# --------------------------------------------------------------------------- reading a body

def _text(value) -> str:
    """A token of the body as text: literal strings as they are, anything else as <its JSON>."""
    if isinstance(value, str):
        return value
    if set(value) == {"Ref"}:
        return f"<{value['Ref']}>"
    return f"<{json.dumps(value, sort_keys=True).replace(chr(34), '')}>"


def resolved(value) -> str:
    """A property CloudFormation joins (Fn::Join around Ref AWS::Region, ...) as one text."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return separator.join(_text(part) for part in parts)


def tokens(value) -> list:
    return [] if isinstance(value, str) else [part for part in value["Fn::Join"][1] if not isinstance(part, str)]


def dashboards(template: dict) -> dict:
    """The template's dashboards by logical id: (name, body as an object, the body's tokens)."""
    return {lid: (resolved(r["Properties"]["DashboardName"]) if "DashboardName" in r["Properties"] else None,
                  json.loads(resolved(r["Properties"]["DashboardBody"])), tokens(r["Properties"]["DashboardBody"]))
            for lid, r in of_type(template["Resources"], DASHBOARD).items()}


def searches(body: dict) -> list[dict]:
    """Every SEARCH of the body's graphs: schema, terms (MetricName, Stack, Bucket), statistic."""
    found = []
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for line in widget["properties"]["metrics"]:
            # Graphs name metrics by SEARCH only (a plain metric line would be [namespace, name, ...]).
            [entry] = line
            match = SEARCH.fullmatch(entry["expression"])
            assert match, entry
            found.append({"schema": match[1], "terms": dict(TERM.findall(match[2])), "statistic": match[3],
                          "period": int(match[4]), "label": entry["label"]})
    return found


def alarm_names(body: dict) -> list[str]:
    arns = [arn for widget in body["widgets"] if widget["type"] == "alarm" for arn in widget["properties"]["alarms"]]
    part = r"(?:<[^>]+>|[^:<>]+)"  # a literal, or a token such as <AWS::AccountId>
    assert all(re.fullmatch(rf"arn:{part}:cloudwatch:{part}:{part}:alarm:[^:<>]+", arn) for arn in arns), arns
    return [arn.split(":alarm:", 1)[1] for arn in arns]


def texts(body: dict) -> str:
    return "\n".join(w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text")


def created_alarms(template: dict) -> set[str]:
    return {r["Properties"]["AlarmName"] for r in of_type(template["Resources"], "AWS::CloudWatch::Alarm").values()}


def no_cross_stack_reference(templates: dict) -> None:
    for name, template in templates.items():
        text = json.dumps(template)
        assert "Fn::ImportValue" not in text, name
        assert not [o for o in template.get("Outputs", {}).values() if "Export" in o], name


# --------------------------------------------------------------------------- the app

@pytest.fixture(scope="module")
def several():
    return synth({"archives": json.dumps(ARCHIVES)})


@pytest.fixture(scope="module")
def without():
    return synth({"archives": json.dumps(ARCHIVES), "dashboard": "false"})


def test_one_dashboard_per_account_and_region_in_its_first_stack(several):
    found = {stack: dashboards(template) for stack, template in several.templates.items()}
    for (_, region), stacks in PLACES.items():
        first, *rest = stacks
        [(name, _, _)] = found[first].values()
        assert name == f"LogzioArchives-{region}-{first}"
        assert all(found[stack] == {} for stack in rest)
    assert {lid for stack in found.values() for lid in stack} == {"ArchivesDashboard6AFA0B55"}  # same id everywhere


def test_the_body_names_only_published_metrics_and_the_stacks_own_alarms(several):
    for (_, region), stacks in PLACES.items():
        [(_, body, _)] = dashboards(several.raw(stacks[0])).values()
        found = searches(body)
        assert {s["schema"] for s in found} == {f"{{{Metric.NAMESPACE},{Metric.BUCKET},{Metric.STACK}}}"}
        assert {s["terms"]["MetricName"] for s in found} == PUBLISHED
        assert {s["terms"][Metric.STACK] for s in found} <= set(stacks)
        # The alarm-status widget: exactly the alarms of the region's stacks, each once.
        names = alarm_names(body)
        assert len(names) == len(set(names))
        assert set(names) == set().union(*(created_alarms(several.raw(stack)) for stack in stacks))
        # Every metric is read with the statistic its alarm reads, over the alarm's period.
        alarms = {a["Properties"]["AlarmName"]: a["Properties"] for stack in stacks
                  for a in of_type(several.raw(stack)["Resources"], "AWS::CloudWatch::Alarm").values()}
        for search in found:
            stack = search["terms"][Metric.STACK]
            health = alarms[f"{stack}-ArchiveHealth"]
            assert search["period"] == health["Period"]
            assert search["statistic"] == ("Maximum" if search["terms"]["MetricName"] == Metric.NEWEST_ARCHIVE_AGE_HOURS
                                           else health["Statistic"])


def test_it_covers_every_archive_of_the_region(several):
    stacks = PLACES[(None, "eu-west-1")]
    [(_, body, _)] = dashboards(several.raw(stacks[0])).values()
    by_stack: dict[str, set] = {}
    for search in searches(body):
        by_stack.setdefault(search["terms"][Metric.STACK], set()).add(search["terms"]["MetricName"])
    # Each watched archive with all six of its metrics; the one without a watch in a text.
    assert by_stack == {"LogzioProd": PUBLISHED, "LogzioEu": PUBLISHED}
    assert "### LogzioQuiet\nThe watch is off" in texts(body)
    assert alarm_names(body) == ["LogzioProd-ArchiveHealth", "LogzioProd-ArchiveFreshness", "LogzioEu-ArchiveHealth"]
    # The freshness line is drawn where the alarm is.
    ages = [w for w in body["widgets"] if w["type"] == "metric" and w["properties"]["title"].startswith("Newest")]
    assert [w["properties"].get("annotations", {}).get("horizontal", [{}])[0].get("value") for w in ages] == [24, None]
    [(_, other, _)] = dashboards(several.raw("LogzioOther")).values()
    assert {s["terms"][Metric.STACK] for s in searches(other)} == {"LogzioOther"}
    assert alarm_names(other) == ["LogzioOther-ArchiveHealth"]


def test_no_cross_stack_reference_and_buckets_named_only_when_known(several):
    no_cross_stack_reference(several.templates)
    [(_, body, body_tokens)] = dashboards(several.raw("LogzioProd")).values()
    # Tokens of the body: this stack's own pseudo parameters (alarm ARNs, widget regions), nothing else.
    assert {json.dumps(t) for t in body_tokens} <= {'{"Ref": "AWS::AccountId"}', '{"Ref": "AWS::Region"}',
                                                   '{"Ref": "AWS::Partition"}'}
    buckets = {s["terms"][Metric.STACK]: s["terms"].get(Metric.BUCKET) for s in searches(body)}
    # A given bucket name is a literal; LogzioEu's bucket is generated in its own stack: left out.
    assert buckets == {"LogzioProd": "acme-logs-prod", "LogzioEu": None}


def test_dashboard_false_creates_none_and_the_dashboard_changes_nothing_else(several, without):
    assert set(without.templates) == set(several.templates)
    for stack, template in several.templates.items():
        assert dashboards(without.raw(stack)) == {}
        kept = {lid: r for lid, r in template["Resources"].items() if r["Type"] != DASHBOARD}
        # Every logical id, every resource and output exactly as without the dashboard.
        assert kept == without.raw(stack)["Resources"], stack
        assert template.get("Outputs") == without.raw(stack).get("Outputs"), stack


def test_the_shipped_app_has_one_named_after_its_region_and_stack(shipped):
    [(name, body, _)] = dashboards(shipped.raw()).values()
    assert name == "LogzioArchives-<AWS::Region>-LogzioArchive"  # an environment-agnostic stack: its region at deploy
    assert {s["terms"][Metric.STACK] for s in searches(body)} == {"LogzioArchive"}
    assert alarm_names(body) == ["LogzioArchive-ArchiveHealth"]


def test_no_dashboard_where_no_archive_is_watched(combination):
    assert dashboards(combination("watch-off").raw()) == {}


def test_archives_in_two_regions_get_one_each(combination):
    several = combination("several")  # LogzioProd in the default region, LogzioEu in eu-west-1
    for stack in ("LogzioProd", "LogzioEu"):
        [(_, body, _)] = dashboards(several.raw(stack)).values()
        assert {s["terms"][Metric.STACK] for s in searches(body)} == {stack}


def test_cfn_lint_passes_on_a_stack_with_the_dashboard(several):
    from tests.unit.test_static_checks import lint

    template = several.raw("LogzioUs")
    assert of_type(template["Resources"], DASHBOARD)
    assert lint(template) == []


@pytest.mark.parametrize("value, expected", [("false", False), ("FALSE", False), (False, False), ("true", True),
                                             (True, True), ("", True), (None, True)])
def test_the_setting_is_a_boolean_and_on_by_default(value, expected):
    from stacks.settings import AppSettings

    context = {} if value is None else {"dashboard": value}
    assert AppSettings.from_context(context).dashboard is expected


def test_a_bad_value_or_a_dashboard_per_archive_is_refused():
    from stacks.settings import AppSettings

    with pytest.raises(SettingsError, match=r"dashboard 'maybe' is not one of: true, false"):
        AppSettings.from_context({"dashboard": "maybe"})
    with pytest.raises(SettingsError, match=r"archives\[1\]\.dashboard: dashboard is a setting of the app"):
        AppSettings.from_context({"archives": [{"stackName": "A"}, {"stackName": "B", "dashboard": False}]})
    with pytest.raises(SettingsError, match=r"Unknown setting 'dashbord'\. Did you mean 'dashboard'\?"):
        AppSettings.from_context({"dashbord": "false"})


# --------------------------------------------------------------------------- the construct

def user_stacks(build, *, monitoring: bool = False):
    """A user's app: stack "Platform" (and "Monitoring"), `build(platform, monitoring)` adding
    to them; the templates by stack name and what `build` returned."""
    from aws_cdk import App, Environment, Stack

    app = App(context=FEATURE_FLAGS)
    env = Environment(account="123456789012", region="eu-west-1")
    built = build(Stack(app, "Platform", env=env), Stack(app, "Monitoring", env=env) if monitoring else None)
    assembly = app.synth()
    return {stack.stack_name: stack.template for stack in assembly.stacks}, built


def two_archives(stack):
    from logzio_s3_archive import LogzioArchive

    return (LogzioArchive(stack, "Prod", bucket_name="acme-prod-logs", max_archive_age_hours=48),
            LogzioArchive(stack, "Staging"))


def test_the_construct_in_the_archives_own_stack():
    from logzio_s3_archive import LogzioArchiveDashboard

    def build(platform, monitoring):
        return LogzioArchiveDashboard(platform, "Dashboard", archives=two_archives(platform),
                                      dashboard_name="PlatformArchives")
    templates, dashboard = user_stacks(build)
    [(name, body, body_tokens)] = dashboards(templates["Platform"]).values()
    assert name == "PlatformArchives" and dashboard.alarm_names == alarm_names(body)
    assert set(alarm_names(body)) == created_alarms(templates["Platform"]) == {
        "Platform-Prod-ArchiveHealth", "Platform-Prod-ArchiveFreshness", "Platform-Staging-ArchiveHealth"}
    assert {s["terms"]["MetricName"] for s in searches(body)} == PUBLISHED
    # Both archives publish for stack Platform: the bucket tells them apart, the generated one
    # by its Ref (the same stack: no cross-stack reference).
    [staging_bucket] = [lid for lid in of_type(templates["Platform"]["Resources"], "AWS::S3::Bucket")
                        if lid.startswith("Staging")]
    assert {s["terms"].get(Metric.BUCKET) for s in searches(body)} == {"acme-prod-logs", f"<{staging_bucket}>"}
    assert {"Ref": staging_bucket} in body_tokens


def test_the_construct_in_another_stack_takes_nothing_from_the_archives_stack():
    from logzio_s3_archive import LogzioArchiveDashboard

    def build(platform, monitoring):
        return LogzioArchiveDashboard(monitoring, "Dashboard", archives=two_archives(platform))
    templates, _ = user_stacks(build, monitoring=True)
    no_cross_stack_reference(templates)
    [(name, body, _)] = dashboards(templates["Monitoring"]).values()
    assert name is None  # CloudFormation names it
    assert set(alarm_names(body)) == created_alarms(templates["Platform"])
    assert {s["terms"].get(Metric.BUCKET) for s in searches(body)} == {"acme-prod-logs", None}
    # The generated bucket cannot be named from here: the text says what the graphs then show.
    assert "stack Platform holds more than one archive" in texts(body)


def test_the_construct_refuses_what_it_cannot_show():
    from aws_cdk import App, Environment, Stack

    from logzio_s3_archive import LogzioArchive, LogzioArchiveDashboard

    app = App(context=FEATURE_FLAGS)
    eu = Stack(app, "Eu", env=Environment(account="123456789012", region="eu-west-1"))
    us = Stack(app, "Us", env=Environment(account="123456789012", region="us-east-1"))
    archive = LogzioArchive(eu, "Archive")
    with pytest.raises(SettingsError, match="is in region eu-west-1, the dashboard's stack Us in us-east-1"):
        LogzioArchiveDashboard(us, "Dashboard", archives=[archive])
    with pytest.raises(SettingsError, match="got no archives"):
        LogzioArchiveDashboard(eu, "Empty", archives=[])
    with pytest.raises(SettingsError, match=r"archives\[1\] \(Eu-Archive\) is given twice"):
        LogzioArchiveDashboard(eu, "Twice", archives=[archive, archive])
    with pytest.raises(SettingsError, match=r"archives\[0\] is a str, not a LogzioArchive"):
        LogzioArchiveDashboard(eu, "Names", archives=["Eu-Archive"])
