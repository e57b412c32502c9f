"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017), read top to bottom.

1. :func:`sinusoidal_positions` and :class:`PositionalEncoding` (section 3.5): where a token
   is, added to what it is.
2. :class:`EncoderLayer` and :class:`DecoderLayer` (section 3.1): multi-head attention
   (``attention.py``, section 3.2) and a position-wise feed-forward network (section 3.3), each
   wrapped in a residual connection and layer normalisation (Ba et al. 2016).
3. :class:`Encoder` and :class:`Decoder`: stacks of ``N`` such layers.
4. :class:`TransformerConfig` and :class:`Transformer`: embeddings scaled by ``sqrt(d_model)``
   (section 3.4), the two stacks, and the pre-softmax projection; presets for the paper's
   base and big models (Table 3).

Norm placement. The paper normalises *after* each residual addition ("post-norm",
``LayerNorm(x + Sublayer(x))``, section 3.1); that is the default here and in PyTorch.
``norm_first=True`` normalises the sublayer's *input* instead (``x + Sublayer(LayerNorm(x))``,
"pre-norm"), which Xiong et al. (2020) show trains stably without a learning-rate warm-up; a
pre-norm stack then ends with one more LayerNorm.

Masks are bool with True = may attend, broadcastable to ``(B, heads, T_q, T_k)``, as everywhere
in the package. Sublayer names (``self_attn``, ``linear1``, ``norm1``, ...) follow
``torch.nn.TransformerEncoderLayer`` so ``from_torch`` reads as a list of copies.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_float, check_int, check_mask, check_tensor, check_token_ids, describe
from .attention import KVCache, MultiHeadAttention, causal_mask, padding_mask

__all__ = [
    "DATE_CHECKPOINT",
    "Decoder",
    "DecoderCache",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "PositionalEncoding",
    "Transformer",
    "TransformerConfig",
    "count_parameters",
    "load_checkpoint",
    "save_checkpoint",
    "sinusoidal_positions",
]


# --- 1. positional encoding (section 3.5) ---------------------------------------------------------

def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """The sinusoids of section 3.5: ``PE[pos, 2i] = sin(pos / 10000^(2i / d_model))`` and
    ``PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))``.

    Each pair of dimensions is a clock of its own wavelength, from ``2 pi`` to
    ``10000 * 2 pi``; for any fixed offset ``k``, ``PE[pos + k]`` is a rotation of ``PE[pos]``.

    Shape:
        output: ``(max_len, d_model)`` float32.
    """
    max_len = check_int("max_len", max_len, minimum=1)
    d_model = check_int("d_model", d_model, minimum=1)
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]           # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)            # (ceil(d/2),)
    angle = pos / 10000.0 ** (two_i / d_model)                          # (max_len, ceil(d/2))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.float()


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal position signal to a sequence of embeddings, then dropout
    (section 5.4 applies dropout "to the sums of the embeddings and the positional encodings").

    Args:
        d_model: embedding width.
        max_len: longest sequence it accepts.
        dropout: dropout probability on the sum, while training.
    """

    pe: torch.Tensor  # (max_len, d_model), a buffer: it follows the module's device and dtype

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
        super().__init__()
        self.d_model = check_int("d_model", d_model, minimum=1)
        self.max_len = check_int("max_len", max_len, minimum=1)
        self.dropout = nn.Dropout(check_float("dropout", dropout, minimum=0.0, maximum=1.0))
        self.register_buffer("pe", sinusoidal_positions(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Return ``dropout(x + PE[offset : offset + T])``.

        ``offset`` is the position of ``x``'s first element (non-zero when decoding one token
        at a time).

        Shape:
            x: ``(B, T, D)``; output: ``(B, T, D)``.
        """
        check_tensor("x", x, shape=("B", "T", self.d_model), dtype="float")
        offset = check_int("offset", offset, minimum=0)
        end = offset + x.shape[1]
        if end > self.max_len:
            raise ValueError(
                f"sequence too long: positions up to {end} (offset {offset} + length "
                f"{x.shape[1]}) but max_len is {self.max_len}")
        return self.dropout(x + self.pe[offset:end].to(x.dtype))  # (B, T, D)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


