"""Measurement helpers shared by the benchmark scripts.

These machines are shared and noisy, so every comparison is a ratio measured in one process
with the two contenders interleaved (A, B, A, B, ...) and summarised by the median of several
rounds. Absolute times are printed only as context.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass
class Comparison:
    """Median seconds of two contenders and their ratio ``ours / reference``."""

    ours: float
    reference: float

    @property
    def ratio(self) -> float:
        return self.ours / self.reference


def compare(ours: Callable[[], object], reference: Callable[[], object], *, rounds: int = 7,
            inner: int = 1, warmup: int = 2) -> Comparison:
    """Time ``ours`` and ``reference`` interleaved; medians over ``rounds`` of ``inner`` calls."""
    for _ in range(warmup):
        ours()
        reference()
    a, b = [], []
    for i in range(rounds):
        # Alternate which contender goes first, so neither always runs on a warmer cache.
        order = [(ours, a), (reference, b)] if i % 2 == 0 else [(reference, b), (ours, a)]
        for fn, times in order:
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            times.append((time.perf_counter() - start) / inner)
    return Comparison(statistics.median(a), statistics.median(b))


def median_time(fn: Callable[[], object], *, rounds: int = 5, warmup: int = 1) -> float:
    """Median seconds of ``fn()``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mb(setup: str, statement: str) -> float:
    """Extra peak resident memory (MiB) of running ``statement`` once after ``setup``.

    Runs in a fresh Python process: CPU PyTorch has no allocator statistics, so we read the
    process's peak resident set size (``ru_maxrss``) before and after the statement. The
    setup (imports, model, inputs) is excluded; what remains is what the statement itself
    allocated at its peak.
    """
    code = textwrap.dedent(f"""
        import json, resource, torch
        torch.set_num_threads(1)
        {setup}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        {statement}
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"kib": after - before}}))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])["kib"] / 1024


def matmul_peak_gflops(n: int = 1024, rounds: int = 5) -> float:
    """The machine's achieved float32 matmul rate (GFLOP/s) on an n x n product: a practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds = median_time(lambda: a @ b, rounds=rounds, warmup=2)
    return 2 * n**3 / seconds / 1e9


def machine() -> str:
    """One line naming what produced the numbers."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
            f"Python {platform.python_version()}")


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


__all__ = ["Comparison", "compare", "machine", "matmul_peak_gflops", "median_time",
           "peak_memory_mb", "table"]
