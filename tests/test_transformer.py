"""Tests for minitransformer/transformer.py: positions, layers equal to PyTorch's, the model."""

import math

import pytest
import torch
from torch import nn

import minitransformer as mt
from minitransformer.transformer import (
    DecoderLayer,
    EncoderLayer,
    PositionalEncoding,
    Transformer,
    TransformerConfig,
    count_parameters,
    sinusoidal_positions,
)

TOL = 1e-5


def small_config(**overrides):
    fields = dict(d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=0.0, max_len=40)
    return TransformerConfig(23, 19, **{**fields, **overrides})


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
        got = ours(x, mt.padding_mask(src, 0))              # ours: True = may attend
    assert (expected - got).abs().max().item() < TOL


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch_with_causal_mask_in_training_mode_without_dropout(norm_first):
    torch.manual_seed(1)
    ref = nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours = EncoderLayer.from_torch(ref)
    _, x, _ = _inputs(1)
    causal = mt.causal_mask(6)
    expected = ref(x, src_mask=~causal)
    got = ours(x, causal)
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
        got = ours(y, memory, causal, mt.padding_mask(src, 0))
    assert (expected - got).abs().max().item() < TOL


def test_from_torch_copies_the_dropout_and_gradients_flow_identically():
    torch.manual_seed(3)
    ref = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    ours = DecoderLayer.from_torch(ref)
    _, memory, y = _inputs(3)
    ref(y, memory, tgt_mask=~mt.causal_mask(4)).square().sum().backward()
    ours(y, memory, mt.causal_mask(4)).square().sum().backward()
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
    post = EncoderLayer(16, 4, 32, dropout=0.0).eval()(x)
    pre = EncoderLayer(16, 4, 32, dropout=0.0, norm_first=True).eval()(x)
    assert post.mean(-1).abs().max() < 1e-5
    assert pre.mean(-1).abs().max() > 0.5


# --- the model ----------------------------------------------------------------------------------

def test_transformer_forward_shape_and_causality():
    torch.manual_seed(5)
    model = Transformer(small_config()).eval()
    src = torch.randint(4, 23, (2, 7))
    tgt = torch.randint(4, 19, (2, 5))
    logits = model(src, tgt)
    assert logits.shape == (2, 5, 19)
    changed = tgt.clone()
    changed[:, 3] = (changed[:, 3] + 1 - 4) % 15 + 4          # change a later token ...
    logits2 = model(src, changed)
    assert torch.allclose(logits[:, :3], logits2[:, :3], atol=1e-6)  # ... earlier outputs unchanged
    assert not torch.allclose(logits[:, 3:], logits2[:, 3:])


def test_source_padding_does_not_change_the_output():
    torch.manual_seed(6)
    model = Transformer(small_config()).eval()
    src = torch.randint(4, 23, (1, 5))
    tgt = torch.randint(4, 19, (1, 4))
    padded = torch.cat([src, torch.zeros(1, 3, dtype=torch.long)], dim=1)
    assert torch.allclose(model(src, tgt), model(padded, tgt), atol=1e-5)


def test_embeddings_are_scaled_by_sqrt_d_model_and_output_is_tied():
    model = Transformer(small_config(share_embeddings=False))
    assert model.generator.weight is model.tgt_embed.weight
    tokens = torch.tensor([[4, 5]])
    model.positions.pe.zero_()
    expected = model.tgt_embed(tokens) * math.sqrt(32)
    assert torch.allclose(model._embed(model.tgt_embed, tokens), expected)


def test_shared_embeddings_need_equal_vocabularies():
    with pytest.raises(ValueError, match="share_embeddings"):
        small_config(share_embeddings=True)
    model = Transformer(TransformerConfig(20, 20, d_model=16, n_heads=2, n_layers=1, d_ff=8,
                                          share_embeddings=True))
    assert model.src_embed is model.tgt_embed


