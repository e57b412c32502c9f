"""NumPy MLP: hand-written backprop against finite differences and torch.autograd,
from_torch/to_torch round trips, argument checks."""

import numpy as np
import pytest
import torch
from torch import nn

import minitransformer as mt
from minitransformer.mlp import linear_backward, sigmoid, sigmoid_backward

# --- building blocks ------------------------------------------------------------------------------


def test_sigmoid_is_stable_for_large_inputs_and_matches_torch():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):
        s = sigmoid(z)
    np.testing.assert_allclose(s, torch.sigmoid(torch.from_numpy(z)).numpy(), atol=1e-15)


def test_sigmoid_and_linear_backward_match_autograd():
    rng = np.random.default_rng(0)
    z = torch.from_numpy(rng.normal(size=(3, 4))).requires_grad_()
    g = rng.normal(size=(3, 4))
    torch.sigmoid(z).backward(torch.from_numpy(g))
    np.testing.assert_allclose(sigmoid_backward(z.detach().numpy(), g), z.grad.numpy(), atol=1e-12)

    x = torch.from_numpy(rng.normal(size=(5, 3))).requires_grad_()
    lin = nn.Linear(3, 2, dtype=torch.float64)
    go = rng.normal(size=(5, 2))
    lin(x).backward(torch.from_numpy(go))
    gx, gw, gb = linear_backward(go, x.detach().numpy(), lin.weight.detach().numpy())
    np.testing.assert_allclose(gx, x.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gw, lin.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gb, lin.bias.grad.numpy(), atol=1e-12)


def test_numerical_gradient_of_a_quadratic_is_exact_to_rounding():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = mt.numerical_gradient(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_allclose(grad, 2 * x, atol=1e-8)
    np.testing.assert_array_equal(x, before)  # restored after nudging


def test_numerical_gradient_rejects_arrays_it_cannot_nudge():
    with pytest.raises(TypeError, match="x must be a float64"):
        mt.numerical_gradient(lambda v: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="f must be callable"):
        mt.numerical_gradient(3, np.zeros(3))
    with pytest.raises(ValueError, match="eps"):
        mt.numerical_gradient(lambda v: 0.0, np.zeros(3), eps=0.0)


# --- the MLP --------------------------------------------------------------------------------------


def _xor_like(n=12, d=3, out=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, size=(n,) if out == 1 else (n, out))
    return X, y


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_mlp_backprop_matches_finite_differences(activation, loss):
    X, y = _xor_like()
    mlp = mt.MLP([3, 5, 4, 1], activation, loss=loss, seed=1)
    mlp.loss(X, y)
    grads = mlp.backward(y)
    for name, p in mlp.parameters().items():
        numeric = mt.numerical_gradient(lambda _: mlp.loss(X, y), p)
        assert grads[name].shape == p.shape
        np.testing.assert_allclose(grads[name], numeric, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize(("loss", "out"), [("bce", 1), ("mse", 1), ("bce", 2)])
def test_mlp_backprop_matches_torch_autograd_in_float64(activation, loss, out):
    X, y = _xor_like(out=out)
    mlp = mt.MLP([3, 6, out], activation, loss=loss, seed=2)
    ours = mlp.loss(X, y)
    grads = mlp.backward(y)

    model = mlp.to_torch(torch.float64)
    target = torch.from_numpy(y.reshape(len(X), out).astype(np.float64))
    pred = model(torch.from_numpy(X))
    ref = nn.functional.binary_cross_entropy(pred, target) if loss == "bce" \
        else nn.functional.mse_loss(pred, target)
    ref.backward()
    assert abs(ours - ref.item()) < 1e-12
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for layer, lin in enumerate(linears, start=1):
        assert np.max(np.abs(grads[f"W{layer}"] - lin.weight.grad.numpy())) < 1e-6
        assert np.max(np.abs(grads[f"b{layer}"] - lin.bias.grad.numpy())) < 1e-6


def test_mlp_forward_matches_its_torch_copy():
    X, _ = _xor_like()
    mlp = mt.MLP([3, 4, 1], "relu", seed=0)
    out = mlp.to_torch()(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(mlp.forward(X), out, atol=1e-12)


@pytest.mark.parametrize("act", [nn.Tanh, nn.Sigmoid, nn.ReLU])
@pytest.mark.parametrize("final_sigmoid", [True, False])
def test_mlp_from_torch_matches_nn_sequential_in_float32(act, final_sigmoid):
    torch.manual_seed(0)
    layers = [nn.Linear(3, 8), act(), nn.Linear(8, 5), act(), nn.Linear(5, 2)]
    model = nn.Sequential(*layers, *([nn.Sigmoid()] if final_sigmoid else []))
    mlp = mt.MLP.from_torch(model)
    assert mlp.sizes == [3, 8, 5, 2]
    assert mlp.loss_name == ("bce" if final_sigmoid else "mse")
    X = torch.randn(16, 3)
    diff = np.max(np.abs(mlp.forward(X.double().numpy()) - model(X).detach().numpy()))
    assert diff < 1e-5


def test_mlp_from_torch_rejects_unsupported_modules():
    with pytest.raises(TypeError, match=r"module must be an nn\.Sequential"):
        mt.MLP.from_torch(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="module must alternate Linear"):
        mt.MLP.from_torch(nn.Sequential(nn.Linear(2, 2), nn.GELU(), nn.Linear(2, 1)))
    with pytest.raises(ValueError, match="module must alternate Linear"):
        mt.MLP.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2), nn.ReLU(),
                                        nn.Linear(2, 1)))
    with pytest.raises(ValueError, match="outputs 3 features"):
        mt.MLP.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(4, 1)))


