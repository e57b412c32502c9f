"""Tests for minitransformer.lstm: equal to torch.nn.LSTM, gradients, both paths agree, errors."""

import pytest
import torch
from torch import nn

import minitransformer as mt
from minitransformer.lstm import lstm_cell_step

B, T, IN, H = 3, 6, 5, 7


def _pair(num_layers: int, seed: int = 0) -> tuple[nn.LSTM, mt.LSTM]:
    torch.manual_seed(seed)
    ref = nn.LSTM(IN, H, num_layers=num_layers, batch_first=True)
    return ref, mt.LSTM.from_torch(ref)


def _state(num_layers: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(num_layers, B, H, generator=g), torch.randn(num_layers, B, H, generator=g))


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().abs().max())


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_matches_torch_outputs_states_and_input_gradients(num_layers, with_state):
    ref, ours = _pair(num_layers)
    x = torch.randn(B, T, IN, generator=torch.Generator().manual_seed(2))
    state = _state(num_layers) if with_state else None
    x_ref = x.clone().requires_grad_()
    x_ours = x.clone().requires_grad_()
    out_ref, (h_ref, c_ref) = ref(x_ref, state)
    out_ours, (h_ours, c_ours) = ours(x_ours, state)
    assert out_ours.shape == (B, T, H)
    assert h_ours.shape == c_ours.shape == (num_layers, B, H)
    assert _max_diff(out_ours, out_ref) < 1e-5
    assert _max_diff(h_ours, h_ref) < 1e-5
    assert _max_diff(c_ours, c_ref) < 1e-5
    weights = torch.randn(B, T, H, generator=torch.Generator().manual_seed(3))
    ((out_ref * weights).sum() + c_ref.sum()).backward()
    ((out_ours * weights).sum() + c_ours.sum()).backward()
    assert _max_diff(x_ours.grad, x_ref.grad) < 1e-5


def test_lstm_weight_gradients_match_torch_two_layers():
    ref, ours = _pair(2)
    x = torch.randn(B, T, IN, generator=torch.Generator().manual_seed(4))
    ref(x)[0].square().sum().backward()
    ours(x)[0].square().sum().backward()
    ref_grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        assert _max_diff(p.grad, ref_grads[name].grad) < 1e-5, name


def test_lstm_parameter_names_and_shapes_match_torch():
    ref, ours = _pair(2)
    assert {n: tuple(p.shape) for n, p in ours.named_parameters()} == {
        n: tuple(p.shape) for n, p in ref.named_parameters()}


def test_lstm_without_bias_matches_torch():
    torch.manual_seed(0)
    ref = nn.LSTM(IN, H, num_layers=2, bias=False, batch_first=True)
    ours = mt.LSTM.from_torch(ref)
    assert not any("bias" in n for n, _ in ours.named_parameters())
    x = torch.randn(B, T, IN)
    assert _max_diff(ours(x)[0], ref(x)[0]) < 1e-5


def test_lstm_from_torch_keeps_float64():
    torch.manual_seed(0)
    ref = nn.LSTM(IN, H, batch_first=True).double()
    ours = mt.LSTM.from_torch(ref)
    x = torch.randn(B, T, IN, dtype=torch.float64)
    assert ours.weight_ih_l0.dtype == torch.float64
    assert _max_diff(ours(x)[0], ref(x)[0]) < 1e-12


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_fast_path_equals_cell_by_cell_path(num_layers, with_state):
    torch.manual_seed(0)
    lstm = mt.LSTM(IN, H, num_layers=num_layers)
    x = torch.randn(B, T, IN)
    state = _state(num_layers) if with_state else None
    fast_out, (fast_h, fast_c) = lstm(x, state)
    slow_out, (slow_h, slow_c) = lstm.forward_stepwise(x, state)
    assert _max_diff(fast_out, slow_out) < 1e-6
    assert _max_diff(fast_h, slow_h) < 1e-6
    assert _max_diff(fast_c, slow_c) < 1e-6


