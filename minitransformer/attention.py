"""Attention: masks, scaled dot-product attention, additive attention and multi-head attention.

Read top to bottom: the two mask builders, the masked softmax every attention here shares,
scaled dot-product attention (Eq. (1), section 3.2.1 of Vaswani et al. 2017), the additive
attention of Bahdanau et al. (2015, section 3.1 and appendix A.1.2), and multi-head attention
(section 3.2.2 of Vaswani et al. 2017) with a key/value cache for step-by-step decoding.

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

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_float, check_int, check_mask, check_tensor, describe

__all__ = [
    "AdditiveAttention",
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
    try:
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
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
    alive = mask.any(dim=-1, keepdim=True)  # (..., T_q, 1)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask | ~alive, dropout_p=dropout_p)
    return out.masked_fill(~alive, 0.0)     # (..., T_q, d_v)


# --- additive attention (Bahdanau et al. 2015) ----------------------------------------------------

class AdditiveAttention(nn.Module):
    r"""Additive ("concat") attention of Bahdanau et al. (2015), appendix A.1.2.

    The score of query :math:`s` against key :math:`h_j` is a one-hidden-layer network,
    :math:`e_j = w^\top \tanh(W_q s + W_k h_j)`; the weights are
    :math:`\alpha = \mathrm{softmax}(e)` over the allowed keys and the context is
    :math:`c = \sum_j \alpha_j v_j`. In the RNN encoder-decoder the query is the decoder's
    previous state and the keys and values are the encoder's outputs.

    Args:
        query_size: width ``D_q`` of a query.
        key_size: width ``D_k`` of a key.
        hidden_size: width of the scoring network's hidden layer.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int):
        super().__init__()
        self.query_size = check_int("query_size", query_size, minimum=1)
        self.key_size = check_int("key_size", key_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False)  # W_q
        self.key_proj = nn.Linear(key_size, hidden_size, bias=True)       # W_k (and a bias)
        self.score = nn.Linear(hidden_size, 1, bias=False)                # w

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` over ``keys``, averaging ``values``.

        Shape:
            query: ``(B, D_q)`` (one query per sequence, as in an RNN decoder step) or
            ``(B, T_q, D_q)``.
            keys: ``(B, T_k, D_k)``; values: ``(B, T_k, D_v)``.
            mask: bool, True = may attend, broadcastable to ``(B, T_k)`` for a 2-D query or
            ``(B, T_q, T_k)`` for a 3-D one (e.g. ``src != pad_id`` of shape ``(B, T_k)``,
            or ``(B, 1, T_k)``).
            Returns ``(context, weights)``: context ``(B, D_v)`` or ``(B, T_q, D_v)``,
            weights ``(B, T_k)`` or ``(B, T_q, T_k)``.
        """
        check_tensor("query", query, dtype="float")
        if query.dim() not in (2, 3):
            raise ValueError(f"query must be (B, D_q) or (B, T_q, D_q), got {describe(query)}")
        check_tensor("query", query, shape=(*(None,) * (query.dim() - 1), self.query_size))
        check_tensor("keys", keys, shape=(query.shape[0], "T_k", self.key_size), dtype="float")
        check_tensor("values", values, shape=(query.shape[0], keys.shape[1], None), dtype="float")
        single = query.dim() == 2
        if mask is not None:
            if single:
                check_mask("mask", mask, (query.shape[0], keys.shape[1]))
            else:
                check_mask("mask", mask, (query.shape[0], query.shape[1], keys.shape[1]))
        if single:
            query = query[:, None, :]                     # (B, 1, D_q)
            if mask is not None and mask.dim() == 2:
                mask = mask[:, None, :]                   # (B, 1, T_k)
        hidden = torch.tanh(self.query_proj(query)[:, :, None, :]  # (B, T_q, 1, H)
                            + self.key_proj(keys)[:, None, :, :])  # (B, 1, T_k, H)
        scores = self.score(hidden).squeeze(-1)           # (B, T_q, T_k)
        weights = _masked_softmax(scores, mask)           # (B, T_q, T_k)
        context = weights @ values                        # (B, T_q, D_v)
        if single:
            return context[:, 0], weights[:, 0]           # (B, D_v), (B, T_k)
        return context, weights


# --- multi-head attention (Vaswani et al. 2017, section 3.2.2) ------------------------------------

@dataclass
class KVCache:
    """Keys and values one :class:`MultiHeadAttention` has already projected, for decoding.

    Generating token by token, step ``t`` would otherwise re-project the keys and values of all
    ``t`` earlier positions. Pass a cache to ``MultiHeadAttention.forward(..., cache=...)``:

    - **Self-attention** (``KVCache()``): every call passes only the *new* positions as
      query, key and value (usually one token, ``(B, 1, D)``); their projected keys and values
      are appended to the cache and the queries attend over everything cached so far. One new
      token may see all earlier ones, so no causal mask is needed; a ``mask`` must broadcast
      to ``(B, heads, T_new, T_cached)``.
    - **Cross-attention** (``KVCache(static=True)``): the keys and values (the encoder's
      output) are projected on the first call and reused afterwards; later calls may pass
      ``key=None, value=None``.

    The cache is filled in place. ``reorder(index)`` picks batch rows (beam search keeps the
    caches of the surviving beams).

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

    def _project(self, x: torch.Tensor, first: int, count: int):
        """Project ``x`` with ``count`` consecutive parts of the packed weight starting
        at ``first`` (0 = Q, 1 = K, 2 = V) in one matmul, and split the heads.

        Returns one ``(B, heads, T, d_head)`` tensor if ``count == 1``, else a tuple.
        """
        rows = slice(first * self.d_model, (first + count) * self.d_model)
        bias = None if self.in_proj_bias is None else self.in_proj_bias[rows]
        y = F.linear(x, self.in_proj_weight[rows], bias)  # (B, T, count * D)
        y = y.view(*x.shape[:2], count, self.n_heads, self.d_head)
        #                                           (B, T, count, heads, d_head)
        parts = y.permute(2, 0, 3, 1, 4).unbind(0)  # count x (B, heads, T, d_head)
        return parts[0] if count == 1 else parts

    def forward(self, query: torch.Tensor, key: torch.Tensor | None, value: torch.Tensor | None,
                mask: torch.Tensor | None = None, need_weights: bool = True,
                cache: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend from ``query`` to ``key``/``value``; self-attention passes the same tensor thrice.

        Args:
            query, key, value: inputs (``key``/``value`` may be None only with a filled static
                cache).
            mask: bool, True = may attend, broadcastable to ``(B, heads, T_q, T_k)``: e.g.
                :func:`causal_mask` ``(T, T)`` or :func:`padding_mask` ``(B, 1, 1, T_k)``.
            need_weights: return the per-head weights; if False, use the fused kernel and
                return None.
            cache: a :class:`KVCache` for incremental decoding (see there); ``T_k`` is then
                the number of cached positions after this call.

        Returns:
            ``(out, weights)``: out ``(B, T_q, D)``; weights ``(B, heads, T_q, T_k)`` per head
            (``nn.MultiheadAttention`` returns their mean over heads) or None.

        Shape:
            query: ``(B, T_q, D)``; key, value: ``(B, T_k, D)``, with ``D = d_model``.
        """
        check_tensor("query", query, shape=("B", "T_q", self.d_model), dtype="float")
        batch = query.shape[0]
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be a KVCache or None, got {describe(cache)}")
        # A filled cross-attention cache holds the projected keys and values (key/value may be
        # None); otherwise key and value are projected here.
        reused = None
        if cache is not None and cache.static and cache.k is not None and cache.v is not None:
            reused = cache.k, cache.v                             # (B, heads, T_k, d_head)
        else:
            key = check_tensor("key", key, shape=(batch, "T_k", self.d_model), dtype="float")
            value = check_tensor("value", value, shape=(batch, key.shape[1], self.d_model),
                                 dtype="float")
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x is not None and x.dtype != self.in_proj_weight.dtype:
                raise TypeError(f"{name} must have the module's dtype "
                                f"{self.in_proj_weight.dtype}, got {x.dtype}")
        if cache is not None and cache.k is not None and cache.k.shape[0] != batch:
            raise ValueError(f"cache holds a batch of {cache.k.shape[0]} sequences, "
                             f"query has {batch}")
        if reused is not None:
            t_k = reused[0].shape[2]
        elif key is not None:
            t_k = key.shape[1] + (len(cache) if cache is not None and not cache.static else 0)
        if mask is not None:
            check_mask("mask", mask, (batch, self.n_heads, query.shape[1], t_k))

        if reused is not None:
            q = self._project(query, 0, 1)                        # (B, heads, T_q, d_head)
            k, v = reused                                         # (B, heads, T_k, d_head)
        elif key is None or value is None:  # unreachable: checked above
            raise TypeError("key and value must be tensors unless a filled static cache is given")
        elif key is query and value is query:
            # Self-attention: one matmul for Q, K and V, as PyTorch's module does.
            q, k, v = self._project(query, 0, 3)                  # 3 x (B, heads, T, d_head)
        elif value is key:
            # Attention over a memory (cross-attention): one matmul for K and V.
            q = self._project(query, 0, 1)                        # (B, heads, T_q, d_head)
            k, v = self._project(key, 1, 2)                       # 2 x (B, heads, T_k, d_head)
        else:
            q = self._project(query, 0, 1)
            k, v = self._project(key, 1, 1), self._project(value, 2, 1)
        if reused is None and cache is not None:
            if not cache.static and cache.k is not None and cache.v is not None:
                k = torch.cat([cache.k, k], dim=2)                # (B, heads, T_k, d_head)
                v = torch.cat([cache.v, v], dim=2)
            cache.k, cache.v = k, v
        dropout_p = self.dropout if self.training else 0.0
        heads, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p, need_weights)
        out = heads.transpose(1, 2).reshape(batch, query.shape[1], self.d_model)  # (B, T_q, D)
        return self.out_proj(out), weights

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, n_heads={self.n_heads}, dropout={self.dropout}, "
                f"bias={self.in_proj_bias is not None}")
