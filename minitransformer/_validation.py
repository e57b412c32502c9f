"""Argument checks for the public boundary of the package.

Every public function and ``forward`` calls these helpers before doing any work, so that bad
input fails early with a message that names the argument, says what was expected and shows
what was given. Inner helpers trust their callers and do not re-check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

__all__ = [
    "check_int",
    "check_float",
    "check_choice",
    "check_array",
    "check_labels",
    "check_tensor",
    "check_token_ids",
    "check_mask",
    "describe",
]

T = TypeVar("T")


def describe(value: object) -> str:
    """A short description of ``value`` for error messages (type, and shape/dtype for arrays)."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dim()}-D tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-D array of shape {value.shape} and dtype {value.dtype}"
    return f"{value!r} ({type(value).__name__})"


def check_int(name: str, value: object, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Require an ``int`` (not a bool) within ``[minimum, maximum]``; return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_float(name: str, value: object, *, minimum: float | None = None,
                maximum: float | None = None, inclusive: bool = True) -> float:
    """Require a real number within ``[minimum, maximum]`` (open interval if not inclusive)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    low_bad = minimum is not None and (value < minimum if inclusive else value <= minimum)
    high_bad = maximum is not None and (value > maximum if inclusive else value >= maximum)
    if low_bad or high_bad:
        lo = "[" if inclusive else "("
        hi = "]" if inclusive else ")"
        rng = f"{lo}{'-inf' if minimum is None else minimum}, {'inf' if maximum is None else maximum}{hi}"
        raise ValueError(f"{name} must be in {rng}, got {value}")
    return value


def check_choice(name: str, value: T, choices: Sequence[T]) -> T:
    """Require ``value`` to be one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_array(name: str, x: object, *, ndim: int, columns: int | None = None) -> np.ndarray:
    """Require a finite numeric NumPy array (or nested list) of rank ``ndim``; return float64."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {describe(x)}")
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.ndim != ndim:
        want = "(N, features)" if ndim == 2 else "(N,)"
        raise ValueError(f"{name} must be a {ndim}-D array of shape {want}, got {describe(x)}")
    if columns is not None and x.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns (features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got NaN or inf in {describe(x)}")
    return x.astype(np.float64, copy=False)


def check_labels(name: str, y: object, n: int) -> np.ndarray:
    """Require ``n`` binary labels (0 or 1) as a 1-D array; return them as int64."""
    y = check_array(name, y, ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"{name} must hold one label per row of X ({n}), got shape {y.shape}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise ValueError(f"{name} must contain only 0 and 1, got {y[bad][0]!r}")
    return y.astype(np.int64)


def check_tensor(name: str, x: object, *, shape: Sequence[int | str | None] | None = None,
                 dtype: str | None = None) -> torch.Tensor:
    """Require a tensor of a given rank/shape and kind of dtype.

    Args:
        name: the argument's name, used in the message.
        x: the value to check.
        shape: expected shape; each entry is an int (must match), a string (a named free
            dimension such as ``"B"``, any size) or ``None`` (any size). Its length fixes the rank.
        dtype: ``"float"`` (any floating dtype), ``"int"`` (any integer dtype, not bool),
            ``"bool"``, or ``None`` for any.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(x)}")
    if dtype == "float" and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if dtype == "int" and (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor (token ids), got dtype {x.dtype}")
    if dtype == "bool" and x.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor, got dtype {x.dtype}")
    if shape is not None:
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        if len(shape) == 1:
            want = want[:-1] + ",)"
        if x.dim() != len(shape):
            raise ValueError(
                f"{name} must be a {len(shape)}-D tensor of shape {want}, "
                f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}")
        for axis, (want_size, got_size) in enumerate(zip(shape, x.shape)):
            if isinstance(want_size, int) and want_size != got_size:
                raise ValueError(
                    f"{name} must have shape {want}, got shape {tuple(x.shape)} "
                    f"(dimension {axis} is {got_size}, expected {want_size})")
    return x


def check_token_ids(name: str, tokens: object, vocab_size: int, *,
                    ndim: int = 2) -> torch.Tensor:
    """Require an integer tensor of token ids in ``[0, vocab_size)``, ``(B, T)`` by default.

    The range is read from the values, so it is not checked on the ``meta`` device (shapes
    only, no values)."""
    shape: tuple[str | None, ...] = ("B", "T") if ndim == 2 else (None,) * ndim
    tokens = check_tensor(name, tokens, shape=shape, dtype="int")
    if tokens.numel() and not tokens.is_meta:  # a meta tensor has a shape but no values
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= vocab_size:
            bad = low if low < 0 else high
            raise ValueError(
                f"{name} contains token id {bad}, outside the vocabulary [0, {vocab_size})")
    return tokens


def check_mask(name: str, mask: object, target: Sequence[int]) -> torch.Tensor:
    """Require a bool mask (True = may attend) that broadcasts to ``target`` without growing it."""
    mask = check_tensor(name, mask, dtype="bool")
    if mask.dim() > len(target):
        raise ValueError(
            f"{name} must broadcast to {tuple(target)} (batch, heads, T_q, T_k), "
            f"got shape {tuple(mask.shape)}")
    for got, want in zip(reversed(mask.shape), reversed(tuple(target))):
        if got not in (1, want):
            raise ValueError(
                f"{name} must broadcast to {tuple(target)} (batch, heads, T_q, T_k), "
                f"got shape {tuple(mask.shape)}")
    return mask