def test_lstm_fast_path_gradients_equal_cell_by_cell_path():
    torch.manual_seed(0)
    lstm = mt.LSTM(IN, H, num_layers=2)
    x = torch.randn(B, T, IN, requires_grad=True)
    fast = torch.autograd.grad(lstm(x)[0].square().sum(), [x, *lstm.parameters()])
    slow = torch.autograd.grad(lstm.forward_stepwise(x)[0].square().sum(), [x, *lstm.parameters()])
    for a, b in zip(fast, slow, strict=True):
        assert _max_diff(a, b) < 1e-5


def test_lstm_last_output_is_last_layer_final_hidden_state():
    torch.manual_seed(0)
    lstm = mt.LSTM(IN, H, num_layers=2)
    out, (h_n, _) = lstm(torch.randn(B, T, IN))
    assert torch.equal(out[:, -1], h_n[-1])


def test_lstm_cell_matches_torch_lstm_cell_with_and_without_state():
    torch.manual_seed(0)
    ref = nn.LSTMCell(IN, H)
    cell = mt.LSTMCell.from_torch(ref)
    x = torch.randn(B, IN)
    for state in (None, (torch.randn(B, H), torch.randn(B, H))):
        h_ref, c_ref = ref(x, state)
        h, c = cell(x, state)
        assert _max_diff(h, h_ref) < 1e-5
        assert _max_diff(c, c_ref) < 1e-5


def test_lstm_cell_step_passes_gradcheck_in_float64():
    g = torch.Generator().manual_seed(0)
    args = [torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)
            for shape in [(2, 3), (2, 4), (2, 4), (16, 3), (16, 4), (16,), (16,)]]
    assert torch.autograd.gradcheck(lstm_cell_step, args)


def test_lstm_passes_gradcheck_in_float64():
    torch.manual_seed(0)
    lstm = mt.LSTM(3, 4, num_layers=2).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 2, 4, dtype=torch.float64, requires_grad=True)

    def run(x, h0, c0):
        out, (h_n, c_n) = lstm(x, (h0, c0))
        return out, h_n, c_n

    assert torch.autograd.gradcheck(run, (x, h0, c0))


def test_lstm_cell_forget_gate_shut_and_input_gate_open_replaces_memory():
    # With f = 0, i = 1, o = 1 (huge biases) the cell state becomes g and h = tanh(g).
    cell = mt.LSTMCell(2, 3)
    with torch.no_grad():
        cell.bias_ih.zero_()
        cell.bias_hh.copy_(torch.cat([torch.full((3,), 50.0), torch.full((3,), -50.0),
                                      torch.zeros(3), torch.full((3,), 50.0)]))
    x, h, c = torch.randn(4, 2), torch.randn(4, 3), torch.full((4, 3), 100.0)
    h_new, c_new = cell(x, (h, c))
    g = torch.tanh(x @ cell.weight_ih[6:9].T + h @ cell.weight_hh[6:9].T)
    assert torch.allclose(c_new, g, atol=1e-6)
    assert torch.allclose(h_new, torch.tanh(g), atol=1e-6)


@pytest.mark.parametrize(("x", "error", "match"), [
    (torch.randn(T, IN), ValueError, r"x must be a 3-D tensor"),
    (torch.randn(B, T, IN + 1), ValueError, r"x must have shape .*dimension 2 is 6, expected 5"),
    (torch.zeros(B, T, IN, dtype=torch.long), TypeError, r"x must be a floating-point tensor"),
    (torch.randn(B, T, IN, dtype=torch.float64), TypeError, r"x must have dtype torch.float32"),
    (torch.randn(B, 0, IN), ValueError, r"x must contain at least one time step"),
    ([[1.0]], TypeError, r"x must be a torch.Tensor"),
])
def test_lstm_rejects_bad_input_naming_it(x, error, match):
    lstm = mt.LSTM(IN, H)
    with pytest.raises(error, match=match):
        lstm(x)
    with pytest.raises(error, match=match):
        lstm.forward_stepwise(x)


