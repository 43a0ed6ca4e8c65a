"""Synth time of this app against an empty CDK app, measured the same way in the same run.

Both are `cdk synth --quiet` with the project's pinned command line (node_modules/.bin/cdk,
what `npx cdk synth` runs), from the project folder (so cdk.json's context reaches both),
each in a fresh process pair (node, then the Python app), into a fresh output folder:
    this app:  --app "<venv python> app.py"            (one stack, cdk-nag on every synth)
    baseline:  --app "<venv python> bench/empty_app.py" (aws_cdk.App + one empty Stack)
The baseline is what any Python CDK app pays (node, jsii and the aws_cdk import); the ratio
says how much this app adds to it. One warm-up each, then --synth-runs interleaved rounds;
the figure is the median of the per-round ratios (CPU-time and minimum ratios beside it,
bench/stats.py). No assertions on time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .stats import children_cpu, load, ratios

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"

APP = "this app (app.py)"
EMPTY = "empty CDK app (App + 1 empty Stack)"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: compiled modules are cached
    env.update({"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    return env


def synth_once(app: str) -> tuple[float, float]:
    """Wall time and CPU time (node, the Python app and jsii's node) of one synth."""
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as out:
        cmd = [str(CDK), "synth", "--quiet", "--no-notices", "--app", app, "--output", out]
        cpu = children_cpu()
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - started
        used = children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return elapsed, used


def measure(runs: int = 5) -> dict:
    if not CDK.exists():
        raise RuntimeError("the CDK command line is not installed: run `make setup` (npm ci)")
    variants = {APP: f"{sys.executable} app.py",
                EMPTY: f"{sys.executable} {ROOT / 'bench' / 'empty_app.py'}"}
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    load_before = load()
    for app in variants.values():  # warm-up: .pyc files, jsii's cache, page cache
        synth_once(app)
    for round_ in range(runs):
        order = list(variants.items())
        if round_ % 2:
            order.reverse()
        for name, app in order:
            wall, used = synth_once(app)
            times[name].append(wall)
            cpu[name].append(used)
    ratio = ratios(times[APP], times[EMPTY], cpu[APP], cpu[EMPTY])
    return {"runs": runs, "command": "node_modules/.bin/cdk synth --quiet --app ...",
            "rows": [{"variant": name, "median_s": round(statistics.median(times[name]), 3),
                      "cpu_median_s": round(statistics.median(cpu[name]), 3),
                      "times_s": [round(t, 3) for t in times[name]], "cpu_s": [round(t, 3) for t in cpu[name]]}
                     for name in variants],
            # the figure: the median of the per-round ratios (bench/stats.py)
            "ratio": ratio["paired_median"], "ratios": ratio, "load_before": load_before, "load_after": load()}