# --- 2. the layers (sections 3.1-3.3) -------------------------------------------------------------

def _check_torch_layer(module: nn.TransformerEncoderLayer | nn.TransformerDecoderLayer,
                       kind: type[nn.Module]) -> None:
    """Refuse PyTorch layers our layers cannot reproduce, saying why."""
    if not isinstance(module, kind):
        raise TypeError(f"module must be a torch.nn.{kind.__name__}, got {describe(module)}")
    if not module.self_attn.batch_first:
        raise ValueError(f"module must be built with batch_first=True (ours is batch first), "
                         f"got a {kind.__name__} with batch_first=False")
    act = module.activation
    if not (act is F.relu or isinstance(act, nn.ReLU)):
        raise ValueError(f"module must use the ReLU activation (section 3.3), got {act!r}")
    if module.linear1.bias is None:
        raise ValueError("module must have biases (bias=True), got bias=False")


def _copy(ours: nn.Module, theirs: nn.Module) -> None:
    """Copy ``theirs``'s parameters into ``ours``, moved first to their device and dtype."""
    weight = next(theirs.parameters())
    ours.to(device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            if p.shape != q.shape:  # cannot happen for checked modules; be loud if it does
                raise ValueError(f"parameter {name}: shape {tuple(p.shape)} vs {tuple(q.shape)}")
            p.copy_(q)


def _check_layer_args(d_ff: object, dropout: object, norm_first: object) -> tuple[int, float]:
    """The arguments both layer types share, checked at their public boundary."""
    d_ff = check_int("d_ff", d_ff, minimum=1)
    dropout = check_float("dropout", dropout, minimum=0.0, maximum=1.0)
    if not isinstance(norm_first, bool):
        raise TypeError(f"norm_first must be a bool, got {describe(norm_first)}")
    return d_ff, dropout


class _Sublayers(nn.Module):
    """What encoder and decoder layers share: the position-wise feed-forward network,
    ``FFN(x) = max(0, x W1 + b1) W2 + b2`` (Eq. 2, section 3.3), from the subclass's
    ``linear1``, ``dropout`` and ``linear2``."""

    linear1: nn.Linear
    dropout: nn.Dropout
    linear2: nn.Linear

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))  # (B, T, D)


class EncoderLayer(_Sublayers):
    """One encoder layer (section 3.1): self-attention, then a feed-forward network.

    Post-norm (paper, default): ``x = LayerNorm(x + Dropout(Sublayer(x)))`` for each sublayer.
    Pre-norm (``norm_first=True``): ``x = x + Dropout(Sublayer(LayerNorm(x)))``.
    The feed-forward network is ``FFN(x) = max(0, x W1 + b1) W2 + b2`` (Eq. 2, section 3.3).

    Args:
        d_model: width of the activations.
        n_heads: attention heads; must divide ``d_model``.
        d_ff: inner width of the feed-forward network.
        dropout: dropout on attention weights, inside the FFN and on each sublayer's output.
        norm_first: pre-norm instead of the paper's post-norm.
        layer_norm_eps: the LayerNorms' epsilon (PyTorch's default).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__()
        d_ff, dropout = _check_layer_args(d_ff, dropout, norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.linear1 = nn.Linear(d_model, d_ff)     # W1, b1
        self.dropout = nn.Dropout(dropout)          # inside the FFN
        self.linear2 = nn.Linear(d_ff, d_model)     # W2, b2
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)         # on the attention sublayer's output
        self.dropout2 = nn.Dropout(dropout)         # on the FFN sublayer's output
        self.d_model, self.norm_first = d_model, norm_first

    @classmethod
    def from_torch(cls, module: nn.TransformerEncoderLayer) -> EncoderLayer:
        """A copy of ``torch.nn.TransformerEncoderLayer`` ``module`` (batch_first=True, ReLU,
        either norm placement) with the same weights."""
        _check_torch_layer(module, nn.TransformerEncoderLayer)
        ours = cls(module.self_attn.embed_dim, module.self_attn.num_heads,
                   module.linear1.out_features, dropout=module.dropout.p,
                   norm_first=module.norm_first, layer_norm_eps=module.norm1.eps)
        ours.self_attn = MultiHeadAttention.from_torch(module.self_attn)
        _copy(ours, module)
        return ours

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                cache: KVCache | None = None, need_weights: bool = False,
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Self-attention then the feed-forward network, each in a residual sublayer.

        Shape:
            x: ``(B, T, D)`` (with ``cache``: only the new positions); mask: bool,
            True = may attend, broadcastable to ``(B, heads, T, T_k)``, e.g.
            ``padding_mask(src, pad_id)`` ``(B, 1, 1, T)`` in an encoder or
            ``causal_mask(T)`` in a decoder-only model; cache: a self-attention
            :class:`~minitransformer.attention.KVCache` for generating one token at a
            time (``T_k`` is then the number of cached positions after this call);
            output: ``(B, T, D)``, and with ``need_weights`` also the self-attention
            weights ``(B, heads, T, T_k)``.
        """
        check_tensor("x", x, shape=("B", "T", self.d_model), dtype="float")

        def sa(h):
            return self.self_attn(h, h, h, mask, need_weights=need_weights, cache=cache)

        if self.norm_first:
            attended, weights = sa(self.norm1(x))
            x = x + self.dropout1(attended)
            x = x + self.dropout2(self._ffn(self.norm2(x)))
        else:
            attended, weights = sa(x)
            x = self.norm1(x + self.dropout1(attended))
            x = self.norm2(x + self.dropout2(self._ffn(x)))
        return (x, weights) if need_weights else x


