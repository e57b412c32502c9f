"""Multi-head attention against ``torch.nn.MultiheadAttention``: time and peak memory vs length.

    python -m benchmarks.attention [--quick]

Two paths of ours: the explicit one (materialises the (T, T) weights, which the book's
heatmaps need) and the fused one (``need_weights=False``: PyTorch's fused
``scaled_dot_product_attention`` kernel, which never stores the weights). Each is compared with
PyTorch's module in the matching mode. Forward and backward, d_model 128, 4 heads, batch 2.
"""

from __future__ import annotations

import sys

import torch
from torch import nn

import minitransformer as mt

from .common import compare, machine, peak_memory_mb, table

D_MODEL, HEADS, BATCH = 128, 4, 2
LENGTHS = (64, 128, 256, 512, 1024, 2048)
QUICK_LENGTHS = (64, 256, 1024)


def _pair(length: int):
    mt.seed_everything(0)
    reference = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
    ours = mt.MultiHeadAttention.from_torch(reference)
    x = torch.randn(BATCH, length, D_MODEL, requires_grad=True)
    return ours, reference, x


def _step(module, x, need_weights: bool):
    def run():
        out, _ = module(x, x, x, need_weights=need_weights)
        out.sum().backward()
    return run


_SETUP = """
import minitransformer as mt
from torch import nn
torch.manual_seed(0)
ref = nn.MultiheadAttention({d}, {h}, batch_first=True)
ours = mt.MultiHeadAttention.from_torch(ref)
x = torch.randn({b}, {t}, {d}, requires_grad=True)
for warm in (ours, ref):  # first calls allocate one-off buffers: keep them out of the peak
    for need in (True, False):
        warm(x[:, :8], x[:, :8], x[:, :8], need_weights=need)[0].sum().backward()
"""


def run(quick: bool = False) -> list[dict]:
    """Measure every length; return one row (dict) per length."""
    rows = []
    for length in QUICK_LENGTHS if quick else LENGTHS:
        ours, reference, x = _pair(length)
        rounds = 3 if quick or length >= 1024 else 5
        explicit = compare(_step(ours, x, True), _step(reference, x, True), rounds=rounds)
        fused = compare(_step(ours, x, False), _step(reference, x, False), rounds=rounds)
        memory = peak_memory_mb(_SETUP.format(d=D_MODEL, h=HEADS, b=BATCH, t=length), {
            name: f"out, _ = {module}(x, x, x, need_weights={need}); out.sum().backward()"
            for name, module, need in (("ours_explicit", "ours", True),
                                       ("torch_weights", "ref", True),
                                       ("ours_fused", "ours", False),
                                       ("torch_fused", "ref", False))})
        rows.append({
            "length": length,
            "explicit_ms": explicit.ours * 1e3, "torch_weights_ms": explicit.reference * 1e3,
            "explicit_ratio": explicit.ratio,
            "fused_ms": fused.ours * 1e3, "torch_fused_ms": fused.reference * 1e3,
            "fused_ratio": fused.ratio,
            **{f"{k}_mb": v for k, v in memory.items()},
        })
    return rows


def report(rows: list[dict]) -> str:
    header = ["T", "ours explicit ms", "torch (weights) ms", "ratio", "ours fused ms",
              "torch (fused) ms", "ratio", "MiB explicit/torch/fused/torch"]
    body = []
    for r in rows:
        mem = "/".join(f"{r[k]:.0f}" for k in ("ours_explicit_mb", "torch_weights_mb",
                                                "ours_fused_mb", "torch_fused_mb") if k in r)
        body.append([r["length"], f"{r['explicit_ms']:.1f}", f"{r['torch_weights_ms']:.1f}",
                     f"{r['explicit_ratio']:.2f}", f"{r['fused_ms']:.1f}",
                     f"{r['torch_fused_ms']:.1f}", f"{r['fused_ratio']:.2f}", mem])
    return table(body, header)


if __name__ == "__main__":
    print(f"Multi-head attention, forward+backward, d_model {D_MODEL}, {HEADS} heads, batch {BATCH}; {machine()}")
    print(report(run(quick="--quick" in sys.argv)))
