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
    "draw_mlp",
    "plot_curves",
    "plot_decision_boundary",
    # chapters 2-4
    "draw_lstm_cell",
    "draw_rnn",
    "plot_gradient_norms",
    # chapters 5-6
    "draw_transformer",
    "plot_attention_heads",
]

#: Colours used across the book, one per role, so a reader learns them once.
PALETTE = {
    "blue": "#1f77b4",
    "orange": "#ff7f0e",
    "green": "#2ca02c",
    "red": "#d62728",
    "purple": "#9467bd",
    "grey": "#7f7f7f",
}


def use_style() -> None:
    """Apply the book's plotting style to matplotlib's global settings.

    Nothing calls this on import: importing the package leaves the reader's matplotlib
    settings alone. Each chapter opts in once, in its first cell; safe to call again.
    """
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


# --- chapter 1 ----------------------------------------------------------------------------------

# Chapter 1's imports sit in its section so that chapters merge without touching each other.
from collections.abc import Callable, Mapping, Sequence  # noqa: E402
from itertools import pairwise  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure, SubFigure  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from ._validation import check_int, describe  # noqa: E402


def _new_axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {describe(ax)}")
    return ax


def plot_curves(series: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str, title: str,
                logy: bool = False, x: Sequence[float] | None = None,
                ax: Axes | None = None) -> Axes:
    """Plot one line per named series (loss per step, error count per epoch, ...).

    Args:
        series: ``{label: values}``; each series is drawn against ``x`` (default ``1, 2, ...``,
            i.e. epoch or step numbers) and named in the legend.
        xlabel, ylabel: axis names with units (``"epoch"``, ``"loss (nats)"``).
        title: a title that states the finding.
        logy: use a logarithmic y axis (for losses spanning decades).
        x: shared x values, one per point of the longest series.
        ax: draw into this Axes instead of a new figure.

    Returns:
        The Axes drawn into.
    """
    if not isinstance(series, Mapping) or not series:
        raise TypeError(f"series must be a non-empty dict of label -> values, got {describe(series)}")
    for name in ("xlabel", "ylabel", "title"):
        value = {"xlabel": xlabel, "ylabel": ylabel, "title": title}[name]
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string, got {describe(value)}")
    ax = _new_axes(ax)
    colors = list(PALETTE.values())
    for i, (label, points) in enumerate(series.items()):
        values = np.asarray(points, dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"series[{label!r}] must be a non-empty 1-D sequence, got {describe(values)}")
        xs = np.arange(1, values.size + 1) if x is None else np.asarray(x, dtype=float)[: values.size]
        if xs.size != values.size:
            raise ValueError(f"x has {xs.size} values but series[{label!r}] has {values.size}")
        ax.plot(xs, values, label=str(label), color=colors[i % len(colors)])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_decision_boundary(predict_fn: Callable[[np.ndarray], object], X: np.ndarray,
                           y: np.ndarray, *, ax: Axes | None = None, title: str,
                           xlabel: str = "$x_1$ (input 1, unitless)",
                           ylabel: str = "$x_2$ (input 2, unitless)",
                           resolution: int = 200, margin: float = 0.5) -> Axes:
    """Shade the plane by a classifier's output and scatter the labelled points on top.

    Args:
        predict_fn: maps an array of points ``(M, 2)`` to labels 0/1 or probabilities of class
            1, shape ``(M,)`` (NumPy array or tensor). The line where the output crosses 0.5 is
            drawn as the decision boundary.
        X: points of shape ``(N, 2)``; y: their labels 0/1, shape ``(N,)``.
        ax: draw into this Axes instead of a new figure.
        title: a title that states the finding.
        resolution: grid points per axis.
        margin: how far the grid extends beyond the data, in input units.

    Returns:
        The Axes drawn into.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {describe(predict_fn)}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got shape {y.shape}")
    resolution = check_int("resolution", resolution, minimum=2)
    ax = _new_axes(ax)
    x_min, y_min = X.min(axis=0) - margin
    x_max, y_max = X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)                  # (resolution², 2)
    z = predict_fn(grid)
    if isinstance(z, torch.Tensor):
        z = z.detach().cpu().numpy()
    z = np.asarray(z, dtype=float).reshape(gx.shape)
    ax.contourf(gx, gy, z, levels=np.linspace(0.0, 1.0, 11), cmap="RdBu_r", alpha=0.35,
                extend="both")
    if z.min() < 0.5 < z.max():  # only draw the boundary where there is one
        ax.contour(gx, gy, z, levels=[0.5], colors="black", linewidths=1.5)
    for label, color, marker in ((0, PALETTE["blue"], "o"), (1, PALETTE["red"], "s")):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], c=color, marker=marker, s=36, edgecolors="white",
                   linewidths=0.6, label=f"class {label}", zorder=3)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", frameon=True, framealpha=0.85)  # a frame keeps it readable over points
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
        The Axes drawn into (axis lines hidden; layers named "input", "hidden", "output").
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
        for x0, y0 in layer:
            ax.add_patch(Circle((x0, y0), radius, facecolor=color, edgecolor="black", zorder=2))
        if n > len(layer):
            ax.text(layer[0][0], layer[-1][1] - 0.45, "⋮", ha="center", va="center", fontsize=14)
        ax.text(layer[0][0], bottom, f"{role}\n({n} unit{'s' if n > 1 else ''})", ha="center",
                va="top", fontsize=10)
    ax.set_xlim(-0.6, 1.6 * (len(sizes) - 1) + 0.6)
    ax.set_ylim(bottom - 0.6, (tallest - 1) / 2 * 0.6 + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax



# --- chapters 2-4 --------------------------------------------------------------------------------

def _box(ax, xy, text, colour, *, width=0.8, height=0.5):
    from matplotlib.patches import FancyBboxPatch
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.04", facecolor=colour, edgecolor="black",
                                alpha=0.85, linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, start, end, label=None, *, colour="black", rad=0.0, label_offset=(0.08, 0.0)):
    from matplotlib.patches import FancyArrowPatch
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color=colour, linewidth=1.2,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(mx + label_offset[0], my + label_offset[1], label, fontsize=9, color=colour,
                ha="left", va="center")


def draw_rnn(steps: int = 4, *, title: str = "One cell, reused at every time step") -> Figure:
    """The folded RNN (one cell with a loop) beside the same network unrolled over ``steps``.

    Every unrolled copy carries the same weights ``W_ih``, ``W_hh``: the unrolled picture is
    a deep feed-forward network whose layers share their parameters (Elman 1990; Werbos 1990).
    Returns the figure.
    """
    from ._validation import check_int
    steps = check_int("steps", steps, minimum=1, maximum=8)
    fig, (ax_fold, ax_unroll) = plt.subplots(
        1, 2, figsize=(2.6 + 1.5 * steps, 3.4), gridspec_kw={"width_ratios": [1.0, steps]})
    blue, green, orange = PALETTE["blue"], PALETTE["green"], PALETTE["orange"]
    # folded: x_t -> [cell] -> h_t, with a self-loop carrying h_{t-1}
    _box(ax_fold, (0, 0), "$x_t$", "#cfe2f3")
    _box(ax_fold, (0, 1.3), "cell\n$W_{ih}, W_{hh}$", "#fce5cd", width=1.1, height=0.65)
    _box(ax_fold, (0, 2.6), "$h_t$", "#d9ead3")
    _arrow(ax_fold, (0, 0.27), (0, 0.95), "$W_{ih}$", colour=blue)
    _arrow(ax_fold, (0, 1.65), (0, 2.33))
    _arrow(ax_fold, (0.56, 1.45), (0.56, 1.15), None, colour=orange, rad=-2.2)
    ax_fold.text(0.95, 1.3, "$W_{hh}$\n(delay)", fontsize=9, color=orange, va="center")
    ax_fold.set_xlim(-1.0, 1.6)
    ax_fold.set_ylim(-0.5, 3.1)
    ax_fold.set_title("folded", fontsize=10)
    # unrolled: one copy per step, h_{t-1} -> h_t arrows between copies
    for t in range(steps):
        x = 1.5 * t
        _box(ax_unroll, (x, 0), f"$x_{t + 1}$", "#cfe2f3")
        _box(ax_unroll, (x, 1.3), "cell", "#fce5cd", width=0.9, height=0.65)
        _box(ax_unroll, (x, 2.6), f"$h_{t + 1}$", "#d9ead3")
        _arrow(ax_unroll, (x, 0.27), (x, 0.95), colour=blue)
        _arrow(ax_unroll, (x, 1.65), (x, 2.33))
        _arrow(ax_unroll, (x - 1.05, 1.3), (x - 0.47, 1.3), "$W_{hh}$" if t else "$h_0$",
               colour=orange if t else green, label_offset=(-0.25, 0.22))
    ax_unroll.text(1.5 * (steps - 1) / 2, -0.55, "same $W_{ih}, W_{hh}, b$ in every copy",
                   ha="center", fontsize=9, color=PALETTE["grey"])
    ax_unroll.set_xlim(-1.2, 1.5 * (steps - 1) + 0.6)
    ax_unroll.set_ylim(-0.8, 3.1)
    ax_unroll.set_title(f"unrolled over {steps} time steps", fontsize=10)
    for ax in (ax_fold, ax_unroll):
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_gradient_norms(curves: Mapping[str, object], *, title: str, ax: Axes | None = None,
                        ylabel: str = "gradient norm $\\|\\partial L / \\partial h_t\\|$"
                        ) -> Axes:
    """Gradient norm against distance from the loss, log scale, one line per entry of ``curves``.

    Args:
        curves: ``label -> norms``, each a 1-D tensor or array as returned by
            :func:`~minitransformer.rnn.gradient_norms_through_time` (last entry at distance 0).
        title: states the finding.
        ax: axes to draw on, or ``None`` for a new figure.

    Returns the axes.
    """
    import numpy as np
    if not isinstance(curves, dict) or not curves:
        raise TypeError(f"curves must be a non-empty dict label -> norms, got {type(curves).__name__}")
    if ax is None:
        _, ax = plt.subplots()
    colours = list(PALETTE.values())
    for i, (label, norms) in enumerate(curves.items()):
        norms = np.asarray(norms.detach() if hasattr(norms, "detach") else norms, dtype=float)
        distance = np.arange(len(norms))[::-1]        # entry t is T - 1 - t steps from the loss
        ax.semilogy(distance, norms, label=str(label), color=colours[i % len(colours)])
    ax.set_xlabel("distance from the loss (time steps)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def _lstm_arrow(ax, points, color="black", head=True):
    """A polyline through ``points`` with an arrowhead on its last segment."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs[:-1], ys[:-1], color=color, lw=1.6, solid_capstyle="round")
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>" if head else "-", "color": color, "lw": 1.6,
                            "shrinkA": 0, "shrinkB": 0})


