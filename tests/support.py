"""Synthesis helpers for tests: the app's own build_app with cdk.json's context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURE_FLAGS = json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synthesized:
    templates: dict  # stack name -> template JSON
    directory: Path  # the cloud assembly, assets included
    regions: dict  # stack name -> the region of its environment ("unknown-region" if agnostic)
    accounts: dict = None  # stack name -> the account of its environment

    def template(self, name: str = "LogzioArchive"):
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[name])

    def raw(self, name: str = "LogzioArchive") -> dict:
        return self.templates[name]


def synth(context: dict | None = None, env: dict | None = None) -> Synthesized:
    """Synthesize app.py's app as `cdk synth -c ...` would, cdk-nag validation included."""
    import app

    assembly = app.build_app({**FEATURE_FLAGS, **(context or {})}).synth()
    return Synthesized({stack.stack_name: stack.template for stack in assembly.stacks},
                       Path(assembly.directory),
                       {stack.stack_name: stack.environment.region for stack in assembly.stacks},
                       {stack.stack_name: stack.environment.account for stack in assembly.stacks})


def of_type(resources: dict, kind: str) -> dict:
    """The template's resources of one CloudFormation type, by logical id."""
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def only(resources: dict, kind: str) -> tuple[str, dict]:
    """The one resource of a type, as (logical id, resource)."""
    found = of_type(resources, kind)
    assert len(found) == 1, f"expected one {kind}, found {list(found)}"
    return next(iter(found.items()))
