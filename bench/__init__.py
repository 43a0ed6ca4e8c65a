"""Benchmarks: `python -m bench` (see cli_vs_manual.py). Results go to bench/results/ (gitignored)."""