class DecoderLayer(_Sublayers):
    """One decoder layer (section 3.1): masked self-attention, attention over the encoder's
    output ("memory", section 3.2.3), then a feed-forward network; each sublayer in a
    residual connection with layer normalisation, placed as in :class:`EncoderLayer`.

    Arguments as for :class:`EncoderLayer`.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__()
        d_ff, dropout = _check_layer_args(d_ff, dropout, norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.multihead_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)  # cross
        self.linear1 = nn.Linear(d_model, d_ff)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.d_model, self.norm_first = d_model, norm_first

    @classmethod
    def from_torch(cls, module: nn.TransformerDecoderLayer) -> DecoderLayer:
        """A copy of ``torch.nn.TransformerDecoderLayer`` ``module`` (batch_first=True, ReLU,
        either norm placement) with the same weights."""
        _check_torch_layer(module, nn.TransformerDecoderLayer)
        ours = cls(module.self_attn.embed_dim, module.self_attn.num_heads,
                   module.linear1.out_features, dropout=module.dropout.p,
                   norm_first=module.norm_first, layer_norm_eps=module.norm1.eps)
        ours.self_attn = MultiHeadAttention.from_torch(module.self_attn)
        ours.multihead_attn = MultiHeadAttention.from_torch(module.multihead_attn)
        _copy(ours, module)
        return ours

    def forward(self, x: torch.Tensor, memory: torch.Tensor,
                tgt_mask: torch.Tensor | None = None, memory_mask: torch.Tensor | None = None,
                cache: tuple[KVCache, KVCache] | None = None, need_weights: bool = False,
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Masked self-attention, attention over ``memory``, then the feed-forward network.

        Shape:
            x: ``(B, T, D)`` the target so far (with ``cache``: only the new positions);
            memory: ``(B, S, D)`` the encoder's output;
            tgt_mask: bool broadcastable to ``(B, heads, T, T)`` (usually causal; with a
            cache, to ``(B, heads, T, T_cached)``);
            memory_mask: bool broadcastable to ``(B, heads, T, S)`` (source padding);
            cache: ``(self-attention cache, cross-attention cache)`` for incremental decoding;
            output: ``(B, T, D)``, and with ``need_weights`` also the cross-attention weights
            ``(B, heads, T, S)``.
        """
        check_tensor("x", x, shape=("B", "T", self.d_model), dtype="float")
        check_tensor("memory", memory, shape=(x.shape[0], "S", self.d_model), dtype="float")
        self_cache, cross_cache = (None, None) if cache is None else cache

        def sa(h):
            return self.self_attn(h, h, h, tgt_mask, need_weights=False, cache=self_cache)[0]

        def ca(h):
            return self.multihead_attn(h, memory, memory, memory_mask, need_weights=need_weights,
                                       cache=cross_cache)

        if self.norm_first:
            x = x + self.dropout1(sa(self.norm1(x)))
            attended, weights = ca(self.norm2(x))
            x = x + self.dropout2(attended)
            x = x + self.dropout3(self._ffn(self.norm3(x)))
        else:
            x = self.norm1(x + self.dropout1(sa(x)))
            attended, weights = ca(x)
            x = self.norm2(x + self.dropout2(attended))
            x = self.norm3(x + self.dropout3(self._ffn(x)))
        return (x, weights) if need_weights else x


