"""Generating tokens: greedy decoding and beam search for an encoder-decoder, sampling for a
decoder-only language model.

A Transformer is trained teacher-forced (every target position at once), but at test time the
target is unknown: the decoder produces it one token at a time, each step reading everything
generated so far. Recomputing the whole prefix at step ``t`` costs ``O(t)`` layer passes per
step; a key/value cache (``attention.KVCache``, one per attention layer) keeps the projected
keys and values of earlier positions so each step only processes the new token. The two give
the same tokens (``tests/test_decoding.py``); the cache is just faster.

:func:`greedy_decode` and :func:`beam_search` work with a
:class:`~minitransformer.transformer.Transformer` and return the generated tokens *without*
the leading ``bos``: ``(B, L)`` ids, each row ending with ``eos`` (if produced) and
right-padded with ``pad_id``.

:func:`generate` continues a prompt with a :class:`~minitransformer.gpt.GPT` by sampling each
next token from the softmax of its logits divided by a temperature, optionally restricted to
the ``top_k`` most probable tokens (Fan et al. 2018) or to the smallest set whose probability
reaches ``top_p`` ("nucleus sampling", Holtzman et al. 2020): :func:`filter_logits`.

Each function checks its arguments once (token ids in range included), then runs the model's
unchecked private path (``_encode``/``_decode``, ``GPT._run``) step after step: a check that
reads values costs as much as a small layer, and the loop's inputs are the model's own outputs.
"""

from __future__ import annotations

import torch

from ._validation import check_float, check_int, check_tensor, check_token_ids, describe
from .attention import padding_mask
from .gpt import GPT
from .transformer import Transformer

__all__ = ["beam_search", "exact_match", "filter_logits", "generate", "greedy_decode"]


def _check_args(model: object, src: object, max_len: object, bos_id: object,
                eos_id: object) -> tuple[int, int, int | None]:
    """The checks greedy decoding and beam search share, run once before the loop."""
    if not isinstance(model, Transformer):
        raise TypeError(f"model must be an encoder-decoder like mt.Transformer (with "
                        f"encode/decode), got {describe(model)}")
    c = model.config
    model._check_tokens("src", src, c.src_vocab_size)
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
    max_len, bos_id, eos_id = _check_args(model, src, max_len, bos_id, eos_id)
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be a bool, got {describe(use_cache)}")
    pad = model.config.pad_id
    memory_mask = padding_mask(src, pad)                       # (B, 1, 1, S)
    memory = model._encode(src, memory_mask)                   # (B, S, D)
    b = src.shape[0]
    ys = torch.full((b, 1), bos_id, dtype=torch.long, device=src.device)  # (B, 1)
    done = torch.zeros(b, dtype=torch.bool, device=src.device)
    cache = model.decoder.new_cache() if use_cache else None
    for _ in range(max_len):
        if use_cache:
            logits, _ = model._decode(ys[:, -1:], memory, memory_mask, cache=cache)  # (B, 1, V)
        else:
            logits, _ = model._decode(ys, memory, memory_mask)                       # (B, t, V)
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
    max_len, bos_id, eos_id = _check_args(model, src, max_len, bos_id, eos_id)
    vocab = model.config.tgt_vocab_size
    k = check_int("beam_size", beam_size, minimum=1, maximum=vocab)
    alpha = check_float("length_penalty", length_penalty, minimum=0.0)
    pad = model.config.pad_id
    b = src.shape[0]
    src_k = src.repeat_interleave(k, dim=0)                     # (B*K, S): beams of a source together
    memory_mask = padding_mask(src_k, pad)                      # (B*K, 1, 1, S)
    memory = model._encode(src_k, memory_mask)                  # (B*K, S, D)
    cache = model.decoder.new_cache()
    ys = torch.full((b * k, 1), bos_id, dtype=torch.long, device=src.device)  # (B*K, 1)
    scores = torch.full((b, k), float("-inf"), device=src.device)
    scores[:, 0] = 0.0                                          # all beams start identical: keep one
    done = torch.zeros(b * k, dtype=torch.bool, device=src.device)
    lengths = torch.zeros(b * k, dtype=torch.long, device=src.device)
    for _ in range(max_len):
        out, _ = model._decode(ys[:, -1:], memory, memory_mask, cache=cache)  # (B*K, 1, V)
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


# --- sampling from a decoder-only language model --------------------------------------------------

def _check_filters(top_k: object, top_p: object) -> tuple[int | None, float | None]:
    if top_k is not None:
        top_k = check_int("top_k", top_k, minimum=1)
    if top_p is not None:
        top_p = check_float("top_p", top_p, minimum=0.0, maximum=1.0)
        if top_p == 0.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    return top_k, top_p


