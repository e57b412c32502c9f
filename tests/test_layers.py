"""Tests for minitransformer/layers.py: positions, encoder and decoder layers equal to PyTorch's."""

import math

import pytest
import torch
from torch import nn

import minitransformer as mt
from minitransformer.layers import (
    DecoderLayer,
    EncoderLayer,
    PositionalEncoding,
    sinusoidal_positions,
)

TOL = 1e-5


# --- positional encoding ------------------------------------------------------------------------

def test_sinusoids_equal_the_papers_formula_entry_by_entry():
    pe = sinusoidal_positions(50, 12)
    for pos in (0, 1, 7, 49):
        for i in range(6):
            angle = pos / 10000 ** (2 * i / 12)
            assert pe[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_sinusoids_with_odd_width_keep_the_pattern():
    pe = sinusoidal_positions(10, 5)
    assert pe.shape == (10, 5)
    assert pe[3, 3].item() == pytest.approx(math.cos(3 / 10000 ** (2 / 5)), abs=1e-6)
    assert pe[3, 4].item() == pytest.approx(math.sin(3 / 10000 ** (4 / 5)), abs=1e-6)


def test_positional_encoding_adds_pe_and_honours_offset():
    layer = PositionalEncoding(8, max_len=20)
    x = torch.randn(2, 5, 8)
    assert torch.allclose(layer(x), x + sinusoidal_positions(20, 8)[:5])
    assert torch.allclose(layer(x, offset=3), x + sinusoidal_positions(20, 8)[3:8])


def test_positional_encoding_rejects_too_long_sequences_naming_both_lengths():
    layer = PositionalEncoding(8, max_len=4)
    with pytest.raises(ValueError, match=r"5.*max_len is 4"):
        layer(torch.zeros(1, 5, 8))
    with pytest.raises(ValueError, match="x"):
        layer(torch.zeros(1, 3, 7))


# --- layers against PyTorch ---------------------------------------------------------------------

def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.tensor([[5, 6, 7, 8, 9, 10], [5, 6, 7, 0, 0, 0], [5, 0, 0, 0, 0, 0]])
    x = torch.randn(3, 6, 16, generator=g)
    y = torch.randn(3, 4, 16, generator=g)
    return src, x, y


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch_with_padding_mask(norm_first):
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True,
                                     norm_first=norm_first).eval()
    ours = EncoderLayer.from_torch(ref).eval()
    src, x, _ = _inputs()
    key_padding = src == 0                                  # torch: True = ignore
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=key_padding)
        got, _ = ours(x, mt.padding_mask(src, 0))           # ours: True = may attend
    assert (expected - got).abs().max().item() < TOL


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch_with_causal_mask_in_training_mode_without_dropout(norm_first):
    torch.manual_seed(1)
    ref = nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours = EncoderLayer.from_torch(ref)
    _, x, _ = _inputs(1)
    causal = mt.causal_mask(6)
    expected = ref(x, src_mask=~causal)
    got, _ = ours(x, causal)
    assert (expected - got).abs().max().item() < TOL


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch_with_causal_and_memory_padding_masks(norm_first):
    torch.manual_seed(2)
    ref = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, batch_first=True,
                                     norm_first=norm_first).eval()
    ours = DecoderLayer.from_torch(ref).eval()
    src, memory, y = _inputs(2)
    causal = mt.causal_mask(4)
    with torch.no_grad():
        expected = ref(y, memory, tgt_mask=~causal, memory_key_padding_mask=src == 0)
        got, _ = ours(y, memory, causal, mt.padding_mask(src, 0))
    assert (expected - got).abs().max().item() < TOL


def test_from_torch_copies_the_dropout_and_gradients_flow_identically():
    torch.manual_seed(3)
    ref = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    ours = DecoderLayer.from_torch(ref)
    _, memory, y = _inputs(3)
    ref(y, memory, tgt_mask=~mt.causal_mask(4)).square().sum().backward()
    ours(y, memory, mt.causal_mask(4))[0].square().sum().backward()
    diff = (ref.linear1.weight.grad - ours.linear1.weight.grad).abs().max().item()
    assert diff < 1e-4


def test_from_torch_rejects_layers_without_a_counterpart():
    with pytest.raises(ValueError, match="batch_first"):
        EncoderLayer.from_torch(nn.TransformerEncoderLayer(16, 4, 32))
    with pytest.raises(ValueError, match="ReLU"):
        EncoderLayer.from_torch(nn.TransformerEncoderLayer(16, 4, 32, activation="gelu",
                                                           batch_first=True))
    with pytest.raises(ValueError, match="bias"):
        DecoderLayer.from_torch(nn.TransformerDecoderLayer(16, 4, 32, batch_first=True, bias=False))
    with pytest.raises(TypeError, match="TransformerDecoderLayer"):
        DecoderLayer.from_torch(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True))


def test_post_norm_output_is_normalised_and_pre_norm_output_is_not():
    torch.manual_seed(4)
    x = 3 + 5 * torch.randn(2, 5, 16)
    post, _ = EncoderLayer(16, 4, 32, dropout=0.0).eval()(x)
    pre, _ = EncoderLayer(16, 4, 32, dropout=0.0, norm_first=True).eval()(x)
    assert post.mean(-1).abs().max() < 1e-5
    assert pre.mean(-1).abs().max() > 0.5


def test_layers_reject_bad_configuration():
    with pytest.raises(ValueError, match="divisible"):
        EncoderLayer(10, 3, 8)
    with pytest.raises(ValueError, match="d_ff"):
        DecoderLayer(8, 2, 0)
    with pytest.raises(ValueError, match="x"):
        EncoderLayer(8, 2, 16)(torch.zeros(1, 3, 9))
    with pytest.raises(ValueError, match="memory"):
        DecoderLayer(8, 2, 16)(torch.zeros(1, 3, 8), torch.zeros(2, 3, 8))


def test_positional_encoding_exercise_accepts_the_reference_and_rejects_zeros(capsys):
    assert mt.exercises.check("positional_encoding", sinusoidal_positions, verbose=False)
    assert not mt.exercises.check("positional_encoding", lambda m, d: torch.zeros(m, d))
    assert "case 1" in capsys.readouterr().out


def test_layers_return_output_and_weights_or_none():
    """One convention: (output, weights) with need_weights, (output, None) without."""
    torch.manual_seed(5)
    x, memory = torch.randn(2, 4, 16), torch.randn(2, 6, 16)
    enc, dec = EncoderLayer(16, 4, 32).eval(), DecoderLayer(16, 4, 32).eval()
    out, none = enc(x)
    assert out.shape == (2, 4, 16) and none is None
    out_w, weights = enc(x, need_weights=True)
    assert torch.allclose(out, out_w, atol=1e-6) and weights.shape == (2, 4, 4, 4)
    out, none = dec(x, memory)
    assert out.shape == (2, 4, 16) and none is None
    out_w, weights = dec(x, memory, need_weights=True)
    assert torch.allclose(out, out_w, atol=1e-6) and weights.shape == (2, 4, 4, 6)