# --- 3. the stacks --------------------------------------------------------------------------------

class Encoder(nn.Module):
    """``n_layers`` :class:`EncoderLayer` s; pre-norm stacks end with a final LayerNorm."""

    def __init__(self, n_layers: int, d_model: int, n_heads: int, d_ff: int,
                 dropout: float = 0.1, norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__()
        n_layers = check_int("n_layers", n_layers, minimum=1)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first, layer_norm_eps)
            for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model, eps=layer_norm_eps) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run ``x`` through every layer in turn (then the final norm, if pre-norm).

        Shape:
            x ``(B, S, D)``, mask broadcastable to ``(B, heads, S, S)``; output ``(B, S, D)``.
        """
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x)


@dataclass
class DecoderCache:
    """Per-layer key/value caches of a :class:`Decoder`, for generating one token at a time.

    Attributes:
        layers: for each layer, ``(self-attention cache, cross-attention cache)``.
        length: number of target positions already decoded (the next token's position).
    """

    layers: list[tuple[KVCache, KVCache]] = field(default_factory=list)
    length: int = 0

    def reorder(self, index: torch.Tensor) -> None:
        """Keep batch rows ``index`` in every cache (beam search follows surviving beams)."""
        for self_cache, cross_cache in self.layers:
            self_cache.reorder(index)
            cross_cache.reorder(index)


class Decoder(nn.Module):
    """``n_layers`` :class:`DecoderLayer` s; pre-norm stacks end with a final LayerNorm."""

    def __init__(self, n_layers: int, d_model: int, n_heads: int, d_ff: int,
                 dropout: float = 0.1, norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__()
        n_layers = check_int("n_layers", n_layers, minimum=1)
        self.layers = nn.ModuleList(
            DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first, layer_norm_eps)
            for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model, eps=layer_norm_eps) if norm_first else nn.Identity()

    def new_cache(self) -> DecoderCache:
        """An empty cache for incremental decoding."""
        return DecoderCache([(KVCache(), KVCache(static=True)) for _ in self.layers])

    def forward(self, x: torch.Tensor, memory: torch.Tensor,
                tgt_mask: torch.Tensor | None = None, memory_mask: torch.Tensor | None = None,
                cache: DecoderCache | None = None, need_weights: bool = False,
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Run ``x`` through every layer in turn, each attending to ``memory``.

        Shape:
            x ``(B, T, D)``, memory ``(B, S, D)``; output ``(B, T, D)`` and, with
            ``need_weights``, a list (one per layer) of cross-attention weights
            ``(B, heads, T, S)``.
        """
        weights = []
        for i, layer in enumerate(self.layers):
            out = layer(x, memory, tgt_mask, memory_mask,
                        cache=None if cache is None else cache.layers[i],
                        need_weights=need_weights)
            x, w = out if need_weights else (out, None)
            if w is not None:
                weights.append(w)
        if cache is not None:
            cache.length += x.shape[1]
        x = self.norm(x)
        return (x, weights) if need_weights else x


# --- 4. the model (sections 3 and 3.4, Table 3) ---------------------------------------------------

@dataclass
class TransformerConfig:
    """The hyper-parameters of a :class:`Transformer` (names as in Table 3 of the paper:
    ``N`` = ``n_layers``, ``h`` = ``n_heads``, ``P_drop`` = ``dropout``).

    Attributes:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (ids ``0..size-1``).
        d_model, n_heads, n_layers, d_ff, dropout: as in the paper; ``n_layers`` for each of
            the encoder and the decoder.
        max_len: longest source or target sequence.
        pad_id: the padding id (masked out of attention, embedded as zeros).
        norm_first: pre-norm instead of the paper's post-norm.
        share_embeddings: one embedding matrix for source and target (needs equal vocabulary
            sizes; the paper shares it for its joint byte-pair vocabulary, section 3.4).
        tie_output: the pre-softmax projection reuses the target embedding matrix (section 3.4).
        layer_norm_eps: LayerNorm epsilon.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 512
    n_heads: int = 8
    n_layers: int = 6
    d_ff: int = 2048
    dropout: float = 0.1
    max_len: int = 512
    pad_id: int = 0
    norm_first: bool = False
    share_embeddings: bool = False
    tie_output: bool = True
    layer_norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads", "n_layers",
                     "d_ff", "max_len"):
            check_int(name, getattr(self, name), minimum=1)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={self.d_model} "
                             f"and n_heads={self.n_heads}")
        check_float("dropout", self.dropout, minimum=0.0, maximum=1.0)
        check_int("pad_id", self.pad_id, minimum=0,
                  maximum=min(self.src_vocab_size, self.tgt_vocab_size) - 1)
        for name in ("norm_first", "share_embeddings", "tie_output"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {describe(getattr(self, name))}")
        if self.share_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError(
                f"share_embeddings needs src_vocab_size == tgt_vocab_size, got "
                f"{self.src_vocab_size} and {self.tgt_vocab_size}")

    @classmethod
    def base(cls, vocab_size: int = 37000, **overrides: Any) -> TransformerConfig:
        """Table 3's base model: N=6, d_model=512, d_ff=2048, h=8, P_drop=0.1, one shared
        vocabulary (the paper's English-German joint BPE vocabulary has about 37000 tokens)."""
        fields = dict(d_model=512, n_heads=8, n_layers=6, d_ff=2048, dropout=0.1,
                      share_embeddings=True, tie_output=True)
        return cls(vocab_size, vocab_size, **{**fields, **overrides})

    @classmethod
    def big(cls, vocab_size: int = 37000, **overrides: Any) -> TransformerConfig:
        """Table 3's big model: N=6, d_model=1024, d_ff=4096, h=16, P_drop=0.3."""
        fields = dict(d_model=1024, n_heads=16, n_layers=6, d_ff=4096, dropout=0.3,
                      share_embeddings=True, tie_output=True)
        return cls(vocab_size, vocab_size, **{**fields, **overrides})


class Transformer(nn.Module):
    """The encoder-decoder Transformer (Figure 1 of Vaswani et al. 2017).

    ``forward(src, tgt)`` runs teacher-forced: the decoder reads ``tgt`` (the target shifted
    right, starting with ``bos``) and predicts the next token at every position.
    :meth:`encode` and :meth:`decode` split it in two for generation (``decoding.py``).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig, got {describe(config)}")
        c = self.config = config
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model, padding_idx=c.pad_id)
        self.tgt_embed = (self.src_embed if c.share_embeddings else
                          nn.Embedding(c.tgt_vocab_size, c.d_model, padding_idx=c.pad_id))
        self.positions = PositionalEncoding(c.d_model, c.max_len, c.dropout)
        self.encoder = Encoder(c.n_layers, c.d_model, c.n_heads, c.d_ff, c.dropout,
                               c.norm_first, c.layer_norm_eps)
        self.decoder = Decoder(c.n_layers, c.d_model, c.n_heads, c.d_ff, c.dropout,
                               c.norm_first, c.layer_norm_eps)
        self.generator = nn.Linear(c.d_model, c.tgt_vocab_size, bias=False)  # pre-softmax
        self._init_weights()
        if c.tie_output:
            self.generator.weight = self.tgt_embed.weight

    def _init_weights(self) -> None:
        # Embeddings ~ N(0, 1/d_model): times sqrt(d_model) (section 3.4) they have unit
        # variance, the scale of the positional sinusoids. Matrices: Xavier-uniform.
        # A fixed order (source, then target; once if shared), never a set: a set's order
        # follows memory addresses, and a fixed seed must fix the model.
        for emb in dict.fromkeys((self.src_embed, self.tgt_embed)):
            nn.init.normal_(emb.weight, std=self.config.d_model ** -0.5)
            with torch.no_grad():
                emb.weight[self.config.pad_id].zero_()
        for name, p in self.named_parameters():
            if p.dim() == 2 and "embed" not in name:
                nn.init.xavier_uniform_(p)

    # -- argument checks at the public boundary --

    def _check_tokens(self, name: str, tokens: object, vocab_size: int) -> torch.Tensor:
        tokens = check_token_ids(name, tokens, vocab_size)
        if tokens.shape[1] == 0:
            raise ValueError(f"{name} must hold at least one position, got shape {tuple(tokens.shape)}")
        if tokens.shape[1] > self.config.max_len:
            raise ValueError(f"{name} has {tokens.shape[1]} positions but max_len is "
                             f"{self.config.max_len}")
        return tokens

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        x = embedding(tokens) * math.sqrt(self.config.d_model)  # (B, T, D), section 3.4
        return self.positions(x, offset)                       # (B, T, D)

    # -- the two halves --

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``src`` into the memory the decoder attends to.

        Shape:
            src: ``(B, S)`` token ids; src_mask: bool broadcastable to ``(B, heads, S, S)``,
            default ``padding_mask(src, pad_id)``; output: ``(B, S, D)``.
        """
        self._check_tokens("src", src, self.config.src_vocab_size)
        b, s = src.shape
        if src_mask is None:
            src_mask = padding_mask(src, self.config.pad_id)  # (B, 1, 1, S)
        else:
            check_mask("src_mask", src_mask, (b, self.config.n_heads, s, s))
        return self.encoder(self._embed(self.src_embed, src), src_mask)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None,
               tgt_mask: torch.Tensor | None = None,
               cache: DecoderCache | None = None, need_weights: bool = False,
               ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Next-token logits for every position of ``tgt``, given the encoder's ``memory``.

        With a ``cache`` (from ``model.decoder.new_cache()``), ``tgt`` holds only the new
        tokens; earlier positions' keys and values come from the cache, and the default mask
        lets each new token see every earlier one and itself.

        Shape:
            tgt: ``(B, T)`` token ids; memory: ``(B, S, D)``;
            memory_mask: bool broadcastable to ``(B, heads, T, S)``, required: pass
            ``padding_mask(src, pad_id)`` as :meth:`forward` does, so the two paths attend to
            the same positions (``None`` explicitly: every memory position, no padding);
            tgt_mask: bool broadcastable to ``(B, heads, T, T)`` (``(B, heads, T, T_cached)``
            with a cache), default causal, plus target padding without a cache;
            output: logits ``(B, T, V_tgt)``, and with ``need_weights`` the cross-attention
            weights of each layer ``(B, heads, T, S)``.
        """
        c = self.config
        check_token_ids("tgt", tgt, c.tgt_vocab_size)
        b, t = tgt.shape
        check_tensor("memory", memory, shape=(b, "S", c.d_model), dtype="float")
        offset = 0 if cache is None else cache.length
        if t == 0:
            raise ValueError(f"tgt must hold at least one position, got shape {tuple(tgt.shape)}")
        if offset + t > c.max_len:
            raise ValueError(f"tgt reaches position {offset + t} but max_len is {c.max_len}")
        t_k = offset + t
        if tgt_mask is None:
            if cache is None:
                tgt_mask = causal_mask(t, device=tgt.device) & padding_mask(tgt, c.pad_id)
            elif t > 1:
                # position offset + i may see positions 0 .. offset + i
                tgt_mask = torch.ones(t, t_k, dtype=torch.bool, device=tgt.device).tril(offset)
            # else: one new token may see every cached position: no mask (the fast path)
        else:
            check_mask("tgt_mask", tgt_mask, (b, c.n_heads, t, t_k))
        if memory_mask is not None:
            check_mask("memory_mask", memory_mask, (b, c.n_heads, t, memory.shape[1]))
        out = self.decoder(self._embed(self.tgt_embed, tgt, offset), memory, tgt_mask,
                           memory_mask, cache=cache, need_weights=need_weights)
        if not need_weights:
            return self.generator(out)  # (B, T, V_tgt)
        x, weights = out
        return self.generator(x), weights  # (B, T, V_tgt), a list of (B, heads, T, S)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor,
                src_mask: torch.Tensor | None = None, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits.

        Shape:
            src: ``(B, S)`` source ids; tgt: ``(B, T)`` target ids (shifted right, starting
            with bos);
            src_mask: bool broadcastable to ``(B, heads, S, S)``; tgt_mask: to
            ``(B, heads, T, T)``; memory_mask: to ``(B, heads, T, S)``. Defaults: source
            padding, causal plus target padding, source padding;
            output: logits ``(B, T, V_tgt)``.
        """
        self._check_tokens("src", src, self.config.src_vocab_size)
        self._check_tokens("tgt", tgt, self.config.tgt_vocab_size)
        if tgt.shape[0] != src.shape[0]:
            raise ValueError(f"tgt must have the batch size of src ({src.shape[0]}), "
                             f"got shape {tuple(tgt.shape)}")
        if memory_mask is None:
            memory_mask = padding_mask(src, self.config.pad_id)  # (B, 1, 1, S)
        memory = self.encode(src, src_mask)
        return cast(torch.Tensor, self.decode(tgt, memory, memory_mask, tgt_mask))  # logits only


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model``; a tensor shared by several modules (tied
    embeddings) counts once."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --- 5. checkpoints -------------------------------------------------------------------------------

#: The chapter-6 date translator, trained by ``scripts/train_dates.py`` (seed 0).
DATE_CHECKPOINT = Path(__file__).resolve().parent / "assets" / "date_transformer.pt"

def _checkpoint_kinds() -> dict[str, tuple[type, type]]:
    """Format tag -> (model class, config class) for every model a checkpoint may hold."""
    from .gpt import GPT, GPTConfig  # gpt.py builds on this module: import it late
    return {"minitransformer-transformer-v1": (Transformer, TransformerConfig),
            "minitransformer-gpt-v1": (GPT, GPTConfig)}


def save_checkpoint(model: nn.Module, path: str | os.PathLike[str], **extra: object) -> None:
    """Save a :class:`Transformer` or :class:`~minitransformer.gpt.GPT` (its configuration
    and weights, plus plain-Python ``extra`` facts such as the seed or the measured accuracy)
    to ``path``, loadable with ``weights_only=True``."""
    tags = {model_class: tag for tag, (model_class, _) in _checkpoint_kinds().items()}
    if type(model) not in tags:
        raise TypeError(f"model must be a Transformer or a GPT, got {describe(model)}")
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save({"format": tags[type(model)],
                "config": dict(vars(model.config)), "state_dict": state, "extra": extra}, path)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Load a model saved by :func:`save_checkpoint`; returns ``(model in eval mode, extra)``,
    the model a :class:`Transformer` or a :class:`~minitransformer.gpt.GPT` as saved.

    Uses ``torch.load(..., weights_only=True)``: only tensors and plain containers are read,
    never arbitrary pickled code. A missing, truncated or foreign file raises ``ValueError``
    naming the path and the reason.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # corrupt or not a torch file: say so clearly
        raise ValueError(f"cannot read checkpoint {path}: the file is corrupt or not a "
                         f"minitransformer checkpoint ({type(error).__name__}: {error})") from None
    kinds = _checkpoint_kinds()
    if not isinstance(payload, dict) or payload.get("format") not in kinds:
        raise ValueError(f"checkpoint {path} is not a minitransformer Transformer or GPT "
                         f"checkpoint (missing or unknown 'format' entry)")
    model_class, config_class = kinds[payload["format"]]
    try:
        model = model_class(config_class(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        raise ValueError(f"checkpoint {path} does not fit the {model_class.__name__}: "
                         f"{error}") from None
    return model.eval(), payload.get("extra", {})
