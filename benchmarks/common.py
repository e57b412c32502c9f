"""Measurement helpers shared by the benchmark scripts.

These machines are shared and noisy, so every comparison is a ratio measured in one process
with the two contenders interleaved (A, B, A, B, ...) and summarised by the median of several
rounds. Absolute times are printed only as context.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

import minitransformer as mt


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


def peak_memory_mb(setup: str, statements: dict[str, str]) -> dict[str, float]:
    """Extra peak resident memory (MiB) of each statement, run one after another after ``setup``.

    Runs in one fresh Python process: CPU PyTorch has no allocator statistics, so before each
    statement we reset the process's peak resident set size (Linux: write 5 to
    ``/proc/self/clear_refs``), run it, and read the new peak (``VmHWM``) against the resident
    size before it. The setup (imports, model, inputs) is excluded; what remains is what the
    statement itself needed at its peak. Each statement runs inside a function, so what it
    creates is freed before the next one (large tensors go back to the system).
    """
    lines = [
        "import gc, json, torch",
        "torch.set_num_threads(1)",
        "def status(field):",
        "    for line in open('/proc/self/status'):",
        "        if line.startswith(field):",
        "            return int(line.split()[1])",
        textwrap.dedent(setup),
        "result = {}",
    ]
    for name, statement in statements.items():
        lines += [
            "gc.collect()",
            "open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to now",
            "before = status('VmRSS:')",
            # Inside a function, so everything the statement creates is freed on return.
            "def _run():",
            textwrap.indent(textwrap.dedent(statement), "    "),
            "_run()",
            f"result[{name!r}] = (status('VmHWM:') - before) / 1024",
        ]
    lines.append("print(json.dumps(result))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]))
    out = subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True,
                         text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def matmul_peak_gflops(n: int = 1024, rounds: int = 9) -> float:
    """The machine's achieved float32 matmul rate (GFLOP/s) on an n x n product: a practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    seconds = min(mt.time_it(lambda: a @ b, repeats=1, warmup=0) for _ in range(rounds))  # best: a peak
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


__all__ = ["Comparison", "compare", "machine", "matmul_peak_gflops",
           "peak_memory_mb", "table"]
