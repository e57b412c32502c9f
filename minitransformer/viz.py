"""Plots and diagrams for the book, all drawn by code in one consistent style.

Every plotting function returns the matplotlib ``Figure`` (or ``Axes``) it drew, labels its
axes with names and units, and takes a ``title`` that states the finding. Diagrams (the MLP,
the folded and unrolled RNN, the LSTM cell, the Transformer) are drawn with matplotlib patches,
never loaded from image files.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = [
    "PALETTE",
    "use_style",
    # chapter 1
    # chapters 2-4
    # chapters 5-6
    "draw_transformer",
    "plot_attention_heads",
]

#: Colours used across the book: one per role, so a reader learns them once.
PALETTE = {
    "blue": "#1f77b4",
    "orange": "#ff7f0e",
    "green": "#2ca02c",
    "red": "#d62728",
    "purple": "#9467bd",
    "grey": "#7f7f7f",
}


def use_style() -> None:
    """Apply the book's plotting style (called on import; safe to call again)."""
    plt.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
    })


use_style()

# --- chapter 1 ----------------------------------------------------------------------------------


# --- chapters 2-4 --------------------------------------------------------------------------------


# --- chapters 5-6 --------------------------------------------------------------------------------
# chapter 6: the Transformer diagram and per-head attention maps


def _box(ax, x, y, w, h, text, color, *, fontsize=8):
    from matplotlib.patches import FancyBboxPatch
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor="black", linewidth=0.8, alpha=0.9))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, x0, y0, x1, y1):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops=dict(arrowstyle="->", linewidth=0.9, color="black"))


def draw_transformer(n_layers: int = 6, *, norm_first: bool = False,
                     title: str = "The Transformer: an encoder stack feeding a decoder stack"):
    """Draw the encoder-decoder Transformer (Figure 1 of Vaswani et al. 2017) with patches.

    Each sublayer is followed by "Add & Norm" (post-norm, the paper's placement) or preceded
    by "Norm" with a plain residual "Add" (``norm_first=True``). Returns the ``Figure``.
    """
    from ._validation import check_int
    check_int("n_layers", n_layers, minimum=1)
    fig, ax = plt.subplots(figsize=(7.0, 7.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 13)
    ax.axis("off")
    ax.set_title(title)
    attn, ffn, norm, emb, out = (PALETTE["orange"], PALETTE["blue"], "#f0e68c",
                                 "#f4b6c2", PALETTE["green"])
    w, h = 3.0, 0.6

    def sublayers(x, y0, names):
        """Stack sublayers upward from y0; return the y of the last box's top."""
        y = y0
        for name, color in names:
            if norm_first:
                _box(ax, x, y, w, h * 0.8, "Norm", norm)
                _arrow(ax, x, y + 0.25, x, y + 0.55)
                y += 0.8
                _box(ax, x, y, w, h, name, color)
                _arrow(ax, x, y + 0.3, x, y + 0.55)
                y += 0.8
                _box(ax, x, y, w, h * 0.8, "Add (residual)", "white")
            else:
                _box(ax, x, y, w, h, name, color)
                _arrow(ax, x, y + 0.3, x, y + 0.55)
                y += 0.8
                _box(ax, x, y, w, h * 0.8, "Add & Norm", norm)
            _arrow(ax, x, y + 0.25, x, y + 0.65)
            y += 0.9
        return y - 0.9

    # encoder (left) and decoder (right)
    ex, dx = 2.5, 7.5
    for x, label in ((ex, "source tokens"), (dx, "target tokens (shifted right)")):
        ax.text(x, 0.3, label, ha="center", va="center", fontsize=8)
        _arrow(ax, x, 0.5, x, 0.85)
        _box(ax, x, 1.15, w, h, "Embedding × √d_model", emb)
        _arrow(ax, x, 1.45, x, 1.85)
        _box(ax, x, 2.15, w, h, "+ positional encoding", "white")
        _arrow(ax, x, 2.45, x, 2.95)
    enc_top = sublayers(ex, 3.3, [("Self-attention", attn), ("Feed-forward", ffn)])
    dec_top = sublayers(dx, 3.3, [("Masked self-attention", attn),
                                  ("Cross-attention", attn), ("Feed-forward", ffn)])
    pad = 0.35
    from matplotlib.patches import Rectangle
    for x, top in ((ex, enc_top), (dx, dec_top)):
        ax.add_patch(Rectangle((x - w / 2 - pad, 2.95), w + 2 * pad, top - 2.95 + 0.6,
                               fill=False, linestyle="--", linewidth=1.0))
        side = -1 if x == ex else 1
        ax.text(x + side * (w / 2 + pad + 0.1), (2.95 + top) / 2, f"× {n_layers}",
                ha="right" if side < 0 else "left", va="center", fontsize=10)
    if norm_first:
        _box(ax, ex, enc_top + 1.0, w, h * 0.8, "Final Norm", norm)
        _box(ax, dx, dec_top + 1.0, w, h * 0.8, "Final Norm", norm)
        enc_top, dec_top = enc_top + 1.0, dec_top + 1.0
    # memory: the encoder's output goes to every decoder layer's cross-attention
    cross_y = 3.3 + (2.5 if norm_first else 1.7)
    y_m, x_m = enc_top + 0.9, (ex + dx) / 2
    ax.plot([ex, ex, x_m, x_m], [enc_top + 0.3, y_m, y_m, cross_y], color=PALETTE["red"],
            linewidth=1.2)
    ax.annotate("", xy=(dx - w / 2, cross_y), xytext=(x_m, cross_y),
                arrowprops=dict(arrowstyle="->", linewidth=1.2, color=PALETTE["red"]))
    ax.text(ex, y_m + 0.25, "memory (keys and values)", ha="center", fontsize=8,
            color=PALETTE["red"])
    _arrow(ax, dx, dec_top + 0.3, dx, dec_top + 0.75)
    _box(ax, dx, dec_top + 1.05, w, h, "Linear → softmax", out)
    ax.text(dx, dec_top + 1.75, "next-token probabilities", ha="center", fontsize=8)
    ax.set_ylim(0, dec_top + 2.1)
    return fig


def plot_attention_heads(weights, query_labels, key_labels, *,
                         title: str = "Attention weights per head", xlabel: str = "key",
                         ylabel: str = "query"):
    """One heatmap per head: ``weights`` is ``(heads, T_q, T_k)`` (a tensor or array of
    probabilities); labels name the query and key positions. Returns the ``Figure``."""
    import numpy as np
    w = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights)
    if w.ndim != 3:
        raise ValueError(f"weights must have shape (heads, T_q, T_k), got shape {w.shape}")
    if len(query_labels) != w.shape[1] or len(key_labels) != w.shape[2]:
        raise ValueError(f"query_labels/key_labels must have {w.shape[1]}/{w.shape[2]} "
                         f"entries, got {len(query_labels)}/{len(key_labels)}")
    heads = w.shape[0]
    fig, axes = plt.subplots(1, heads, figsize=(2.6 * heads + 0.8, 3.2), squeeze=False)
    for i, ax in enumerate(axes[0]):
        image = ax.imshow(w[i], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(key_labels)), labels=list(key_labels), fontsize=7)
        ax.set_yticks(range(len(query_labels)), labels=list(query_labels), fontsize=7)
        ax.set_xlabel(xlabel)
        if i == 0:
            ax.set_ylabel(ylabel)
        ax.set_title(f"head {i + 1}", fontsize=9)
        ax.grid(False)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="attention weight")
    fig.suptitle(title, fontsize=11, y=1.03)
    return fig
