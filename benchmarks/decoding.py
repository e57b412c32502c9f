"""Decoding speed: greedy decoding with and without the key/value cache; beam search vs beam size.

    python -m benchmarks.decoding [--quick]

Without a cache, step t re-runs the decoder over all t tokens so far (quadratic work over a
sequence); with it, each step feeds one token and reuses the stored keys and values. Target:
a >= 3x speed-up for 128 generated tokens. The model is untrained (the cost does not depend on
the weights); ``eos_id=None`` makes every run generate exactly ``max_len`` tokens.
"""

from __future__ import annotations

import sys

import torch

import minitransformer as mt

from .common import compare, machine, table

VOCAB, BOS = 32, 1
D_MODEL, HEADS, LAYERS, D_FF, BATCH, SRC_LEN = 128, 4, 2, 512, 8, 32


def model(max_len: int) -> mt.Transformer:
    mt.seed_everything(0)
    config = mt.TransformerConfig(VOCAB, VOCAB, d_model=D_MODEL, n_heads=HEADS, n_layers=LAYERS,
                                  d_ff=D_FF, dropout=0.0, max_len=max_len + 1)
    return mt.Transformer(config).eval()


def source(batch: int = BATCH) -> torch.Tensor:
    return torch.randint(3, VOCAB, (batch, SRC_LEN), generator=torch.Generator().manual_seed(0))


def run(quick: bool = False) -> dict:
    # (batch, tokens): the length sweep at batch 8, and 128 tokens at batch 32, where a step's
    # fixed overhead (many small operations on one new token) weighs less.
    runs = [(BATCH, 32), (BATCH, 128), (32, 128)] if quick else \
        [(BATCH, 32), (BATCH, 64), (BATCH, 128), (BATCH, 256), (32, 128)]
    rounds = 2 if quick else 3  # quick: the appendix's build-time run, inside its 45 s budget
    cache_rows = []
    for batch, length in runs:
        m, src = model(length), source(batch)
        result = compare(
            lambda m=m, src=src, n=length: mt.greedy_decode(m, src, n, BOS, None, use_cache=True),
            lambda m=m, src=src, n=length: mt.greedy_decode(m, src, n, BOS, None, use_cache=False),
                         rounds=rounds, warmup=1)
        cache_rows.append({"batch": batch, "tokens": length, "cached_s": result.ours,
                           "uncached_s": result.reference, "speedup": 1 / result.ratio})
    m, src = model(64), source()
    beam_rows = []
    for beam in (1, 2, 4, 8) if not quick else (1, 4):
        seconds = mt.time_it(lambda k=beam: mt.beam_search(m, src, k, 64, BOS, None),
                             repeats=rounds)
        beam_rows.append({"beam_size": beam, "seconds": seconds})
    for row in beam_rows:
        row["relative"] = row["seconds"] / beam_rows[0]["seconds"]
    return {"cache": cache_rows, "beam": beam_rows}


def report(result: dict) -> str:
    cache = table([[r["batch"], r["tokens"], f"{r['cached_s'] * 1e3:.0f}",
                    f"{r['uncached_s'] * 1e3:.0f}", f"{r['speedup']:.1f}x"] for r in result["cache"]],
                  ["batch", "tokens", "cached ms", "uncached ms", "speed-up (target >= 3x at 128)"])
    beam = table([[r["beam_size"], f"{r['seconds'] * 1e3:.0f}", f"{r['relative']:.2f}"]
                  for r in result["beam"]],
                 ["beam size", "ms (64 tokens)", "relative to beam 1"])
    return cache + "\n\n" + beam


if __name__ == "__main__":
    print(f"Greedy decoding, source length {SRC_LEN}, d_model {D_MODEL}, "
          f"{LAYERS}+{LAYERS} layers; {machine()}")
    print(report(run(quick="--quick" in sys.argv)))