@pytest.mark.parametrize(("state", "error", "match"), [
    (torch.zeros(1, B, H), TypeError, r"state must be a pair \(h, c\)"),
    ((torch.zeros(B, H), torch.zeros(2, B, H)), ValueError, r"state\[0\] \(h\) must be a 3-D"),
    ((torch.zeros(2, B, H), torch.zeros(1, B, H)), ValueError,
     r"state\[1\] \(c\) must have shape \(num_layers, B, H\) = \(2, 3, 7\), got shape \(1, 3, 7\)"),
    ((torch.zeros(2, B + 1, H), torch.zeros(2, B, H)), ValueError, r"state\[0\] \(h\) must have shape"),
    ((torch.zeros(2, B, H, dtype=torch.long), torch.zeros(2, B, H)), TypeError,
     r"state\[0\] \(h\) must be a floating-point tensor"),
])
def test_lstm_rejects_bad_state_naming_it(state, error, match):
    lstm = mt.LSTM(IN, H, num_layers=2)
    with pytest.raises(error, match=match):
        lstm(torch.randn(B, T, IN), state)


def test_lstm_cell_rejects_bad_input_and_state():
    cell = mt.LSTMCell(IN, H)
    with pytest.raises(ValueError, match=r"x must be a 2-D tensor"):
        cell(torch.randn(B, T, IN))
    with pytest.raises(ValueError, match=r"state\[1\] \(c\) must have shape \(B, H\)"):
        cell(torch.randn(B, IN), (torch.zeros(B, H), torch.zeros(B, H + 1)))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"bidirectional": True}, "bidirectional"),
    ({"proj_size": 2}, "proj_size"),
    ({"batch_first": False}, "batch_first"),
    ({"num_layers": 2, "dropout": 0.5}, "dropout"),
])
def test_lstm_from_torch_rejects_unsupported_options(kwargs, match):
    options = {"batch_first": True, **kwargs}
    with pytest.raises(ValueError, match=match):
        mt.LSTM.from_torch(nn.LSTM(IN, H, **options))


def test_lstm_from_torch_rejects_other_modules():
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.LSTM, got GRU"):
        mt.LSTM.from_torch(nn.GRU(IN, H, batch_first=True))
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.LSTMCell"):
        mt.LSTMCell.from_torch(nn.LSTM(IN, H))


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"input_size": 0, "hidden_size": H}, ValueError, "input_size must be >= 1"),
    ({"input_size": IN, "hidden_size": 2.5}, TypeError, "hidden_size must be an int"),
    ({"input_size": IN, "hidden_size": H, "num_layers": 0}, ValueError, "num_layers must be >= 1"),
    ({"input_size": IN, "hidden_size": H, "bias": 1}, TypeError, "bias must be a bool"),
])
def test_lstm_rejects_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        mt.LSTM(**kwargs)


def test_set_forget_bias_opens_forget_gate_in_every_layer():
    lstm = mt.LSTM(IN, H, num_layers=2).set_forget_bias(2.0)
    for k in range(2):
        _, _, b_ih, b_hh = lstm.layer_weights(k)
        forget = (b_ih + b_hh)[H:2 * H]
        assert torch.equal(forget, torch.full((H,), 2.0))
        assert not torch.equal((b_ih + b_hh)[:H], torch.full((H,), 2.0))  # other gates untouched
    with pytest.raises(ValueError, match="bias=True"):
        mt.LSTM(IN, H, bias=False).set_forget_bias(1.0)
    with pytest.raises(TypeError, match="value must be a number"):
        lstm.set_forget_bias("1")


def test_hand_written_backpropagation_through_time_passes_gradcheck():
    """The LSTM layer's backward is written by hand: check it against finite differences in
    float64, for the inputs, the recurrent weights and both parts of the initial state, with
    gradients arriving at every output and at the final state."""
    from minitransformer.lstm import _LSTMLayer

    torch.manual_seed(0)
    T, B, H = 4, 2, 3
    xw = torch.randn(T, B, 4 * H, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(4 * H, H, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)

    def all_outputs(*args):
        hs, h_last, c_last = _LSTMLayer.apply(*args)
        return hs, h_last, c_last

    assert torch.autograd.gradcheck(all_outputs, (xw, w_hh, h0, c0))

    def only_final_cell(*args):  # gradients arrive at c_T alone (others None)
        return _LSTMLayer.apply(*args)[2]

    assert torch.autograd.gradcheck(only_final_cell, (xw, w_hh, h0, c0))
