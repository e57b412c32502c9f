"""Saving and loading the package's models, and counting their parameters.

A checkpoint is one file written by ``torch.save``: a dict with the model's kind
(``"format"``), its configuration as plain values (``"config"``), its weights
(``"state_dict"``) and any plain-Python facts the caller adds (``"extra"``: the seed, a
measured accuracy). Only tensors and plain containers, so :func:`load_checkpoint` reads it with
``torch.load(..., weights_only=True)``, which never runs pickled code.

Every model built from a configuration dataclass can be saved: :data:`MODELS` maps each
format tag to its model class and configuration class (:class:`~minitransformer.transformer.Transformer`
and :class:`~minitransformer.gpt.GPT` today; a new model joins with one entry).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from ._validation import describe
from .gpt import GPT, GPTConfig
from .transformer import Transformer, TransformerConfig

__all__ = ["MODELS", "count_parameters", "load_checkpoint", "save_checkpoint"]

#: Format tag -> (model class, configuration class) of every model a checkpoint may hold.
MODELS: dict[str, tuple[type[nn.Module], type]] = {
    "minitransformer-transformer-v1": (Transformer, TransformerConfig),
    "minitransformer-gpt-v1": (GPT, GPTConfig),
}


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model``; a tensor shared by several modules (tied
    embeddings) counts once."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _kinds(article: str = "a ") -> str:
    """The model classes :data:`MODELS` holds, for messages: 'a Transformer or a GPT'."""
    names = [article + model_class.__name__ for model_class, _ in MODELS.values()]
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def save_checkpoint(model: nn.Module, path: str | os.PathLike[str], **extra: object) -> None:
    """Save ``model`` (its configuration and weights, plus plain-Python ``extra`` facts such
    as the seed or the measured accuracy) to ``path``, loadable with ``weights_only=True``.

    ``model`` is any model in :data:`MODELS`: a
    :class:`~minitransformer.transformer.Transformer` or a :class:`~minitransformer.gpt.GPT`.
    """
    tags = {model_class: tag for tag, (model_class, _) in MODELS.items()}
    if type(model) not in tags:
        raise TypeError(f"model must be {_kinds()}, got {describe(model)}")
    config = dict(vars(model.config))  # plain values: the dataclass's fields
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save({"format": tags[type(model)], "config": config, "state_dict": state,
                "extra": extra}, path)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Load a model saved by :func:`save_checkpoint`; returns ``(model in eval mode, extra)``,
    the model of the class it was saved from (see :data:`MODELS`).

    Uses ``torch.load(..., weights_only=True)``: only tensors and plain containers are read,
    never arbitrary pickled code. A missing file raises ``FileNotFoundError``; a truncated,
    foreign or mismatched file raises ``ValueError`` naming the path and the reason.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # corrupt or not a torch file: say so clearly
        raise ValueError(f"cannot read checkpoint {path}: the file is corrupt or not a "
                         f"minitransformer checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(payload, dict) or payload.get("format") not in MODELS:
        raise ValueError(f"checkpoint {path} is not a minitransformer {_kinds('')} "
                         f"checkpoint (missing or unknown 'format' entry)")
    model_class, config_class = MODELS[payload["format"]]
    try:
        model = model_class(config_class(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        raise ValueError(f"checkpoint {path} does not fit the {model_class.__name__}: "
                         f"{error}") from None
    return model.eval(), payload.get("extra", {})
