#!/usr/bin/env python3
"""CDK app: one stack per Logz.io archive, configured from CDK context (cdk.json or -c).

Settings are parsed and validated before aws_cdk is even imported, so a bad value stops
`cdk synth` at once with a message naming the setting and the fix."""

from __future__ import annotations

import json
import os
import sys

from stacks.settings import AppSettings, SettingsError


def build_app(context: dict | None = None, settings: AppSettings | None = None, outdir: str | None = None):
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    from stacks.archive_stack import ArchiveStack

    settings = settings or AppSettings.from_context(context or {})
    app = cdk.App(context=context, outdir=outdir)
    # Stacks by (account, region) as they deploy, in `archives` order.
    places: dict[tuple, list] = {}
    for archive in settings.archives:
        env = cdk.Environment(account=archive.account or os.environ.get("CDK_DEFAULT_ACCOUNT"),
                              region=archive.region or os.environ.get("CDK_DEFAULT_REGION"))
        stack = ArchiveStack(app, archive.stack_name, archive=archive, env=env)
        places.setdefault((env.account, env.region), []).append(stack)
    if settings.dashboard:
        add_dashboards(places.values())
    # cdk-nag's AwsSolutions pack runs on every synth; an unacknowledged finding fails it.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


#: The construct id of the dashboard in its stack (the first archive stack of its region).
DASHBOARD_ID = "ArchivesDashboard"


def add_dashboards(places) -> None:
    """One dashboard per account and region (`places`: the stacks of each, in order), in the
    first of its stacks, named LogzioArchives-<region>-<that stack> (dashboard names are unique
    per account, not per region; the stack's name keeps two apps of one account apart, and a
    dashboard that moves to another stack never meets its old name). Where no archive has a
    watch there is nothing to show: none."""
    from logzio_s3_archive import LogzioArchiveDashboard

    for stacks in places:
        if not any(stack.archive.watch is not None for stack in stacks):
            continue
        first = stacks[0]
        LogzioArchiveDashboard(first, DASHBOARD_ID, archives=[stack.archive for stack in stacks],
                               dashboard_name=f"LogzioArchives-{first.region}-{first.stack_name}")


USAGE = """\
app.py takes no arguments (got: {given}): it is run by the cdk command line, which reads
the settings and hands them over in CDK_CONTEXT_JSON, so arguments here would be ignored.
Pass settings to the cdk command instead:
  npx cdk synth -c key=value        (also cdk diff / cdk deploy -c key=value)
or put them in cdk.json under "context", where every later deploy finds them again.
The settings are listed in docs/settings.md."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print(USAGE.format(given=" ".join(argv)), file=sys.stderr)
        return 2
    # The CDK command line hands cdk.json's context and every -c over in this variable, and
    # a large context partly in a file it names.
    context = json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")
    overflow = os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV")
    if overflow and os.path.exists(overflow):
        with open(overflow) as file:
            context.update(json.load(file))
    try:
        settings = AppSettings.from_context(context)
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    build_app(settings=settings).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
