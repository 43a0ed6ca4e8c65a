"""Ratios that hold up on a shared, noisy machine (two cores, other people's test runs).

Every timed variant runs in interleaved rounds, so within a round the variants see about
the same load. The figure is the median over the rounds of the per-round ratio (paired);
the ratio of the minimums (the runs least disturbed) and of the median CPU time of the
processes (user + system, which another process's load hardly changes) are kept beside it,
so a reader can tell a real difference from noise: when the three disagree, the run was
noisy."""

from __future__ import annotations

import os
import resource
import statistics


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process (and their waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ratios(this: list[float], other: list[float], this_cpu: list[float] | None = None,
           other_cpu: list[float] | None = None) -> dict:
    """this / other three ways: paired median (the figure), minimums, median CPU time."""
    result = {"paired_median": round(statistics.median(a / b for a, b in zip(this, other)), 3),
              "of_minimums": round(min(this) / min(other), 3),
              "of_medians": round(statistics.median(this) / statistics.median(other), 3)}
    if this_cpu and other_cpu:
        result["of_cpu_medians"] = round(statistics.median(this_cpu) / statistics.median(other_cpu), 3)
    return result


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()]
