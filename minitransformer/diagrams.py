"""Architecture diagrams drawn by code: the MLP, the folded and unrolled RNN, the LSTM cell and
the Transformer, each with matplotlib patches, never loaded from image files.

Every diagram follows :mod:`~minitransformer.viz`'s rule: it takes ``ax=None`` (an ``Axes``
to draw into, or ``None`` for a new figure) and returns that ``Axes``, with the axis lines
hidden and a title. One small family of helpers draws every diagram: ``_box`` (a labelled
rounded box: a layer, a gate, a state), ``_circle`` (a unit or a point-wise operation) and
``_arrow`` (a path through points with an arrowhead on its last segment).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from ._validation import check_int, describe
from .viz import PALETTE, _new_axes

__all__ = ["draw_mlp", "draw_rnn", "draw_lstm_cell", "draw_transformer"]

Point = tuple[float, float]


def _box(ax: Axes, xy: Point, text: str, color: str, *, width: float = 0.8,
         height: float = 0.5, fontsize: float = 10, text_color: str = "black",
         zorder: float = 3) -> None:
    """A rounded box of ``color`` centred on ``xy``, with ``text`` in its middle."""
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.04", facecolor=color, edgecolor="black",
                                linewidth=1.0, alpha=0.9, zorder=zorder))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=text_color,
            zorder=zorder + 1)


def _circle(ax: Axes, xy: Point, radius: float, color: str = "white", text: str = "") -> None:
    """A circle of ``color`` centred on ``xy`` (a unit, or a point-wise operation ``text``)."""
    ax.add_patch(Circle(xy, radius, facecolor=color, edgecolor="black", linewidth=1.2,
                        zorder=3))
    if text:
        ax.text(*xy, text, ha="center", va="center", fontsize=13, zorder=4)


def _arrow(ax: Axes, points: Sequence[Point], color: str = "black", *, head: bool = True,
           rad: float = 0.0, linewidth: float = 1.2) -> None:
    """A path through ``points`` with an arrowhead on its last segment (bent by ``rad``)."""
    if len(points) > 2:
        xs, ys = zip(*points[:-1], strict=True)
        ax.plot(xs, ys, color=color, linewidth=linewidth, solid_capstyle="round")
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>" if head else "-", "color": color,
                            "linewidth": linewidth, "shrinkA": 0, "shrinkB": 0,
                            "connectionstyle": f"arc3,rad={rad}"})


def _finish(ax: Axes, title: str, xlim: Point, ylim: Point, *, equal: bool = True) -> Axes:
    """Limits, equal scales (unless ``equal=False``), no axis lines, the title: how every
    diagram ends."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if equal:
        ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


