"""Every model and function runs on the device and dtype of its inputs.

The ``meta`` device stands in for a GPU: its tensors have a shape, a dtype and a device but no
values, so a forward pass there costs nothing and needs no GPU. Each test runs under a
``TorchFunctionMode`` that records every tensor a torch function returns: one that lands on
another device (a tensor made on the CPU behind the reader's back, e.g. ``torch.arange(n)``
without ``device=``) or in another floating dtype (float64 inputs, float32 result) fails the
test. Value checks (token ids in range) are skipped on meta tensors, which hold no values.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import minitransformer as mt

META = torch.device("meta")
DTYPE = torch.float64  # not the default float32, so a tensor made in the default dtype shows


class _Strays(TorchFunctionMode):
    """Records each tensor a torch function returns off the meta device or in a floating
    dtype other than DTYPE."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in _tensors(out):
            if t.device != META or (t.is_floating_point() and t.dtype != DTYPE):
                name = getattr(func, "__qualname__", None) or repr(func)
                self.found.append(f"{name} -> {t.device} {t.dtype} {tuple(t.shape)}")
        return out


def _tensors(out: object) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _tensors(item)]
    return []


def _floats(*shape: int) -> torch.Tensor:
    return torch.empty(shape, device=META, dtype=DTYPE)


def _ids(*shape: int) -> torch.Tensor:
    return torch.empty(shape, device=META, dtype=torch.long)


def _on_meta(module: nn.Module) -> nn.Module:
    """Built on the CPU as a reader would, then moved: parameters and buffers follow."""
    return module.to(device=META, dtype=DTYPE)


def _config() -> mt.TransformerConfig:
    return mt.TransformerConfig(src_vocab_size=11, tgt_vocab_size=13, d_model=8, n_heads=2,
                                n_layers=2, d_ff=16, dropout=0.1, max_len=16)


# Each case: (class it covers, build the module, its inputs). Keys name the case.
ModuleCase = tuple[type, Callable[[], nn.Module], Callable[[], tuple]]
MODULE_CASES: dict[str, ModuleCase] = {
    "RNNCell": (mt.RNNCell, lambda: mt.RNNCell(3, 4), lambda: (_floats(2, 3),)),
    "RNN": (mt.RNN, lambda: mt.RNN(3, 4, num_layers=2), lambda: (_floats(2, 5, 3),)),
    "LSTMCell": (mt.LSTMCell, lambda: mt.LSTMCell(3, 4), lambda: (_floats(2, 3),)),
    "LSTM": (mt.LSTM, lambda: mt.LSTM(3, 4, num_layers=2), lambda: (_floats(2, 5, 3),)),
    "SequenceRegressor": (mt.SequenceRegressor,
                          lambda: mt.SequenceRegressor(mt.RNN(3, 4), 4, 2),
                          lambda: (_floats(2, 5, 3),)),
    "SequenceClassifier": (mt.SequenceClassifier,
                           lambda: mt.SequenceClassifier(mt.LSTM(3, 4), 4, 3),
                           lambda: (_floats(2, 5, 3),)),
    "AdditiveAttention": (mt.AdditiveAttention, lambda: mt.AdditiveAttention(4, 6, 5),
                          lambda: (_floats(2, 4), _floats(2, 7, 6), _floats(2, 7, 3),
                                   torch.ones(2, 7, dtype=torch.bool, device=META))),
    "MultiHeadAttention": (mt.MultiHeadAttention, lambda: mt.MultiHeadAttention(8, 2),
                           lambda: (_floats(2, 5, 8), _floats(2, 7, 8), _floats(2, 7, 8),
                                    torch.ones(2, 1, 5, 7, dtype=torch.bool, device=META))),
    "Seq2Seq": (mt.Seq2Seq, lambda: mt.Seq2Seq(11, 13, 4, 6, attention=False),
                lambda: (_ids(2, 5), _ids(2, 4))),
    "Seq2Seq(attention)": (mt.Seq2Seq, lambda: mt.Seq2Seq(11, 13, 4, 6, attention=True),
                           lambda: (_ids(2, 5), _ids(2, 4))),
    "PositionalEncoding": (mt.PositionalEncoding, lambda: mt.PositionalEncoding(8, 16),
                           lambda: (_floats(2, 5, 8),)),
    "EncoderLayer": (mt.EncoderLayer, lambda: mt.EncoderLayer(8, 2, 16),
                     lambda: (_floats(2, 5, 8),)),
    "EncoderLayer(pre-norm)": (mt.EncoderLayer, lambda: mt.EncoderLayer(8, 2, 16, norm_first=True),
                               lambda: (_floats(2, 5, 8),)),
    "DecoderLayer": (mt.DecoderLayer, lambda: mt.DecoderLayer(8, 2, 16),
                     lambda: (_floats(2, 4, 8), _floats(2, 5, 8),
                              mt.causal_mask(4, device=META))),
    "Encoder": (mt.Encoder, lambda: mt.Encoder(2, 8, 2, 16, norm_first=True),
                lambda: (_floats(2, 5, 8),)),
    "Decoder": (mt.Decoder, lambda: mt.Decoder(2, 8, 2, 16),
                lambda: (_floats(2, 4, 8), _floats(2, 5, 8))),
    "Transformer": (mt.Transformer, lambda: mt.Transformer(_config()),
                    lambda: (_ids(2, 5), _ids(2, 4))),
    "GPT": (mt.GPT, lambda: mt.GPT(mt.GPTConfig(vocab_size=11, d_model=8, n_heads=2,
                                                 n_layers=2, d_ff=16, max_len=16)),
            lambda: (_ids(2, 5),)),
}


