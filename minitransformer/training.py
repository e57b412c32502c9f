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
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ._validation import check_float, check_int

__all__ = ["History", "label_smoothed_cross_entropy", "noam_lr", "noam_scheduler", "seq2seq_loss",
           "train", "warmup_linear_scheduler"]


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


def _to_device(batch: Any, device: torch.device | str) -> Any:
    """``batch`` with every tensor in it moved to ``device``: a tensor, or tensors inside
    (nested) tuples, lists and dicts; named tuples such as ``data.Batch`` keep their type.
    Anything else is returned as it is."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a named tuple
        return type(batch)(*(_to_device(item, device) for item in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(item, device) for item in batch)
    if isinstance(batch, dict):
        return {key: _to_device(value, device) for key, value in batch.items()}
    return batch


def train(
    model: nn.Module,
    batches: Iterable[Any] | Callable[[int], Iterable[Any]],
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int = 1,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    clip_norm: float | None = None,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    progress: bool | None = None,
    description: str = "training",
    device: torch.device | str | None = None,
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
        device: where to train (``"cpu"``, ``"cuda"``, ``"mps"``, a ``torch.device``). If
            given, the model is moved there first (``model.to(device)``, in place) and every
            batch is moved there before ``loss_fn`` sees it (its tensors, also inside tuples,
            lists and dicts). ``None`` (default) moves nothing. ``evaluate`` receives the model
            on ``device`` and moves its own data. The optimizer must still hold the model's
            parameters after the move (moving between CPU and GPU keeps them; a move that
            replaces them raises ``ValueError``): when in doubt, move the model first and
            create the optimizer after.

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
    if device is not None:
        if not isinstance(device, (str, torch.device)):
            raise TypeError(f"device must be a str, a torch.device or None, got "
                            f"{type(device).__name__}")
        try:
            device = torch.device(device)
        except RuntimeError as error:
            raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', "
                             f"got {device!r} ({error})") from None
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        before = {id(p) for p in model.parameters()} & held
        model.to(device)
        if not before <= {id(p) for p in model.parameters()}:
            raise ValueError(f"device: moving the model to {device} replaced its parameters, "
                             "so the optimizer would update the old ones; move the model "
                             "first (model.to(device)), then create the optimizer")

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
            if device is not None:
                batch = _to_device(batch, device)
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


def noam_lr(step: int, d_model: int, warmup: int = 4000) -> float:
    """The learning rate of Eq. (3), section 5.3 of Vaswani et al. (2017):

    ``lrate = d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)``

    It rises linearly for the first ``warmup`` steps, peaks at ``step == warmup`` with
    ``(d_model * warmup) ** -0.5``, then decays as ``1 / sqrt(step)``.

    ``step`` is the paper's ``step_num``, counted from 1 (the first update). Step 0 (before any
    update) gives 0.0, the limit of the linear warm-up, instead of dividing by zero;
    :func:`noam_scheduler` therefore hands ``step + 1`` to this function so the first update
    already has a non-zero rate.
    """
    step = check_int("step", step, minimum=0)
    d_model = check_int("d_model", d_model, minimum=1)
    warmup = check_int("warmup", warmup, minimum=1)
    if step == 0:
        return 0.0
    return d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def noam_scheduler(optimizer: torch.optim.Optimizer, d_model: int, warmup: int = 4000,
                   factor: float = 1.0) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that sets the learning rate to ``factor * noam_lr(step + 1, ...)``.

    Create the optimizer with ``lr=1.0`` (``LambdaLR`` multiplies the base rate by the lambda)
    and step the scheduler after every optimisation step, as :func:`train` does. The paper uses
    Adam with ``betas=(0.9, 0.98)``, ``eps=1e-9`` and ``factor=1``; small models train faster
    with a larger ``factor``.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    d_model = check_int("d_model", d_model, minimum=1)
    warmup = check_int("warmup", warmup, minimum=1)
    factor = check_float("factor", factor, minimum=0.0, inclusive=False)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: factor * noam_lr(step + 1, d_model, warmup))


def label_smoothed_cross_entropy(logits: torch.Tensor, target: torch.Tensor,
                                 smoothing: float = 0.1, ignore_index: int | None = 0,
                                 ) -> torch.Tensor:
    """Cross-entropy against smoothed targets (section 5.4 of Vaswani et al. 2017, after
    Szegedy et al. 2016): the true class gets ``1 - smoothing`` plus its share of
    ``smoothing``, spread uniformly over all ``V`` classes. Equal to
    ``F.cross_entropy(logits, target, label_smoothing=smoothing, ignore_index=ignore_index)``.

    Shape:
        logits: ``(..., V)`` unnormalised scores, e.g. ``(B, T, V)``.
        target: ``(...)`` class ids, e.g. ``(B, T)``; positions equal to ``ignore_index``
        (padding) do not count.
        returns: a scalar, the mean over counted positions (0.0 if none counts, never NaN).
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.dim() < 2:
        raise TypeError(f"logits must be a floating-point tensor of shape (..., V), got "
                        f"{type(logits).__name__} {getattr(logits, 'shape', '')}")
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError(f"target must be an integer tensor of class ids, got "
                        f"{type(target).__name__} {getattr(target, 'dtype', '')}")
    if tuple(target.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"target must have shape {tuple(logits.shape[:-1])} (logits without "
                         f"its last dimension), got {tuple(target.shape)}")
    smoothing = check_float("smoothing", smoothing, minimum=0.0, maximum=1.0)
    if ignore_index is not None:
        ignore_index = check_int("ignore_index", ignore_index)
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    n_classes = logits.shape[-1]
    safe = torch.where(keep, target, torch.zeros_like(target))
    if safe.numel() and not safe.is_meta and (int(safe.min()) < 0 or int(safe.max()) >= n_classes):
        raise ValueError(f"target contains class ids outside [0, {n_classes})")
    log_p = torch.log_softmax(logits, dim=-1)
    nll = -log_p.gather(-1, safe.unsqueeze(-1)).squeeze(-1)  # (...)
    uniform = -log_p.mean(dim=-1)  # (...) cross-entropy against the uniform distribution
    loss = (1.0 - smoothing) * nll + smoothing * uniform
    loss = torch.where(keep, loss, torch.zeros_like(loss))
    return loss.sum() / keep.sum().clamp(min=1)


