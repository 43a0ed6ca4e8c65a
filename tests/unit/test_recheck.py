"""The scheduled re-check: the same probe and findings as the deploy, as the same
principal, reported as metrics, one JSON log line and the function's return value."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from logzio_s3_archive_runtime import aws, handler
from logzio_s3_archive_runtime.freshness import newest_archive
from tests.bucket_cases import CASES
from tests.unit.s3stub import BUCKET, KEY
from tests.unit.test_handler import Context, fixed_probe_key, network  # noqa: F401 (fixtures)

EVENT = json.loads((Path(__file__).resolve().parent.parent / "events" / "recheck.json").read_text())
NOW = datetime.now(timezone.utc)


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(aws, "put_metrics", lambda region, namespace, dimensions, values:
                        sent.append((region, namespace, dict(dimensions), dict(values))))
    return sent


def archive_walk(user, newest_hours_ago=3.0):
    """A date-shaped archive: the walk goes down the greatest folder at each level."""
    now = datetime.now(timezone.utc)
    user.level("", folders=("2026/", "logzio-archive-probe/"), objects=(("logzio-verified", now),))
    user.level("2026/", folders=("2026/10/", "2026/11/"))
    user.level("2026/11/", objects=(("2026/11/a.json.gz", now - timedelta(hours=30)),
                                    ("2026/11/b.json.gz", now - timedelta(hours=newest_hours_ago))))


def test_a_healthy_archive_publishes_healthy_and_its_age(network, published, caplog):
    user, role, secret_reads = network
    user.put().list().get().locate().extras()
    role.bucket_settings()
    user.self_delete()
    role.delete()
    archive_walk(user)
    result = handler.handler(EVENT, Context())
    assert result["healthy"] == 1 and result["ok"] is True
    assert result["newest_archive"] == "2026/11/b.json.gz"
    assert result["newest_archive_age_hours"] == pytest.approx(3.0, abs=0.05)
    [(region, namespace, dimensions, values)] = published
    assert (region, namespace, dimensions) == ("us-east-1", "LogzioArchive",
                                               {"Stack": "LogzioArchive", "Bucket": BUCKET})
    assert values["Healthy"] == (1.0, "Count")
    assert {values[name][0] for name in ("PutObjectGranted", "ListBucketGranted", "GetObjectGranted",
                                         "GetBucketLocationGranted")} == {1.0}
    assert values["NewestArchiveAgeHours"][0] == pytest.approx(3.0, abs=0.05)
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("recheck: ")]
    assert json.loads(line.removeprefix("recheck: "))["summary"] == result["summary"]
    assert secret_reads and "wJalrXUtnFEMI" not in caplog.text


def test_a_denied_upload_makes_it_unhealthy_with_the_reason(network, published, caplog):
    user, role, _ = network
    user.put("AccessDenied", "User: x is not authorized to perform: s3:PutObject with an explicit deny "
             "in a resource-based policy").list(keys=()).get("NoSuchKey", status=404).locate().extras()
    role.bucket_settings()
    archive_walk(user, newest_hours_ago=50)
    result = handler.handler(EVENT, Context())
    assert result["healthy"] == 0
    assert published[0][3]["Healthy"] == (0.0, "Count") and published[0][3]["PutObjectGranted"] == (0.0, "Count")
    assert "bucket policy of acme-logzio-archive explicitly denies s3:PutObject" in result["summary"]
    logged = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("recheck: "))
    assert "explicitly denies s3:PutObject" in logged


def test_an_error_finding_is_unhealthy_too(network, published):
    user, role, _ = network
    user.put().list().get().locate().extras()
    role.bucket_settings(**CASES["glacier-whole-bucket"][0])
    user.self_delete()
    role.delete()
    user.level("")
    result = handler.handler(EVENT, Context())
    assert result["healthy"] == 0 and result["newest_archive"] is None
    assert "NewestArchiveAgeHours" not in published[0][3]  # an empty archive has no age
    assert [f["id"] for f in result["findings"]] == ["lifecycle-unrestorable"]


def test_credentials_that_no_longer_work_are_unhealthy(network, published, monkeypatch):
    from botocore.exceptions import ClientError

    def gone(secret_arn, client=None):
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "deleted"}}, "GetSecretValue")

    monkeypatch.setattr(aws, "read_access_key", gone)
    result = handler.handler(EVENT, Context())
    assert result["healthy"] == 0 and result["exit_code"] == 2
    assert "ResourceNotFoundException" in result["error"]["what"]
    assert published[0][3] == {"Healthy": (0.0, "Count")}


def test_a_failed_publish_is_reported_and_the_alarm_still_fires(network, monkeypatch):
    from botocore.exceptions import ClientError
    user, role, _ = network
    user.put().list().get().locate().extras()
    role.bucket_settings()
    user.self_delete()
    role.delete()
    user.level("")

    def denied(*args, **kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutMetricData")

    monkeypatch.setattr(aws, "put_metrics", denied)
    result = handler.handler(EVENT, Context())
    assert result["healthy"] == 1 and result["metrics_error"].startswith("ClientError")


def test_a_malformed_recheck_event_is_unhealthy_and_says_so(published):
    result = handler.handler({"LogzioArchiveRecheck": {"StackName": "S"}}, Context())
    assert result["healthy"] == 0 and "BucketName is missing" in result["error"]["what"]


# --------------------------------------------------------------------------- the walk

class Folders:
    def __init__(self, tree):
        self.tree, self.calls = tree, []

    def list_level(self, prefix):
        self.calls.append(prefix)
        return self.tree.get(prefix, ([], []))


def test_the_walk_costs_one_request_per_level_not_per_object():
    old, new = NOW - timedelta(days=400), NOW - timedelta(hours=1)
    tree = {"": (["2025/", "2026/", "logzio-archive-probe/"], [("logzio-verified", NOW)]),
            "2026/": (["2026/01/", "2026/11/"], []),
            "2026/11/": (["2026/11/27/", "2026/11/28/"], []),
            "2026/11/28/": ([], [(f"2026/11/28/{i:04d}.gz", old) for i in range(999)] + [("2026/11/28/z.gz", new)])}
    lister = Folders(tree)
    found = newest_archive(lister)
    assert (found.key, found.requests) == ("2026/11/28/z.gz", 4)
    assert lister.calls == ["", "2026/", "2026/11/", "2026/11/28/"]


def test_probe_objects_and_the_verified_marker_are_not_archives():
    tree = {"": (["logzio-archive-probe/"], [("logzio-verified", NOW)]),
            "logzio-archive-probe/": ([], [(KEY, NOW)])}
    assert newest_archive(Folders(tree)) is None


def test_an_unexpected_failure_still_reports_unhealthy(published, monkeypatch):
    from logzio_s3_archive_runtime import recheck

    def explode(props, deadline):
        raise KeyError("Contents")

    result = recheck.run(EVENT["LogzioArchiveRecheck"], 300, explode)
    assert result["healthy"] == 0 and "KeyError" in result["error"]["what"]
    assert published == [("us-east-1", "LogzioArchive", {"Stack": "LogzioArchive", "Bucket": BUCKET},
                          {"Healthy": (0.0, "Count")})]


def test_an_event_without_its_stack_name_is_refused(published):
    properties = {k: v for k, v in EVENT["LogzioArchiveRecheck"].items() if k != "StackName"}
    result = handler.handler({"LogzioArchiveRecheck": properties}, Context())
    assert result["healthy"] == 0 and "no StackName" in result["error"]["what"]
    assert published == []  # no Stack dimension to publish under: the alarm's missing data fires


def test_the_walk_stops_at_its_deadline():
    import time
    lister = Folders({"": (["2026/"], [("a.gz", NOW)]), "2026/": ([], [("2026/b.gz", NOW)])})
    found = newest_archive(lister, deadline=time.monotonic() - 1)
    assert found is None and lister.calls == []
