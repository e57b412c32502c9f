"""A Transformer training step: ``mt.Transformer`` vs the same model from ``nn.Transformer``.

    python -m benchmarks.transformer [--quick]

Both models: d_model 128, 4 heads, 2 encoder + 2 decoder layers, d_ff 512, dropout 0, the same
vocabulary, sinusoidal positions, embeddings scaled by sqrt(d_model), an output layer tied to
the target embedding, padding masks and a causal mask. One step = forward, cross-entropy,
backward, Adam update. Target: ratio ours / PyTorch <= 1.0. Also the step's achieved GFLOP/s
(matmul FLOPs counted by ``torch.utils.flop_counter``) against this machine's matmul peak.
"""

from __future__ import annotations

import math
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import minitransformer as mt

from .common import compare, machine, matmul_peak_gflops, table

VOCAB, D_MODEL, HEADS, LAYERS, D_FF, BATCH, PAD = 64, 128, 4, 2, 512, 32, 0
LENGTHS = (64, 256)


class TorchTransformer(nn.Module):
    """The reference: ``nn.Transformer`` with the same embeddings, positions and output layer."""

    def __init__(self, max_len: int):
        super().__init__()
        self.src_embed = nn.Embedding(VOCAB, D_MODEL, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(VOCAB, D_MODEL, padding_idx=PAD)
        self.register_buffer("pe", mt.sinusoidal_positions(max_len, D_MODEL))
        self.core = nn.Transformer(D_MODEL, HEADS, LAYERS, LAYERS, D_FF, dropout=0.0,
                                   batch_first=True)
        self.generator = nn.Linear(D_MODEL, VOCAB, bias=False)
        self.generator.weight = self.tgt_embed.weight

    def forward(self, src, tgt):
        scale = math.sqrt(D_MODEL)
        s = self.src_embed(src) * scale + self.pe[: src.shape[1]]
        t = self.tgt_embed(tgt) * scale + self.pe[: tgt.shape[1]]
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], dtype=torch.bool)
        out = self.core(s, t, tgt_mask=causal, src_key_padding_mask=src == PAD,
                        tgt_key_padding_mask=tgt == PAD, memory_key_padding_mask=src == PAD)
        return self.generator(out)


def models(length: int):
    mt.seed_everything(0)
    config = mt.TransformerConfig(VOCAB, VOCAB, d_model=D_MODEL, n_heads=HEADS, n_layers=LAYERS,
                                  d_ff=D_FF, dropout=0.0, max_len=length, pad_id=PAD)
    return mt.Transformer(config), TorchTransformer(length)


def batch(length: int):
    g = torch.Generator().manual_seed(1)
    src = torch.randint(1, VOCAB, (BATCH, length), generator=g)
    tgt = torch.randint(1, VOCAB, (BATCH, length + 1), generator=g)
    src[:, -length // 8:] = PAD  # some padding, as in real batches
    return src, tgt[:, :-1], tgt[:, 1:]


def step_fn(model: nn.Module, length: int):
    src, tgt_in, tgt_out = batch(length)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1), ignore_index=PAD)
        loss.backward()
        optimizer.step()
    return step


def flops(step) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def run(quick: bool = False, peak: float | None = None) -> list[dict]:
    """One row per length; ``peak`` is the machine's matmul GFLOP/s (measured if not given)."""
    peak = matmul_peak_gflops() if peak is None else peak
    rows = []
    for length in (64,) if quick else LENGTHS:
        ours, reference = models(length)
        ours_step, ref_step = step_fn(ours, length), step_fn(reference, length)
        result = compare(ours_step, ref_step, rounds=3 if quick else 7)
        work = flops(ours_step)
        rows.append({"length": length, "ours_ms": result.ours * 1e3,
                     "torch_ms": result.reference * 1e3, "ratio": result.ratio,
                     "gflops": work / result.ours / 1e9, "peak_gflops": peak,
                     "torch_gflops": flops(ref_step) / result.reference / 1e9})
    return rows


def report(rows: list[dict]) -> str:
    return table([[r["length"], f"{r['ours_ms']:.1f}", f"{r['torch_ms']:.1f}", f"{r['ratio']:.2f}",
                   f"{r['gflops']:.1f}", f"{r['torch_gflops']:.1f}",
                   f"{r['gflops'] / r['peak_gflops']:.0%}"] for r in rows],
                 ["T", "mt step ms", "nn step ms", "ratio (target <= 1.0)", "mt GFLOP/s",
                  "nn GFLOP/s", "mt / matmul peak"])


if __name__ == "__main__":
    rows = run(quick="--quick" in sys.argv)
    print(f"Transformer training step, batch {BATCH}, d_model {D_MODEL}, {HEADS} heads, "
          f"{LAYERS}+{LAYERS} layers, d_ff {D_FF}; matmul peak {rows[0]['peak_gflops']:.1f} "
          f"GFLOP/s; {machine()}")
    print(report(rows))
