"""Auto-checked exercises: ``check(name, fn)`` runs a reader's function against the reference.

Each chapter registers its exercises here with :func:`register`: a reference implementation,
a function that builds a few test cases (positional-argument tuples, including edge cases) and
a hint. ``check`` calls the reader's function and the reference on every case, compares the
results (numbers, NumPy arrays, tensors, or tuples/lists of those) and prints a short report
naming the first failing case, what was expected, what came back and the hint. It never
raises for a wrong answer: it returns ``False`` so the reader can try again.

    >>> import minitransformer as mt
    >>> mt.exercises.names()                     # doctest: +SKIP
    >>> mt.exercises.check("step_function", my_step)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Exercise", "register", "names", "describe", "check"]


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise.

    Attributes:
        name: the key readers pass to :func:`check`.
        description: one line saying what the function must do.
        reference: the reference implementation.
        cases: builds the list of test cases; each case is a tuple of positional arguments.
        hint: shown when a case fails.
        atol: absolute tolerance for floating-point comparisons.
    """

    name: str
    description: str
    reference: Callable[..., object]
    cases: Callable[[], list[tuple]]
    hint: str
    atol: float = 1e-6


_REGISTRY: dict[str, Exercise] = {}


def register(name: str, *, description: str, reference: Callable[..., object],
             cases: Callable[[], list[tuple]], hint: str, atol: float = 1e-6) -> Exercise:
    """Add an exercise to the registry (chapters' exercises are registered at import)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"an exercise named {name!r} is already registered")
    for arg, value in (("reference", reference), ("cases", cases)):
        if not callable(value):
            raise TypeError(f"{arg} must be callable, got {type(value).__name__}")
    exercise = Exercise(name, description, reference, cases, hint, atol)
    _REGISTRY[name] = exercise
    return exercise


def names() -> list[str]:
    """The names of all registered exercises, sorted."""
    return sorted(_REGISTRY)


def _get(name: object) -> Exercise:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"no exercise named {name!r}; known exercises: {', '.join(names())}")
    return _REGISTRY[name]


def describe(name: str) -> str:
    """The one-line description of exercise ``name``."""
    return _get(name).description


def _short(value: object) -> str:
    """A compact rendering of a value for the report."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=12, edgeitems=3)
        return f"array of shape {value.shape}: {text}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value)