def test_every_public_module_has_a_meta_case():
    """A new public nn.Module must join MODULE_CASES (so the test below covers it)."""
    public = {getattr(mt, name) for name in mt.__all__
              if inspect.isclass(getattr(mt, name)) and issubclass(getattr(mt, name), nn.Module)}
    covered = {cls for cls, _, _ in MODULE_CASES.values()}
    assert public - covered == set()


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("case", list(MODULE_CASES))
def test_module_forward_stays_on_the_device_and_dtype_of_its_inputs(case, training):
    _, build, inputs = MODULE_CASES[case]
    module = _on_meta(build()).train(training)
    args = inputs()
    with _Strays() as strays:
        out = module(*args)
    assert strays.found == []
    outputs = _tensors(out) if not isinstance(out, mt.DecoderState) else [out.h]
    assert outputs and all(t.device == META for t in outputs)


def test_transformer_decodes_with_a_cache_on_the_device_of_its_inputs():
    model = _on_meta(mt.Transformer(_config())).eval()
    src = _ids(3, 6)
    with _Strays() as strays:
        greedy = mt.greedy_decode(model, src, max_len=5, bos_id=1, eos_id=None)
        uncached = mt.greedy_decode(model, src, max_len=5, bos_id=1, eos_id=None,
                                    use_cache=False)
    assert strays.found == []
    assert greedy.shape == uncached.shape == (3, 5) and greedy.device == META


def test_seq2seq_generates_on_the_device_of_its_inputs():
    model = _on_meta(mt.Seq2Seq(11, 13, 4, 6, attention=True)).eval()
    with _Strays() as strays:
        state = model.encode(_ids(2, 5))
        logits, state, weights = model.decode_step(_ids(2), state)
    assert strays.found == []
    assert logits.shape == (2, 13) and weights is not None and weights.shape == (2, 5)


# Each case calls one function on meta inputs; ``lstm`` is a meta LSTM built before the watch
# starts (building a module makes its weights on the CPU first, as a reader's code would).
FUNCTION_CASES: dict[str, Callable[[nn.Module], object]] = {
    "causal_mask": lambda lstm: mt.causal_mask(5, device=META),
    "padding_mask": lambda lstm: mt.padding_mask(_ids(2, 5), pad_id=0),
    "scaled_dot_product_attention": lambda lstm: mt.scaled_dot_product_attention(
        _floats(2, 3, 4), _floats(2, 5, 4), _floats(2, 5, 6),
        torch.ones(3, 5, dtype=torch.bool, device=META)),
    "scaled_dot_product_attention(fused)": lambda lstm: mt.scaled_dot_product_attention(
        _floats(2, 3, 4), _floats(2, 5, 4), _floats(2, 5, 6),
        torch.ones(3, 5, dtype=torch.bool, device=META), need_weights=False),
    "label_smoothed_cross_entropy": lambda lstm: mt.label_smoothed_cross_entropy(
        _floats(2, 4, 7), _ids(2, 4)),
    "gradient_norms_through_time": lambda lstm: mt.gradient_norms_through_time(
        lstm, _floats(2, 5, 3)),
    "LSTM.forward_stepwise": lambda lstm: lstm.forward_stepwise(_floats(2, 5, 3)),
}


@pytest.mark.parametrize("case", list(FUNCTION_CASES))
def test_function_stays_on_the_device_and_dtype_of_its_inputs(case):
    lstm = _on_meta(mt.LSTM(3, 4))
    with _Strays() as strays:
        out = FUNCTION_CASES[case](lstm)
    assert strays.found == []
    assert _tensors(out) and all(t.device == META for t in _tensors(out))


def test_the_watch_catches_a_tensor_made_on_the_cpu():
    """The check above can fail: a tensor made without device= is caught."""
    with _Strays() as strays:
        x = _floats(2, 3)
        torch.arange(3)
        x.sum()
    assert len(strays.found) == 1 and "cpu" in strays.found[0]


# Each case: a PyTorch module and the from_torch that copies it.
FROM_TORCH_CASES: dict[str, tuple[Callable[[], nn.Module], Callable[[nn.Module], nn.Module]]] = {
    "RNNCell": (lambda: nn.RNNCell(3, 4), mt.RNNCell.from_torch),
    "RNN": (lambda: nn.RNN(3, 4, num_layers=2, batch_first=True), mt.RNN.from_torch),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), mt.LSTMCell.from_torch),
    "LSTM": (lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True), mt.LSTM.from_torch),
    "MultiHeadAttention": (lambda: nn.MultiheadAttention(8, 2, batch_first=True),
                           mt.MultiHeadAttention.from_torch),
    "EncoderLayer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                     mt.EncoderLayer.from_torch),
    "DecoderLayer": (lambda: nn.TransformerDecoderLayer(8, 2, 16, batch_first=True),
                     mt.DecoderLayer.from_torch),
}


@pytest.mark.parametrize("case", list(FROM_TORCH_CASES))
def test_from_torch_copy_lies_on_the_device_and_dtype_of_the_original(case):
    build, from_torch = FROM_TORCH_CASES[case]
    ours = from_torch(_on_meta(build()))
    tensors = list(ours.parameters()) + list(ours.buffers())
    assert tensors and {(t.device, t.dtype) for t in tensors if t.is_floating_point()} == {
        (META, DTYPE)}
