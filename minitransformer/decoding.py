"""Generating a target sequence from a trained encoder-decoder: greedy decoding and beam search.

A Transformer is trained teacher-forced (every target position at once), but at test time the
target is unknown: the decoder produces it one token at a time, each step reading everything
generated so far. Recomputing the whole prefix at step ``t`` costs ``O(t)`` layer passes per
step; a key/value cache (``attention.KVCache``, one per attention layer) keeps the projected
keys and values of earlier positions so each step only processes the new token. The two give
the same tokens (``tests/test_decoding.py``); the cache is just faster.

Both functions work with :class:`~minitransformer.transformer.Transformer` (anything with its
``encode``, ``decode(..., cache=...)``, ``decoder.new_cache()`` and ``config.pad_id``) and
return the generated tokens *without* the leading ``bos``: ``(B, L)`` ids, each row ending
with ``eos`` (if produced) and right-padded with ``pad_id``.
"""

from __future__ import annotations

from typing import cast

import torch

from ._validation import check_float, check_int, check_tensor, check_token_ids, describe
from .attention import padding_mask
from .transformer import Transformer

__all__ = ["beam_search", "exact_match", "greedy_decode"]


def _check_model(model: object) -> None:
    for attr in ("encode", "decode", "decoder", "config"):
        if not hasattr(model, attr):
            raise TypeError(f"model must be an encoder-decoder like mt.Transformer (with "
                            f"encode/decode), got {describe(model)}")


def _check_ids(model, src, max_len, bos_id, eos_id):
    c = model.config
    check_token_ids("src", src, c.src_vocab_size)
    max_len = check_int("max_len", max_len, minimum=1, maximum=c.max_len - 1)
    bos_id = check_int("bos_id", bos_id, minimum=0, maximum=c.tgt_vocab_size - 1)
    if eos_id is not None:
        eos_id = check_int("eos_id", eos_id, minimum=0, maximum=c.tgt_vocab_size - 1)
    return max_len, bos_id, eos_id


@torch.no_grad()
def greedy_decode(model: Transformer, src: torch.Tensor, max_len: int, bos_id: int,
                  eos_id: int | None, use_cache: bool = True) -> torch.Tensor:
    """Generate by always taking the most probable next token.

    Args:
        model: a trained :class:`~minitransformer.transformer.Transformer` (put in eval mode).
        src: ``(B, S)`` source ids (padded with ``model.config.pad_id``).
        max_len: most tokens to generate (``eos`` included).
        bos_id: the token the decoder starts from.
        eos_id: stop a sequence once it produced this token; ``None`` = never stop early
            (always ``max_len`` tokens, e.g. for timing).
        use_cache: feed only the newest token each step and reuse cached keys/values; False
            recomputes the whole prefix every step (same tokens, slower).

    Returns:
        ``(B, L)`` LongTensor, ``L <= max_len``: the generated ids without ``bos``; after a
        row's ``eos`` come ``pad_id`` s.
    """
    _check_model(model)
    max_len, bos_id, eos_id = _check_ids(model, src, max_len, bos_id, eos_id)
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be a bool, got {describe(use_cache)}")
    pad = model.config.pad_id
    memory_mask = padding_mask(src, pad)                       # (B, 1, 1, S)
    memory = model.encode(src)                                 # (B, S, D)
    b = src.shape[0]
    ys = torch.full((b, 1), bos_id, dtype=torch.long, device=src.device)  # (B, 1)
    done = torch.zeros(b, dtype=torch.bool, device=src.device)
    cache = model.decoder.new_cache() if use_cache else None
    for _ in range(max_len):
        if use_cache:
            out = model.decode(ys[:, -1:], memory, memory_mask, cache=cache)  # (B, 1, V)
        else:
            out = model.decode(ys, memory, memory_mask)                       # (B, t, V)
        logits = cast(torch.Tensor, out)  # without need_weights, decode returns logits alone
        nxt = logits[:, -1].argmax(dim=-1)                                    # (B,)
        nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
        ys = torch.cat([ys, nxt[:, None]], dim=1)
        if eos_id is not None:
            done |= nxt == eos_id
            if bool(done.all()):
                break
    return ys[:, 1:]


