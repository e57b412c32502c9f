"""Small shared tools: seeding for determinism, per-seed results for ``make claims``, and a
wall-clock timer for measurements."""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from ._validation import check_int

__all__ = ["device_from_env", "read_results", "record_result", "seed_everything",
           "seed_from_env", "time_it"]

#: Environment variable holding the seed a chapter runs with (``make claims`` sets it).
SEED_VARIABLE = "MINITRANSFORMER_SEED"
#: Environment variable naming the device a chapter runs on (``cpu`` unless set).
DEVICE_VARIABLE = "MINITRANSFORMER_DEVICE"
#: Environment variable naming the JSON file :func:`record_result` writes to.
RECORD_VARIABLE = "MINITRANSFORMER_RECORD"


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


def seed_from_env(default: int = 0) -> int:
    """The seed a chapter runs with: ``$MINITRANSFORMER_SEED`` if set, else ``default``.

    Each chapter's first cell calls this once and derives every other seed from the result
    (``seed=SEED + 1`` for a test split, ``SEED + i`` for the i-th repeat), so ``make claims``
    can rerun the whole chapter under another seed by setting one variable.
    """
    default = check_int("default", default, minimum=0, maximum=2**32 - 1)
    text = os.environ.get(SEED_VARIABLE, "").strip()
    if not text:
        return default
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer, got {text!r}") from None
    return check_int(SEED_VARIABLE, seed, minimum=0, maximum=2**32 - 1)


def device_from_env(default: str = "cpu") -> torch.device:
    """The device a chapter runs on: ``$MINITRANSFORMER_DEVICE`` if set, else ``default``.

    A chapter calls this once in its first cell (``DEVICE = mt.device_from_env()``) and puts
    its models and data there, so ``MINITRANSFORMER_DEVICE=cuda make lab`` runs it on a GPU
    without editing it. The book itself is built and tested on the CPU (the default). Asking
    for ``cuda`` or ``mps`` where this PyTorch cannot use one raises ``ValueError`` at once,
    instead of failing later inside a model.
    """
    if not isinstance(default, str):
        raise TypeError(f"default must be a str such as 'cpu' or 'cuda', got {default!r}")
    text = os.environ.get(DEVICE_VARIABLE, "").strip() or default
    try:
        device = torch.device(text)
    except RuntimeError:
        raise ValueError(f"{DEVICE_VARIABLE} (or default) must name a torch device such as "
                         f"'cpu', 'cuda' or 'cuda:1', got {text!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {text!r} asked for, but torch.cuda.is_available() is False "
                         f"(torch {torch.__version__}: a CPU build, or no GPU visible)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {text!r} asked for, but torch.backends.mps.is_available() "
                         "is False")
    return device


def record_result(name: str, value: float | int | bool) -> None:
    """Record one measured result of this run for ``make claims`` (else do nothing).

    When ``$MINITRANSFORMER_RECORD`` names a file, ``value`` is stored under ``name`` in that
    JSON file; ``scripts/claims.py`` sets the variable for each chapter and seed, then gathers
    the values of every seed into ``book/claims/<chapter>.json``, which the chapter reads to
    report the spread across seeds (median and range, or "in k of n seeds").
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if isinstance(value, (bool, np.bool_)):
        value = bool(value)
    elif isinstance(value, (int, np.integer)):
        value = int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value):
        value = float(value)
    else:
        raise TypeError(f"value must be a finite int, float or bool, got {value!r}")
    path = os.environ.get(RECORD_VARIABLE)
    if not path:
        return
    results = {}
    if os.path.exists(path):
        with open(path) as f:
            results = json.load(f)
    results[name] = value
    with open(path, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)


def read_results(path: str | os.PathLike) -> dict[str, dict[int, float | int | bool]]:
    """Per-seed results gathered by ``make claims``: ``{name: {seed: value}}``.

    ``path`` is a ``book/claims/<chapter>.json`` file written by ``scripts/claims.py``.
    """
    with open(path) as f:
        payload = json.load(f)
    if not isinstance(payload, dict) or "results" not in payload:
        raise ValueError(f"{path} is not a results file written by scripts/claims.py "
                         "(no 'results' entry)")
    return {name: {int(seed): value for seed, value in by_seed.items()}
            for name, by_seed in payload["results"].items()}


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
