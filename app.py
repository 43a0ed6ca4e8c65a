#!/usr/bin/env python3
"""CDK app: one Logz.io archive stack, configured from CDK context (cdk.json or -c)."""

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.archive_stack import ArchiveStack
from stacks.settings import ArchiveSettings, SettingsError


def build_app(context: dict | None = None) -> cdk.App:
    app = cdk.App(context=context)
    settings = ArchiveSettings.from_context(app.node.try_get_context, _given_keys(app, context))
    ArchiveStack(app, settings.stack_name, settings=settings,
                 env=cdk.Environment(account=_env("CDK_DEFAULT_ACCOUNT"), region=_env("CDK_DEFAULT_REGION")))
    # cdk-nag's AwsSolutions pack runs on every synth; an unacknowledged finding fails it.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def _given_keys(app: cdk.App, context: dict | None) -> dict:
    import json
    import os

    given = dict(context or {})
    # The CDK command line passes cdk.json's context and every -c through this variable.
    given.update(json.loads(os.environ.get("CDK_CONTEXT_JSON", "{}") or "{}"))
    return given


def _env(name: str):
    import os

    return os.environ.get(name) or None


if __name__ == "__main__":
    try:
        build_app().synth()
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(1)
