"""Forward + backward time of ``mt.LSTM`` against ``torch.nn.LSTM`` (and the cell-by-cell loop).

Batch 64, length 100, input 32, hidden 128, one layer, float32 on the CPU. The two
implementations are timed in interleaved rounds (A, B, A, B, ...) so that a busy machine slows
both alike, and the median over rounds is reported. Run from the repository root:

    python -m benchmarks.lstm            # full run
    python -m benchmarks.lstm --quick    # fewer rounds, for a smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import minitransformer as mt

BATCH, LENGTH, INPUT, HIDDEN = 64, 100, 32, 128


def _fwd_bwd(forward: Callable[[torch.Tensor], tuple], x: torch.Tensor) -> Callable[[], None]:
    """One training-like step: forward the sequence, backward a loss over all outputs."""
    def step() -> None:
        out, _ = forward(x)
        out.square().mean().backward()
    return step


def _interleaved(fns: dict[str, Callable[[], None]], rounds: int, warmup: int = 2
                 ) -> dict[str, float]:
    """Median seconds per call of each function, timed in interleaved rounds."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def run(quick: bool = False, threads: int = 2) -> dict:
    """Time forward + backward of mt.LSTM (fast and cell-by-cell) and nn.LSTM.

    Returns a dict with the shape, the median seconds of each (``"mt.LSTM"``,
    ``"mt.LSTM stepwise"``, ``"nn.LSTM"``) and the ratios ``"ratio vs nn.LSTM"``
    (mt.LSTM / nn.LSTM) and ``"speed-up over stepwise"`` (stepwise / fast).
    """
    torch.set_num_threads(threads)
    mt.seed_everything(0)
    reference = nn.LSTM(INPUT, HIDDEN, batch_first=True)
    ours = mt.LSTM.from_torch(reference)
    x = torch.randn(BATCH, LENGTH, INPUT, requires_grad=True)
    fns = {
        "mt.LSTM": _fwd_bwd(ours, x),
        "nn.LSTM": _fwd_bwd(reference, x),
        "mt.LSTM stepwise": _fwd_bwd(ours.forward_stepwise, x),
    }
    rounds = 5 if quick else 11
    seconds = _interleaved(fns, rounds=rounds, warmup=1 if quick else 3)
    return {
        "shape": {"batch": BATCH, "length": LENGTH, "input": INPUT, "hidden": HIDDEN},
        "threads": threads,
        "rounds": rounds,
        "seconds": seconds,
        "ratio vs nn.LSTM": seconds["mt.LSTM"] / seconds["nn.LSTM"],
        "speed-up over stepwise": seconds["mt.LSTM stepwise"] / seconds["mt.LSTM"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args()
    result = run(quick=args.quick, threads=args.threads)
    shape = result["shape"]
    print(f"LSTM forward + backward, batch {shape['batch']}, length {shape['length']}, "
          f"input {shape['input']}, hidden {shape['hidden']}, {result['threads']} threads, "
          f"median of {result['rounds']} interleaved rounds")
    for name, seconds in result["seconds"].items():
        print(f"  {name:<18} {seconds * 1e3:8.2f} ms")
    print(f"  mt.LSTM / nn.LSTM            {result['ratio vs nn.LSTM']:.2f}x")
    print(f"  stepwise / mt.LSTM (speed-up) {result['speed-up over stepwise']:.2f}x")


if __name__ == "__main__":
    main()
