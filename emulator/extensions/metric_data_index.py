"""GetMetricData answered in time proportional to the data, as CloudWatch does.

moto lacks (5.2.5): ``CloudWatchBackend.get_metric_data`` walks every period of the time range
for every query, and within each period every stored data point: queries x periods x points.
The fleet's batch (two metrics for each of 200 archives, 5-minute periods over two days) then
takes seconds in the emulator where CloudWatch answers in a fraction of one, and a benchmark
against the emulator would measure moto's loop instead of the command.

This extension: for calls made of MetricStat queries only (metric math and Metrics Insights go
to moto's own code), each query's data points are picked once (with moto's own matching:
the metric name, the namespace when no dimensions are given, the exact dimension set, the unit)
and put into their periods by arithmetic; each period's statistic is computed by moto's own
``Statistics``. The answer is the same as moto's, value for value and in the same order
(tests/emulator/test_metric_data_index.py compares both through the CloudWatch API).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

_original = None


def apply() -> None:
    global _original
    from moto.cloudwatch import models

    if _original is not None:
        return
    _original = models.CloudWatchBackend.get_metric_data

    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: Any, end_time: Any,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        if not queries or any("MetricStat" not in query for query in queries):
            return _original(self, queries, start_time, end_time, scan_by)
        start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if start >= end:  # moto's own validation errors
            return _original(self, queries, start_time, end_time, scan_by)
        period_data = [md for md in self.get_all_metrics() if start <= md.timestamp < end]
        dimension_sets = [sorted(md.dimensions) for md in period_data]
        results = []
        for query in queries:
            stat_query = query["MetricStat"]
            metric = stat_query["Metric"]
            name, namespace = metric["MetricName"], metric["Namespace"]
            dimensions = sorted(models.Dimension(name=d["Name"], value=d["Value"])
                                for d in metric.get("Dimensions", []))
            unit = stat_query.get("Unit")
            delta = timedelta(seconds=int(stat_query["Period"]))
            stat = stat_query["Stat"]
            buckets: dict[int, list[Any]] = {}
            for md, md_dimensions in zip(period_data, dimension_sets):
                # moto's matching, quirks included: with dimensions, the namespace is not compared.
                if md.name != name or (dimensions and md_dimensions != dimensions) \
                        or (not dimensions and md.namespace != namespace) or (unit and md.unit != unit):
                    continue
                buckets.setdefault(int((md.timestamp - start) // delta), []).append(md)
            values, timestamps = [], []
            for index in sorted(buckets):
                stats = models.Statistics([stat], start + index * delta)
                stats.metric_data = buckets[index]
                values.append(stats.get_statistics_for_type(stat))
                timestamps.append(stats.timestamp)
            if scan_by == "TimestampDescending" and timestamps:
                timestamps.reverse()
                values.reverse()
            if query.get("ReturnData", True):
                results.append({"id": query["Id"], "label": query.get("Label") or f"{name} {stat}",
                                "values": values, "timestamps": timestamps, "status_code": "Complete"})
        return results

    models.CloudWatchBackend.get_metric_data = get_metric_data
