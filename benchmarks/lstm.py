"""Forward + backward time of ``mt.LSTM`` against ``torch.nn.LSTM`` (and the cell-by-cell loop).

Batch 64, length 100, input 32, hidden 128, one layer, float32 on the CPU. Each comparison is
timed with :func:`benchmarks.common.compare`: the two contenders interleaved (A, B, A, B, ...)
so that a busy machine slows both alike, and the median over rounds. Run from the repository
root:

    python -m benchmarks.lstm                # full run, 2 threads
    python -m benchmarks.lstm --quick        # fewer rounds, for a smoke test
    python -m benchmarks.lstm --threads 1
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from torch import nn

import minitransformer as mt

from .common import compare, machine, table

BATCH, LENGTH, INPUT, HIDDEN = 64, 100, 32, 128


def _fwd_bwd(forward: Callable[[torch.Tensor], tuple], x: torch.Tensor) -> Callable[[], None]:
    """One training-like step: forward the sequence, backward a loss over all outputs."""
    def step() -> None:
        out, _ = forward(x)
        out.square().mean().backward()
    return step


def run(quick: bool = False, threads: int = 2) -> dict:
    """Time forward + backward of mt.LSTM (fast and cell-by-cell) and nn.LSTM.

    Returns a dict with the shape, the median seconds (``"mt.LSTM"``, ``"nn.LSTM"``,
    ``"mt.LSTM stepwise"``), ``"ratio vs nn.LSTM"`` (mt.LSTM / nn.LSTM, interleaved with
    nn.LSTM) and ``"speed-up over stepwise"`` (stepwise / mt.LSTM, interleaved with each other).
    """
    torch.set_num_threads(threads)
    mt.seed_everything(0)
    reference = nn.LSTM(INPUT, HIDDEN, batch_first=True)
    ours = mt.LSTM.from_torch(reference)
    x = torch.randn(BATCH, LENGTH, INPUT, requires_grad=True)
    rounds = 3 if quick else 11
    warmup = 1 if quick else 2
    vs_torch = compare(_fwd_bwd(ours, x), _fwd_bwd(reference, x), rounds=rounds, warmup=warmup)
    vs_stepwise = compare(_fwd_bwd(ours, x), _fwd_bwd(ours.forward_stepwise, x),
                          rounds=rounds, warmup=warmup)
    return {
        "shape": {"batch": BATCH, "length": LENGTH, "input": INPUT, "hidden": HIDDEN},
        "threads": threads,
        "rounds": rounds,
        "seconds": {"mt.LSTM": vs_torch.ours, "nn.LSTM": vs_torch.reference,
                    "mt.LSTM stepwise": vs_stepwise.reference},
        "ratio vs nn.LSTM": vs_torch.ratio,
        "speed-up over stepwise": 1 / vs_stepwise.ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args()
    result = run(quick=args.quick, threads=args.threads)
    shape = result["shape"]
    print(f"LSTM forward + backward, batch {shape['batch']}, length {shape['length']}, "
          f"input {shape['input']}, hidden {shape['hidden']}; median of {result['rounds']} "
          f"interleaved rounds; {machine()}")
    print(table([[name, f"{1e3 * s:.1f}"] for name, s in result["seconds"].items()],
                ["implementation", "ms"]))
    print(f"mt.LSTM / nn.LSTM: {result['ratio vs nn.LSTM']:.2f}x   "
          f"speed-up of the fast formulation over the cell-by-cell loop: "
          f"{result['speed-up over stepwise']:.2f}x")


if __name__ == "__main__":
    main()
