"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017), read top to bottom.

The layers (positional encoding, encoder and decoder layers) are in ``layers.py``; here:

1. :class:`Encoder` and :class:`Decoder`: stacks of ``N`` such layers (section 3.1), with the
   decoder's key/value cache for generation (:class:`DecoderCache`).
2. :class:`TransformerConfig` and :class:`Transformer`: embeddings scaled by ``sqrt(d_model)``
   (section 3.4), the two stacks, and the pre-softmax projection; presets for the paper's
   base and big models (Table 3).

A pre-norm stack (``norm_first=True``) ends with one more LayerNorm. Masks are bool with
True = may attend, broadcastable to ``(B, heads, T_q, T_k)``, as everywhere in the package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._validation import check_float, check_int, check_mask, check_tensor, check_token_ids, describe
from .attention import KVCache, causal_mask, padding_mask
from .layers import DecoderLayer, EncoderLayer, PositionalEncoding
from .layers import sinusoidal_positions as sinusoidal_positions  # importable from here too

__all__ = [
    "DATE_CHECKPOINT",
    "Decoder",
    "DecoderCache",
    "Encoder",
    "Transformer",
    "TransformerConfig",
]

#: The chapter-6 date translator, trained by ``scripts/train_dates.py`` (seed 0).
DATE_CHECKPOINT = Path(__file__).resolve().parent / "assets" / "date_transformer.pt"


# --- 1. the stacks --------------------------------------------------------------------------------

class Encoder(nn.Module):
    """``n_layers`` :class:`~minitransformer.layers.EncoderLayer` s; pre-norm stacks end with a final LayerNorm."""

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
            x, _ = layer(x, mask)
        return self.norm(x)


