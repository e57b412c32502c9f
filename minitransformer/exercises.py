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

def _rnn_step_reference(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor,
                        weight_hh: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """One Elman step for a batch: tanh(x W_ih^T + h W_hh^T + b), shapes (B, I), (B, H)."""
    return torch.tanh(x @ weight_ih.T + h @ weight_hh.T + bias)


def _rnn_step_cases() -> list[tuple]:
    gen = torch.Generator().manual_seed(23)
    cases = []
    for batch, inputs, hidden in ((1, 1, 1), (2, 3, 4), (5, 2, 3)):
        cases.append((torch.randn(batch, inputs, generator=gen),
                      torch.randn(batch, hidden, generator=gen),
                      torch.randn(hidden, inputs, generator=gen),
                      torch.randn(hidden, hidden, generator=gen),
                      torch.randn(hidden, generator=gen)))
    return cases


register(
    "rnn_step",
    description="rnn_step(x, h, weight_ih, weight_hh, bias) -> the next hidden state (B, H) "
                "of an Elman RNN with tanh (chapter 2).",
    reference=_rnn_step_reference,
    cases=_rnn_step_cases,
    hint="weights are stored (out_features, in_features) as in nn.RNN: use x @ weight_ih.T, "
         "h @ weight_hh.T, add the bias, then squash with torch.tanh.",
    atol=1e-5,
)


def _spectral_radius_reference(matrix: torch.Tensor) -> float:
    """The largest absolute value among the eigenvalues of a square matrix."""
    return float(torch.linalg.eigvals(matrix).abs().max())


def _spectral_radius_cases() -> list[tuple]:
    gen = torch.Generator().manual_seed(3)
    rotation = torch.tensor([[0.0, -2.0], [2.0, 0.0]])   # eigenvalues +-2i: complex, radius 2
    triangular = torch.tensor([[0.5, 10.0], [0.0, -0.9]])  # large norm, radius 0.9
    return [(torch.eye(3) * 0.7,), (rotation,), (triangular,),
            (torch.randn(6, 6, generator=gen) / 6 ** 0.5,)]


register(
    "spectral_radius",
    description="spectral_radius(matrix) -> float: the largest |eigenvalue| of a square matrix, "
                "the per-step growth factor of a linear RNN's gradients (chapter 3).",
    reference=_spectral_radius_reference,
    cases=_spectral_radius_cases,
    hint="eigenvalues of a real matrix can be complex: use torch.linalg.eigvals and take the "
         "largest absolute value; the largest singular value (matrix norm) is only an upper bound.",
    atol=1e-4,
)



# --- chapter 4 -----------------------------------------------------------------------------------


def _lstm_cell_step_cases() -> list[tuple]:
    """Cases for ``lstm_cell_step``: with biases, zero state, no biases, batch of one."""
    g = torch.Generator().manual_seed(4)
    cases = []
    for batch, n_in, hidden, zero_state, bias in [(3, 2, 4, False, True), (2, 3, 2, True, True),
                                                    (4, 2, 3, False, False), (1, 1, 5, False, True)]:
        x = torch.randn(batch, n_in, generator=g)
        h, c = (torch.randn(batch, hidden, generator=g) for _ in range(2))
        if zero_state:
            h, c = torch.zeros_like(h), torch.zeros_like(c)
        w_ih = torch.randn(4 * hidden, n_in, generator=g)
        w_hh = torch.randn(4 * hidden, hidden, generator=g)
        b_ih, b_hh = ((torch.randn(4 * hidden, generator=g) for _ in range(2)) if bias
                      else (None, None))
        cases.append((x, h, c, w_ih, w_hh, b_ih, b_hh))
    return cases


def _register_chapter_4() -> None:
    from .lstm import lstm_cell_step

    register(
        "lstm_cell_step",
        description="lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh) -> "
                    "(h_new, c_new): one LSTM step, gates stacked in PyTorch's order i, f, g, o",
        reference=lstm_cell_step,
        cases=_lstm_cell_step_cases,
        hint="split weight_ih (4H, I) and weight_hh (4H, H) into four (H, .) blocks in the order "
             "i, f, g, o; sigmoid for i, f, o and tanh for g; c_new = f * c + i * g and "
             "h_new = o * tanh(c_new). The biases may be None.",
        atol=1e-5,
    )


_register_chapter_4()


# --- chapter 5 -----------------------------------------------------------------------------------


# --- chapter 6 -----------------------------------------------------------------------------------
