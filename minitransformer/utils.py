"""Small shared tools: seeding for determinism and a wall-clock timer for measurements."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from ._validation import check_int

__all__ = ["seed_everything", "time_it"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so that a chapter run twice prints the same numbers.

    The CPU kernels the book uses are deterministic for a fixed thread count. Returns a ``torch.Generator`` seeded with ``seed`` for code that
    prefers an explicit generator over global state.
    """
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def time_it(fn: Callable[[], object], *, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs.

    The median resists the noise of a shared machine better than the mean. Timings are for
    comparing things measured in the same process, not absolute truths.
    """
    repeats = check_int("repeats", repeats, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
