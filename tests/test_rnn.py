"""Tests for minitransformer/rnn.py: equivalence with torch.nn, gradcheck, bad input."""

import pytest
import torch
from torch import nn

import minitransformer as mt


def _torch_rnn(num_layers, nonlinearity="tanh", bias=True, seed=0):
    torch.manual_seed(seed)
    return nn.RNN(3, 5, num_layers=num_layers, nonlinearity=nonlinearity, bias=bias,
                  batch_first=True)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch_outputs_and_input_gradients(num_layers, with_state, nonlinearity):
    ref = _torch_rnn(num_layers, nonlinearity)
    ours = mt.RNN.from_torch(ref)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 7, 3, generator=gen)
    h0 = torch.randn(num_layers, 4, 5, generator=gen) if with_state else None
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, hn_ref = ref(x_ref, h0)
    out_ours, hn_ours = ours(x_ours, h0)
    assert out_ours.shape == (4, 7, 5) and hn_ours.shape == (num_layers, 4, 5)
    assert (out_ours - out_ref).abs().max() < 1e-5
    assert (hn_ours - hn_ref).abs().max() < 1e-5
    weights = torch.randn(4, 7, 5, generator=gen)
    (out_ref * weights).sum().add(hn_ref.sum()).backward()
    (out_ours * weights).sum().add(hn_ours.sum()).backward()
    assert (x_ours.grad - x_ref.grad).abs().max() < 1e-5


def test_rnn_matches_torch_without_bias_and_weight_gradients_agree():
    ref = _torch_rnn(2, bias=False)
    ours = mt.RNN.from_torch(ref)
    assert ours.cells[0].bias_ih is None
    x = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(2))
    ref(x)[0].sum().backward()
    ours(x)[0].sum().backward()
    assert (ours.cells[1].weight_hh.grad - ref.weight_hh_l1.grad).abs().max() < 1e-5
    assert (ours(x)[0] - ref(x)[0]).abs().max() < 1e-5


def test_rnn_cell_matches_torch_rnn_cell():
    torch.manual_seed(0)
    ref = nn.RNNCell(3, 4, nonlinearity="relu")
    ours = mt.RNNCell.from_torch(ref)
    x, h = torch.randn(5, 3), torch.randn(5, 4)
    assert (ours(x, h) - ref(x, h)).abs().max() < 1e-5
    assert (ours(x) - ref(x)).abs().max() < 1e-5


def test_rnn_cell_passes_gradcheck_in_float64_for_inputs_and_weights():
    torch.manual_seed(0)
    cell = mt.RNNCell(3, 4).double()
    names = [name for name, _ in cell.named_parameters()]
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    weights = tuple(p.detach().clone().requires_grad_() for p in cell.parameters())

    def f(x, h, *w):
        return torch.func.functional_call(cell, dict(zip(names, w)), (x, h))

    assert torch.autograd.gradcheck(f, (x, h, *weights))


def test_rnn_passes_gradcheck_over_time_in_float64():
    torch.manual_seed(0)
    rnn = mt.RNN(2, 3, num_layers=2).double()
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h0: rnn(x, h0), (x, h0))


def test_linear_rnn_has_no_squashing():
    cell = mt.RNNCell(2, 2, nonlinearity="linear", bias=False)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(2) * 10)
        cell.weight_hh.zero_()
    assert torch.allclose(cell(torch.ones(1, 2)), torch.full((1, 2), 10.0))


def test_gradient_norms_decay_as_radius_power_for_scaled_orthogonal_linear_rnn():
    torch.manual_seed(0)
    rnn = mt.RNN(1, 6, nonlinearity="linear", bias=False)
    q, _ = torch.linalg.qr(torch.randn(6, 6))
    with torch.no_grad():
        rnn.cells[0].weight_hh.copy_(0.5 * q)
    norms = mt.gradient_norms_through_time(rnn, torch.randn(3, 10, 1))
    assert norms.shape == (10,)
    ratios = norms[:-1] / norms[1:]
    assert torch.allclose(ratios, torch.full_like(ratios, 0.5), atol=1e-4)


def test_gradient_norms_through_time_agree_with_torch_rnn():
    ref = _torch_rnn(2)
    ours = mt.RNN.from_torch(ref)
    x = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(3))
    a = mt.gradient_norms_through_time(ours, x)
    b = mt.gradient_norms_through_time(ref, x)
    assert torch.allclose(a, b, atol=1e-5)
    assert a[-1] > 0


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(4, 3), "x must be a 3-D tensor"),
    (torch.zeros(2, 4, 7), "x must have shape"),
    (torch.zeros(2, 4, 3, dtype=torch.long), "x must be a floating-point"),
    ([[[0.0] * 3]], "x must be a torch.Tensor"),
    (torch.zeros(2, 0, 3), "at least one time step"),
])
def test_rnn_rejects_bad_input_naming_the_argument(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mt.RNN(3, 5)(bad)


@pytest.mark.parametrize("h0", [torch.zeros(1, 2, 5), torch.zeros(2, 3, 5), torch.zeros(2, 2, 4),
                                torch.zeros(2, 5)])
def test_rnn_rejects_state_of_wrong_shape(h0):
    with pytest.raises(ValueError, match="h0 must"):
        mt.RNN(3, 5, num_layers=2)(torch.zeros(2, 4, 3), h0)


def test_rnn_error_message_says_expected_and_given():
    with pytest.raises(ValueError, match=r"expected 3.*got shape \(2, 4, 7\)|dimension 2 is 7"):
        mt.RNN(3, 5)(torch.zeros(2, 4, 7))


def test_rnn_cell_rejects_bad_state_and_input():
    cell = mt.RNNCell(3, 5)
    with pytest.raises(ValueError, match="h must"):
        cell(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="x must"):
        cell(torch.zeros(2, 4, 3))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"nonlinearity": "sigmoid"}, ValueError, "nonlinearity"),
    ({"num_layers": 0}, ValueError, "num_layers"),
    ({"bias": 1}, TypeError, "bias"),
])
def test_rnn_rejects_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        mt.RNN(3, 5, **kwargs)


@pytest.mark.parametrize("module, match", [
    (nn.RNN(3, 5), "batch_first"),
    (nn.RNN(3, 5, batch_first=True, bidirectional=True), "bidirectional"),
    (nn.RNN(3, 5, num_layers=2, batch_first=True, dropout=0.5), "dropout"),
    (nn.LSTM(3, 5, batch_first=True), "torch.nn.RNN"),
])
def test_from_torch_rejects_unsupported_modules(module, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mt.RNN.from_torch(module)


def test_gradient_norms_rejects_non_scalar_loss():
    with pytest.raises(ValueError, match="loss_fn"):
        mt.gradient_norms_through_time(mt.RNN(1, 2), torch.zeros(1, 3, 1), loss_fn=lambda y: y)


def test_gradient_norms_through_time_accepts_an_lstm_state_tuple():
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 3, batch_first=True)
    norms = mt.gradient_norms_through_time(lstm, torch.randn(2, 5, 2))
    assert norms.shape == (5,)
    assert bool(torch.isfinite(norms).all()) and bool((norms > 0).all())
