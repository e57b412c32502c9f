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
import textwrap
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


# ---------------------------------------------------------------------------------------------
# Registered exercises, chapter by chapter. Each chapter's section registers the exercises its
# notebook asks for; the references are the package's own functions where one exists.
# ---------------------------------------------------------------------------------------------

# --- chapter 1 ----------------------------------------------------------------------------------

from . import perceptron as _perceptron  # noqa: E402  (registered references live in the package)


def _perceptron_update_cases() -> list[tuple]:
    rng = np.random.default_rng(1)
    return [
        (np.array([0.0, 0.0]), 0.0, np.array([1.0, 1.0]), 1, 1.0),    # wrong (0 predicted): move up
        (np.array([1.0, 1.0]), 0.0, np.array([1.0, 0.0]), 0, 1.0),    # wrong (1 predicted): move down
        (np.array([1.0, -1.0]), 0.5, np.array([1.0, 0.0]), 1, 1.0),   # right: nothing changes
        (np.array([0.5, 0.5]), -1.0, np.array([1.0, 1.0]), 0, 0.1),   # exactly on the threshold -> 0
        (rng.normal(size=3), 0.2, rng.normal(size=3), 1, 0.5),
        (rng.normal(size=3), -0.3, rng.normal(size=3), 0, 0.25),
    ]


register(
    "perceptron_update",
    description="perceptron_update(w, b, x, y, lr) -> (new_w, new_b): one step of Rosenblatt's "
                "rule with prediction 1 if w·x + b > 0 else 0.",
    reference=_perceptron.perceptron_update,
    cases=_perceptron_update_cases,
    hint="predict first with the chapter's threshold rule; only a wrong prediction moves "
         "the weights, towards x when the answer should have been 1 and away from it otherwise, "
         "scaled by the learning rate. The bias moves like a weight whose input is always 1.",
)


def _sigmoid_backward_cases() -> list[tuple]:
    rng = np.random.default_rng(2)
    return [
        (np.array([0.0]), np.array([1.0])),
        (np.array([-2.0, 0.5, 3.0]), np.array([1.0, 1.0, 1.0])),
        (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
        (np.array([-40.0, 40.0]), np.array([2.0, -3.0])),   # saturated: gradient nearly 0
    ]


register(
    "sigmoid_backward",
    description="sigmoid_backward(z, grad_out) -> grad_z: the gradient through a = sigmoid(z), "
                "elementwise.",
    reference=_perceptron.sigmoid_backward,
    cases=_sigmoid_backward_cases,
    hint="write the sigmoid's derivative in terms of the sigmoid itself (the chapter derives "
         "it), then apply the chain rule elementwise.",
    atol=1e-9,
)


def _linear_backward_cases() -> list[tuple]:
    rng = np.random.default_rng(3)
    return [
        (np.ones((1, 1)), np.array([[2.0]]), np.array([[3.0]])),
        (rng.normal(size=(5, 2)), rng.normal(size=(5, 3)), rng.normal(size=(2, 3))),
        (rng.normal(size=(1, 4)), rng.normal(size=(1, 2)), rng.normal(size=(4, 2))),
    ]


register(
    "linear_backward",
    description="linear_backward(grad_out, x, weight) -> (grad_x, grad_weight, grad_bias) for "
                "z = x @ weight.T + b, with grad_out (N, out), x (N, in), weight (out, in).",
    reference=_perceptron.linear_backward,
    cases=_linear_backward_cases,
    hint="each gradient has the shape of the thing it is the gradient of. Write one element of "
         "z as a sum, differentiate it by one element of x, of weight and of b, and recognise a "
         "matrix product or a sum over the batch.",
    atol=1e-9,
)



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
    hint="weights are stored (out_features, in_features) as in nn.RNN, so each is applied "
         "transposed; add the input and hidden contributions and the bias before the squashing "
         "nonlinearity.",
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
    hint="eigenvalues of a real matrix can be complex, so compare their absolute values; the "
         "largest singular value (the matrix norm) is only an upper bound on what you want.",
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
        hint="the four gates are stacked in one (4H, ...) weight in PyTorch's order i, f, g, "
             "o; the chapter's equations say which gate takes which nonlinearity and how the new "
             "cell state mixes the old one with the candidate. The biases may be None.",
        atol=1e-5,
    )


_register_chapter_4()


# --- chapter 5 -----------------------------------------------------------------------------------

def _causal_mask_cases() -> list[tuple]:
    return [(1,), (2,), (5,)]


