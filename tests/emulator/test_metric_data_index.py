"""emulator/extensions/metric_data_index.py: GetMetricData through the CloudWatch API answers
exactly what moto's own implementation answers for the same data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from emulator.extensions import metric_data_index

NAMESPACE = "IndexTest"


def _queries():
    queries = []
    for index, (metric, stat, dims) in enumerate([
            ("Healthy", "Minimum", [{"Name": "Stack", "Value": "A"}, {"Name": "Bucket", "Value": "a"}]),
            ("Healthy", "Maximum", [{"Name": "Bucket", "Value": "b"}, {"Name": "Stack", "Value": "B"}]),
            ("Healthy", "SampleCount", []),
            ("Age", "Average", [{"Name": "Stack", "Value": "A"}, {"Name": "Bucket", "Value": "a"}]),
            ("Missing", "Sum", [{"Name": "Stack", "Value": "A"}])]):
        queries.append({"Id": f"q{index}", "ReturnData": index != 4, "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
            "Period": 300 if index % 2 else 3600, "Stat": stat}})
    return queries


def test_answers_as_moto_does(emu):
    cloudwatch = emu.client("cloudwatch")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    data = []
    for minutes in range(0, 600, 17):
        for stack, bucket, value in (("A", "a", minutes % 2), ("B", "b", 1)):
            dims = [{"Name": "Stack", "Value": stack}, {"Name": "Bucket", "Value": bucket}]
            data.append({"MetricName": "Healthy", "Value": value, "Unit": "Count", "Dimensions": dims,
                         "Timestamp": now - timedelta(minutes=minutes)})
            data.append({"MetricName": "Age", "Value": minutes / 60, "Unit": "None", "Dimensions": dims,
                         "Timestamp": now - timedelta(minutes=minutes)})
    for start in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start:start + 20])

    start, end = now - timedelta(hours=12), now + timedelta(minutes=5)
    for scan_by in ("TimestampDescending", "TimestampAscending"):
        answer = cloudwatch.get_metric_data(MetricDataQueries=_queries(), StartTime=start, EndTime=end,
                                            ScanBy=scan_by)["MetricDataResults"]
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[emu.account][emu.region]
        # (moto keeps times naive, in UTC.)
        naive = [moment.astimezone(timezone.utc).replace(tzinfo=None) for moment in (start, end)]
        expected = metric_data_index._original(backend, _queries(), *naive, scan_by)
        assert [r["Id"] for r in answer] == [e["id"] for e in expected] == ["q0", "q1", "q2", "q3"]
        for got, want in zip(answer, expected):
            assert got["Values"] == [float(v) for v in want["values"]], got["Id"]
            assert got["Timestamps"] == [t.replace(tzinfo=timezone.utc) for t in want["timestamps"]], got["Id"]
        assert answer[0]["Values"] and answer[3]["Values"]  # data was found, not just nothing twice
