"""Training: one generic loop with a progress bar and a returned history, plus the schedules
and losses the chapters use (the Transformer's learning-rate schedule and label smoothing are
in the chapter 6 section).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from ._validation import check_float, check_int

__all__ = ["History", "train"]


@dataclass
class History:
    """What :func:`train` measured.

    Attributes:
        loss: training loss of every optimisation step, in order.
        epoch_loss: mean training loss of each epoch.
        metrics: for each name returned by ``evaluate``, its value after each epoch.
        epoch_time: wall-clock seconds of each epoch (training only, evaluation excluded).
        lr: the learning rate used at each step.
    """

    loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    epoch_time: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    @property
    def total_time(self) -> float:
        """Seconds spent training, summed over epochs."""
        return float(sum(self.epoch_time))


def train(
    model: nn.Module,
    batches: Iterable | Callable[[int], Iterable],
    loss_fn: Callable[[nn.Module, object], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int = 1,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    clip_norm: float | None = None,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    progress: bool | None = None,
    description: str = "training",
) -> History:
    """Train ``model`` and return its :class:`History`.

    Args:
        model: the module to train; put in ``train()`` mode for each epoch and ``eval()`` mode
            for ``evaluate``.
        batches: the batches of one epoch: an iterable re-iterated every epoch (a list, a
            ``DataLoader``) or a function ``epoch -> iterable`` (to reshuffle per epoch).
        loss_fn: ``loss_fn(model, batch) -> scalar loss tensor``; it runs the forward pass, so
            the loop works for any model and batch structure.
        optimizer: a ``torch.optim`` optimizer over the model's parameters.
        epochs: number of passes over ``batches``.
        scheduler: stepped once after every optimisation step (as ``noam_lr`` expects).
        clip_norm: if given, clip the global gradient norm to this value before each step.
        evaluate: called after each epoch under ``torch.no_grad()``; returns named metrics.
        progress: show a ``tqdm.auto`` progress bar (one tick per step). ``None`` (default)
            shows it unless the environment variable ``MINITRANSFORMER_PROGRESS`` is ``0``, as
            the book build and the notebook tests set it, so the pages stay clean.
        description: the progress bar's label.

    A non-finite loss stops training with a ``FloatingPointError`` naming the step, instead of
    silently filling the history with NaN.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    epochs = check_int("epochs", epochs, minimum=1)
    if clip_norm is not None:
        clip_norm = check_float("clip_norm", clip_norm, minimum=0.0, inclusive=False)

    if progress is None:
        progress = os.environ.get("MINITRANSFORMER_PROGRESS", "1") != "0"
    history = History()
    step = 0
    for epoch in range(epochs):
        epoch_batches = batches(epoch) if callable(batches) else batches
        model.train()
        start = time.perf_counter()
        losses = []
        bar = tqdm(epoch_batches, desc=f"{description} (epoch {epoch + 1}/{epochs})",
                   disable=not progress, leave=False)
        for batch in bar:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(f"loss became {value} at step {step} (epoch {epoch + 1})")
            loss.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            history.loss.append(value)
            losses.append(value)
            step += 1
            if progress:
                bar.set_postfix(loss=f"{value:.3f}", refresh=False)
        history.epoch_time.append(time.perf_counter() - start)
        if not losses:
            raise ValueError(f"batches yielded no batch in epoch {epoch + 1}")
        history.epoch_loss.append(sum(losses) / len(losses))
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                for name, value in evaluate(model).items():
                    history.metrics.setdefault(name, []).append(float(value))
    model.eval()
    return history


# --- chapter 6: the Transformer's schedule and label smoothing -----------------------------------
