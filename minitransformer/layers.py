"""The Transformer's building blocks (Vaswani et al. 2017), read top to bottom.

1. :func:`sinusoidal_positions` and :class:`PositionalEncoding` (section 3.5): where a token
   is, added to what it is.
2. :class:`EncoderLayer` and :class:`DecoderLayer` (section 3.1): multi-head attention
   (``attention.py``, section 3.2) and a position-wise feed-forward network (section 3.3), each
   wrapped in a residual connection and layer normalisation (Ba et al. 2016).

``transformer.py`` stacks these layers into the encoder, the decoder and the whole model;
``gpt.py`` stacks encoder layers into a decoder-only language model.

Norm placement. The paper normalises *after* each residual addition ("post-norm",
``LayerNorm(x + Sublayer(x))``, section 3.1); that is the default here and in PyTorch.
``norm_first=True`` normalises the sublayer's *input* instead (``x + Sublayer(LayerNorm(x))``,
"pre-norm"), which Xiong et al. (2020) show trains stably without a learning-rate warm-up; a
pre-norm stack then ends with one more LayerNorm.

Masks are bool with True = may attend, broadcastable to ``(B, heads, T_q, T_k)``, as everywhere
in the package. Sublayer names (``self_attn``, ``linear1``, ``norm1``, ...) follow
``torch.nn.TransformerEncoderLayer`` so ``from_torch`` reads as a list of copies. Every layer
returns ``(output, weights or None)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_float, check_int, check_tensor, describe
from .attention import KVCache, MultiHeadAttention

__all__ = ["DecoderLayer", "EncoderLayer", "PositionalEncoding", "sinusoidal_positions"]


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
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Self-attention then the feed-forward network, each in a residual sublayer.

        Returns ``(x, weights)``: the layer's output and, with ``need_weights``, the
        self-attention weights (else None).

        Shape:
            x: ``(B, T, D)`` (with ``cache``: only the new positions); mask: bool,
            True = may attend, broadcastable to ``(B, heads, T, T_k)``, e.g.
            ``padding_mask(src, pad_id)`` ``(B, 1, 1, T)`` in an encoder or
            ``causal_mask(T)`` in a decoder-only model; cache: a self-attention
            :class:`~minitransformer.attention.KVCache` for generating one token at a
            time (``T_k`` is then the number of cached positions after this call);
            output: ``(B, T, D)``; weights: ``(B, heads, T, T_k)``.
        """
        check_tensor("x", x, shape=("B", "T", self.d_model), dtype="float")

        def sa(h):  # the self-attention sublayer
            return self.self_attn(h, mask=mask, need_weights=need_weights, cache=cache)

        if self.norm_first:
            attended, weights = sa(self.norm1(x))
            x = x + self.dropout1(attended)
            x = x + self.dropout2(self._ffn(self.norm2(x)))
        else:
            attended, weights = sa(x)
            x = self.norm1(x + self.dropout1(attended))
            x = self.norm2(x + self.dropout2(self._ffn(x)))
        return x, weights


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
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Masked self-attention, attention over ``memory``, then the feed-forward network.

        Returns ``(x, weights)``: the layer's output and, with ``need_weights``, the
        cross-attention weights (else None).

        Shape:
            x: ``(B, T, D)`` the target so far (with ``cache``: only the new positions);
            memory: ``(B, S, D)`` the encoder's output;
            tgt_mask: bool broadcastable to ``(B, heads, T, T)`` (usually causal; with a
            cache, to ``(B, heads, T, T_cached)``);
            memory_mask: bool broadcastable to ``(B, heads, T, S)`` (source padding);
            cache: ``(self-attention cache, cross-attention cache)`` for incremental decoding;
            output: ``(B, T, D)``; weights: ``(B, heads, T, S)``.
        """
        check_tensor("x", x, shape=("B", "T", self.d_model), dtype="float")
        check_tensor("memory", memory, shape=(x.shape[0], "S", self.d_model), dtype="float")
        self_cache, cross_cache = (None, None) if cache is None else cache

        def sa(h):  # masked self-attention
            return self.self_attn(h, mask=tgt_mask, need_weights=False, cache=self_cache)[0]

        def ca(h):  # attention over the memory
            return self.multihead_attn(h, memory, memory, memory_mask,
                                       need_weights=need_weights, cache=cross_cache)

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
        return x, weights
