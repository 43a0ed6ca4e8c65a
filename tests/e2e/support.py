"""What end-to-end tests read back from the emulator."""

from __future__ import annotations

from logzio_s3_archive_runtime import checks
from tests.support import ROOT

CDK = [str(ROOT / "node_modules" / ".bin" / "cdk")]


def stack_of(emu, name):
    return emu.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def outputs(emu, name) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack_of(emu, name).get("Outputs", [])}


def probe_objects(emu, bucket):
    listing = emu.client("s3").list_object_versions(Bucket=bucket, Prefix=checks.PROBE_PREFIX)
    return listing.get("Versions", []) + listing.get("DeleteMarkers", [])
