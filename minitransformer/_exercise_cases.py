"""Every chapter's auto-checked exercises, registered with
:func:`minitransformer.exercises.register` (the checker and its rules live there).

One section per chapter, in the book's order. Each exercise is one ``@register`` decorator on
the function that builds its test cases; its ``reference`` is the package's own function,
imported below, never a copy of it. The package imports this module once, so
``mt.exercises.check`` knows every exercise.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .attention import causal_mask, scaled_dot_product_attention
from .decoding import filter_logits
from .exercises import register
from .layers import sinusoidal_positions
from .lstm import lstm_cell_step
from .mlp import linear_backward, sigmoid_backward
from .perceptron import perceptron_update
from .rnn import RNNCell
from .tokenizers import merge
from .training import noam_lr

# --- chapter 1 ----------------------------------------------------------------------------------

@register(
    "perceptron_update",
    description="perceptron_update(w, b, x, y, lr) -> (new_w, new_b): one step of Rosenblatt's "
                "rule with prediction 1 if w·x + b > 0 else 0.",
    reference=perceptron_update,
    hint="predict first with the chapter's threshold rule; only a wrong prediction moves "
         "the weights, towards x when the answer should have been 1 and away from it otherwise, "
         "scaled by the learning rate. The bias moves like a weight whose input is always 1.",
)
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


@register(
    "sigmoid_backward",
    description="sigmoid_backward(z, grad_out) -> grad_z: the gradient through a = sigmoid(z), "
                "elementwise.",
    reference=sigmoid_backward,
    hint="write the sigmoid's derivative in terms of the sigmoid itself (the chapter derives "
         "it), then apply the chain rule elementwise.",
    atol=1e-9,
)
def _sigmoid_backward_cases() -> list[tuple]:
    rng = np.random.default_rng(2)
    return [
        (np.array([0.0]), np.array([1.0])),
        (np.array([-2.0, 0.5, 3.0]), np.array([1.0, 1.0, 1.0])),
        (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
        (np.array([-40.0, 40.0]), np.array([2.0, -3.0])),   # saturated: gradient nearly 0
    ]


@register(
    "linear_backward",
    description="linear_backward(grad_out, x, weight) -> (grad_x, grad_weight, grad_bias) for "
                "z = x @ weight.T + b, with grad_out (N, out), x (N, in), weight (out, in).",
    reference=linear_backward,
    hint="each gradient has the shape of the thing it is the gradient of. Write one element of "
         "z as a sum, differentiate it by one element of x, of weight and of b, and recognise a "
         "matrix product or a sum over the batch.",
    atol=1e-9,
)
def _linear_backward_cases() -> list[tuple]:
    rng = np.random.default_rng(3)
    return [
        (np.ones((1, 1)), np.array([[2.0]]), np.array([[3.0]])),
        (rng.normal(size=(5, 2)), rng.normal(size=(5, 3)), rng.normal(size=(2, 3))),
        (rng.normal(size=(1, 4)), rng.normal(size=(1, 2)), rng.normal(size=(4, 2))),
    ]


# --- chapters 2-3 --------------------------------------------------------------------------------

def _rnn_step(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor,
              weight_hh: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The package's :class:`~minitransformer.rnn.RNNCell` run with the given weights (the
    exercise has one bias: it goes in ``bias_ih``, and ``bias_hh`` is zero)."""
    with torch.device("meta"):  # no weights to initialise: they all come from the arguments
        cell = RNNCell(weight_ih.shape[1], weight_ih.shape[0])
    weights = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias,
               "bias_hh": torch.zeros_like(bias)}
    return torch.func.functional_call(cell, weights, (x, h))


@register(
    "rnn_step",
    description="rnn_step(x, h, weight_ih, weight_hh, bias) -> the next hidden state (B, H) "
                "of an Elman RNN with tanh (chapter 2).",
    reference=_rnn_step,
    hint="weights are stored (out_features, in_features) as in nn.RNN, so each is applied "
         "transposed; add the input and hidden contributions and the bias before the squashing "
         "nonlinearity.",
    atol=1e-5,
)
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


@register(
    "spectral_radius",
    description="spectral_radius(matrix) -> float: the largest |eigenvalue| of a square matrix, "
                "the per-step growth factor of a linear RNN's gradients (chapter 3).",
    reference=lambda matrix: float(torch.linalg.eigvals(matrix).abs().max()),
    hint="eigenvalues of a real matrix can be complex, so compare their absolute values; the "
         "largest singular value (the matrix norm) is only an upper bound on what you want.",
    atol=1e-4,
)
def _spectral_radius_cases() -> list[tuple]:
    gen = torch.Generator().manual_seed(3)
    rotation = torch.tensor([[0.0, -2.0], [2.0, 0.0]])   # eigenvalues +-2i: complex, radius 2
    triangular = torch.tensor([[0.5, 10.0], [0.0, -0.9]])  # large norm, radius 0.9
    return [(torch.eye(3) * 0.7,), (rotation,), (triangular,),
            (torch.randn(6, 6, generator=gen) / 6 ** 0.5,)]


# --- chapter 4 -----------------------------------------------------------------------------------

@register(
    "lstm_cell_step",
    description="lstm_cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh) -> "
                "(h_new, c_new): one LSTM step, gates stacked in PyTorch's order i, f, g, o",
    reference=lstm_cell_step,
    hint="the four gates are stacked in one (4H, ...) weight in PyTorch's order i, f, g, "
         "o; the chapter's equations say which gate takes which nonlinearity and how the new "
         "cell state mixes the old one with the candidate. The biases may be None.",
    atol=1e-5,
)
def _lstm_cell_step_cases() -> list[tuple]:
    """With biases, zero state, no biases, batch of one."""
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


