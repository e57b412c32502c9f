"""A decoder-only Transformer language model (chapter 7), made of the package's own layers.

Drop the encoder and the cross-attention from the Transformer of Vaswani et al. (2017) and
what is left is a stack of blocks, each causal self-attention then a feed-forward network:
exactly an :class:`~minitransformer.layers.EncoderLayer` used with a causal mask, so
position ``t`` sees positions ``0..t`` only. Trained to predict token ``t + 1`` at every
position ``t`` at once, the stack is a language model; GPT (Radford et al. 2018) and GPT-2
(Radford et al. 2019) are this design, GPT-2 with the LayerNorm at each block's input
("pre-norm", the default here) and a final LayerNorm. As in section 3.4 of the paper the
embeddings are multiplied by ``sqrt(d_model)``, positions are the sinusoids of section 3.5, and
the output projection reuses the embedding matrix (tied input and output embeddings; Press
and Wolf 2017).

Generating text one token at a time reuses earlier positions' keys and values: pass
``cache=model.new_cache()`` (one :class:`~minitransformer.attention.KVCache` per block) and
only the new tokens; :func:`minitransformer.decoding.generate` does so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ._validation import check_int, check_token_ids, describe
from .attention import KVCache, causal_mask
from .layers import EncoderLayer, PositionalEncoding
from .transformer import _check_config

__all__ = ["GPT", "GPTConfig", "kv_cache_bytes"]


@dataclass
class GPTConfig:
    """The hyper-parameters of a :class:`GPT` (names as in
    :class:`~minitransformer.transformer.TransformerConfig`).

    Attributes:
        vocab_size: number of token ids (``0..vocab_size-1``).
        d_model, n_heads, n_layers, d_ff, dropout: as in the paper (Table 3).
        max_len: the context window: the most positions the model reads.
        norm_first: pre-norm blocks and a final LayerNorm (GPT-2) instead of the paper's
            post-norm.
        layer_norm_eps: LayerNorm epsilon.
    """

    vocab_size: int
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 4
    d_ff: int = 512
    dropout: float = 0.1
    max_len: int = 256
    norm_first: bool = True
    layer_norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        _check_config(self, ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_len"))


class GPT(nn.Module):
    """A decoder-only Transformer: token ids in, next-token logits out.

    ``model(ids)`` gives the logits of the token that follows each position; position ``t``
    sees ``ids[:, :t + 1]`` only. Blocks are ``model.layers`` (:class:`~minitransformer.layers.EncoderLayer` s
    with a causal mask), ``model.norm`` the final LayerNorm (identity when post-norm), and the
    output projection is the transposed embedding matrix.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig, got {describe(config)}")
        c = self.config = config
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.positions = PositionalEncoding(c.d_model, c.max_len, c.dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout, c.norm_first, c.layer_norm_eps)
            for _ in range(c.n_layers))
        self.norm = nn.LayerNorm(c.d_model, eps=c.layer_norm_eps) if c.norm_first else nn.Identity()
        self._init_weights()

    def _init_weights(self) -> None:
        # As the Transformer: embeddings ~ N(0, 1/d_model) (times sqrt(d_model): unit
        # variance), every other matrix Xavier-uniform, in parameter order (a fixed order, so a
        # fixed seed fixes the model).
        nn.init.normal_(self.embed.weight, std=self.config.d_model ** -0.5)
        for name, p in self.named_parameters():
            if p.dim() == 2 and not name.startswith("embed"):
                nn.init.xavier_uniform_(p)

    def new_cache(self) -> list[KVCache]:
        """An empty key/value cache: one self-attention :class:`~minitransformer.attention.KVCache` per block."""
        return [KVCache() for _ in self.layers]

    def _check(self, ids: object, cache: object) -> int:
        """Check the public arguments; return the position of ``ids``' first token."""
        c = self.config
        ids = check_token_ids("ids", ids, c.vocab_size)
        if ids.shape[1] == 0:
            raise ValueError(f"ids must hold at least one position, got shape {tuple(ids.shape)}")
        offset = 0
        if cache is not None:
            if (not isinstance(cache, list) or len(cache) != c.n_layers
                    or not all(isinstance(k, KVCache) and not k.static for k in cache)):
                raise TypeError(f"cache must be model.new_cache() (a list of {c.n_layers} "
                                f"KVCache), got {describe(cache)}")
            offset = len(cache[0])
            if offset and cache[0].k.shape[0] != ids.shape[0]:
                raise ValueError(f"cache holds a batch of {cache[0].k.shape[0]} sequences, "
                                 f"ids has {ids.shape[0]}")
        if offset + ids.shape[1] > c.max_len:
            raise ValueError(f"ids reach position {offset + ids.shape[1]} (cached {offset} + "
                             f"new {ids.shape[1]}) but max_len is {c.max_len}")
        return offset

    def _run(self, ids: torch.Tensor, cache: list[KVCache] | None, need_weights: bool,
             ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """The forward pass without argument checks (:meth:`forward` and
        :func:`~minitransformer.decoding.generate` check once, then call this)."""
        offset, t = (0 if cache is None else len(cache[0])), ids.shape[1]
        if cache is None:
            mask = causal_mask(t, device=ids.device)            # (T, T)
        elif t > 1:   # new position offset + i sees positions 0 .. offset + i
            mask = torch.ones(t, offset + t, dtype=torch.bool, device=ids.device).tril(offset)
        else:         # one new token sees every cached position: no mask needed
            mask = None
        x = self.embed(ids) * math.sqrt(self.config.d_model)    # (B, T, D), section 3.4
        x = self.positions(x, offset)                           # (B, T, D)
        weights = []
        for i, layer in enumerate(self.layers):
            x, w = layer(x, mask, None if cache is None else cache[i], need_weights)
            weights.append(w)
        x = self.norm(x)                                        # (B, T, D)
        return x @ self.embed.weight.T, weights                 # (B, T, V): tied output

    def forward(self, ids: torch.Tensor, cache: list[KVCache] | None = None) -> torch.Tensor:
        """Next-token logits at every position.

        Args:
            ids: token ids; with a ``cache``, only the tokens after the cached ones.
            cache: from :meth:`new_cache`, filled in place (see
                :func:`~minitransformer.decoding.generate`).

        Shape:
            ids: ``(B, T)`` integer ids in ``[0, vocab_size)``, with ``cached + T <= max_len``;
            output: logits ``(B, T, vocab_size)``; ``output[:, t]`` scores the token at
            position ``cached + t + 1``.
        """
        self._check(ids, cache)
        return self._run(ids, cache, need_weights=False)[0]

    def forward_with_weights(self, ids: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and every block's attention weights, for plots.

        Shape:
            ids: ``(B, T)``; returns ``(logits, weights)``: logits ``(B, T, vocab_size)``,
            weights a list of ``n_layers`` tensors ``(B, heads, T, T)`` (zero above the
            diagonal).
        """
        self._check(ids, None)
        logits, weights = self._run(ids, None, need_weights=True)
        return logits, [w for w in weights if w is not None]


def kv_cache_bytes(n_layers: int, d_model: int, context: int, batch: int = 1,
                   bytes_per_value: int = 4) -> int:
    """Bytes a key/value cache holds after ``context`` positions: a key and a value vector of
    ``d_model`` numbers per position, per block and per sequence,
    ``2 * n_layers * batch * context * d_model * bytes_per_value``.

    The cache of every self-attention block stores the projected keys and values of all
    ``n_heads`` heads, ``n_heads * d_head = d_model`` numbers each, for every position read so
    far (:class:`~minitransformer.attention.KVCache`); the number of heads does not appear.

    Args:
        n_layers: blocks with a self-attention cache (the decoder's layers).
        d_model: width of the keys and values (all heads together).
        context: positions cached.
        batch: sequences decoded at once.
        bytes_per_value: 4 for float32, 2 for float16 or bfloat16.

    >>> kv_cache_bytes(n_layers=2, d_model=8, context=10)
    1280
    """
    for name, value in (("n_layers", n_layers), ("d_model", d_model), ("context", context),
                        ("batch", batch), ("bytes_per_value", bytes_per_value)):
        check_int(name, value, minimum=1)
    return 2 * n_layers * batch * context * d_model * bytes_per_value