def test_encode_then_decode_equals_forward():
    torch.manual_seed(7)
    model = Transformer(small_config(norm_first=True)).eval()
    src = torch.tensor([[5, 6, 7, 0], [8, 9, 10, 11]])
    tgt = torch.tensor([[1, 5, 6], [1, 7, 0]])
    memory = model.encode(src)
    assert torch.allclose(model.decode(tgt, memory, mt.padding_mask(src, 0)), model(src, tgt))


def test_decode_requires_the_memory_mask_so_it_cannot_silently_attend_to_padding():
    # forward masks source padding; a decode that defaulted to "attend everywhere" differed
    # from it on padded sources. The mask is now a required argument.
    torch.manual_seed(7)
    model = Transformer(small_config()).eval()
    src = torch.tensor([[5, 6, 0, 0], [8, 9, 10, 11]])
    tgt = torch.tensor([[1, 5, 6], [1, 7, 8]])
    memory = model.encode(src)
    with pytest.raises(TypeError, match="memory_mask"):
        model.decode(tgt, memory)
    unmasked = model.decode(tgt, memory, None)
    assert (unmasked[0] - model(src, tgt)[0]).abs().max() > 1e-4  # padding changes row 0
    assert torch.allclose(unmasked[1], model(src, tgt)[1], atol=1e-6)  # no padding in row 1


def test_a_fixed_seed_initialises_separate_embeddings_in_a_fixed_order():
    # Source first, then target, each N(0, 1/d_model) with the padding row zeroed: drawn
    # here explicitly in that order from the same seed, they must equal the model's.
    config = small_config()
    model = Transformer(config)
    torch.manual_seed(11)
    model._init_weights()
    torch.manual_seed(11)
    for emb in (model.src_embed, model.tgt_embed):
        expected = torch.empty_like(emb.weight).normal_(std=config.d_model ** -0.5)
        expected[config.pad_id] = 0.0
        assert torch.equal(emb.weight, expected)


# The paper's Table 3: base 65 M parameters, big 213 M (shared 37000-token vocabulary).
# Ours: 63,082,496 and 214,245,376. The embedding (37000 x d_model, shared three ways) and
# 6 + 6 layers account for all of them; the paper's rounding and exact vocabulary size are
# not given, so we accept 3.5 % (base) and 1 % (big).
def test_base_and_big_parameter_counts_are_near_table_3():
    for config, exact, paper, tolerance in ((TransformerConfig.base(), 63_082_496, 65e6, 0.035),
                                            (TransformerConfig.big(), 214_245_376, 213e6, 0.01)):
        with torch.device("meta"):
            model = Transformer(config)
        assert count_parameters(model) == exact
        assert abs(exact - paper) / paper < tolerance


def test_count_parameters_counts_tied_weights_once_and_by_hand():
    model = Transformer(TransformerConfig(10, 10, d_model=8, n_heads=2, n_layers=1, d_ff=16,
                                          share_embeddings=True))
    attn = 4 * 8 * 8 + 4 * 8
    ffn = 8 * 16 + 16 + 16 * 8 + 8
    expected = 10 * 8 + (attn + ffn + 2 * 16) + (2 * attn + ffn + 3 * 16)
    assert count_parameters(model) == expected


def test_presets_follow_table_3():
    base, big = TransformerConfig.base(), TransformerConfig.big()
    assert (base.n_layers, base.d_model, base.d_ff, base.n_heads, base.dropout) == (6, 512, 2048, 8, 0.1)
    assert (big.n_layers, big.d_model, big.d_ff, big.n_heads, big.dropout) == (6, 1024, 4096, 16, 0.3)
    assert TransformerConfig.base(1000, n_layers=2).n_layers == 2


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="divisible"):
        small_config(d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="d_model"):
        small_config(d_model=0)
    with pytest.raises(TypeError, match="norm_first"):
        small_config(norm_first="yes")
    with pytest.raises(ValueError, match="pad_id"):
        small_config(pad_id=30)
    with pytest.raises(TypeError, match="config"):
        Transformer({"d_model": 8})


