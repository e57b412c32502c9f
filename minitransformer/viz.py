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
    "draw_lstm_cell",
    "draw_rnn",
    "plot_gradient_norms",
    # chapters 5-6
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


def draw_rnn(steps: int = 4, *, title: str = "One cell, reused at every time step"):
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


def plot_gradient_norms(curves: dict, *, title: str, ax=None,
                        ylabel: str = "gradient norm $\\|\\partial L / \\partial h_t\\|$"):
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


def draw_lstm_cell(ax=None, title="An LSTM cell: gates read $[h_{t-1}, x_t]$ and edit the cell state $c$"):
    """Draw one LSTM cell (forget, input and output gates, candidate values, cell state).

    The cell state runs along the top, changed only by a multiplication (forget gate) and an
    addition (input gate times candidate values); the hidden state runs along the bottom. Gates
    are boxes labelled with their non-linearity, point-wise operations are circles.

    Returns the matplotlib ``Figure``.
    """
    from matplotlib.patches import Circle, FancyBboxPatch

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
