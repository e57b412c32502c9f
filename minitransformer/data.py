"""Data sets made by code (nothing is downloaded), tokenizers and batching.

Sections, in the order the book uses them: two-dimensional classification sets (chapter 1),
sequence tasks and long-range memory tasks (chapters 2-4), the date-translation task with its
character tokenizer (chapters 5-6). Every generator takes an explicit ``seed`` or
``torch.Generator`` so a chapter run twice sees the same data.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_float, check_int

__all__ = [
    # chapter 1
    # chapters 2-4
    "noisy_sines",
    "remember_first",
    # chapters 5-6
]

# --- chapter 1: two-dimensional classification sets ----------------------------------------------


# --- chapters 2-4: sequence tasks ----------------------------------------------------------------

def noisy_sines(n_sequences: int, length: int, *, noise: float = 0.1,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-step prediction on noisy sine waves (chapter 2).

    Each sequence is ``sin(omega * t + phase)`` sampled at ``t = 0, 1, ..., length``, with an
    angular frequency ``omega`` drawn uniformly from ``[0.1, 0.5]`` radians per step and a
    phase from ``[0, 2 pi)``, plus Gaussian noise of standard deviation ``noise`` on the inputs.
    The target at step ``t`` is the clean value at step ``t + 1``: to predict it a model must
    infer the wave's frequency and phase from the noisy past.

    Returns:
        ``x`` of shape ``(n_sequences, length, 1)`` (noisy values at steps ``0 .. T-1``) and
        ``y`` of shape ``(n_sequences, length, 1)`` (clean values at steps ``1 .. T``), float32.
    """
    n_sequences = check_int("n_sequences", n_sequences, minimum=1)
    length = check_int("length", length, minimum=1)
    noise = check_float("noise", noise, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    omega = rng.uniform(0.1, 0.5, size=(n_sequences, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_sequences, 1))
    steps = np.arange(length + 1)[None, :]                       # (1, T + 1)
    clean = np.sin(omega * steps + phase)                        # (N, T + 1)
    noisy = clean[:, :-1] + noise * rng.standard_normal((n_sequences, length))
    x = torch.tensor(noisy, dtype=torch.float32).unsqueeze(-1)   # (N, T, 1)
    y = torch.tensor(clean[:, 1:], dtype=torch.float32).unsqueeze(-1)  # (N, T, 1)
    return x, y


def remember_first(n_sequences: int, length: int, *, n_classes: int = 4, n_distractors: int = 4,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The long-range memory task of chapters 3 and 4: name the first symbol of a sequence.

    A sequence has ``length`` one-hot symbols. The first is one of ``n_classes`` class symbols;
    the ``length - 1`` that follow are random distractor symbols (``n_distractors`` kinds,
    disjoint from the classes). The label is the first symbol's class, read by the model only
    after the whole sequence: the information must survive ``length - 1`` steps of distractors,
    the kind of long-range dependency Hochreiter and Schmidhuber (1997) built their tasks
    around. Chance accuracy is ``1 / n_classes``.

    Returns:
        ``x`` of shape ``(n_sequences, length, n_classes + n_distractors)`` (float32 one-hot)
        and ``y`` of shape ``(n_sequences,)`` (int64 class ids in ``[0, n_classes)``).
    """
    n_sequences = check_int("n_sequences", n_sequences, minimum=1)
    length = check_int("length", length, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    n_distractors = check_int("n_distractors", n_distractors, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n_sequences)
    symbols = n_classes + rng.integers(0, n_distractors, size=(n_sequences, length))
    symbols[:, 0] = labels                                        # (N, T)
    x = torch.nn.functional.one_hot(torch.from_numpy(symbols), n_classes + n_distractors)
    return x.float(), torch.from_numpy(labels)                    # (N, T, C + D), (N,)


# --- chapters 5-6: dates to ISO dates, a character tokenizer, batching with padding --------------
