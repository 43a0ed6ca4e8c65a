"""The benchmark's own arithmetic, on virtual time and canned outputs: no assertion on time."""

from __future__ import annotations

from botocore.exceptions import ClientError

from logzio_s3_archive_runtime.probe import Patience
from bench import demo_phases, lateness, suite
from emulator import demo


class PollEvery:
    """A stand-in Retrier: fixed polling period, gives up at the policy deadline."""

    period = 2.0

    def __init__(self, patience: Patience, clock):
        self.clock, self.deadline = clock, clock.now() + patience.policy_settling

    def call(self, what, fn):
        while True:
            try:
                return fn()
            except ClientError:
                if self.clock.now() >= self.deadline:
                    raise
                self.clock.sleep(min(self.period, self.deadline - self.clock.now()))


def test_virtual_lateness_is_the_wait_until_the_next_poll(monkeypatch):
    monkeypatch.setattr(lateness, "Retrier", PollEvery)
    # Polls at 0, 2, 4, ... (calls take no time): a flip at 0.5 is seen at 2.0, at 2.0 on time.
    assert lateness.virtual_once("AccessDenied", 0.5, Patience(policy_settling=10), 0.0, 0).lateness == 1.5
    assert lateness.virtual_once("AccessDenied", 2.0, Patience(policy_settling=10), 0.0, 0).lateness == 0.0
    summary = lateness.sweep("AccessDenied", 10.0, step=0.5, repeats=1, call_seconds=0.0,
                             patience=Patience(policy_settling=10))
    assert summary["worst_s"] == 1.5 and summary["missed"] == 0 and summary["ok"] is False


def test_a_flip_the_retrier_never_sees_fails_the_target(monkeypatch):
    class GivesUp(PollEvery):
        period = 100.0  # polls at 0 and at the deadline only
    monkeypatch.setattr(lateness, "Retrier", GivesUp)
    missed = lateness.virtual_once("AccessDenied", 9.5, Patience(policy_settling=9), 0.0, 0)
    assert missed.seen_at is None and missed.lateness is None
    on_time = lateness.virtual_once("AccessDenied", 0.0, Patience(policy_settling=9), 0.0, 0)
    summary = lateness.summarize([on_time, missed])
    assert summary["missed"] == 1 and summary["worst_s"] == 0.0 and summary["ok"] is False


def test_the_real_retrier_runs_in_virtual_time():
    """It sleeps on the clock it is given, so the whole sweep needs no real waiting."""
    sample = lateness.virtual_once("InvalidAccessKeyId", 3.0, Patience(key_propagation=10), 0.05, 0)
    assert sample.seen_at is not None and sample.lateness >= 0


def test_demo_phase_line_round_trips(monkeypatch):
    ticks = iter([100.0, 101.0, 105.0, 114.0, 114.5, 115.0, 115.0])
    monkeypatch.setattr(demo.time, "perf_counter", lambda: next(ticks))
    phases = demo.Phases()
    for name in ("start", "bootstrap", "deploy", "verdict"):
        phases.end(name)
    line = phases.line()
    assert line == "phases: start 7%, bootstrap 27%, deploy 60%, verdict 3%, other 3%"
    assert demo_phases.parse(f"...\nDone in 15 s\n{line}\n") == {
        "start": 7, "bootstrap": 27, "deploy": 60, "verdict": 3, "other": 3}


def test_table_judges_each_figure_against_its_target():
    from bench import cli_vs_manual as cvm

    late = {"worst_s": 0.9, "mean_s": 0.4, "samples": 10, "missed": 0, "ok": True, "window_s": 30,
            "flip_times": 10, "repeats": 1}
    rows = suite.table({
        "cli": {"rows": [{"variant": name, "check_over_this": ratio, "check_over_this_all": {
            "paired_median": ratio, "of_minimums": ratio, "of_cpu_medians": ratio}}
            for name, ratio in ((cvm.CHECK, 1.0), (cvm.MANUAL_AWS, 0.2), (cvm.BARE, 1.3))]},
        "lateness": {"virtual_policy": late, "virtual_key": {**late, "worst_s": 4.5, "ok": False}},
        "synth": {"error": "RuntimeError: no cdk"},
    })
    assert [(row["figure"][0], row["verdict"]) for row in rows] == [
        ("1", "PASS"), ("2", "FAIL"), ("3", "PASS"), ("3", "FAIL"), ("4", "ERROR")]


def test_ratios_pair_the_rounds():
    from bench.stats import ratios

    found = ratios([1.0, 2.0, 1.2], [2.0, 4.0, 2.4], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0])
    assert found == {"paired_median": 0.5, "of_minimums": 0.5, "of_medians": 0.5, "of_cpu_medians": 0.5}
    # one disturbed round (the first variant's third run) moves the medians, not the paired ratio
    found = ratios([1.0, 2.0, 10.0], [2.0, 4.0, 3.0])
    assert found["paired_median"] == 0.5 and found["of_medians"] == 0.667
