"""Stubbed clients answer scripted calls in order: the probe makes its calls one after
another here (probe.CONCURRENT), in the order run_probe lists them."""

import pytest


@pytest.fixture(autouse=True)
def calls_in_order(monkeypatch):
    monkeypatch.setattr("logzio_s3_archive_runtime.probe.CONCURRENT", False)