# --- chapter 5 -----------------------------------------------------------------------------------

@register(
    "causal_mask",
    description="causal_mask(size) -> (size, size) bool tensor, True where query i may "
                "attend to key j (j <= i).",
    reference=causal_mask,
    hint="query i may look at itself and at every earlier key, never a later one: which "
         "triangle of the matrix is that, and does it include the diagonal?",
)
def _causal_mask_cases() -> list[tuple]:
    return [(1,), (2,), (5,)]


@register(
    "attention_weights",
    description="attention_weights(q, k, mask) -> softmax(q k^T / sqrt(d_k)) over allowed "
                "keys; rows with no allowed key are all zeros.",
    reference=lambda q, k, mask: scaled_dot_product_attention(q, k, k, mask)[1],
    hint="follow Eq. (1) of the chapter as far as the weights; blocked keys must get exactly "
         "zero weight, and a row with no allowed key must come out as zeros, not NaN.",
)
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


# --- chapter 6 -----------------------------------------------------------------------------------

@register(
    "positional_encoding",
    description="positional_encoding(max_len, d_model) -> (max_len, d_model) tensor of "
                "the sinusoids of section 3.5 (sin on even, cos on odd dimensions)",
    reference=sinusoidal_positions,
    hint="section 3.5 gives one frequency per pair of dimensions: even columns take the sine "
         "and odd columns the cosine of the same angle. Mind an odd d_model.",
    atol=1e-5,
)
def _positional_encoding_cases() -> list[tuple]:
    return [(1, 2), (4, 6), (10, 16), (50, 5), (128, 64)]


@register(
    "noam_lr",
    description="noam_lr(step, d_model, warmup) -> the learning rate of Eq. (3), 0.0 at step 0",
    reference=noam_lr,
    hint="Eq. (3) is the smaller of two power laws of the step, one rising during warm-up and "
         "one decaying after it, scaled by a power of d_model; step 0 must not divide by zero.",
    atol=1e-12,
)
def _noam_lr_cases() -> list[tuple]:
    return [(1, 512, 4000), (100, 512, 4000), (4000, 512, 4000), (4001, 512, 4000),
            (100_000, 512, 4000), (7, 64, 10), (0, 512, 4000)]


# --- chapter 7 -----------------------------------------------------------------------------------

@register(
    "bpe_merge",
    description="merge(ids, pair, new_id) -> ids with every adjacent occurrence of pair "
                "replaced by new_id, left to right, without overlaps",
    reference=merge,
    hint="walk along the list with an index: when the item there and the next one form the "
         "pair, emit new_id and jump two places, otherwise emit the item and move one. "
         "A merged pair's second item cannot start another pair.",
)
def _bpe_merge_cases() -> list[tuple]:
    return [([1, 2, 3, 1, 2], (1, 2), 9), ([5, 5, 5], (5, 5), 7), ([5, 5, 5, 5], (5, 5), 7),
            ([], (1, 2), 3), ([1], (1, 2), 3), ([2, 1, 2, 1], (1, 2), 300),
            ([4, 4, 1, 2, 4], (4, 4), 256)]


def _top_k_probabilities(logits: torch.Tensor, k: int) -> torch.Tensor:
    """The probabilities top-k sampling draws from: the package's filter, then a softmax."""
    return filter_logits(logits, top_k=k).softmax(dim=-1)


@register(
    "top_k_filter",
    description="top_k_filter(logits, k) -> the probabilities top-k sampling draws from: "
                "a softmax over the entries of the last dimension not below its k-th "
                "largest (ties with the k-th kept), zero for every other",
    reference=_top_k_probabilities,
    hint="find the k-th largest value of each row (a top-k along the last dimension) "
         "and give whatever lies strictly below it a logit no softmax can pick, before the "
         "softmax; k may exceed the vocabulary.",
)
def _top_k_filter_cases() -> list[tuple]:
    g = torch.Generator().manual_seed(7)
    return [(torch.tensor([1.0, 3.0, 2.0, 0.5]), 2), (torch.tensor([1.0, 3.0, 2.0, 0.5]), 1),
            (torch.tensor([2.0, 2.0, 1.0, 2.0]), 1),          # ties with the k-th are kept
            (torch.randn(3, 10, generator=g), 4), (torch.randn(2, 3, 6, generator=g), 6),
            (torch.randn(5, generator=g), 9)]                 # k above V keeps everything


def _bits_and_perplexity(loss: float, n_tokens: int, n_chars: int) -> tuple[float, float]:
    """Bits per character and perplexity per token from a mean loss in nats per token."""
    return loss * n_tokens / n_chars / math.log(2), math.exp(loss)


@register(
    "bits_and_perplexity",
    description="bits_and_perplexity(loss, n_tokens, n_chars) -> (bits per character, "
                "perplexity per token) from a mean loss in nats per token",
    reference=_bits_and_perplexity,
    hint="the text's total information is the mean loss times the number of tokens, in "
         "nats; share it among the characters and change the unit of the logarithm. "
         "Perplexity undoes the logarithm of the mean loss per token.",
    atol=1e-9,
)
def _bits_and_perplexity_cases() -> list[tuple]:
    return [(1.0, 100, 100), (0.6931471805599453, 10, 10), (2.3, 1000, 2600),
            (4.4, 128, 128), (0.0, 5, 9)]
