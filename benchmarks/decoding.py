"""Decoding speed: greedy decoding with and without the key/value cache; beam search vs beam size.

    python -m benchmarks.decoding [--quick]

Without a cache, step t re-runs the decoder over all t tokens so far (quadratic work over a
sequence); with it, each step feeds one token and reuses the stored keys and values. Target:
a >= 3x speed-up for every length of 64 tokens or more at batch 8. The model is untrained (the
cost does not depend on the weights); ``eos_id=None`` makes every run generate exactly
``max_len`` tokens.

The floor: :func:`floor_decode` is the same cached greedy decoding written as plainly as
PyTorch allows (no argument checks, no module calls, no masks for fully padded rows, one
function), over the same weights. Its time per token is what the maths costs on this machine;
the package's cached decoding is compared with it (full run only: the quick run is the
appendix's build-time run and keeps its time budget).
"""

from __future__ import annotations

import math
import sys

import torch
import torch.nn.functional as F

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


@torch.no_grad()
def floor_decode(m: mt.Transformer, src: torch.Tensor, n: int, bos: int) -> torch.Tensor:
    """Cached greedy decoding of a post-norm ``m`` in eval mode, in plain PyTorch: ``n``
    tokens, no ``eos``, the tokens of ``mt.greedy_decode(m, src, n, bos, None)``."""
    c = m.config
    b, d, h = src.shape[0], c.d_model, c.n_heads

    def heads(x):  # (B, T, D) -> (B, heads, T, d_head)
        return x.view(b, -1, h, d // h).transpose(1, 2)

    def merge(x):  # (B, heads, T, d_head) -> (B, T, D)
        return x.transpose(1, 2).reshape(b, -1, d)

    def norm(x, ln):
        return F.layer_norm(x, (d,), ln.weight, ln.bias, ln.eps)

    keep = (src != c.pad_id)[:, None, None, :]                   # (B, 1, 1, S)
    memory = m.encode(src)                                       # (B, S, D)
    caches = []
    for layer in m.decoder.layers:  # cross-attention keys and values, once
        w, bias = layer.multihead_attn.in_proj_weight, layer.multihead_attn.in_proj_bias
        k, v = F.linear(memory, w[d:], bias[d:]).split(d, dim=-1)
        caches.append([None, None, heads(k), heads(v)])
    token = torch.full((b, 1), bos, dtype=torch.long, device=src.device)
    out = []
    for t in range(n):
        x = F.embedding(token, m.tgt_embed.weight) * math.sqrt(d) + m.positions.pe[t]
        for layer, cache in zip(m.decoder.layers, caches, strict=True):
            sa, ca = layer.self_attn, layer.multihead_attn
            q, k, v = map(heads, F.linear(x, sa.in_proj_weight, sa.in_proj_bias).split(d, -1))
            if cache[0] is not None:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
            a = merge(F.scaled_dot_product_attention(q, k, v))
            x = norm(x + F.linear(a, sa.out_proj.weight, sa.out_proj.bias), layer.norm1)
            q = heads(F.linear(x, ca.in_proj_weight[:d], ca.in_proj_bias[:d]))
            a = merge(F.scaled_dot_product_attention(q, cache[2], cache[3], attn_mask=keep))
            x = norm(x + F.linear(a, ca.out_proj.weight, ca.out_proj.bias), layer.norm2)
            f = F.linear(F.relu(F.linear(x, layer.linear1.weight, layer.linear1.bias)),
                         layer.linear2.weight, layer.linear2.bias)
            x = norm(x + f, layer.norm3)
        token = F.linear(x[:, -1], m.generator.weight).argmax(-1, keepdim=True)  # (B, 1)
        out.append(token)
    return torch.cat(out, dim=1)                                 # (B, n)


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
        row = {"batch": batch, "tokens": length, "cached_s": result.ours,
               "uncached_s": result.reference, "speedup": 1 / result.ratio}
        if not quick:  # the floor: the same tokens from plain PyTorch
            if not torch.equal(floor_decode(m, src, length, BOS),
                               mt.greedy_decode(m, src, length, BOS, None)):
                raise AssertionError("floor_decode does not reproduce mt.greedy_decode")
            floor = compare(
                lambda m=m, src=src, n=length: mt.greedy_decode(m, src, n, BOS, None),
                lambda m=m, src=src, n=length: floor_decode(m, src, n, BOS),
                rounds=rounds, warmup=1)
            row.update(cached_vs_floor_s=floor.ours, floor_s=floor.reference,
                       over_floor=floor.ratio)
        cache_rows.append(row)
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
    rows = result["cache"]
    cache = table([[r["batch"], r["tokens"], f"{r['cached_s'] * 1e3:.0f}",
                    f"{r['uncached_s'] * 1e3:.0f}", f"{r['speedup']:.1f}x"] for r in rows],
                  ["batch", "tokens", "cached ms", "uncached ms", "speed-up (target >= 3x from 64)"])
    if "floor_s" in rows[0]:  # full run: per-token latency next to the floor
        floor = table([[r["batch"], r["tokens"], f"{r['cached_vs_floor_s'] / r['tokens'] * 1e3:.2f}",
                        f"{r['floor_s'] / r['tokens'] * 1e3:.2f}", f"{r['over_floor']:.2f}"]
                       for r in rows],
                      ["batch", "tokens", "mt ms/token", "floor ms/token", "mt / floor"])
        cache += ("\n\nCached greedy decoding per token vs the floor (floor_decode: plain "
                  "PyTorch, same weights, same tokens)\n" + floor)
    beam = table([[r["beam_size"], f"{r['seconds'] * 1e3:.0f}", f"{r['relative']:.2f}"]
                  for r in result["beam"]],
                 ["beam size", "ms (64 tokens)", "relative to beam 1"])
    return cache + "\n\n" + beam


if __name__ == "__main__":
    print(f"Greedy decoding, source length {SRC_LEN}, d_model {D_MODEL}, "
          f"{LAYERS}+{LAYERS} layers; {machine()}")
    print(report(run(quick="--quick" in sys.argv)))