def draw_lstm_cell(ax: Axes | None = None,
                   title: str = "An LSTM cell: gates read $[h_{t-1}, x_t]$ and edit the cell "
                                "state $c$") -> Figure | SubFigure:
    """Draw one LSTM cell (forget, input and output gates, candidate values, cell state).

    The cell state runs along the top, changed only by a multiplication (forget gate) and an
    addition (input gate times candidate values); the hidden state runs along the bottom. Gates
    are boxes labelled with their non-linearity, point-wise operations are circles.

    Returns the matplotlib ``Figure`` (the one ``ax`` belongs to, when given).
    """
    from matplotlib.patches import Circle, FancyBboxPatch

    fig: Figure | SubFigure
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.0, 4.6))
    else:
        fig = ax.figure
    ax.set_xlim(-0.6, 12.6)
    ax.set_ylim(-0.2, 7.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((1.0, 0.8), 9.8, 5.4, boxstyle="round,pad=0.1",
                                facecolor="#f4f4f4", edgecolor=PALETTE["grey"], lw=1.2))
    cell_y, bus_y, gate_y = 5.4, 1.5, 3.0
    cell_color, hidden_color = PALETTE["orange"], PALETTE["blue"]

    def op(x, y, symbol):
        ax.add_patch(Circle((x, y), 0.32, facecolor="white", edgecolor="black", lw=1.4, zorder=3))
        ax.text(x, y, symbol, ha="center", va="center", fontsize=13, zorder=4)

    def gate(x, y, label, name, color):
        ax.add_patch(FancyBboxPatch((x - 0.5, y - 0.32), 1.0, 0.64, boxstyle="round,pad=0.05",
                                    facecolor=color, edgecolor="black", lw=1.2, alpha=0.9,
                                    zorder=3))
        ax.text(x, y, label, ha="center", va="center", fontsize=11, color="white", zorder=4)
        ax.text(x - 0.62, y + 0.5, name, ha="right", va="center", fontsize=11)

    # Cell state: c_{t-1} -> (x f) -> (+ i*g) -> c_t, the "conveyor belt" along the top.
    _lstm_arrow(ax, [(-0.4, cell_y), (12.4, cell_y)], cell_color)
    ax.text(-0.4, cell_y + 0.35, "$c_{t-1}$", fontsize=12)
    ax.text(11.7, cell_y + 0.35, "$c_t$", fontsize=12)
    # Hidden state and input merge into one bus feeding the four gates.
    _lstm_arrow(ax, [(-0.4, bus_y), (7.6, bus_y)], hidden_color, head=False)
    ax.text(-0.4, bus_y - 0.5, "$h_{t-1}$", fontsize=12)
    _lstm_arrow(ax, [(1.6, -0.2), (1.6, bus_y)], PALETTE["grey"], head=False)
    ax.text(1.8, -0.1, "$x_t$", fontsize=12)
    gates = [(2.6, "σ", "$f_t$", PALETTE["red"]), (4.2, "σ", "$i_t$", PALETTE["green"]),
             (5.8, "tanh", "$g_t$", PALETTE["purple"]), (7.6, "σ", "$o_t$", PALETTE["blue"])]
    for x, label, name, color in gates:
        _lstm_arrow(ax, [(x, bus_y), (x, gate_y - 0.34)], hidden_color)
        gate(x, gate_y, label, name, color)
    # Forget: c_{t-1} * f_t.
    _lstm_arrow(ax, [(2.6, gate_y + 0.34), (2.6, cell_y - 0.34)])
    op(2.6, cell_y, "×")
    # Write: i_t * g_t, added to the cell state.
    _lstm_arrow(ax, [(4.2, gate_y + 0.34), (4.2, 4.3), (4.68, 4.3)])
    _lstm_arrow(ax, [(5.8, gate_y + 0.34), (5.8, 4.3), (5.32, 4.3)])
    op(5.0, 4.3, "×")
    _lstm_arrow(ax, [(5.0, 4.62), (5.0, cell_y - 0.34)])
    op(5.0, cell_y, "+")
    # Read: h_t = o_t * tanh(c_t).
    _lstm_arrow(ax, [(9.2, cell_y), (9.2, 4.62)])
    ax.add_patch(FancyBboxPatch((8.75, 4.0), 0.9, 0.55, boxstyle="round,pad=0.05",
                                facecolor="white", edgecolor="black", lw=1.2, zorder=3))
    ax.text(9.2, 4.28, "tanh", ha="center", va="center", fontsize=10, zorder=4)
    _lstm_arrow(ax, [(9.2, 3.98), (9.2, gate_y + 0.32)])
    _lstm_arrow(ax, [(8.1, gate_y), (8.88, gate_y)])
    op(9.2, gate_y, "×")
    _lstm_arrow(ax, [(9.2, gate_y - 0.32), (9.2, bus_y), (12.4, bus_y)], hidden_color)
    _lstm_arrow(ax, [(10.4, bus_y), (10.4, 7.0)], hidden_color)
    ax.text(11.7, bus_y - 0.5, "$h_t$", fontsize=12)
    ax.text(10.55, 6.75, "$h_t$ (output)", fontsize=11)
    ax.set_title(title)
    return fig


