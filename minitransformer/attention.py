"""Attention: masks, scaled dot-product attention and multi-head attention.

Read top to bottom: the two mask builders, the masked softmax every attention in the package
shares, scaled dot-product attention (Eq. (1), section 3.2.1 of Vaswani et al. 2017), and
multi-head attention (section 3.2.2 of Vaswani et al. 2017) with a key/value cache for
step-by-step decoding. The additive attention of Bahdanau et al. (2015) lives with the RNN
encoder-decoder it was made for, in ``seq2seq.py``.

Conventions (the same across the package):

- Masks are ``bool`` tensors, **True = may attend** (query ``i`` may look at key ``j``),
  broadcastable to ``(B, heads, T_q, T_k)``. PyTorch's ``nn.MultiheadAttention`` uses the
  opposite convention (True = blocked); convert with ``~mask`` when comparing.
- A query that may attend to *no* key gets all-zero weights and a zero output, never NaN
  (a softmax over nothing but ``-inf`` would give ``0 / 0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_float, check_int, check_mask, check_tensor, describe

__all__ = [
    "KVCache",
    "MultiHeadAttention",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
]


# --- masks ----------------------------------------------------------------------------------------

def causal_mask(size: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """The mask that lets position ``i`` attend to positions ``0..i`` only (no peeking ahead).

    Used by the decoder's self-attention (section 3.2.3 of Vaswani et al. 2017: "prevent
    leftward information flow").

    Shape:
        output: ``(size, size)`` bool, True on and below the diagonal; broadcasts to
        ``(B, heads, T, T)``.
    """
    size = check_int("size", size, minimum=1)
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """The mask that stops every query from attending to padding keys.

    Shape:
        tokens: ``(B, T)`` integer token ids.
        output: ``(B, 1, 1, T)`` bool, True where the key is a real token (not ``pad_id``);
        broadcasts over heads and queries to ``(B, heads, T_q, T)``.
    """
    check_tensor("tokens", tokens, shape=("B", "T"), dtype="int")
    pad_id = check_int("pad_id", pad_id, minimum=0)
    return (tokens != pad_id)[:, None, None, :]  # (B, 1, 1, T)


# --- the masked softmax shared by every attention below ------------------------------------------

def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis where only ``mask``-True entries count.

    Rows with no allowed entry get all-zero weights. The trick: such rows are first filled with
    zeros (a harmless uniform softmax, so no ``0 / 0``), then their weights are zeroed, which
    also makes their gradient exactly zero rather than NaN.
    """
    if mask is None:
        return scores.softmax(dim=-1)
    scores = scores.masked_fill(~mask, float("-inf"))
    alive = mask.any(dim=-1, keepdim=True)  # (..., T_q, 1): may this query attend at all?
    scores = scores.masked_fill(~alive, 0.0)
    return scores.softmax(dim=-1).masked_fill(~alive, 0.0)


# --- scaled dot-product attention -----------------------------------------------------------------