def test_mlp_learns_xor_with_gradient_descent():
    X, y = mt.data.logic_gate("XOR")
    mlp = mt.MLP([2, 4, 1], "tanh", seed=0)
    losses = mlp.fit(X, y, epochs=1000, lr=1.0)
    assert losses[-1] < 0.05 < losses[0]
    np.testing.assert_array_equal(mlp.predict(X), y)


def test_mlp_same_seed_same_weights():
    a, b = mt.MLP([2, 3, 1], seed=5), mt.MLP([2, 3, 1], seed=5)
    for name in a.parameters():
        np.testing.assert_array_equal(a.parameters()[name], b.parameters()[name])
    assert list(a.parameters()) == ["W1", "b1", "W2", "b2"]
    assert a.parameters()["W1"].shape == (3, 2)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    (([2],), {}, ValueError, "sizes must list at least 2"),
    ((3,), {}, TypeError, "sizes must be a list"),
    (([2, 0, 1],), {}, ValueError, r"sizes\[1\]"),
    (([2, 2.5, 1],), {}, TypeError, r"sizes\[1\]"),
    (([2, 3, 1], "gelu"), {}, ValueError, "activation must be one of"),
    (([2, 3, 1],), {"loss": "hinge"}, ValueError, "loss must be one of"),
])
def test_mlp_rejects_bad_construction_naming_the_argument(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        mt.MLP(*args, **kwargs)


def test_mlp_rejects_bad_inputs_and_targets():
    mlp = mt.MLP([2, 3, 1])
    X, y = mt.data.logic_gate("XOR")
    with pytest.raises(ValueError, match="X must have 2 columns"):
        mlp.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        mlp.loss(X, np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="y must hold one label per row"):
        mlp.loss(X, np.array([0, 1]))
    with pytest.raises(RuntimeError, match="call forward"):
        mt.MLP([2, 3, 1]).backward(y)
    with pytest.raises(ValueError, match="grads must have the keys"):
        mlp.step({"W1": np.zeros((3, 2))}, lr=0.1)
    with pytest.raises(ValueError, match=r"y must have shape \(4, 2\)"):
        mt.MLP([2, 3, 2]).loss(X, np.zeros((3, 2)))
