"""`python -m bench` (`make bench`): the project's figures, all measured in one run.

  1  the operator command against Logz.io's manual three-command test
     (aws CLI; the boto3 stand-in too)              cli_vs_manual.py   target check / manual <= 0.25
  2  the operator command against a bare `python -c "import boto3; ...one call"` process,
     the floor of any Python + boto3 tool            cli_vs_manual.py   target check / bare   <= 1.15
  3  detection lateness of IAM propagation: virtual sweep of the Retrier over the whole
     wait, and real-time flips against the emulator  lateness.py        target worst          <= 1 s
  4  synth of this app against an empty CDK app      synth.py           (ratio, no target)
  5  the demo's phases as fractions of its total     demo_phases.py     (fractions, no target)
  6  fleet for 200 archives / status --stack for one, fleet.py            target          <= 3
     and AWS calls per archive                                            target          <= 0.1
  7  fleet --probe for 20 archives / one check --stack   fleet.py         (ratio, no target)

Only ratios, lateness and fractions are figures: absolute times depend on the machine and its
load (the machine this is written for has two shared cores) and are kept in the JSON only
for the record. Each ratio is the median of per-round ratios of interleaved runs, with the
ratio of the minimums and of the CPU times beside it (bench/stats.py): when they disagree,
the machine was busy. Everything runs on loopback: the embedded emulator, the CDK command line, the
demo. Prints a table of figure, measured, target, PASS/FAIL and writes it with every detail to
bench/results/latest.json (and bench/results/bench-<UTC time>.json). Exit status 0 when all
sections ran (whatever they measured; --strict: 1 if a target fails), 2 when one could not run.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path

from . import cli_vs_manual, demo_phases, fleet, lateness, synth

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("cli", "lateness", "realtime", "synth", "demo", "fleet")


def _verdict(ok: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "-"}[ok]


def _lateness_text(summary: dict) -> str:
    if summary.get("worst_s") is None:
        return f"never seen ({summary['missed']} of {summary['samples']} missed)"
    runs = (f"{summary['flip_times']} T x {summary['repeats']} seeds" if "flip_times" in summary
            else f"{summary['samples']} T")
    text = f"worst {summary['worst_s']:.2f} s, mean {summary['mean_s']:.2f} s ({runs})"
    if summary["missed"]:
        text += f", {summary['missed']} missed"
    return text


def table(results: dict) -> list[dict]:
    """The final table's rows: figure, measured, target, verdict (from the sections' results)."""
    rows: list[dict] = []

    def row(figure: str, measured: str, target: str, ok: bool | None, value=None) -> None:
        rows.append({"figure": figure, "measured": measured, "target": target, "verdict": _verdict(ok),
                     "value": value})

    def error(figure: str, section: str) -> None:
        rows.append({"figure": figure, "measured": f"ERROR: {results[section]['error'].splitlines()[0]}",
                     "target": "", "verdict": "ERROR", "value": None})

    def also(r: dict) -> str:
        return f" (min {r['of_minimums']:.2f}, cpu {r['of_cpu_medians']:.2f})"

    cli = results.get("cli")
    if cli is not None and "error" in cli:
        error("1+2 check vs manual and bare boto3", "cli")
    elif cli is not None:
        by_name = {r["variant"]: r for r in cli["rows"]}
        if cli_vs_manual.MANUAL_AWS in by_name:
            r = by_name[cli_vs_manual.MANUAL_AWS]
            ratio = r["check_over_this"]
            row("1 check / manual test (aws CLI: mv+ls+cp)", f"{ratio:.2f}" + also(r["check_over_this_all"]),
                "<= 0.25", ratio <= 0.25, ratio)
        else:
            row("1 check / manual test (aws CLI: mv+ls+cp)", "not run: no aws CLI on PATH", "<= 0.25", None)
        if cli_vs_manual.MANUAL_BOTO3 in by_name:
            r = by_name[cli_vs_manual.MANUAL_BOTO3]
            ratio = r["check_over_this"]
            row("  check / manual test (boto3 stand-in)", f"{ratio:.2f}" + also(r["check_over_this_all"]),
                "(info)", None, ratio)
        if cli_vs_manual.BARE in by_name:
            r = by_name[cli_vs_manual.BARE]
            ratio = r["check_over_this"]
            row("2 check / bare python+boto3, 1 call", f"{ratio:.2f}" + also(r["check_over_this_all"]),
                "<= 1.15", ratio <= 1.15, ratio)

    late = results.get("lateness")
    if late is not None and "error" in late:
        error("3 propagation lateness", "lateness")
    elif late is not None:
        for key, name in (("virtual_policy", "AccessDenied"), ("virtual_key", "InvalidAccessKeyId")):
            summary = late[key]
            row(f"3 lateness, virtual sweep, {name} (0-{summary['window_s']:.0f} s)", _lateness_text(summary),
                "worst <= 1 s", summary["ok"], summary["worst_s"])
    real = results.get("realtime")
    if real is not None and "error" in real:
        error("3 lateness, real time vs emulator", "realtime")
    elif real is not None:
        for key, name in (("policy", "policy put at T"), ("key", "key known at T")):
            summary = real[key]
            if summary["samples"]:
                row(f"3 lateness, real time vs emulator, {name}", _lateness_text(summary), "worst <= 1 s",
                    summary["ok"], summary["worst_s"])

    syn = results.get("synth")
    if syn is not None and "error" in syn:
        error("4 synth: this app / empty CDK app", "synth")
    elif syn is not None:
        row("4 synth: this app / empty CDK app", f"{syn['ratio']:.2f}" + also(syn["ratios"]), "(info)", None,
            syn["ratio"])

    demo = results.get("demo")
    if demo is not None and "error" in demo:
        error("5 demo phases", "demo")
    elif demo is not None:
        row("5 demo phases (share of the demo)", ", ".join(f"{k} {v}%" for k, v in demo["phases_percent"].items()),
            "(info)", None, demo["phases_percent"])

    fl = results.get("fleet")
    if fl is not None and "error" in fl:
        error("6+7 fleet", "fleet")
    elif fl is not None:
        r = fl["fleet_over_status"]
        row(f"6 fleet for {fl['archives']} / status --stack for 1", f"{r['paired_median']:.2f}" + also(r),
            "<= 3", r["paired_median"] <= 3, r["paired_median"])
        row("6 fleet: AWS calls per archive", f"{fl['calls_per_archive']:.3f} ({fl['aws_calls']} calls)",
            "<= 0.1", fl["calls_per_archive"] <= 0.1, fl["calls_per_archive"])
        r = fl["probe_over_check"]
        row(f"7 fleet --probe for {fl['probed']} / check --stack for 1", f"{r['paired_median']:.2f}" + also(r),
            "(info)", None, r["paired_median"])
    return rows


def print_table(rows: list[dict]) -> None:
    widths = [max(len(h), *(len(r[k]) for r in rows)) for h, k in
              (("figure", "figure"), ("measured", "measured"), ("target", "target"))]
    print(f"{'figure':<{widths[0]}}  {'measured':<{widths[1]}}  {'target':<{widths[2]}}  verdict")
    for r in rows:
        print(f"{r['figure']:<{widths[0]}}  {r['measured']:<{widths[1]}}  {r['target']:<{widths[2]}}  {r['verdict']}")


def _run(results: dict, section: str, fn) -> None:
    started = time.perf_counter()
    print(f"== {section} ...", flush=True)
    try:
        results[section] = fn()
    except Exception as error:  # one section's failure does not hide the others' figures
        results[section] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
        print(results[section]["traceback"], flush=True)
    results[section]["section_wall_s"] = round(time.perf_counter() - started, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="5 rounds instead of 15, three real-time lateness flips, no synth and no demo "
                             "(about a minute)")
    parser.add_argument("--skip", action="append", default=[], choices=SECTIONS,
                        help="leave a section out (repeatable): cli (figures 1-2), lateness (the virtual "
                             "sweep), realtime (lateness against the emulator), synth, demo, fleet (6-7)")
    parser.add_argument("--runs", type=int, help="timed rounds of figures 1-2 (default 15, quick 5)")
    parser.add_argument("--synth-runs", type=int, default=5, help="timed synths of each app (default 5)")
    parser.add_argument("--manual", choices=("auto", "aws", "boto3", "both"), default="both",
                        help="the manual test: the aws CLI, the boto3 stand-in, or both (default)")
    parser.add_argument("--step", type=float, default=0.05, help="virtual sweep: seconds between two T (0.05)")
    parser.add_argument("--repeats", type=int, default=5, help="virtual sweep: random seeds per T (5)")
    parser.add_argument("--call-seconds", type=float, default=0.05,
                        help="virtual sweep: how long one stubbed S3 call takes (0.05)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args(argv)
    skip = set(args.skip)
    if args.quick:
        skip |= {"synth", "demo"}
    runs = args.runs or (5 if args.quick else 15)
    results: dict = {}

    if "fleet" not in skip:
        from emulator import Emulator

        # An emulator of its own: 220 stacks would slow every other section's listing.
        with Emulator(region=fleet.FLEET_REGION) as emu:
            _run(results, "fleet", lambda: fleet.measure(emu, runs=3 if args.quick else 5))
    if not {"cli", "realtime"} <= skip:
        from emulator import Emulator

        with Emulator(region=cli_vs_manual.REGION) as emu:
            if "cli" not in skip:
                _run(results, "cli", lambda: cli_vs_manual.measure(emu, runs, args.manual))
                if "error" not in results["cli"]:
                    cli_vs_manual.print_rows(results["cli"])
            if "realtime" not in skip:
                flips = ({"policy_flips": (0.4, 2.9), "key_flips": (1.7,)} if args.quick else {})
                _run(results, "realtime", lambda: lateness.realtime(emu, "logzio-archive-lateness", **flips))
    if "lateness" not in skip:
        _run(results, "lateness", lambda: lateness.measure(None, step=args.step, repeats=args.repeats,
                                                           call_seconds=args.call_seconds))
    if "synth" not in skip:
        _run(results, "synth", lambda: synth.measure(args.synth_runs))
    if "demo" not in skip:
        _run(results, "demo", demo_phases.measure)

    rows = table(results)
    print()
    print_table(rows)
    stamp = time.gmtime()
    document = {"benchmark": "python -m bench", "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp),
                "argv": argv, "quick": args.quick, "skipped": sorted(skip), "table": rows,
                "sections": results, "environment": cli_vs_manual.environment(), "git": _git()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{time.strftime('%Y%m%dT%H%M%SZ', stamp)}.json"
    text = json.dumps(document, indent=2, default=str) + "\n"
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"results: {path.relative_to(ROOT)} (and bench/results/latest.json)")
    if any(r["verdict"] == "ERROR" for r in rows):
        return 2
    if args.strict and any(r["verdict"] == "FAIL" for r in rows):
        return 1
    return 0


def _git() -> dict:
    import subprocess

    def out(*cmd: str) -> str:
        proc = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""
    return {"commit": out("rev-parse", "HEAD"), "dirty_paths": out("status", "--porcelain").splitlines()}
