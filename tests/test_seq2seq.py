"""Tests for minitransformer/seq2seq.py: additive attention, the LSTM encoder-decoder with and
without it."""

import pytest
import torch
import torch.nn.functional as F

import minitransformer as mt
from minitransformer.seq2seq import AdditiveAttention, Seq2Seq

PAD, BOS, EOS = 0, 1, 2


def _model(attention, seed=0):
    torch.manual_seed(seed)
    return Seq2Seq(src_vocab=11, tgt_vocab=9, emb=6, hidden=8, attention=attention,
                   pad_id=PAD).eval()


def _src():
    return torch.tensor([[3, 4, 5, 6, 7], [8, 9, 10, 0, 0], [4, 0, 0, 0, 0]])


@pytest.mark.parametrize("attention", [False, True])
def test_teacher_forcing_gives_logits_of_shape_batch_time_vocab(attention):
    logits = _model(attention)(_src(), torch.tensor([[1, 3, 4], [1, 5, 6], [1, 7, 8]]))
    assert logits.shape == (3, 3, 9) and torch.isfinite(logits).all()


@pytest.mark.parametrize("attention", [False, True])
def test_extra_padding_on_the_source_changes_nothing(attention):
    model = _model(attention)
    tgt_in = torch.tensor([[1, 3, 4], [1, 5, 6], [1, 7, 8]])
    padded = torch.cat([_src(), torch.zeros(3, 4, dtype=torch.long)], dim=1)
    assert (model(_src(), tgt_in) - model(padded, tgt_in)).abs().max() < 1e-6


@pytest.mark.parametrize("attention", [False, True])
def test_teacher_forcing_equals_decode_step_fed_the_true_tokens(attention):
    model, tgt_in = _model(attention), torch.tensor([[1, 3, 4], [1, 5, 6], [1, 7, 8]])
    state, stepped = model.encode(_src()), []
    for t in range(tgt_in.shape[1]):
        logits, state, _ = model.decode_step(tgt_in[:, t], state)
        stepped.append(logits)
    torch.testing.assert_close(model(_src(), tgt_in), torch.stack(stepped, dim=1))


def test_padded_source_positions_get_zero_attention_weight():
    tokens, weights = _model(True).generate(_src(), max_len=6, bos_id=BOS, eos_id=EOS)
    assert weights.shape == (3, tokens.shape[1], 5)
    assert (weights[1, :, 3:] == 0).all() and (weights[2, :, 1:] == 0).all()
    live = tokens != PAD
    sums = weights.sum(-1)
    assert torch.allclose(sums[live], torch.ones(int(live.sum())))


def test_generate_without_attention_returns_no_weights_and_greedy_tokens():
    model = _model(False)
    tokens, weights = model.generate(_src(), max_len=4, bos_id=BOS, eos_id=EOS)
    assert weights is None and tokens.shape[0] == 3 and tokens.shape[1] <= 4
    # the first generated token is the argmax of teacher forcing's first step
    first = model(_src(), torch.full((3, 1), BOS)).argmax(-1)[:, 0]
    assert torch.equal(tokens[:, 0], first)


@pytest.mark.parametrize("attention", [False, True])
def test_generate_feeds_back_its_own_tokens_like_teacher_forcing_on_them(attention):
    model = _model(attention)
    tokens, _ = model.generate(_src(), max_len=5, bos_id=BOS, eos_id=EOS)
    tgt_in = torch.cat([torch.full((3, 1), BOS), tokens[:, :-1]], dim=1)
    forced = model(_src(), tgt_in).argmax(-1)
    alive = torch.ones_like(tokens, dtype=torch.bool)  # positions up to and including eos
    alive[:, 1:] = (tokens == EOS).cumsum(1)[:, :-1] == 0
    assert torch.equal(forced[alive], tokens[alive])


def test_generate_stops_and_pads_after_eos():
    model = _model(True)
    with torch.no_grad():  # make eos the most likely token at every step
        model.out.bias.fill_(0.0)
        model.out.bias[EOS] = 100.0
    tokens, weights = model.generate(_src(), max_len=7, bos_id=BOS, eos_id=EOS)
    assert tokens.tolist() == [[EOS]] * 3 and weights.shape == (3, 1, 5)