def warmup_linear_scheduler(optimizer: torch.optim.Optimizer, warmup: int,
                            total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Multiply the base rate by a linear warm-up over ``warmup`` steps, then a linear decay
    to zero at ``total_steps``: a short-budget alternative to :func:`noam_scheduler`, whose
    ``1 / sqrt(step)`` tail is still high when a small run ends."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    warmup = check_int("warmup", warmup, minimum=1)
    total_steps = check_int("total_steps", total_steps, minimum=warmup + 1)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup,
                                    max(0.0, (total_steps - step) / (total_steps - warmup))))


def seq2seq_loss(smoothing: float = 0.1, pad_id: int = 0) -> Callable[[nn.Module, Any], torch.Tensor]:
    """A ``loss_fn`` for :func:`train` on translation batches ``(src, tgt_in, tgt_out)``
    (``data.Batch``): label-smoothed cross-entropy of ``model(src, tgt_in)`` against
    ``tgt_out``, padding ignored."""
    smoothing = check_float("smoothing", smoothing, minimum=0.0, maximum=1.0)
    pad_id = check_int("pad_id", pad_id, minimum=0)

    def loss_fn(model: nn.Module, batch: Any) -> torch.Tensor:
        src, tgt_in, tgt_out = batch
        return label_smoothed_cross_entropy(model(src, tgt_in), tgt_out, smoothing, pad_id)

    return loss_fn
