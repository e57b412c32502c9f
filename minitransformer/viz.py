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