def test_transformer_rejects_bad_inputs_with_clear_messages():
    model = Transformer(small_config())
    src = torch.randint(4, 23, (2, 5))
    tgt = torch.randint(4, 19, (2, 4))
    with pytest.raises(ValueError, match=r"token id 23.*\[0, 23\)"):
        model(torch.full((2, 5), 23), tgt)
    with pytest.raises(ValueError, match=r"tgt.*token id 19.*\[0, 19\)"):
        model(src, torch.full((2, 4), 19))
    with pytest.raises(ValueError, match="-1"):
        model(torch.full((2, 5), -1), tgt)
    with pytest.raises(TypeError, match="src"):
        model(src.float(), tgt)
    with pytest.raises(ValueError, match=r"41 positions but max_len is 40"):
        model(torch.randint(4, 23, (2, 41)), tgt)
    with pytest.raises(ValueError, match="batch size"):
        model(src, tgt[:1])
    with pytest.raises(ValueError, match="src_mask"):
        model(src, tgt, src_mask=torch.ones(2, 1, 1, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="tgt_mask"):
        model(src, tgt, tgt_mask=torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="tgt_mask"):
        model(src, tgt, tgt_mask=torch.ones(4, 4))
    with pytest.raises(ValueError, match="src"):
        model(torch.randint(4, 23, (5,)), tgt)


def test_layers_reject_bad_configuration():
    with pytest.raises(ValueError, match="divisible"):
        EncoderLayer(10, 3, 8)
    with pytest.raises(ValueError, match="d_ff"):
        DecoderLayer(8, 2, 0)
    with pytest.raises(ValueError, match="x"):
        EncoderLayer(8, 2, 16)(torch.zeros(1, 3, 9))
    with pytest.raises(ValueError, match="memory"):
        DecoderLayer(8, 2, 16)(torch.zeros(1, 3, 8), torch.zeros(2, 3, 8))


def test_fully_masked_rows_give_no_nan():
    model = Transformer(small_config())
    src = torch.zeros(1, 4, dtype=torch.long)   # all padding: no key to attend to
    out = model(src, torch.tensor([[1, 5]]))
    assert torch.isfinite(out).all()


def test_checkpoint_round_trip_gives_the_same_outputs(tmp_path):
    torch.manual_seed(8)
    model = Transformer(small_config()).eval()
    mt.save_checkpoint(model, tmp_path / "m.pt", seed=3)
    loaded, extra = mt.load_checkpoint(tmp_path / "m.pt")
    src, tgt = torch.randint(4, 23, (2, 5)), torch.randint(4, 19, (2, 3))
    assert extra == {"seed": 3}
    assert torch.equal(model(src, tgt), loaded(src, tgt))


def test_corrupt_or_foreign_checkpoints_raise_a_clear_error(tmp_path):
    torch.manual_seed(9)
    mt.save_checkpoint(Transformer(small_config()), tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.pt.*corrupt"):
        mt.load_checkpoint(tmp_path / "cut.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a minitransformer"):
        mt.load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError):
        mt.load_checkpoint(tmp_path / "missing.pt")


def test_shipped_date_model_loads_safely_and_translates_unseen_dates():
    model, facts = mt.load_checkpoint(mt.transformer.DATE_CHECKPOINT)
    assert mt.transformer.DATE_CHECKPOINT.stat().st_size <= 5 * 2**20
    assert facts["seed"] == 0 and facts["test_exact_match"] >= 0.99
    tok = mt.date_tokenizer()
    _, _, test = mt.date_splits(16000, 500, 1000, seed=0)
    batch = mt.make_batches(test[:200], 200)[0]
    out = mt.greedy_decode(model, batch.src, 11, tok.bos_id, tok.eos_id)
    assert mt.exact_match(out, batch.tgt_out, tok.eos_id) >= 0.99
