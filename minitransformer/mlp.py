"""A multilayer perceptron in NumPy, with backpropagation written by hand.

Read top to bottom: the building blocks (activations and their derivatives, the backward pass
of a linear layer, finite-difference gradients to check them), then :class:`MLP`
(backpropagation as in Rumelhart, Hinton & Williams 1986). ``MLP.to_torch`` and
``MLP.from_torch`` move weights to and from an equivalent ``nn.Sequential`` so that the
hand-written gradients can be checked against ``torch.autograd``.

Conventions follow PyTorch's ``nn.Linear``: a layer's weight has shape ``(out, in)`` and
computes ``z = x @ W.T + b`` on a batch ``x`` of shape ``(N, in)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from ._validation import check_array, check_choice, check_float, check_int, check_labels, describe

__all__ = [
    "MLP",
    "linear_backward",
    "numerical_gradient",
    "sigmoid",
    "sigmoid_backward",
]


# --- building blocks ------------------------------------------------------------------------------

def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), computed without overflow for large ``|z|``."""
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_backward(z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """Gradient through ``a = sigmoid(z)``: ``grad_out * s * (1 - s)`` with ``s = sigmoid(z)``."""
    s = sigmoid(z)
    return grad_out * s * (1.0 - s)


def _tanh_backward(z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    return grad_out * (1.0 - np.tanh(z) ** 2)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_backward(z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    return grad_out * (z > 0)


#: name -> (function, backward(z, grad_out), the matching torch module class)
_ACTIVATIONS: dict[str, tuple[Callable, Callable, type[nn.Module]]] = {
    "tanh": (np.tanh, _tanh_backward, nn.Tanh),
    "sigmoid": (sigmoid, sigmoid_backward, nn.Sigmoid),
    "relu": (_relu, _relu_backward, nn.ReLU),
}


def linear_backward(grad_out: np.ndarray, x: np.ndarray,
                    weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``z = x @ weight.T + b``.

    Shape:
        grad_out: ``(N, out)``, the gradient of the loss with respect to ``z``.
        x: ``(N, in)``, the layer's input; weight: ``(out, in)``.
        Returns ``(grad_x (N, in), grad_weight (out, in), grad_bias (out,))``.
    """
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(axis=0)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, *,
                       eps: float = 1e-6) -> np.ndarray:
    """Central finite differences ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`` for every entry.

    ``x`` is nudged in place, one entry at a time, and restored, so ``f`` may ignore its
    argument and read ``x`` through a model that holds it (``lambda _: mlp.loss(X, y)`` with
    ``x = mlp.parameters()["W1"]``). The error is O(eps²) plus rounding of order 1e-16 / eps.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {describe(f)}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"x must be a float64 NumPy array (it is nudged in place), got {describe(x)}")
    eps = check_float("eps", eps, minimum=0.0, inclusive=False)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writing flat writes x
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = float(f(x))
        flat[i] = saved - eps
        minus = float(f(x))
        flat[i] = saved
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


# --- the multilayer perceptron -------------------------------------------------------------------

class MLP:
    """A multilayer perceptron in NumPy with a hand-written backward pass.

    ``MLP([2, 4, 1])`` has 2 inputs, one hidden layer of 4 units and 1 output. Hidden layers
    use ``activation``; the output layer is a sigmoid trained with binary cross-entropy
    (``loss="bce"``, for labels 0/1) or the identity trained with mean squared error
    (``loss="mse"``). Weights are drawn like ``nn.Linear``'s default, uniform in
    ``±1/sqrt(fan_in)``, from ``np.random.default_rng(seed)``.

    Parameters are named ``W1, b1, W2, b2, ...`` (layer ``l`` has ``W{l}`` of shape
    ``(out, in)`` and ``b{l}`` of shape ``(out,)``).

    Shape:
        X: ``(N, sizes[0])``; the output of :meth:`forward`: ``(N, sizes[-1])``;
        targets ``y``: ``(N,)`` when ``sizes[-1] == 1``, otherwise ``(N, sizes[-1])``.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", *, loss: str = "bce",
                 seed: int = 0) -> None:
        if not isinstance(sizes, (list, tuple)):
            raise TypeError(f"sizes must be a list of layer widths such as [2, 4, 1], "
                            f"got {describe(sizes)}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least 2 widths (input and output), got {sizes!r}")
        self.sizes = [check_int(f"sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
        self.activation = check_choice("activation", activation, list(_ACTIVATIONS))
        self.loss_name = check_choice("loss", loss, ["bce", "mse"])
        seed = check_int("seed", seed, minimum=0)
        rng = np.random.default_rng(seed)
        self._params: dict[str, np.ndarray] = {}
        for layer, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / np.sqrt(n_in)
            self._params[f"W{layer}"] = rng.uniform(-bound, bound, size=(n_out, n_in))
            self._params[f"b{layer}"] = rng.uniform(-bound, bound, size=n_out)
        # every layer's input and pre-activation from the last forward (empty before it)
        self._cache: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])

    @property
    def n_layers(self) -> int:
        """The number of weight layers (hidden layers + 1)."""
        return len(self.sizes) - 1

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameters by name (``W1, b1, ...``); the arrays themselves, not copies."""
        return self._params

    # checks shared by the public methods
    def _inputs(self, X: object) -> np.ndarray:
        return check_array("X", X, ndim=2, columns=self.sizes[0])

    def _targets(self, y: object, n: int) -> np.ndarray:
        out = self.sizes[-1]
        if out == 1:
            y = check_labels("y", y, n) if self.loss_name == "bce" else check_array("y", y, ndim=1)
            if y.shape[0] != n:
                raise ValueError(f"y must hold one target per row of X ({n}), got shape {y.shape}")
            return y.reshape(n, 1).astype(np.float64)
        y = check_array("y", y, ndim=2, columns=out)
        if y.shape[0] != n:
            raise ValueError(f"y must have shape ({n}, {out}), got shape {y.shape}")
        if self.loss_name == "bce" and not np.isin(y, (0, 1)).all():
            raise ValueError("y must contain only 0 and 1 for loss='bce'")
        return y

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The network's outputs (probabilities for ``loss="bce"``); caches activations.

        The cache holds every layer's input ``a`` and pre-activation ``z``, which
        :meth:`backward` needs.

        Shape:
            X: ``(N, sizes[0])``, N examples; output: ``(N, sizes[-1])``.
        """
        a = self._inputs(X)
        act = _ACTIVATIONS[self.activation][0]
        inputs, pre = [], []
        for layer in range(1, self.n_layers + 1):
            inputs.append(a)
            z = a @ self._params[f"W{layer}"].T + self._params[f"b{layer}"]  # (N, out)
            pre.append(z)
            a = act(z) if layer < self.n_layers else z
        self._cache = (inputs, pre)
        return sigmoid(a) if self.loss_name == "bce" else a

    def _loss_from_logits(self, z: np.ndarray, y: np.ndarray) -> float:
        if self.loss_name == "bce":
            # mean of -y log σ(z) - (1-y) log(1-σ(z)) = softplus(z) - y z, stable for large |z|
            return float(np.mean(np.logaddexp(0.0, z) - y * z))
        return float(np.mean((z - y) ** 2))

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean loss over the batch (binary cross-entropy or squared error); runs ``forward``."""
        self.forward(X)
        inputs, pre = self._cache
        return self._loss_from_logits(pre[-1], self._targets(y, inputs[0].shape[0]))

    def backward(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the mean loss for the batch of the last :meth:`forward`, by
        parameter name.

        Backpropagation: start from dL/dz of the output layer, then for each layer
        from the top, ``linear_backward`` gives the weight and bias gradients and
        dL/da of the layer below, and the activation's derivative turns that into
        dL/dz.
        """
        if not self._cache[0]:
            raise RuntimeError("call forward(X) (or loss(X, y)) before backward(y)")
        inputs, pre = self._cache
        n = inputs[0].shape[0]
        y = self._targets(y, n)
        z_out = pre[-1]
        if self.loss_name == "bce":
            grad_z = (sigmoid(z_out) - y) / y.size   # d mean(softplus(z) - y z) / dz
        else:
            grad_z = 2.0 * (z_out - y) / y.size       # d mean((z - y)²) / dz
        act_backward = _ACTIVATIONS[self.activation][1]
        grads: dict[str, np.ndarray] = {}
        for layer in range(self.n_layers, 0, -1):
            grad_a, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(
                grad_z, inputs[layer - 1], self._params[f"W{layer}"])
            if layer > 1:
                grad_z = act_backward(pre[layer - 2], grad_a)
        return {name: grads[name] for name in self._params}

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """Gradient descent: ``p -= lr * grads[name]`` for every parameter, in place."""
        lr = check_float("lr", lr, minimum=0.0, inclusive=False)
        if set(grads) != set(self._params):
            raise ValueError(f"grads must have the keys {sorted(self._params)}, got {sorted(grads)}")
        for name, p in self._params.items():
            p -= lr * grads[name]

    def fit(self, X: np.ndarray, y: np.ndarray, *, epochs: int = 1000,
            lr: float = 0.5) -> list[float]:
        """Full-batch gradient descent for ``epochs`` steps; returns the loss before each step."""
        X = self._inputs(X)
        self._targets(y, X.shape[0])
        epochs = check_int("epochs", epochs, minimum=1)
        lr = check_float("lr", lr, minimum=0.0, inclusive=False)
        losses = []
        for _ in range(epochs):
            losses.append(self.loss(X, y))
            self.step(self.backward(y), lr)
        return losses

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels 0/1 for ``loss="bce"`` (shape ``(N,)`` for one output), else the outputs."""
        out = self.forward(X)
        if self.loss_name == "bce":
            out = (out > 0.5).astype(np.int64)
        return out[:, 0] if self.sizes[-1] == 1 else out

    def to_torch(self, dtype: torch.dtype = torch.float64) -> nn.Sequential:
        """An ``nn.Sequential`` computing the same function, with copies of the weights.

        Layers: ``Linear, activation, ..., Linear`` and a final ``Sigmoid`` for ``loss="bce"``,
        so ``model(torch.from_numpy(X))`` equals ``forward(X)``.
        """
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {describe(dtype)}")
        modules: list[nn.Module] = []
        for layer, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            linear = nn.Linear(n_in, n_out, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(self._params[f"W{layer}"]))
                linear.bias.copy_(torch.from_numpy(self._params[f"b{layer}"]))
            modules.append(linear)
            if layer < self.n_layers:
                modules.append(_ACTIVATIONS[self.activation][2]())
        if self.loss_name == "bce":
            modules.append(nn.Sigmoid())
        return nn.Sequential(*modules)

    @classmethod
    def from_torch(cls, module: nn.Sequential) -> MLP:
        """An MLP with copies of the weights of ``module``, an ``nn.Sequential`` of ``Linear``
        layers separated by one kind of activation (``Tanh``, ``Sigmoid`` or ``ReLU``), ending in
        a ``Linear`` (then ``loss="mse"``) or a ``Linear`` and a ``Sigmoid`` (``loss="bce"``)."""
        if not isinstance(module, nn.Sequential):
            raise TypeError(f"module must be an nn.Sequential, got {type(module).__name__}")
        layers = list(module)
        loss = "mse"
        if len(layers) > 1 and isinstance(layers[-1], nn.Sigmoid):
            layers, loss = layers[:-1], "bce"
        linears = [m for m in layers[0::2] if isinstance(m, nn.Linear)]
        acts = layers[1::2]
        by_class = {spec[2]: name for name, spec in _ACTIVATIONS.items()}
        shape_ok = (len(layers) % 2 == 1 and len(linears) == len(layers[0::2])
                    and all(type(m) in by_class for m in acts)
                    and len({type(m) for m in acts}) <= 1)
        if not shape_ok:
            got = ", ".join(type(m).__name__ for m in module)
            raise ValueError("module must alternate Linear and one activation (Tanh, Sigmoid or "
                             f"ReLU), ending in Linear (optionally + Sigmoid), got [{got}]")
        sizes = [linears[0].in_features] + [m.out_features for m in linears]
        for i, (a, b) in enumerate(pairwise(linears)):
            if a.out_features != b.in_features:
                raise ValueError(f"module: Linear {i} outputs {a.out_features} features but "
                                 f"Linear {i + 1} expects {b.in_features}")
        if any(m.bias is None for m in linears):
            raise ValueError("module: every Linear must have a bias (bias=True)")
        mlp = cls(sizes, by_class[type(acts[0])] if acts else "tanh", loss=loss)
        for layer, linear in enumerate(linears, start=1):
            mlp._params[f"W{layer}"] = linear.weight.detach().cpu().double().numpy().copy()
            mlp._params[f"b{layer}"] = linear.bias.detach().cpu().double().numpy().copy()
        return mlp

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, activation={self.activation!r}, loss={self.loss_name!r})"
