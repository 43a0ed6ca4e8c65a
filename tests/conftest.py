"""Shared fixtures. The app is synthesized once per session: the first synth in a process
costs seconds, later ones a fraction of a second."""

from __future__ import annotations

import os

# Before aws_cdk is imported anywhere: jsii prints a banner for Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# No test may reach real AWS: no instance metadata, no profile, fake credentials.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import pytest  # noqa: E402

from tests.support import synth  # noqa: E402


@pytest.fixture(scope="session")
def shipped():
    """The app as shipped, with cdk.json's context only."""
    return synth()


ROLE = {"principal": "role", "logzioAccountId": "406095609952", "externalId": "logzio:aws:extid:a1b2c3"}
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: Settings combinations that matter, each synthesized once per session on first use.
COMBINATIONS = {
    "existing": {"existingBucket": "acme-existing-logs"},
    "kms": {"encryption": "kms"},
    "existing-kms": {"existingBucket": "acme-existing-logs", "encryption": "kms", "kmsKeyArn": KEY_ARN},
    "role": ROLE,
    "role-existing": {**ROLE, "existingBucket": "acme-existing-logs"},
    "lifecycle": {"transitionDays": "30", "storageClass": "STANDARD_IA", "expireDays": "400"},
    "expire-only": {"expireDays": "90", "keySerial": "3"},
    "several": {"archives": [{"stackName": "LogzioProd", "bucketName": "acme-logs-prod"},
                             {"stackName": "LogzioEu", "region": "eu-west-1", **ROLE}]},
    # The scheduled re-check: none at all, and every optional part of it at once.
    "watch-off": {"watchSchedule": "off"},
    "watch-custom": {"watchSchedule": "cron(0 6 * * ? *)", "alarmEmail": "ops@example.com",
                     "maxArchiveAgeHours": "48", "verify": "always"},
}


@pytest.fixture(scope="session")
def combination():
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = synth(COMBINATIONS[name])
        return cache[name]
    return get


@pytest.fixture(scope="session")
def emu(tmp_path_factory):
    """The one embedded emulator of the session (moto's state is process-wide)."""
    from emulator import Emulator

    with Emulator(region="us-east-1", log_dir=str(tmp_path_factory.mktemp("emulator-logs"))) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The distribution's wheel, built once per session."""
    from tests.distribution import build_wheel

    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def base_install(wheel, tmp_path_factory):
    """`pipx install logzio-s3-archive`: a fresh environment with the base install only."""
    from tests.distribution import fresh_venv

    return fresh_venv(tmp_path_factory.mktemp("base") / "venv", wheel, cdk=False)


@pytest.fixture(scope="session")
def cdk_install(wheel, tmp_path_factory):
    """`pip install "logzio-s3-archive[cdk]"` into a fresh environment."""
    from tests.distribution import fresh_venv

    return fresh_venv(tmp_path_factory.mktemp("cdk") / "venv", wheel, cdk=True)
