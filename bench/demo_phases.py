"""The demo's phases as fractions of its total: runs `python -m emulator demo` once and reads
the `phases:` line it prints at the end (emulator start, cdk bootstrap, cdk deploy, probe
verdict, and "other": stopping the emulator and removing its folder)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASE = re.compile(r"(\w+) (\d+)%")


def parse(output: str) -> dict[str, int]:
    """{"start": 3, "bootstrap": 40, ...} from the demo's last `phases:` line."""
    lines = [line for line in output.splitlines() if line.startswith("phases: ")]
    if not lines:
        raise RuntimeError("the demo printed no `phases:` line")
    return {name: int(percent) for name, percent in PHASE.findall(lines[-1][len("phases: "):])}


def measure() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: compiled modules are cached
    env.update({"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "emulator", "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        last = next((line for line in reversed(proc.stderr.splitlines()) if line.strip()), "")
        raise RuntimeError(f"the demo exited {proc.returncode}: {last}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return {"phases_percent": parse(proc.stdout),
            "phases_line": next(l for l in proc.stdout.splitlines() if l.startswith("phases: ")),
            "process_wall_s": round(wall, 1)}
