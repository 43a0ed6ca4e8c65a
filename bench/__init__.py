"""Benchmarks: `python -m bench` (see suite.py). Results go to bench/results/ (gitignored)."""
