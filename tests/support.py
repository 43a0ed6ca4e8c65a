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
                       {stack.stack_name: stack.environment.region for stack in assembly.stacks})