def test_attention_model_learns_to_reverse_short_sequences():
    torch.manual_seed(0)
    model = Seq2Seq(src_vocab=8, tgt_vocab=8, emb=16, hidden=32, attention=True, pad_id=PAD)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    g = torch.Generator().manual_seed(0)
    src = torch.randint(3, 8, (64, 4), generator=g)
    tgt = torch.cat([torch.full((64, 1), BOS), src.flip(1), torch.full((64, 1), EOS)], dim=1)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        logits = model(src, tgt[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 8), tgt[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.3 * losses[0]


def test_seq2seq_rejects_bad_arguments_and_inputs():
    with pytest.raises(TypeError, match="attention"):
        Seq2Seq(5, 5, 4, 4, attention="yes")
    with pytest.raises(ValueError, match="pad_id"):
        Seq2Seq(5, 5, 4, 4, attention=True, pad_id=7)
    with pytest.raises(ValueError, match="hidden"):
        Seq2Seq(5, 5, 4, 0, attention=True)
    model = _model(True)
    tgt_in = torch.tensor([[1, 3], [1, 3], [1, 3]])
    with pytest.raises(ValueError, match="src"):
        model(torch.tensor([[3, 11]]), tgt_in[:1])
    with pytest.raises(TypeError, match="src"):
        model(_src().float(), tgt_in)
    with pytest.raises(ValueError, match="tgt_in"):
        model(_src(), torch.tensor([[1, 9]] * 3))
    with pytest.raises(ValueError, match="tgt_in must have the batch size"):
        model(_src(), tgt_in[:2])
    with pytest.raises(ValueError, match="right-padded"):
        model(torch.tensor([[3, 0, 4]]), tgt_in[:1])
    with pytest.raises(ValueError, match="at least one real"):
        model(torch.tensor([[0, 0, 0]]), tgt_in[:1])
    with pytest.raises(ValueError, match="max_len"):
        model.generate(_src(), max_len=0, bos_id=BOS, eos_id=EOS)
    with pytest.raises(ValueError, match="eos_id"):
        model.generate(_src(), max_len=3, bos_id=BOS, eos_id=9)
    state = model.encode(_src())
    with pytest.raises(ValueError, match="prev"):
        model.decode_step(torch.tensor([1, 2]), state)
    with pytest.raises(ValueError, match="prev"):
        model.decode_step(torch.tensor([1, 2, 9]), state)
    with pytest.raises(TypeError, match="state"):
        model.decode_step(torch.tensor([1, 2, 3]), (state.h, state.c))


def test_seq2seq_is_exported():
    assert mt.Seq2Seq is Seq2Seq and "Seq2Seq" in mt.__all__


# --- additive attention ----------------------------------------------------------------------------


def test_additive_attention_shapes_and_zero_weight_on_padding():
    torch.manual_seed(0)
    att = AdditiveAttention(query_size=6, key_size=4, hidden_size=5)
    keys, values = torch.randn(2, 7, 4), torch.randn(2, 7, 3)
    mask = torch.tensor([[True] * 4 + [False] * 3, [True] * 7])
    context, weights = att(torch.randn(2, 6), keys, values, mask)
    assert context.shape == (2, 3) and weights.shape == (2, 7)
    assert (weights[0, 4:] == 0).all()
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    torch.testing.assert_close(context, torch.einsum("bt,btd->bd", weights, values))
    context, weights = att(torch.randn(2, 5, 6), keys, values, mask[:, None, :])
    assert context.shape == (2, 5, 3) and weights.shape == (2, 5, 7)
    assert (weights[0, :, 4:] == 0).all()


def test_additive_attention_scores_follow_bahdanau_formula():
    torch.manual_seed(0)
    att = AdditiveAttention(3, 4, 5)
    s, h = torch.randn(1, 3), torch.randn(1, 6, 4)
    e = torch.stack([att.score.weight[0] @ torch.tanh(att.query_proj.weight @ s[0]
                                                      + att.key_proj.weight @ h[0, j]
                                                      + att.key_proj.bias) for j in range(6)])
    _, weights = att(s, h, h)
    torch.testing.assert_close(weights[0], e.softmax(0))


def test_additive_attention_with_keys_projected_beforehand_is_the_same():
    # what Seq2Seq does: project the encoder outputs once, then ask one query per step
    torch.manual_seed(0)
    att = AdditiveAttention(3, 4, 5)
    s, h = torch.randn(2, 3), torch.randn(2, 6, 4)
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    expected = att(s, h, h, mask)
    got = att(s, h, h, mask, projected_keys=att.key_proj(h))
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="projected_keys"):
        att(s, h, h, mask, projected_keys=torch.randn(2, 6, 4))


def test_additive_attention_fully_masked_row_is_zero_not_nan():
    att = AdditiveAttention(3, 3, 4)
    context, weights = att(torch.randn(2, 3), torch.randn(2, 4, 3), torch.randn(2, 4, 3),
                           torch.tensor([[False] * 4, [True] * 4]))
    assert (context[0] == 0).all() and (weights[0] == 0).all() and torch.isfinite(context).all()


def test_additive_attention_rejects_bad_inputs():
    att = AdditiveAttention(3, 4, 5)
    with pytest.raises(ValueError, match="query"):
        att(torch.randn(2, 5), torch.randn(2, 6, 4), torch.randn(2, 6, 4))
    with pytest.raises(ValueError, match="keys"):
        att(torch.randn(2, 3), torch.randn(3, 6, 4), torch.randn(3, 6, 4))
    with pytest.raises(ValueError, match="values"):
        att(torch.randn(2, 3), torch.randn(2, 6, 4), torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="mask"):
        att(torch.randn(2, 3), torch.randn(2, 6, 4), torch.randn(2, 6, 4),
            torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="query"):
        att(torch.ones(2, 3, dtype=torch.long), torch.randn(2, 6, 4), torch.randn(2, 6, 4))
