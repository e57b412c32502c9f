"""Rosenblatt's perceptron: the rule converges on separable gates, never on XOR, and bad
input is rejected naming the argument."""

import numpy as np
import pytest
import torch

import minitransformer as mt

# --- the perceptron -------------------------------------------------------------------------------


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_perceptron_converges_on_linearly_separable_gates(gate):
    X, y = mt.data.logic_gate(gate)
    p = mt.Perceptron(2)
    errors = p.fit(X, y, epochs=20)
    assert len(errors) == 20
    first_clean = errors.index(0)
    assert all(e == 0 for e in errors[first_clean:])
    np.testing.assert_array_equal(p.predict(X), y)


def test_perceptron_never_separates_xor_every_epoch_has_a_mistake():
    X, y = mt.data.logic_gate("XOR")
    p = mt.Perceptron(2)
    errors = p.fit(X, y, epochs=100)
    assert min(errors) >= 1
    assert (p.predict(X) != y).sum() >= 1


def test_perceptron_counts_mistakes_as_updates_and_decision_function_is_affine():
    X, y = mt.data.logic_gate("AND")
    p = mt.Perceptron(2, lr=0.5)
    assert p.fit(X, y, epochs=1) == [1]  # zero weights predict 0; only (1, 1) is wrong
    np.testing.assert_allclose(p.weights, [0.5, 0.5])
    assert p.bias == 0.5
    np.testing.assert_allclose(p.decision_function(X), X @ p.weights + p.bias)


def test_perceptron_update_changes_nothing_when_the_prediction_is_right():
    w, b = mt.perceptron_update(np.array([1.0, 1.0]), -0.5, np.array([1.0, 0.0]), 1, 1.0)
    np.testing.assert_array_equal(w, [1.0, 1.0])
    assert b == -0.5


@pytest.mark.parametrize(("X", "y", "error", "match"), [
    (np.zeros((4, 3)), np.zeros(4), ValueError, "X must have 2 columns"),
    (np.zeros(4), np.zeros(4), ValueError, "X must be a 2-D array"),
    (np.zeros((4, 2)), np.zeros(3), ValueError, "y must hold one label per row"),
    (np.zeros((4, 2)), np.array([0, 1, 2, 0]), ValueError, "y must contain only 0 and 1"),
    (np.zeros((4, 2)), np.array([0, 1, -1, 0]), ValueError, "y must contain only 0 and 1"),
    (torch.zeros(4, 2), np.zeros(4), TypeError, "X must be a NumPy array"),
    (np.array([[0, np.nan], [1, 1]]), np.zeros(2), ValueError, "X must be finite"),
    (np.array([["a", "b"]]), np.zeros(1), TypeError, "X must hold numbers"),
])
def test_perceptron_fit_rejects_bad_input_naming_the_argument(X, y, error, match):
    with pytest.raises(error, match=match):
        mt.Perceptron(2).fit(X, y)


def test_perceptron_rejects_bad_constructor_and_epochs():
    with pytest.raises(ValueError, match="n_features"):
        mt.Perceptron(0)
    with pytest.raises(ValueError, match="lr"):
        mt.Perceptron(2, lr=0.0)
    X, y = mt.data.logic_gate("OR")
    with pytest.raises(ValueError, match="epochs"):
        mt.Perceptron(2).fit(X, y, epochs=0)
