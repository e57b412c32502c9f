"""Data sets made by code (nothing is downloaded), tokenizers and batching.

Sections, in the order the book uses them: two-dimensional classification sets (chapter 1),
sequence tasks and long-range memory tasks (chapters 2-4), the date-translation task with its
character tokenizer (chapters 5-6). Every generator takes an explicit ``seed`` or
``torch.Generator`` so a chapter run twice sees the same data.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_int

__all__ = [
    # chapter 1
    "logic_gate",
    "make_moons",
    # chapters 2-4
    # chapters 5-6
]

# --- chapter 1: two-dimensional classification sets ----------------------------------------------

from ._validation import check_choice, check_float

#: Truth tables of the logic gates on the inputs (0, 0), (0, 1), (1, 0), (1, 1).
_GATES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "XOR": (0, 1, 1, 0), "NAND": (1, 1, 1, 0)}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four input pairs of a two-input logic gate and its outputs.

    Args:
        name: ``"AND"``, ``"OR"``, ``"XOR"`` or ``"NAND"``.

    Returns:
        ``X`` of shape ``(4, 2)`` (float64, rows ``(0,0), (0,1), (1,0), (1,1)``) and the labels
        ``y`` of shape ``(4,)`` (int64, 0 or 1).
    """
    name = check_choice("name", name, list(_GATES))
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array(_GATES[name], dtype=np.int64)


def make_moons(n_samples: int = 200, *, noise: float = 0.1,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane: a set no straight line separates.

    Class 0 lies on the upper half circle of radius 1 centred at (0, 0), class 1 on the lower
    half circle centred at (1, 0.5); Gaussian noise of standard deviation ``noise`` is added to
    both coordinates. Points are shuffled.

    Args:
        n_samples: total number of points (class 0 gets the extra one if odd), at least 2.
        noise: standard deviation of the Gaussian noise, >= 0.
        seed: seed of the NumPy generator; the same seed gives the same points.

    Returns:
        ``X`` of shape ``(n_samples, 2)`` (float64) and ``y`` of shape ``(n_samples,)`` (int64).
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_float("noise", noise, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    n0 = n_samples - n_samples // 2
    n1 = n_samples // 2
    t0 = rng.uniform(0.0, np.pi, n0)
    t1 = rng.uniform(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)              # (n0, 2)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)  # (n1, 2)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    order = rng.permutation(n_samples)
    return X[order], y[order]



# --- chapters 2-4: sequence tasks ----------------------------------------------------------------


# --- chapters 5-6: dates to ISO dates, a character tokenizer, batching with padding --------------
