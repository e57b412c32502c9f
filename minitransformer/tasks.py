"""Recurrent models wrapped for the sequence tasks, and the long-range experiment.

Chapters 2-4 put a recurrent layer (:class:`~minitransformer.rnn.RNN`, the LSTM of chapter 4,
or a ``torch.nn`` one) under a small linear read-out:

- :class:`SequenceRegressor`: a prediction at every step (next-step prediction, chapter 2).
- :class:`SequenceClassifier`: one label per sequence, read from the last hidden state
  (the long-range memory task, chapters 3 and 4).

:func:`train_long_range` is the one experiment chapters 3 and 4 share: train a fresh
classifier on :func:`~minitransformer.data.remember_first` at a given length with a fixed
budget and report its accuracy on held-out sequences. Chapter 3 runs it with RNNs, chapter 4
with LSTMs, so their rows are comparable.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._validation import check_float, check_int, check_tensor
from .data import remember_first
from .training import train
from .utils import seed_everything

__all__ = ["SequenceClassifier", "SequenceRegressor", "train_long_range"]


def _check_layer(layer: object) -> nn.Module:
    if not isinstance(layer, nn.Module):
        raise TypeError(f"recurrent must be a torch.nn.Module, got {type(layer).__name__}")
    return layer


class SequenceRegressor(nn.Module):
    """A recurrent layer followed by a linear read-out at every step.

    Args:
        recurrent: a batch-first recurrent layer returning ``(out, state)``.
        hidden_size: the size of its outputs, ``H``.
        out_features: outputs per step, ``O``.

    Shape:
        - x: ``(B, T, I)``.
        - output: ``(B, T, O)``.
    """

    def __init__(self, recurrent: nn.Module, hidden_size: int, out_features: int = 1) -> None:
        super().__init__()
        self.recurrent = _check_layer(recurrent)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.readout = nn.Linear(hidden_size, check_int("out_features", out_features, minimum=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """A prediction at every step.

        Shape:
            x: ``(B, T, I)``; output: ``(B, T, O)`` with O = ``out_features``.
        """
        check_tensor("x", x, shape=("B", "T", None), dtype="float")
        out, _ = self.recurrent(x)                   # (B, T, H)
        return self.readout(out)                     # (B, T, O)


class SequenceClassifier(nn.Module):
    """A recurrent layer whose last output is mapped to class scores.

    Args:
        recurrent: a batch-first recurrent layer returning ``(out, state)``.
        hidden_size: the size of its outputs, ``H``.
        n_classes: number of classes, ``C``.

    Shape:
        - x: ``(B, T, I)``.
        - output: ``(B, C)`` logits.
    """

    def __init__(self, recurrent: nn.Module, hidden_size: int, n_classes: int) -> None:
        super().__init__()
        self.recurrent = _check_layer(recurrent)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.readout = nn.Linear(hidden_size, check_int("n_classes", n_classes, minimum=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores read from the hidden state after the last step.

        Shape:
            x: ``(B, T, I)``; output: logits ``(B, C)`` with C = ``n_classes``.
        """
        check_tensor("x", x, shape=("B", "T", None), dtype="float")
        out, _ = self.recurrent(x)                   # (B, T, H)
        return self.readout(out[:, -1])              # (B, C)


def train_long_range(
    model_factory: Callable[[int, int], nn.Module],
    length: int,
    *,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 3e-3,
    n_classes: int = 4,
    n_distractors: int = 4,
    n_test: int = 1000,
    clip_norm: float | None = 1.0,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> float:
    """Train a fresh classifier on :func:`~minitransformer.data.remember_first` and return its
    accuracy on ``n_test`` held-out sequences.

    Every step sees a new batch (an endless supply of sequences, so the model cannot memorise
    a training set); Adam with learning rate ``lr``, gradient norm clipped to ``clip_norm``
    (``None``: no clipping).

    Args:
        model_factory: ``model_factory(input_size, n_classes)`` builds the model, e.g.
            ``lambda i, c: SequenceClassifier(mt.RNN(i, 32), 32, c)``. It is called after
            seeding with ``seed``, so the initial weights are reproducible.
        length: sequence length ``T`` (the distance the first symbol must be remembered).
        steps: optimisation steps (the training budget).
        batch_size: sequences per step.
        lr: Adam's learning rate.
        n_classes, n_distractors: passed to :func:`~minitransformer.data.remember_first`.
        n_test: held-out sequences for the accuracy.
        clip_norm: gradient-norm clipping threshold or ``None``.
        seed: seeds the weights, the training stream and (offset) the test set.
        device: where to train and test (as for :func:`~minitransformer.training.train`);
            the data are made on the CPU, with the same seed, wherever the model runs.

    Returns:
        Accuracy in ``[0, 1]``; chance is ``1 / n_classes``.

    Measured with the defaults and hidden size 32 over 15 seeds (chapter 3's ``make claims``
    runs, ``book/claims/03_vanishing_gradients.json``): the package's tanh
    :class:`~minitransformer.rnn.RNN` solves length 5 in every seed, 10 and 20 in most (12 and
    11 of 15; a failed run ends at chance or about 50 %), 30 in none, and stays at chance
    (25 %) at 40 and 60 in every seed, while the package's LSTM with its forget-gate bias set
    to 3 reaches 100 % at lengths 40 and 60 with the same budget in every seed of 0-4; with
    bias 2 or 1 it fails at 40 in some or all seeds (chapter 4 and
    ``book/claims/04_lstm.json``). With a larger learning rate (0.01) the RNN learns length
    40 in some seeds and the LSTM no longer in all, which blurs the picture.
    """
    if not callable(model_factory):
        raise TypeError(f"model_factory must be callable, got {type(model_factory).__name__}")
    length = check_int("length", length, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, inclusive=False)
    n_test = check_int("n_test", n_test, minimum=1)
    seed = check_int("seed", seed, minimum=0, maximum=2**31)
    seed_everything(seed)
    input_size = n_classes + n_distractors
    model = model_factory(input_size, n_classes)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model_factory must return a torch.nn.Module, got {type(model).__name__}")
    x_all, y_all = remember_first(steps * batch_size, length, n_classes=n_classes,
                                  n_distractors=n_distractors, seed=seed)
    batches = list(zip(x_all.split(batch_size), y_all.split(batch_size)))
    x_test, y_test = remember_first(n_test, length, n_classes=n_classes,
                                    n_distractors=n_distractors, seed=seed + 1_000_003)

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return nn.functional.cross_entropy(m(x), y)

    if device is not None:
        model.to(device)  # before the optimizer takes hold of its parameters
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    train(model, batches, loss_fn, optimizer, clip_norm=clip_norm, description=f"T={length}",
          device=device)
    if device is not None:
        x_test, y_test = x_test.to(device), y_test.to(device)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=-1) == y_test).float().mean()
    return float(accuracy)