def _length_penalty(length: torch.Tensor, alpha: float) -> torch.Tensor:
    """Wu et al. (2016)'s ``((5 + length) / 6) ** alpha``, as used with alpha = 0.6 in
    section 6.1 of Vaswani et al. (2017)."""
    return ((5.0 + length.float()) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model: Transformer, src: torch.Tensor, beam_size: int, max_len: int,
                bos_id: int, eos_id: int | None, length_penalty: float = 0.6) -> torch.Tensor:
    """Keep the ``beam_size`` most probable partial targets at every step.

    ``eos_id=None`` never finishes a beam early (always ``max_len`` tokens, e.g. for timing),
    as in :func:`greedy_decode`.

    Every step extends each of the ``beam_size`` beams of every source by every token and keeps
    the ``beam_size`` extensions with the highest total log-probability. A beam that produced
    ``eos`` is finished: it only extends by ``pad`` at no cost, so it keeps its score. At the
    end, the beams are ranked by ``log p / lp(length)`` with the length penalty
    ``lp = ((5 + length) / 6) ** length_penalty`` (0 = plain log-probability; larger values
    favour longer outputs) and the best is returned. With ``beam_size=1`` this is greedy
    decoding. The caches of surviving beams follow them (``DecoderCache.reorder``).

    Shape:
        src: ``(B, S)``; output ``(B, L)`` as for :func:`greedy_decode`.
    """
    _check_model(model)
    max_len, bos_id, eos_id = _check_ids(model, src, max_len, bos_id, eos_id)
    vocab = model.config.tgt_vocab_size
    k = check_int("beam_size", beam_size, minimum=1, maximum=vocab)
    alpha = check_float("length_penalty", length_penalty, minimum=0.0)
    pad = model.config.pad_id
    b = src.shape[0]
    src_k = src.repeat_interleave(k, dim=0)                     # (B*K, S): beams of a source together
    memory_mask = padding_mask(src_k, pad)                      # (B*K, 1, 1, S)
    memory = model.encode(src_k)                                # (B*K, S, D)
    cache = model.decoder.new_cache()
    ys = torch.full((b * k, 1), bos_id, dtype=torch.long, device=src.device)  # (B*K, 1)
    scores = torch.full((b, k), float("-inf"), device=src.device)
    scores[:, 0] = 0.0                                          # all beams start identical: keep one
    done = torch.zeros(b * k, dtype=torch.bool, device=src.device)
    lengths = torch.zeros(b * k, dtype=torch.long, device=src.device)
    for _ in range(max_len):
        out = cast(torch.Tensor, model.decode(ys[:, -1:], memory, memory_mask, cache=cache))
        logp = out[:, -1].float().log_softmax(dim=-1)                # (B*K, V)
        finished_row = torch.full_like(logp, float("-inf"))
        finished_row[:, pad] = 0.0
        logp = torch.where(done[:, None], finished_row, logp)   # finished beams extend by pad
        cand = scores[:, :, None] + logp.view(b, k, vocab)      # (B, K, V)
        scores, flat = cand.view(b, k * vocab).topk(k, dim=-1)  # (B, K)
        parent = flat // vocab + torch.arange(b, device=src.device)[:, None] * k  # (B, K)
        token = (flat % vocab).view(-1)                         # (B*K,)
        parent = parent.view(-1)
        cache.reorder(parent)
        ys = torch.cat([ys[parent], token[:, None]], dim=1)
        lengths = lengths[parent] + (~done[parent]).long()
        done = done[parent] if eos_id is None else done[parent] | (token == eos_id)
        if bool(done.all()):
            break
    ranked = scores / _length_penalty(lengths.view(b, k), alpha)  # (B, K)
    best = ranked.argmax(dim=-1) + torch.arange(b, device=src.device) * k
    keep = int(lengths[best].max())                             # longest chosen beam
    return ys[best, 1:keep + 1]                                 # (B, L)


def exact_match(predicted: torch.Tensor, target: torch.Tensor, eos_id: int) -> float:
    """Fraction of rows where ``predicted`` equals ``target`` up to and including the first
    ``eos_id`` (whatever follows it, padding included, is ignored).

    Shape:
        predicted: ``(B, L)`` generated ids (no ``bos``); target: ``(B, T)`` reference ids
        ending with ``eos_id`` (``Batch.tgt_out``).
    """
    check_tensor("predicted", predicted, shape=("B", "L"), dtype="int")
    check_tensor("target", target, shape=(predicted.shape[0], "T"), dtype="int")
    eos_id = check_int("eos_id", eos_id, minimum=0)
    correct = 0
    for p, t in zip(predicted.tolist(), target.tolist(), strict=True):
        p = p[: p.index(eos_id) + 1] if eos_id in p else p
        t = t[: t.index(eos_id) + 1] if eos_id in t else t
        correct += p == t
    return correct / max(len(predicted), 1)