def _check_attention_args(q: object, k: object, v: object, mask: object, dropout_p: object,
                          need_weights: object) -> float:
    """The argument checks of :func:`scaled_dot_product_attention`; returns ``dropout_p``."""
    checked = [check_tensor(name, x, dtype="float") for name, x in (("q", q), ("k", k), ("v", v))]
    for name, x in zip("qkv", checked):
        if x.dim() < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., T, d), "
                             f"got {describe(x)}")
    q, k, v = checked
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k must have the same last dimension d_k as q ({q.shape[-1]}), "
                         f"got k of shape {tuple(k.shape)}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v must have as many positions T_k as k ({k.shape[-2]}), "
                         f"got v of shape {tuple(v.shape)}")
    try:  # equal batch dimensions (every call from MultiHeadAttention) need no broadcasting
        batch = (q.shape[:-2] if q.shape[:-2] == k.shape[:-2] == v.shape[:-2]
                 else torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
    except RuntimeError:
        raise ValueError(
            f"q, k and v must have broadcastable leading (batch) dimensions, got shapes "
            f"{tuple(q.shape)}, {tuple(k.shape)} and {tuple(v.shape)}") from None
    if mask is not None:
        check_mask("mask", mask, (*batch, q.shape[-2], k.shape[-2]))
    if not isinstance(need_weights, bool):
        raise TypeError(f"need_weights must be a bool, got {describe(need_weights)}")
    return check_float("dropout_p", dropout_p, minimum=0.0, maximum=1.0)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    need_weights: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, Eq. (1) of Vaswani et al.
    (2017).

    Each query is compared with every key by a dot product; dividing by
    :math:`\sqrt{d_k}` keeps the scores' variance near 1 whatever the width (section
    3.2.1), so the softmax does not saturate. The weights then average the values.

    Args:
        q, k, v: queries, keys and values (any number of leading batch dimensions, e.g.
            ``(B, heads)``).
        mask: bool, True = may attend, broadcastable to ``(..., T_q, T_k)`` without
            growing it. A query row with no True entry gets zero weights and a zero
            output.
        dropout_p: dropout on the attention weights (section 5.4); applied whenever > 0,
            so modules pass 0 in ``eval()`` mode.
        need_weights: if False, run PyTorch's fused kernel
            (``torch.nn.functional.scaled_dot_product_attention``), which never stores
            the ``T_q x T_k`` weights it does not return, and return ``None`` for them.

    Returns:
        ``(out, weights)``: ``out`` the weighted values, ``weights`` the attention
        probabilities that multiplied ``v`` (after dropout), or None.

    Shape:
        q: ``(..., T_q, d_k)``; k: ``(..., T_k, d_k)``; v: ``(..., T_k, d_v)``.
        out: ``(..., T_q, d_v)``; weights: ``(..., T_q, T_k)``.
    """
    dropout_p = _check_attention_args(q, k, v, mask, dropout_p, need_weights)
    if not need_weights:
        return _fused_attention(q, k, v, mask, dropout_p), None
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., T_q, T_k)
    weights = _masked_softmax(scores, mask)                     # (..., T_q, T_k)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v, weights                                 # (..., T_q, d_v)


def _fused_attention(q, k, v, mask, dropout_p):
    """PyTorch's fused kernel, with fully masked rows made harmless then zeroed."""
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    dead = ~mask.any(dim=-1, keepdim=True)  # (..., T_q, 1): queries that may see no key
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask | dead, dropout_p=dropout_p)
    return out.masked_fill(dead, 0.0)       # (..., T_q, d_v)


# --- multi-head attention (Vaswani et al. 2017, section 3.2.2) ------------------------------------