def _mismatch(expected: object, got: object, atol: float) -> str | None:
    """None if ``got`` matches ``expected``, otherwise why not."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected a sequence of {len(expected)} items, got {type(got).__name__}"
        for i, (e, g) in enumerate(zip(expected, got)):
            why = _mismatch(e, g, atol)
            if why:
                return f"item {i}: {why}"
        return None
    if isinstance(expected, (torch.Tensor, np.ndarray)) or isinstance(got, (torch.Tensor, np.ndarray)):
        if not isinstance(got, (torch.Tensor, np.ndarray, int, float, np.number)):
            return f"expected an array, got {type(got).__name__}"
        e = np.asarray(expected.detach() if isinstance(expected, torch.Tensor) else expected, dtype=float)
        g = np.asarray(got.detach() if isinstance(got, torch.Tensor) else got, dtype=float)
        if e.shape != g.shape:
            return f"expected shape {e.shape}, got shape {g.shape}"
        if not np.allclose(e, g, atol=atol, rtol=0, equal_nan=False):
            worst = float(np.max(np.abs(e - g)))
            return f"values differ by up to {worst:.3g} (tolerance {atol:g})"
        return None
    if isinstance(expected, (bool, np.bool_)) or isinstance(expected, str):
        return None if got == expected else "wrong value"
    if isinstance(expected, (int, float, np.number)):
        if not isinstance(got, (int, float, np.number)) or isinstance(got, bool) != isinstance(expected, bool):
            return f"expected a number, got {type(got).__name__}"
        return None if abs(float(expected) - float(got)) <= atol else "wrong value"
    return None if got == expected else "wrong value"


def check(name: str, fn: Callable[..., object], *, verbose: bool = True) -> bool:
    """Run the reader's ``fn`` against the reference of exercise ``name`` on every case.

    Prints a short report (unless ``verbose=False``) and returns True if every case matches.
    Each call receives its own copy of the inputs, so a function that modifies its arguments
    in place cannot spoil the reference's run.
    """
    exercise = _get(name)
    if not callable(fn):
        raise TypeError(f"fn must be a callable (your function), got {type(fn).__name__}")
    cases = exercise.cases()
    for i, args in enumerate(cases, start=1):
        expected = exercise.reference(*copy.deepcopy(args))
        try:
            got = fn(*copy.deepcopy(args))
        except Exception as error:  # the reader's code may raise anything: report it
            why = f"your function raised {type(error).__name__}: {error}"
            got = None
        else:
            why = _mismatch(expected, got, exercise.atol)
        if why:
            if verbose:
                print(f"✗ {name}: case {i} of {len(cases)} failed: {why}.")
                print(f"  input:    {_short(args)}")
                print(f"  expected: {_short(expected)}")
                print(f"  got:      {_short(got)}")
                print(f"  hint:     {exercise.hint}")
            return False
    if verbose:
        print(f"✓ {name}: all {len(cases)} cases match the reference.")
    return True


# ---------------------------------------------------------------------------------------------
# Registered exercises, chapter by chapter. Each chapter's section registers the exercises its
# notebook asks for; the references are the package's own functions where one exists.
# ---------------------------------------------------------------------------------------------

# --- chapter 1 ----------------------------------------------------------------------------------


# --- chapters 2-3 --------------------------------------------------------------------------------


# --- chapter 4 -----------------------------------------------------------------------------------


# --- chapter 5 -----------------------------------------------------------------------------------

def _causal_mask_cases() -> list[tuple]:
    return [(1,), (2,), (5,)]


def _attention_weights_reference(q: torch.Tensor, k: torch.Tensor,
                                 mask: torch.Tensor) -> torch.Tensor:
    from .attention import scaled_dot_product_attention  # imported late: attention is a sibling
    return scaled_dot_product_attention(q, k, k, mask)[1]


def _attention_weights_cases() -> list[tuple]:
    g = torch.Generator().manual_seed(5)
    cases = []
    for t_q, t_k, d_k in ((1, 1, 1), (3, 4, 8), (4, 4, 64)):
        q = torch.randn(t_q, d_k, generator=g, dtype=torch.float64)
        k = torch.randn(t_k, d_k, generator=g, dtype=torch.float64)
        cases.append((q, k, torch.ones(t_q, t_k, dtype=torch.bool)))
    mask = torch.ones(4, 4, dtype=torch.bool).tril()
    mask[0] = False  # a query that may attend to nothing: all-zero weights, not NaN
    cases.append((cases[-1][0], cases[-1][1], mask))
    return cases


register(
    "causal_mask",
    description="causal_mask(size) -> (size, size) bool tensor, True where query i may "
                "attend to key j (j <= i).",
    reference=lambda size: torch.ones(size, size, dtype=torch.bool).tril(),
    cases=_causal_mask_cases,
    hint="position i may look at itself and the past: the lower triangle including the "
         "diagonal (torch.tril), as a bool tensor.",
)

register(
    "attention_weights",
    description="attention_weights(q, k, mask) -> softmax(q k^T / sqrt(d_k)) over allowed "
                "keys; rows with no allowed key are all zeros.",
    reference=_attention_weights_reference,
    cases=_attention_weights_cases,
    hint="scale the scores by 1/sqrt(d_k) (d_k = q.shape[-1]), fill blocked scores with "
         "-inf before the softmax, and zero the rows where the mask allows nothing.",
)


# --- chapter 6 -----------------------------------------------------------------------------------


def _positional_encoding_cases() -> list[tuple]:
    return [(1, 2), (4, 6), (10, 16), (50, 5), (128, 64)]


def _noam_lr_cases() -> list[tuple]:
    return [(1, 512, 4000), (100, 512, 4000), (4000, 512, 4000), (4001, 512, 4000),
            (100_000, 512, 4000), (7, 64, 10), (0, 512, 4000)]


def _register_chapter_6() -> None:
    from .training import noam_lr
    from .transformer import sinusoidal_positions

    register(
        "positional_encoding",
        description="positional_encoding(max_len, d_model) -> (max_len, d_model) tensor of "
                    "the sinusoids of section 3.5 (sin on even, cos on odd dimensions)",
        reference=sinusoidal_positions,
        cases=_positional_encoding_cases,
        hint="PE[pos, 2i] = sin(pos / 10000 ** (2i / d_model)), PE[pos, 2i+1] = cos(same "
             "angle); for odd d_model the last column is a sine.",
        atol=1e-5,
    )
    register(
        "noam_lr",
        description="noam_lr(step, d_model, warmup) -> the learning rate of Eq. (3), 0.0 at step 0",
        reference=noam_lr,
        cases=_noam_lr_cases,
        hint="d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5); return 0.0 for step 0.",
        atol=1e-12,
    )


_register_chapter_6()
