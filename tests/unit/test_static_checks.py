"""The checks reviewers run on the template: cdk-nag (AwsSolutions) and cfn-lint."""

from __future__ import annotations

import json
import re

import pytest

import logzio_s3_archive.archive
from tests.support import synth

REVIEWED = {
    "AwsSolutions-S1",
    "AwsSolutions-SMG4",
    "AwsSolutions-IAM5[Resource::<ArchiveBucket9DECBF5D.Arn>/*]",
    "AwsSolutions-IAM5[Resource::<ArchiveBucket9DECBF5D.Arn>/logzio-archive-probe/*]",
    # The scheduled re-check (watchSchedule, on by default): PutMetricData's *, the invoke grant's ARN:*.
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::<PermissionProbeFunction42350B38.Arn>:*]",
}


def test_cdk_nag_passes_on_the_shipped_stack(shipped):
    """synth() raises on any unacknowledged AwsSolutions finding; here it did not."""
    report = json.loads((shipped.directory / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_cdk_nag_fails_synth_without_the_reviewed_acknowledgments(monkeypatch):
    monkeypatch.setattr(logzio_s3_archive.archive, "suppress_reviewed_findings", lambda archive: None)
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        synth({"stackName": "Unreviewed"})
    found = set(re.findall(r"Acknowledge with 'AwsSolutions::([^']+)'", str(failure.value)))
    assert found == REVIEWED, "each acknowledgment must match exactly one real finding"


def lint(template: dict) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    # Errors and warnings only; informational (I...) findings are advice, not failures.
    return [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] in "EW"]


def test_cfn_lint_has_no_errors_or_warnings(shipped):
    assert lint(shipped.raw()) == []


def test_cfn_lint_would_catch_a_redundant_dependency(shipped):
    """The non-compliant case: the extra DependsOn CDK adds by default (removed on purpose)."""
    template = json.loads(json.dumps(shipped.raw()))
    function = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    function["DependsOn"] = function["DependsOn"] + [role_id]
    assert [finding.split()[0] for finding in lint(template)] == ["W3005"]