@dataclass
class KVCache:
    """Keys and values one :class:`MultiHeadAttention` has already projected, for decoding.

    Generating token by token, step ``t`` would otherwise re-project the keys and values of all
    ``t`` earlier positions. Pass a cache to ``MultiHeadAttention.forward(..., cache=...)``:

    - **Self-attention** (``KVCache()``): every call passes only the *new* positions (usually
      one token, ``(B, 1, D)``); their projected keys and values are appended to the cache and
      the queries attend over everything cached so far. One new token may see all earlier
      ones, so no causal mask is needed; a ``mask`` must broadcast to
      ``(B, heads, T_new, T_cached)``.
    - **Cross-attention** (``KVCache(static=True)``): the keys and values (the encoder's
      output) are projected on the first call and reused afterwards; later calls may pass
      ``key=None, value=None``.

    The cache is filled in place by :meth:`update`. ``reorder(index)`` picks batch rows (beam
    search keeps the caches of the surviving beams).

    Attributes:
        k, v: cached projected keys and values, ``(B, heads, T_cached, d_head)``; None before
            the first call.
        static: True for cross-attention (computed once), False for self-attention (grows).
    """

    k: torch.Tensor | None = None
    v: torch.Tensor | None = None
    static: bool = False

    def __len__(self) -> int:
        """Number of cached positions."""
        return 0 if self.k is None else self.k.shape[-2]

    def stored(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The keys and values of a filled static cache (nothing left to project), else None."""
        return (self.k, self.v) if self.static and self.k is not None and self.v is not None \
            else None

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add newly projected keys and values; return every cached key and value.

        A self-attention cache appends ``k`` and ``v`` after the cached positions; a static
        cache stores the first ``k`` and ``v`` it is given and returns them from then on.

        Shape:
            k, v: ``(B, heads, T_new, d_head)``; returns two ``(B, heads, T_cached, d_head)``.
        """
        if self.k is None or self.v is None:
            self.k, self.v = k, v
        elif not self.static:
            self.k = torch.cat([self.k, k], dim=2)  # (B, heads, T_cached, d_head)
            self.v = torch.cat([self.v, v], dim=2)
        return self.k, self.v

    def reorder(self, index: torch.Tensor) -> None:
        """Keep batch rows ``index`` (a 1-D integer tensor), in that order, in place."""
        check_tensor("index", index, shape=("B",), dtype="int")
        if self.k is not None and self.v is not None:
            self.k = self.k.index_select(0, index)
            self.v = self.v.index_select(0, index)


class MultiHeadAttention(nn.Module):
    r"""Multi-head attention, section 3.2.2 of Vaswani et al. (2017).

    :math:`\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots,
    \mathrm{head}_h) W^O` with :math:`\mathrm{head}_i = \mathrm{Attention}(Q W_i^Q, K W_i^K,
    V W_i^V)`. The ``n_heads`` projections of width ``d_head = d_model / n_heads`` are packed
    into one ``(3 d_model, d_model)`` matrix, ``in_proj_weight`` (rows: queries, then keys, then
    values), laid out exactly as in ``torch.nn.MultiheadAttention`` so :meth:`from_torch` can
    copy it.

    Args:
        d_model: width of the inputs and outputs.
        n_heads: number of heads; must divide ``d_model``.
        dropout: dropout on the attention weights while training.
        bias: whether the in- and out-projections have biases.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        d_model = check_int("d_model", d_model, minimum=1)
        n_heads = check_int("n_heads", n_heads, minimum=1)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model} "
                             f"and n_heads={n_heads}")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {describe(bias)}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.dropout = check_float("dropout", dropout, minimum=0.0, maximum=1.0)
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # W^Q; W^K; W^V
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)                 # W^O
        nn.init.xavier_uniform_(self.in_proj_weight)  # PyTorch's initialisation
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of ``torch.nn.MultiheadAttention`` ``module`` with the same weights.

        The weights do not depend on ``batch_first``, so modules of either layout are accepted;
        ours is always batch first. Modules with ``kdim``/``vdim`` different from ``embed_dim``,
        ``add_bias_kv`` or ``add_zero_attn`` have no counterpart here and are rejected.
        """
        if not isinstance(module, nn.MultiheadAttention):
            raise TypeError(f"module must be a torch.nn.MultiheadAttention, got {describe(module)}")
        if not module._qkv_same_embed_dim:
            raise ValueError(f"module must have kdim == vdim == embed_dim ({module.embed_dim}), "
                             f"got kdim={module.kdim}, vdim={module.vdim}")
        if module.bias_k is not None:
            raise ValueError("module must not use add_bias_kv=True (not supported here)")
        if module.add_zero_attn:
            raise ValueError("module must not use add_zero_attn=True (not supported here)")
        bias = module.in_proj_bias is not None
        ours = cls(module.embed_dim, module.num_heads, dropout=module.dropout, bias=bias)
        ours = ours.to(dtype=module.in_proj_weight.dtype, device=module.in_proj_weight.device)
        with torch.no_grad():
            ours.in_proj_weight.copy_(module.in_proj_weight)
            ours.out_proj.weight.copy_(module.out_proj.weight)
            if ours.in_proj_bias is not None:
                ours.in_proj_bias.copy_(module.in_proj_bias)
                ours.out_proj.bias.copy_(module.out_proj.bias)
        return ours

    def _project(self, x: torch.Tensor, first: int,
                 count: int = 1) -> list[torch.Tensor]:
        """Project ``x`` with ``count`` consecutive blocks of the packed weight,
        from block ``first`` (0 = Q, 1 = K, 2 = V), in one matmul; split the heads.

        Returns ``count`` tensors ``(B, heads, T, d_head)``.
        """
        rows = slice(first * self.d_model, (first + count) * self.d_model)
        bias = None if self.in_proj_bias is None else self.in_proj_bias[rows]
        y = F.linear(x, self.in_proj_weight[rows], bias)         # (B, T, count * D)
        y = y.view(*x.shape[:2], count, self.n_heads, self.d_head)
        #                                          (B, T, count, heads, d_head)
        return list(y.permute(2, 0, 3, 1, 4).unbind(0))  # count x (B, heads, T, d_head)

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                need_weights: bool = True, cache: KVCache | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend from ``query`` to ``key``/``value``, or to ``query`` itself.

        Args:
            query, key, value: inputs. ``key = value = None`` is self-attention
                (queries, keys and values all from ``query``, in one matmul); a
                filled static cache ignores ``key`` and ``value``.
            mask: bool, True = may attend, broadcastable to ``(B, heads, T_q, T_k)``,
                e.g. :func:`causal_mask` ``(T, T)`` or :func:`padding_mask`
                ``(B, 1, 1, T_k)``.
            need_weights: return the per-head weights; if False, use the fused
                kernel and return None.
            cache: a :class:`KVCache` for incremental decoding (see there); ``T_k``
                is then the number of cached positions after this call.

        Returns:
            ``(out, weights)``: out ``(B, T_q, D)``; weights ``(B, heads, T_q, T_k)``
            per head (``nn.MultiheadAttention`` returns their mean) or None.

        Shape:
            query: ``(B, T_q, D)``; key, value: ``(B, T_k, D)``, with ``D = d_model``.
        """
        self._check_forward(query, key, value, mask, need_weights, cache)
        batch, t_q, _ = query.shape
        reused = None if cache is None else cache.stored()  # static: projected before
        if reused is not None:                  # cross-attention over a cached memory
            q, (k, v) = self._project(query, 0)[0], reused
        elif key is None or value is None:      # self-attention: Q, K, V in one matmul
            q, k, v = self._project(query, 0, 3)         # 3 x (B, heads, T_q, d_head)
        else:
            q = self._project(query, 0)[0]               # (B, heads, T_q, d_head)
            k = self._project(key, 1)[0]                 # (B, heads, T_k, d_head)
            v = self._project(value, 2)[0]               # (B, heads, T_k, d_head)
        if cache is not None:
            k, v = cache.update(k, v)                    # (B, heads, T_cached, d_head)
        p = self.dropout if self.training else 0.0       # dropout on the weights
        heads, weights = scaled_dot_product_attention(q, k, v, mask, p, need_weights)
        out = heads.transpose(1, 2).reshape(batch, t_q, self.d_model)  # (B, T_q, D)
        return self.out_proj(out), weights       # weights: (B, heads, T_q, T_k) or None

    def _check_forward(self, query: object, key: object, value: object, mask: object,
                       need_weights: object, cache: object) -> None:
        """The argument checks of :meth:`forward`: shapes and dtypes only, never values."""
        query = check_tensor("query", query, shape=("B", "T_q", self.d_model), dtype="float")
        batch = query.shape[0]
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be a KVCache or None, got {describe(cache)}")
        reused = cache is not None and cache.stored() is not None
        if not reused and (key is None) != (value is None):
            raise TypeError("key and value must both be tensors, or both None (self-attention)")
        if not reused and key is None and cache is not None and cache.static:
            raise TypeError("key and value must be tensors on the first call with a static "
                            "(cross-attention) cache")
        if not reused and key is not None:
            key = check_tensor("key", key, shape=(batch, "T_k", self.d_model), dtype="float")
            check_tensor("value", value, shape=(batch, key.shape[1], self.d_model),
                         dtype="float")
        for name, x in (("query", query), ("key", key), ("value", value)):
            if isinstance(x, torch.Tensor) and x.dtype != self.in_proj_weight.dtype:
                raise TypeError(f"{name} must have the module's dtype "
                                f"{self.in_proj_weight.dtype}, got {x.dtype}")
        cached = 0 if cache is None else len(cache)
        if cache is not None and cache.k is not None and cache.k.shape[0] != batch:
            raise ValueError(f"cache holds a batch of {cache.k.shape[0]} sequences, "
                             f"query has {batch}")
        if not isinstance(need_weights, bool):
            raise TypeError(f"need_weights must be a bool, got {describe(need_weights)}")
        if mask is not None:
            new = (query if key is None else cast(torch.Tensor, key)).shape[1]
            t_k = cached if reused else new + cached
            check_mask("mask", mask, (batch, self.n_heads, query.shape[1], t_k))

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, n_heads={self.n_heads}, dropout={self.dropout}, "
                f"bias={self.in_proj_bias is not None}")
