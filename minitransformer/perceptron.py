"""Rosenblatt's perceptron (1958) in NumPy: a threshold unit and its learning rule.

Read top to bottom: :func:`perceptron_update` is one step of the rule on one sample, and
:class:`Perceptron` runs it over a data set, epoch after epoch, counting mistakes. A line
separates AND and OR, so the rule stops making mistakes on them; no line separates XOR, so
it never does (chapter 1). The multilayer perceptron that does solve XOR is in
:mod:`~minitransformer.mlp`.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_float, check_int, check_labels

__all__ = ["Perceptron", "perceptron_update"]


def perceptron_update(w: np.ndarray, b: float, x: np.ndarray, y: int,
                      lr: float = 1.0) -> tuple[np.ndarray, float]:
    """One step of Rosenblatt's rule on one sample; returns the new ``(w, b)``.

    The prediction is ``1 if w·x + b > 0 else 0``; the weights move by
    ``lr * (y - ŷ) * x`` (and the bias by ``lr * (y - ŷ)``), so a correctly classified
    sample changes nothing.
    """
    y_hat = 1 if float(np.dot(w, x) + b) > 0 else 0
    error = y - y_hat
    return w + lr * error * x, float(b + lr * error)


class Perceptron:
    """Rosenblatt's perceptron: a threshold unit ``ŷ = 1 if w·x + b > 0 else 0``.

    Trained with :func:`perceptron_update`, one sample at a time, in the order given. If the two
    classes can be separated by a line (a hyperplane), the rule stops making mistakes after
    finitely many updates; if they cannot (XOR), every epoch contains a mistake.

    Args:
        n_features: the number of inputs.
        lr: the learning rate (with zero initial weights, any positive value gives the same
            predictions, as it only rescales ``w`` and ``b``).
    """

    def __init__(self, n_features: int, *, lr: float = 1.0) -> None:
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.lr = check_float("lr", lr, minimum=0.0, inclusive=False)
        self.weights = np.zeros(self.n_features)
        self.bias = 0.0

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """``X @ w + b`` for every row of ``X`` of shape ``(N, n_features)``; returns ``(N,)``."""
        X = check_array("X", X, ndim=2, columns=self.n_features)
        return X @ self.weights + self.bias

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels 0/1 of shape ``(N,)`` for ``X`` of shape ``(N, n_features)``."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int = 10) -> list[int]:
        """Run Rosenblatt's rule for ``epochs`` passes over ``(X, y)``.

        Returns the number of mistakes made in each epoch (a sample counts as a mistake if it
        was misclassified when visited, which is exactly when it caused an update).
        """
        X = check_array("X", X, ndim=2, columns=self.n_features)
        y = check_labels("y", y, X.shape[0])
        epochs = check_int("epochs", epochs, minimum=1)
        errors = []
        for _ in range(epochs):
            mistakes = 0
            for x_i, y_i in zip(X, y):
                mistakes += int((float(x_i @ self.weights + self.bias) > 0) != y_i)
                self.weights, self.bias = perceptron_update(
                    self.weights, self.bias, x_i, int(y_i), self.lr)
            errors.append(mistakes)
        return errors

    def __repr__(self) -> str:
        return f"Perceptron(n_features={self.n_features}, lr={self.lr})"