@dataclass
class DecoderCache:
    """Per-layer key/value caches of a :class:`Decoder`, for generating one token at a time.

    Attributes:
        layers: for each layer, ``(self-attention cache, cross-attention cache)``.
    """

    layers: list[tuple[KVCache, KVCache]] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Number of target positions already decoded (the next token's position)."""
        return len(self.layers[0][0]) if self.layers else 0

    def reorder(self, index: torch.Tensor) -> None:
        """Keep batch rows ``index`` in every cache (beam search follows surviving beams)."""
        for self_cache, cross_cache in self.layers:
            self_cache.reorder(index)
            cross_cache.reorder(index)


class Decoder(nn.Module):
    """``n_layers`` :class:`~minitransformer.layers.DecoderLayer` s; pre-norm stacks end with a final LayerNorm."""

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
                ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """Run ``x`` through every layer in turn, each attending to ``memory``.

        Returns ``(x, weights)``: the output and, with ``need_weights``, a list (one per
        layer) of cross-attention weights (else None).

        Shape:
            x ``(B, T, D)``, memory ``(B, S, D)``; output ``(B, T, D)``; weights: each
            ``(B, heads, T, S)``.
        """
        weights = []
        for i, layer in enumerate(self.layers):
            layer_cache = None if cache is None else cache.layers[i]
            x, w = layer(x, memory, tgt_mask, memory_mask, layer_cache, need_weights)
            weights.append(w)
        return self.norm(x), (weights if need_weights else None)


# --- 2. the model (sections 3 and 3.4, Table 3) ---------------------------------------------------

def _check_config(config: Any, sizes: tuple[str, ...]) -> None:
    """The checks :class:`TransformerConfig` and :class:`~minitransformer.gpt.GPTConfig`
    share: positive ``sizes``, heads that divide ``d_model``, a dropout probability, a
    positive LayerNorm epsilon and a bool ``norm_first``."""
    for name in sizes:
        check_int(name, getattr(config, name), minimum=1)
    if config.d_model % config.n_heads:
        raise ValueError(f"d_model must be divisible by n_heads, got d_model={config.d_model} "
                         f"and n_heads={config.n_heads}")
    check_float("dropout", config.dropout, minimum=0.0, maximum=1.0)
    check_float("layer_norm_eps", config.layer_norm_eps, minimum=0.0, inclusive=False)
    if not isinstance(config.norm_first, bool):
        raise TypeError(f"norm_first must be a bool, got {describe(config.norm_first)}")


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
        _check_config(self, ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads",
                             "n_layers", "d_ff", "max_len"))
        check_int("pad_id", self.pad_id, minimum=0,
                  maximum=min(self.src_vocab_size, self.tgt_vocab_size) - 1)
        for name in ("share_embeddings", "tie_output"):
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
    Each public method checks its arguments once (token ids in range included) and then
    runs an unchecked private twin (``_encode``, ``_decode``), which the decoding loops call
    step after step.
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

    # -- argument checks, run once where a reader enters the model --

    def _check_tokens(self, name: str, tokens: object, vocab_size: int,
                      offset: int = 0) -> torch.Tensor:
        tokens = check_token_ids(name, tokens, vocab_size)
        if tokens.shape[1] == 0:
            raise ValueError(f"{name} must hold at least one position, got shape {tuple(tokens.shape)}")
        if offset + tokens.shape[1] > self.config.max_len:
            reach = (f"has {tokens.shape[1]} positions" if not offset
                     else f"reaches position {offset + tokens.shape[1]}")
            raise ValueError(f"{name} {reach} but max_len is {self.config.max_len}")
        return tokens

    def _check_decode(self, tgt: torch.Tensor, memory: object, memory_mask: object,
                      tgt_mask: object, cache: object) -> None:
        if cache is not None and not isinstance(cache, DecoderCache):
            raise TypeError(f"cache must be model.decoder.new_cache() (a DecoderCache), "
                            f"got {describe(cache)}")
        offset = 0 if cache is None else cache.length
        self._check_tokens("tgt", tgt, self.config.tgt_vocab_size, offset)
        (b, t), heads = tgt.shape, self.config.n_heads
        memory = check_tensor("memory", memory, shape=(b, "S", self.config.d_model),
                              dtype="float")
        if tgt_mask is not None:
            check_mask("tgt_mask", tgt_mask, (b, heads, t, offset + t))
        if memory_mask is not None:
            check_mask("memory_mask", memory_mask, (b, heads, t, memory.shape[1]))

    # -- the two halves --

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        x = embedding(tokens) * math.sqrt(self.config.d_model)  # (B, T, D), section 3.4
        return self.positions(x, offset)                       # (B, T, D)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``src`` into the memory the decoder attends to.

        Shape:
            src: ``(B, S)`` token ids; src_mask: bool broadcastable to ``(B, heads, S, S)``,
            default ``padding_mask(src, pad_id)``; output: ``(B, S, D)``.
        """
        b, s = self._check_tokens("src", src, self.config.src_vocab_size).shape
        if src_mask is not None:
            check_mask("src_mask", src_mask, (b, self.config.n_heads, s, s))
        return self._encode(src, src_mask)

    def _encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        if src_mask is None:
            src_mask = padding_mask(src, self.config.pad_id)  # (B, 1, 1, S)
        return self.encoder(self._embed(self.src_embed, src), src_mask)  # (B, S, D)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None,
               tgt_mask: torch.Tensor | None = None, cache: DecoderCache | None = None,
               need_weights: bool = False) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """Next-token logits for every position of ``tgt``, given the encoder's ``memory``.

        With a ``cache`` (from ``model.decoder.new_cache()``), ``tgt`` holds only the new
        tokens; earlier positions' keys and values come from the cache, and the default mask
        lets each new token see every earlier one and itself.

        Returns ``(logits, weights)``: with ``need_weights``, the cross-attention weights of
        each layer (else None).

        Shape:
            tgt: ``(B, T)`` token ids; memory: ``(B, S, D)``;
            memory_mask: bool broadcastable to ``(B, heads, T, S)``, required: pass
            ``padding_mask(src, pad_id)`` as :meth:`forward` does, so the two paths attend to
            the same positions (``None`` explicitly: every memory position, no padding);
            tgt_mask: bool broadcastable to ``(B, heads, T, T)`` (``(B, heads, T, T_cached)``
            with a cache), default causal, plus target padding without a cache;
            output: logits ``(B, T, V_tgt)``; weights: a list of ``(B, heads, T, S)``.
        """
        self._check_decode(tgt, memory, memory_mask, tgt_mask, cache)
        return self._decode(tgt, memory, memory_mask, tgt_mask, cache, need_weights)

    def _decode(self, tgt: torch.Tensor, memory: torch.Tensor,
                memory_mask: torch.Tensor | None, tgt_mask: torch.Tensor | None = None,
                cache: DecoderCache | None = None, need_weights: bool = False,
                ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        offset, t = (0 if cache is None else cache.length), tgt.shape[1]
        if tgt_mask is None and cache is None:
            tgt_mask = causal_mask(t, device=tgt.device) & padding_mask(tgt, self.config.pad_id)
        elif tgt_mask is None and t > 1:  # position offset + i may see 0 .. offset + i
            tgt_mask = torch.ones(t, offset + t, dtype=torch.bool, device=tgt.device).tril(offset)
        # else: one new token may see every cached position: no mask (the fast path)
        x = self._embed(self.tgt_embed, tgt, offset)                    # (B, T, D)
        x, weights = self.decoder(x, memory, tgt_mask, memory_mask, cache, need_weights)
        return self.generator(x), weights  # (B, T, V_tgt), a list of (B, heads, T, S) or None

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
        c = self.config
        (b, s), (_, t) = (self._check_tokens("src", src, c.src_vocab_size).shape,
                          self._check_tokens("tgt", tgt, c.tgt_vocab_size).shape)
        if tgt.shape[0] != b:
            raise ValueError(f"tgt must have the batch size of src ({b}), "
                             f"got shape {tuple(tgt.shape)}")
        for name, mask, shape in (("src_mask", src_mask, (b, c.n_heads, s, s)),
                                  ("tgt_mask", tgt_mask, (b, c.n_heads, t, t)),
                                  ("memory_mask", memory_mask, (b, c.n_heads, t, s))):
            if mask is not None:
                check_mask(name, mask, shape)
        if memory_mask is None:
            memory_mask = padding_mask(src, c.pad_id)  # (B, 1, 1, S)
        memory = self._encode(src, src_mask)            # (B, S, D)
        return self._decode(tgt, memory, memory_mask, tgt_mask)[0]  # logits
