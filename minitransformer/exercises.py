"""Auto-checked exercises: ``check(name, fn)`` runs a reader's function against the reference.

``check`` calls the reader's function and the reference on every test case of the exercise,
compares the results (numbers, NumPy arrays, tensors, or tuples/lists of those) and prints a
short report naming the first failing case, what was expected, what came back and the hint.
It never raises for a wrong answer: it returns ``False`` so the reader can try again
(``mt.exercises.check("perceptron_update", my_update)``; :func:`names` lists the exercises).

How a chapter adds an exercise: one :func:`register` decorator on the function that builds
its test cases, in the chapter's section of ``minitransformer/_exercise_cases.py``::

    @register("causal_mask", reference=causal_mask,
              description="causal_mask(size) -> (size, size) bool tensor, ...",
              hint="which triangle of the matrix is that, ...")
    def _causal_mask_cases() -> list[tuple]:
        return [(1,), (2,), (5,)]

- ``reference`` is the package's own function (imported at the top of that module), never a
  copy of it: where the exercise's signature differs, a few lines adapt the call.
- The cases are tuples of positional arguments, edge cases included, built from fixed seeds.
- The ``hint`` points the way in words: no formula, no code (``tests/test_exercises.py``
  checks), and the report never prints the answer beyond the failing case's expected value.
- The notebook calls ``mt.exercises.check("name", fn)`` on a stub that returns a wrong answer.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Exercise", "register", "names", "describe", "check"]

Cases = Callable[[], list[tuple]]


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
    cases: Cases
    hint: str
    atol: float = 1e-6


_REGISTRY: dict[str, Exercise] = {}


def register(name: str, *, description: str, reference: Callable[..., object], hint: str,
             atol: float = 1e-6) -> Callable[[Cases], Cases]:
    """Register exercise ``name`` (an identifier not yet taken; the other arguments are the
    fields of :class:`Exercise`). Returns a decorator for the function that builds the test
    cases: it registers the exercise and returns that function unchanged."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"an exercise named {name!r} is already registered")
    if not callable(reference):
        raise TypeError(f"reference must be callable, got {type(reference).__name__}")

    def decorate(cases: Cases) -> Cases:
        if not callable(cases):
            raise TypeError(f"cases must be callable, got {type(cases).__name__}")
        _REGISTRY[name] = Exercise(name, description, reference, cases, hint, atol)
        return cases

    return decorate


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
        e = np.asarray(expected.detach().cpu() if isinstance(expected, torch.Tensor) else expected,
                       dtype=float)
        g = np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got, dtype=float)
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


def _wrap(text: str, label: str) -> str:
    """``label`` then ``text``, every line wrapped to the book's 88 columns."""
    lines = []
    for k, line in enumerate(text.splitlines() or [""]):
        lines += textwrap.wrap(line, width=88, initial_indent=label if k == 0 else " " * len(label),
                               subsequent_indent=" " * len(label)) or [label]
    return "\n".join(lines)


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
        why: str | None
        try:
            got = fn(*copy.deepcopy(args))
        except Exception as error:  # the reader's code may raise anything: report it
            why = f"your function raised {type(error).__name__}: {error}"
            got = None
        else:
            why = _mismatch(expected, got, exercise.atol)
        if why:
            if verbose:
                print(_wrap(f"✗ {name}: case {i} of {len(cases)} failed: {why}.", ""))
                print(_wrap(_short(args), "  input:    "))
                print(_wrap(_short(expected), "  expected: "))
                print(_wrap(_short(got), "  got:      "))
                print(_wrap(exercise.hint, "  hint:     "))
            return False
    if verbose:
        print(f"✓ {name}: all {len(cases)} cases match the reference.")
    return True