def draw_mlp(sizes: Sequence[int], *, ax: Axes | None = None,
             title: str = "A multilayer perceptron: every unit feeds every unit of the next layer",
             max_units: int = 8) -> Axes:
    """Draw an MLP as layers of circles joined by lines (one line per weight).

    Args:
        sizes: layer widths, input first (``[2, 4, 1]``).
        ax: draw into this Axes instead of a new figure.
        title: the figure's title.
        max_units: layers wider than this show ``max_units`` circles and a "⋮".

    Returns:
        The Axes drawn into (layers named "input", "hidden", "output").
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"sizes must be a list of at least 2 layer widths, got {describe(sizes)}")
    sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
    max_units = check_int("max_units", max_units, minimum=2)
    ax = _new_axes(ax, figsize=(1.8 * len(sizes) + 1.5, 4.0))
    radius = 0.18
    shown = [min(s, max_units) for s in sizes]
    tallest = max(shown)
    positions = []
    for i, n in enumerate(shown):
        ys = (np.arange(n) - (n - 1) / 2) * 0.6
        positions.append([(1.6 * i, yy) for yy in ys[::-1]])
    for left, right in pairwise(positions):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.plot([x0 + radius, x1 - radius], [y0, y1], color=PALETTE["grey"],
                        linewidth=0.7, alpha=0.6, zorder=1)
    bottom = -(tallest - 1) / 2 * 0.6 - 0.55
    for i, (layer, n) in enumerate(zip(positions, sizes)):
        role = "input" if i == 0 else "output" if i == len(sizes) - 1 else "hidden"
        color = {"input": PALETTE["blue"], "hidden": PALETTE["green"], "output": PALETTE["red"]}[role]
        for xy in layer:
            _circle(ax, xy, radius, color)
        if n > len(layer):
            ax.text(layer[0][0], layer[-1][1] - 0.45, "⋮", ha="center", va="center", fontsize=14)
        ax.text(layer[0][0], bottom, f"{role}\n({n} unit{'s' if n > 1 else ''})", ha="center",
                va="top", fontsize=10)
    return _finish(ax, title, (-0.6, 1.6 * (len(sizes) - 1) + 0.6),
                   (bottom - 0.6, (tallest - 1) / 2 * 0.6 + 0.4))


def draw_rnn(steps: int = 4, *, ax: Axes | None = None,
             title: str = "One cell, reused at every time step") -> Axes:
    """The folded RNN (one cell with a loop) beside the same network unrolled over ``steps``.

    Every unrolled copy carries the same weights ``W_ih``, ``W_hh``: the unrolled picture is
    a deep feed-forward network whose layers share their parameters (Elman 1990; Werbos 1990).

    Args:
        steps: time steps to unroll, 1 to 8.
        ax: draw into this Axes instead of a new figure.
        title: the figure's title.

    Returns:
        The Axes drawn into: the folded cell on the left, the unrolled copies on the right.
    """
    steps = check_int("steps", steps, minimum=1, maximum=8)
    ax = _new_axes(ax, figsize=(1.5 * steps + 3.0, 3.4))
    blue, green, orange = PALETTE["blue"], PALETTE["green"], PALETTE["orange"]
    x_in, cell, h_out = "#cfe2f3", "#fce5cd", "#d9ead3"
    # folded: x_t -> [cell] -> h_t, with a self-loop carrying h_{t-1}
    _box(ax, (0, 0), "$x_t$", x_in)
    _box(ax, (0, 1.3), "cell\n$W_{ih}, W_{hh}$", cell, width=1.1, height=0.65)
    _box(ax, (0, 2.6), "$h_t$", h_out)
    _arrow(ax, [(0, 0.27), (0, 0.95)], blue)
    ax.text(0.08, 0.61, "$W_{ih}$", fontsize=9, color=blue, va="center")
    _arrow(ax, [(0, 1.65), (0, 2.33)])
    _arrow(ax, [(0.56, 1.45), (0.56, 1.15)], orange, rad=-2.2)
    ax.text(0.95, 1.3, "$W_{hh}$\n(delay)", fontsize=9, color=orange, va="center")
    ax.text(0, 3.05, "folded", ha="center", fontsize=10)
    # unrolled: one copy per step, h_{t-1} -> h_t arrows between copies
    left = 3.4
    for t in range(steps):
        x = left + 1.5 * t
        _box(ax, (x, 0), f"$x_{t + 1}$", x_in)
        _box(ax, (x, 1.3), "cell", cell, width=0.9, height=0.65)
        _box(ax, (x, 2.6), f"$h_{t + 1}$", h_out)
        _arrow(ax, [(x, 0.27), (x, 0.95)], blue)
        _arrow(ax, [(x, 1.65), (x, 2.33)])
        _arrow(ax, [(x - 1.05, 1.3), (x - 0.47, 1.3)], orange if t else green)
        ax.text(x - 1.01, 1.52, "$W_{hh}$" if t else "$h_0$", fontsize=9,
                color=orange if t else green, va="center")
    middle = left + 1.5 * (steps - 1) / 2
    ax.text(middle, 3.05, f"unrolled over {steps} time steps", ha="center", fontsize=10)
    ax.text(middle, -0.55, "same $W_{ih}, W_{hh}, b$ in every copy", ha="center", fontsize=9,
            color=PALETTE["grey"])
    return _finish(ax, title, (-1.0, left + 1.5 * (steps - 1) + 0.6), (-0.8, 3.4))


def draw_lstm_cell(*, ax: Axes | None = None,
                   title: str = "An LSTM cell: gates read $[h_{t-1}, x_t]$ and edit the cell "
                                "state $c$") -> Axes:
    """Draw one LSTM cell (forget, input and output gates, candidate values, cell state).

    The cell state runs along the top, changed only by a multiplication (forget gate) and an
    addition (input gate times candidate values); the hidden state runs along the bottom. Gates
    are boxes labelled with their non-linearity, point-wise operations are circles.

    Args:
        ax: draw into this Axes instead of a new figure.
        title: the figure's title.

    Returns:
        The Axes drawn into.
    """
    ax = _new_axes(ax, figsize=(8.0, 4.6))
    _box(ax, (5.9, 3.5), "", "#f4f4f4", width=9.8, height=5.4, zorder=0)
    cell_y, bus_y, gate_y = 5.4, 1.5, 3.0
    cell_color, hidden_color = PALETTE["orange"], PALETTE["blue"]
    # Cell state: c_{t-1} -> (x f) -> (+ i*g) -> c_t, the "conveyor belt" along the top.
    _arrow(ax, [(-0.4, cell_y), (12.4, cell_y)], cell_color, linewidth=1.6)
    ax.text(-0.4, cell_y + 0.35, "$c_{t-1}$", fontsize=12)
    ax.text(11.7, cell_y + 0.35, "$c_t$", fontsize=12)
    # Hidden state and input merge into one bus feeding the four gates.
    _arrow(ax, [(-0.4, bus_y), (7.6, bus_y)], hidden_color, head=False, linewidth=1.6)
    ax.text(-0.4, bus_y - 0.5, "$h_{t-1}$", fontsize=12)
    _arrow(ax, [(1.6, -0.2), (1.6, bus_y)], PALETTE["grey"], head=False, linewidth=1.6)
    ax.text(1.8, -0.1, "$x_t$", fontsize=12)
    gates = [(2.6, "σ", "$f_t$", PALETTE["red"]), (4.2, "σ", "$i_t$", PALETTE["green"]),
             (5.8, "tanh", "$g_t$", PALETTE["purple"]), (7.6, "σ", "$o_t$", PALETTE["blue"])]
    for x, label, name, color in gates:
        _arrow(ax, [(x, bus_y), (x, gate_y - 0.34)], hidden_color, linewidth=1.6)
        _box(ax, (x, gate_y), label, color, width=1.0, height=0.64, fontsize=11,
             text_color="white")
        ax.text(x - 0.62, gate_y + 0.5, name, ha="right", va="center", fontsize=11)
    # Forget: c_{t-1} * f_t.
    _arrow(ax, [(2.6, gate_y + 0.34), (2.6, cell_y - 0.34)], linewidth=1.6)
    _circle(ax, (2.6, cell_y), 0.32, text="×")
    # Write: i_t * g_t, added to the cell state.
    _arrow(ax, [(4.2, gate_y + 0.34), (4.2, 4.3), (4.68, 4.3)], linewidth=1.6)
    _arrow(ax, [(5.8, gate_y + 0.34), (5.8, 4.3), (5.32, 4.3)], linewidth=1.6)
    _circle(ax, (5.0, 4.3), 0.32, text="×")
    _arrow(ax, [(5.0, 4.62), (5.0, cell_y - 0.34)], linewidth=1.6)
    _circle(ax, (5.0, cell_y), 0.32, text="+")
    # Read: h_t = o_t * tanh(c_t).
    _arrow(ax, [(9.2, cell_y), (9.2, 4.62)], linewidth=1.6)
    _box(ax, (9.2, 4.28), "tanh", "white", width=0.9, height=0.55)
    _arrow(ax, [(9.2, 3.98), (9.2, gate_y + 0.32)], linewidth=1.6)
    _arrow(ax, [(8.1, gate_y), (8.88, gate_y)], linewidth=1.6)
    _circle(ax, (9.2, gate_y), 0.32, text="×")
    _arrow(ax, [(9.2, gate_y - 0.32), (9.2, bus_y), (12.4, bus_y)], hidden_color, linewidth=1.6)
    _arrow(ax, [(10.4, bus_y), (10.4, 7.0)], hidden_color, linewidth=1.6)
    ax.text(11.7, bus_y - 0.5, "$h_t$", fontsize=12)
    ax.text(10.55, 6.75, "$h_t$ (output)", fontsize=11)
    return _finish(ax, title, (-0.6, 12.6), (-0.2, 7.2))


def draw_transformer(n_layers: int = 6, *, norm_first: bool = False, ax: Axes | None = None,
                     title: str = "The Transformer: an encoder stack feeding a decoder stack"
                     ) -> Axes:
    """Draw the encoder-decoder Transformer (Figure 1 of Vaswani et al. 2017) with patches.

    Each sublayer is followed by "Add & Norm" (post-norm, the paper's placement) or preceded
    by "Norm" with a plain residual "Add" (``norm_first=True``); a skip arrow carries each
    sublayer's input around it to the "Add" (the residual connection).

    Args:
        n_layers: the number of layers each stack repeats, written beside it.
        norm_first: draw pre-norm layers instead of the paper's post-norm.
        ax: draw into this Axes instead of a new figure.
        title: the figure's title.

    Returns:
        The Axes drawn into.
    """
    check_int("n_layers", n_layers, minimum=1)
    ax = _new_axes(ax, figsize=(7.0, 7.2))
    attn, ffn, norm, emb, out = (PALETTE["orange"], PALETTE["blue"], "#f0e68c",
                                 "#f4b6c2", PALETTE["green"])
    w, h = 3.0, 0.6

    def block(x: float, y: float, text: str, color: str, height: float = h) -> None:
        _box(ax, (x, y), text, color, width=w, height=height, fontsize=8)

    def skip(x: float, y_from: float, y_to: float) -> None:
        """The residual connection: from the sublayer's input, around it, into the Add box
        (on the outer side of each stack, away from the memory arrow)."""
        side = -1 if x < 5 else 1
        x_out = x + side * (w / 2 + 0.2)
        ax.plot([x], [y_from], "o", color=PALETTE["purple"], markersize=3)
        _arrow(ax, [(x, y_from), (x_out, y_from), (x_out, y_to), (x + side * w / 2, y_to)],
               PALETTE["purple"], linewidth=1.1)

    def sublayers(x: float, y0: float, names: list[tuple[str, str]]) -> float:
        """Stack sublayers upward from y0; return the y of the last box's top."""
        y = y0
        for name, color in names:
            skip(x, y - 0.45, y + (1.6 if norm_first else 0.8))
            if norm_first:
                block(x, y, "Norm", norm, h * 0.8)
                _arrow(ax, [(x, y + 0.25), (x, y + 0.55)], linewidth=0.9)
                y += 0.8
            block(x, y, name, color)
            _arrow(ax, [(x, y + 0.3), (x, y + 0.55)], linewidth=0.9)
            y += 0.8
            block(x, y, "Add (residual)" if norm_first else "Add & Norm",
                  "white" if norm_first else norm, h * 0.8)
            _arrow(ax, [(x, y + 0.25), (x, y + 0.65)], linewidth=0.9)
            y += 0.9
        return y - 0.9

    # encoder (left) and decoder (right)
    ex, dx = 2.5, 7.5
    for x, label in ((ex, "source tokens"), (dx, "target tokens (shifted right)")):
        ax.text(x, 0.3, label, ha="center", va="center", fontsize=8)
        _arrow(ax, [(x, 0.5), (x, 0.85)], linewidth=0.9)
        block(x, 1.15, "Embedding × √d_model", emb)
        _arrow(ax, [(x, 1.45), (x, 1.85)], linewidth=0.9)
        block(x, 2.15, "+ positional encoding", "white")
        _arrow(ax, [(x, 2.45), (x, 2.95)], linewidth=0.9)
    enc_top = sublayers(ex, 3.3, [("Self-attention", attn), ("Feed-forward", ffn)])
    dec_top = sublayers(dx, 3.3, [("Masked self-attention", attn),
                                  ("Cross-attention", attn), ("Feed-forward", ffn)])
    pad = 0.35
    for x, top in ((ex, enc_top), (dx, dec_top)):
        ax.add_patch(Rectangle((x - w / 2 - pad, 2.95), w + 2 * pad, top - 2.95 + 0.6,
                               fill=False, linestyle="--", linewidth=1.0))
        side = -1 if x == ex else 1
        ax.text(x + side * (w / 2 + pad + 0.1), (2.95 + top) / 2, f"× {n_layers}",
                ha="right" if side < 0 else "left", va="center", fontsize=10)
    if norm_first:
        block(ex, enc_top + 1.0, "Final Norm", norm, h * 0.8)
        block(dx, dec_top + 1.0, "Final Norm", norm, h * 0.8)
        enc_top, dec_top = enc_top + 1.0, dec_top + 1.0
    # memory: the encoder's output goes to every decoder layer's cross-attention
    cross_y = 3.3 + (3.3 if norm_first else 1.7)  # the cross-attention box itself
    y_m, x_m = enc_top + 0.9, (ex + dx) / 2
    _arrow(ax, [(ex, enc_top + 0.3), (ex, y_m), (x_m, y_m), (x_m, cross_y),
                (dx - w / 2, cross_y)], PALETTE["red"])
    ax.text(ex, y_m + 0.25, "memory (keys and values)", ha="center", fontsize=8,
            color=PALETTE["red"])
    _arrow(ax, [(dx, dec_top + 0.3), (dx, dec_top + 0.75)], linewidth=0.9)
    block(dx, dec_top + 1.05, "Linear → softmax", out)
    ax.text(dx, dec_top + 1.75, "next-token probabilities", ha="center", fontsize=8)
    ax.text(ex - w / 2 - 0.45, 3.3 - 0.45, "residual", ha="right", va="center", fontsize=7,
            color=PALETTE["purple"])
    return _finish(ax, title, (0, 10), (0, dec_top + 2.1), equal=False)
