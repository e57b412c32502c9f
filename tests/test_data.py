"""Data sets made by code: shapes, labels, determinism and argument checks."""

import numpy as np
import pytest

import minitransformer as mt

# --- chapter 1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "labels"), [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]),
                                              ("XOR", [0, 1, 1, 0]), ("NAND", [1, 1, 1, 0])])
def test_logic_gate_gives_the_truth_table(name, labels):
    X, y = mt.data.logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


def test_logic_gate_rejects_unknown_gate_naming_the_argument():
    with pytest.raises(ValueError, match="name must be one of"):
        mt.data.logic_gate("NOR")


def test_make_moons_shapes_and_balanced_binary_labels():
    X, y = mt.data.make_moons(101, noise=0.1, seed=0)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert set(np.unique(y)) == {0, 1}
    assert (y == 0).sum() == 51 and (y == 1).sum() == 50


def test_make_moons_is_deterministic_for_a_seed_and_varies_across_seeds():
    X1, y1 = mt.data.make_moons(50, noise=0.2, seed=3)
    X2, y2 = mt.data.make_moons(50, noise=0.2, seed=3)
    X3, _ = mt.data.make_moons(50, noise=0.2, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    X, y = mt.data.make_moons(40, noise=0.0, seed=1)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5).all()


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"n_samples": 1}, ValueError, "n_samples"),
    ({"n_samples": 10.0}, TypeError, "n_samples"),
    ({"noise": -0.1}, ValueError, "noise"),
    ({"noise": "big"}, TypeError, "noise"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_make_moons_rejects_bad_arguments_naming_them(kwargs, error, name):
    with pytest.raises(error, match=name):
        mt.data.make_moons(**kwargs)
