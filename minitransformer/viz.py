"""Plots for the book, drawn by code in one style (diagrams: :mod:`~minitransformer.diagrams`).

One rule for every plotting function here and in :mod:`~minitransformer.diagrams`: a function
that draws one panel takes ``ax=None`` (a matplotlib ``Axes`` to draw into, or ``None`` for a
new figure) and returns that ``Axes``; a function that draws several panels
(:func:`plot_attention_heads`) takes ``fig=None`` (a ``Figure`` or ``SubFigure``) and returns
that figure. So a plot can always be placed into a figure the reader laid out, and what comes
back is what the reader passed in. Every plot labels its axes with names and units and takes a
``title`` that states the finding; colors come from :data:`PALETTE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from ._validation import check_int, describe

__all__ = [
    "PALETTE",
    "use_style",
    "plot_curves",
    "plot_decision_boundary",
    "plot_gradient_norms",
    "plot_attention_heads",
]

#: Colors used across the book, one per role, so a reader learns them once.
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


def _new_axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    """``ax`` itself, or the Axes of a new figure of ``figsize`` when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {describe(ax)}")
    return ax


def _as_array(values: object) -> np.ndarray:
    """A float NumPy array of a tensor (any device) or array-like."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
    return np.asarray(values, dtype=float)


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
        values = _as_array(points)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"series[{label!r}] must be a non-empty 1-D sequence, got {describe(values)}")
        xs = np.arange(1, values.size + 1) if x is None else _as_array(x)[: values.size]
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
    z = _as_array(predict_fn(grid)).reshape(gx.shape)
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


def plot_gradient_norms(curves: Mapping[str, object], *, title: str, ax: Axes | None = None,
                        ylabel: str = "gradient norm $\\|\\partial L / \\partial h_t\\|$"
                        ) -> Axes:
    """Gradient norm against distance from the loss, log scale, one line per entry of ``curves``.

    Args:
        curves: ``label -> norms``, each a 1-D tensor or array as returned by
            :func:`~minitransformer.rnn.gradient_norms_through_time` (last entry at distance 0).
        title: states the finding.
        ax: draw into this Axes instead of a new figure.
        ylabel: the y axis's name.

    Returns:
        The Axes drawn into.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"curves must be a non-empty dict label -> norms, got {describe(curves)}")
    ax = _new_axes(ax)
    colors = list(PALETTE.values())
    for i, (label, norms) in enumerate(curves.items()):
        values = _as_array(norms)
        distance = np.arange(len(values))[::-1]     # entry t is T - 1 - t steps from the loss
        ax.semilogy(distance, values, label=str(label), color=colors[i % len(colors)])
    ax.set_xlabel("distance from the loss (time steps)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_attention_heads(weights: torch.Tensor | np.ndarray, query_labels: Sequence[str],
                         key_labels: Sequence[str], *,
                         title: str = "Attention weights per head", xlabel: str = "key",
                         ylabel: str = "query", ncols: int | None = None,
                         fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """One heatmap per head, ``ncols`` per row, sharing one color bar.

    Args:
        weights: attention probabilities of shape ``(heads, T_q, T_k)`` (tensor or array).
        query_labels, key_labels: names of the ``T_q`` query and ``T_k`` key positions.
        title: states the finding; xlabel, ylabel: what keys and queries are.
        ncols: heatmaps per row (default: all in one row; fewer give long label lists room).
        fig: draw into this Figure or SubFigure instead of a new figure.

    Returns:
        The figure drawn into; its first ``heads`` Axes are the heads, in order.
    """
    w = _as_array(weights)
    if w.ndim != 3:
        raise ValueError(f"weights must have shape (heads, T_q, T_k), got shape {w.shape}")
    if len(query_labels) != w.shape[1] or len(key_labels) != w.shape[2]:
        raise ValueError(f"query_labels/key_labels must have {w.shape[1]}/{w.shape[2]} "
                         f"entries, got {len(query_labels)}/{len(key_labels)}")
    heads = w.shape[0]
    ncols = heads if ncols is None else check_int("ncols", ncols, minimum=1, maximum=heads)
    nrows = -(-heads // ncols)
    if fig is None:
        fig = plt.figure(figsize=(2.6 * ncols + 0.8, 3.2 * nrows))
    elif not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"fig must be a matplotlib Figure, SubFigure or None, got {describe(fig)}")
    # hspace leaves room for the tick labels above the next row's titles
    axes = fig.subplots(nrows, ncols, squeeze=False, gridspec_kw={"hspace": 0.45})
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
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    fig.suptitle(title, fontsize=11, y=1.03 if nrows == 1 else 0.97)
    return fig