def _attention_weights_reference(q: torch.Tensor, k: torch.Tensor,
                                 mask: torch.Tensor) -> torch.Tensor | None:
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
    hint="query i may look at itself and at every earlier key, never a later one: which "
         "triangle of the matrix is that, and does it include the diagonal?",
)

register(
    "attention_weights",
    description="attention_weights(q, k, mask) -> softmax(q k^T / sqrt(d_k)) over allowed "
                "keys; rows with no allowed key are all zeros.",
    reference=_attention_weights_reference,
    cases=_attention_weights_cases,
    hint="follow Eq. (1) of the chapter as far as the weights; blocked keys must get exactly "
         "zero weight, and a row with no allowed key must come out as zeros, not NaN.",
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
        hint="section 3.5 gives one frequency per pair of dimensions: even columns take the sine "
             "and odd columns the cosine of the same angle. Mind an odd d_model.",
        atol=1e-5,
    )
    register(
        "noam_lr",
        description="noam_lr(step, d_model, warmup) -> the learning rate of Eq. (3), 0.0 at step 0",
        reference=noam_lr,
        cases=_noam_lr_cases,
        hint="Eq. (3) is the smaller of two power laws of the step, one rising during warm-up and "
             "one decaying after it, scaled by a power of d_model; step 0 must not divide by zero.",
        atol=1e-12,
    )


_register_chapter_6()


# --- chapter 7 -----------------------------------------------------------------------------------


def _bpe_merge_cases() -> list[tuple]:
    return [([1, 2, 3, 1, 2], (1, 2), 9), ([5, 5, 5], (5, 5), 7), ([5, 5, 5, 5], (5, 5), 7),
            ([], (1, 2), 3), ([1], (1, 2), 3), ([2, 1, 2, 1], (1, 2), 300),
            ([4, 4, 1, 2, 4], (4, 4), 256)]


def _top_k_filter_cases() -> list[tuple]:
    g = torch.Generator().manual_seed(7)
    return [(torch.tensor([1.0, 3.0, 2.0, 0.5]), 2), (torch.tensor([1.0, 3.0, 2.0, 0.5]), 1),
            (torch.tensor([2.0, 2.0, 1.0, 2.0]), 1),          # ties with the k-th are kept
            (torch.randn(3, 10, generator=g), 4), (torch.randn(2, 3, 6, generator=g), 6),
            (torch.randn(5, generator=g), 9)]                 # k above V keeps everything


def _bits_and_perplexity_reference(loss: float, n_tokens: int,
                                   n_chars: int) -> tuple[float, float]:
    import math

    return loss * n_tokens / n_chars / math.log(2), math.exp(loss)


def _bits_and_perplexity_cases() -> list[tuple]:
    return [(1.0, 100, 100), (0.6931471805599453, 10, 10), (2.3, 1000, 2600),
            (4.4, 128, 128), (0.0, 5, 9)]


def _register_chapter_7() -> None:
    from .decoding import filter_logits
    from .tokenizers import merge

    register(
        "bpe_merge",
        description="merge(ids, pair, new_id) -> ids with every adjacent occurrence of pair "
                    "replaced by new_id, left to right, without overlaps",
        reference=merge,
        cases=_bpe_merge_cases,
        hint="walk along the list with an index: when the item there and the next one form the "
             "pair, emit new_id and jump two places, otherwise emit the item and move one. "
             "A merged pair's second item cannot start another pair.",
    )
    register(
        "top_k_filter",
        description="top_k_filter(logits, k) -> the probabilities top-k sampling draws from: "
                    "a softmax over the entries of the last dimension not below its k-th "
                    "largest (ties with the k-th kept), zero for every other",
        reference=lambda logits, k: filter_logits(logits, top_k=k).softmax(dim=-1),
        cases=_top_k_filter_cases,
        hint="find the k-th largest value of each row (a top-k along the last dimension) "
             "and give whatever lies strictly below it a logit no softmax can pick, before the "
             "softmax; k may exceed the vocabulary.",
    )
    register(
        "bits_and_perplexity",
        description="bits_and_perplexity(loss, n_tokens, n_chars) -> (bits per character, "
                    "perplexity per token) from a mean loss in nats per token",
        reference=_bits_and_perplexity_reference,
        cases=_bits_and_perplexity_cases,
        hint="the text's total information is the mean loss times the number of tokens, in "
             "nats; share it among the characters and change the unit of the logarithm. "
             "Perplexity undoes the logarithm of the mean loss per token.",
        atol=1e-9,
    )


_register_chapter_7()