# --- chapters 5-6 --------------------------------------------------------------------------------
# chapter 6: the Transformer diagram and per-head attention maps


def _block(ax, x, y, w, h, text, color, *, fontsize=8):
    from matplotlib.patches import FancyBboxPatch
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor="black", linewidth=0.8, alpha=0.9))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _link(ax, x0, y0, x1, y1):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops=dict(arrowstyle="->", linewidth=0.9, color="black"))


def draw_transformer(n_layers: int = 6, *, norm_first: bool = False,
                     title: str = "The Transformer: an encoder stack feeding a decoder stack"
                     ) -> Figure:
    """Draw the encoder-decoder Transformer (Figure 1 of Vaswani et al. 2017) with patches.

    Each sublayer is followed by "Add & Norm" (post-norm, the paper's placement) or preceded
    by "Norm" with a plain residual "Add" (``norm_first=True``); a skip arrow carries each
    sublayer's input around it to the "Add" (the residual connection). Returns the ``Figure``.
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

    def skip(x, y_from, y_to):
        """The residual connection: from the sublayer's input, around it, into the Add box
        (on the outer side of each stack, away from the memory arrow)."""
        side = -1 if x < 5 else 1
        x_out = x + side * (w / 2 + 0.2)
        ax.plot([x, x_out, x_out], [y_from, y_from, y_to], color=PALETTE["purple"],
                linewidth=1.1)
        ax.plot([x], [y_from], "o", color=PALETTE["purple"], markersize=3)
        ax.annotate("", xy=(x + side * w / 2, y_to), xytext=(x_out, y_to),
                    arrowprops=dict(arrowstyle="->", linewidth=1.1, color=PALETTE["purple"]))

    def sublayers(x, y0, names):
        """Stack sublayers upward from y0; return the y of the last box's top."""
        y = y0
        for name, color in names:
            skip(x, y - 0.45, y + (1.6 if norm_first else 0.8))
            if norm_first:
                _block(ax, x, y, w, h * 0.8, "Norm", norm)
                _link(ax, x, y + 0.25, x, y + 0.55)
                y += 0.8
                _block(ax, x, y, w, h, name, color)
                _link(ax, x, y + 0.3, x, y + 0.55)
                y += 0.8
                _block(ax, x, y, w, h * 0.8, "Add (residual)", "white")
            else:
                _block(ax, x, y, w, h, name, color)
                _link(ax, x, y + 0.3, x, y + 0.55)
                y += 0.8
                _block(ax, x, y, w, h * 0.8, "Add & Norm", norm)
            _link(ax, x, y + 0.25, x, y + 0.65)
            y += 0.9
        return y - 0.9

    # encoder (left) and decoder (right)
    ex, dx = 2.5, 7.5
    for x, label in ((ex, "source tokens"), (dx, "target tokens (shifted right)")):
        ax.text(x, 0.3, label, ha="center", va="center", fontsize=8)
        _link(ax, x, 0.5, x, 0.85)
        _block(ax, x, 1.15, w, h, "Embedding × √d_model", emb)
        _link(ax, x, 1.45, x, 1.85)
        _block(ax, x, 2.15, w, h, "+ positional encoding", "white")
        _link(ax, x, 2.45, x, 2.95)
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
        _block(ax, ex, enc_top + 1.0, w, h * 0.8, "Final Norm", norm)
        _block(ax, dx, dec_top + 1.0, w, h * 0.8, "Final Norm", norm)
        enc_top, dec_top = enc_top + 1.0, dec_top + 1.0
    # memory: the encoder's output goes to every decoder layer's cross-attention
    cross_y = 3.3 + (3.3 if norm_first else 1.7)  # the cross-attention box itself
    y_m, x_m = enc_top + 0.9, (ex + dx) / 2
    ax.plot([ex, ex, x_m, x_m], [enc_top + 0.3, y_m, y_m, cross_y], color=PALETTE["red"],
            linewidth=1.2)
    ax.annotate("", xy=(dx - w / 2, cross_y), xytext=(x_m, cross_y),
                arrowprops=dict(arrowstyle="->", linewidth=1.2, color=PALETTE["red"]))
    ax.text(ex, y_m + 0.25, "memory (keys and values)", ha="center", fontsize=8,
            color=PALETTE["red"])
    _link(ax, dx, dec_top + 0.3, dx, dec_top + 0.75)
    _block(ax, dx, dec_top + 1.05, w, h, "Linear → softmax", out)
    ax.text(dx, dec_top + 1.75, "next-token probabilities", ha="center", fontsize=8)
    ax.text(ex - w / 2 - 0.45, 3.3 - 0.45, "residual", ha="right", va="center", fontsize=7,
            color=PALETTE["purple"])
    ax.set_ylim(0, dec_top + 2.1)
    return fig