def _filter(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]           # (..., 1) k-th largest
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        probs, order = logits.softmax(dim=-1).sort(dim=-1, descending=True)  # (..., V)
        # drop a token if the tokens more probable than it already reach top_p
        drop_sorted = probs.cumsum(dim=-1) - probs >= top_p                  # (..., V)
        drop = torch.empty_like(drop_sorted).scatter(-1, order, drop_sorted)  # vocab order
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def filter_logits(logits: torch.Tensor, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Set to ``-inf`` the logits of the tokens sampling must not pick.

    ``top_k`` keeps the ``k`` largest logits (ties with the ``k``-th are kept too); ``top_p``
    keeps the smallest set of most probable tokens whose total probability reaches ``p``
    (a token is kept if the tokens more probable than it hold less than ``p``). With both,
    top-k applies first and top-p to what is left, renormalised.

    Shape:
        logits: ``(..., V)`` float; output: the same shape.
    """
    check_tensor("logits", logits, dtype="float")
    if logits.dim() == 0:
        raise ValueError("logits must have a vocabulary dimension, got a 0-D tensor")
    top_k, top_p = _check_filters(top_k, top_p)
    return _filter(logits, top_k, top_p)


@torch.no_grad()
def generate(model: GPT, prompt_ids: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None,
             generator: torch.Generator | None = None, use_cache: bool = True) -> torch.Tensor:
    """Continue ``prompt_ids`` by sampling ``max_new_tokens`` tokens, one at a time.

    Each step samples the next token from ``softmax(logits / temperature)`` after
    :func:`filter_logits` (``top_k``, ``top_p``). Lower temperatures sharpen the distribution
    (towards greedy decoding as it goes to 0), higher ones flatten it.

    Args:
        model: a :class:`~minitransformer.gpt.GPT` (put in eval mode).
        prompt_ids: the prompt, at least one token per row.
        max_new_tokens: how many tokens to add; the prompt plus these must fit in
            ``model.config.max_len``.
        temperature: > 0.
        top_k: sample among the ``top_k`` most probable tokens only (>= 1), or None.
        top_p: sample among the smallest set of tokens whose probability reaches ``top_p``
            (in (0, 1]), or None.
        generator: the random source, for reproducible samples. It may live on another
            device than the model (a CPU generator serves a model on a GPU: each step's
            probabilities are copied to it), so one seed draws the same random numbers on
            every device.
        use_cache: feed the prompt once, then only each new token, reusing cached keys and
            values; False recomputes the whole sequence every step (same tokens, slower).

    Shape:
        prompt_ids: ``(B, T_prompt)`` integer ids; output: ``(B, T_prompt + max_new_tokens)``,
        the prompt followed by the sampled tokens.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a decoder-only language model like mt.GPT, "
                        f"got {describe(model)}")
    config = model.config
    prompt_ids = check_token_ids("prompt_ids", prompt_ids, config.vocab_size)
    if prompt_ids.shape[1] == 0:
        raise ValueError(f"prompt_ids must hold at least one token per row, got shape "
                         f"{tuple(prompt_ids.shape)}")
    max_new_tokens = check_int("max_new_tokens", max_new_tokens, minimum=0)
    if prompt_ids.shape[1] + max_new_tokens > config.max_len:
        raise ValueError(
            f"the prompt ({prompt_ids.shape[1]} tokens) plus max_new_tokens ({max_new_tokens}) "
            f"is longer than the model's context window, max_len = {config.max_len}")
    temperature = check_float("temperature", temperature, minimum=0.0, inclusive=False)
    top_k, top_p = _check_filters(top_k, top_p)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {describe(generator)}")
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be a bool, got {describe(use_cache)}")

    ids = prompt_ids.long()
    cache = model.new_cache() if use_cache else None
    new = ids                                                  # what the model has not read
    for _ in range(max_new_tokens):
        logits, _ = model._run(new if use_cache else ids, cache, need_weights=False)  # (B, T, V)
        logits = _filter(logits[:, -1].float() / temperature, top_k, top_p)  # (B, V)
        probs = logits.softmax(dim=-1)
        if generator is not None and generator.device != probs.device:  # e.g. a CPU one
            probs = probs.to(generator.device)
        new = torch.multinomial(probs, 1, generator=generator).to(ids.device)  # (B, 1)
        ids = torch.cat([ids, new], dim=1)                      # (B, t + 1)
    return ids

