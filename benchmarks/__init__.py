"""Benchmark scripts: each prints a table of timings and ratios against PyTorch's own modules.

Run one from the repository root, e.g. ``python -m benchmarks.lstm``. Each module also exposes
``run(quick=False) -> dict`` for a runner that collects them all.
"""