def plot_attention_heads(weights: torch.Tensor | np.ndarray, query_labels: Sequence[str],
                         key_labels: Sequence[str], *,
                         title: str = "Attention weights per head", xlabel: str = "key",
                         ylabel: str = "query", ncols: int | None = None) -> Figure:
    """One heatmap per head: ``weights`` is ``(heads, T_q, T_k)`` (a tensor or array of
    probabilities); labels name the query and key positions. ``ncols`` heatmaps per row
    (default: all in one row; fewer give long label lists room). Returns the ``Figure``."""
    import numpy as np

    from ._validation import check_int
    w = np.asarray(weights.detach().cpu() if hasattr(weights, "detach") else weights)
    if w.ndim != 3:
        raise ValueError(f"weights must have shape (heads, T_q, T_k), got shape {w.shape}")
    if len(query_labels) != w.shape[1] or len(key_labels) != w.shape[2]:
        raise ValueError(f"query_labels/key_labels must have {w.shape[1]}/{w.shape[2]} "
                         f"entries, got {len(query_labels)}/{len(key_labels)}")
    heads = w.shape[0]
    ncols = heads if ncols is None else check_int("ncols", ncols, minimum=1, maximum=heads)
    nrows = -(-heads // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols + 0.8, 3.2 * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= heads:
            ax.set_visible(False)
            continue
        image = ax.imshow(w[i], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(key_labels)), labels=list(key_labels), fontsize=7)
        ax.set_yticks(range(len(query_labels)), labels=list(query_labels), fontsize=7)
        if i // ncols == nrows - 1 or i + ncols >= heads:
            ax.set_xlabel(xlabel)
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        ax.set_title(f"head {i + 1}", fontsize=9)
        ax.grid(False)
    if nrows > 1:
        fig.subplots_adjust(hspace=0.45)  # room for the tick labels above the next titles
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    fig.suptitle(title, fontsize=11, y=1.03 if nrows == 1 else 0.97)
    return fig
