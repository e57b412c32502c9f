"""Tests for minitransformer/decoding.py: greedy decoding, the key/value cache, beam search."""

import pytest
import torch

import minitransformer as mt

BOS, EOS = 1, 2


def sharp_model(seed=0, norm_first=False):
    """A random model whose output layer is large, so argmaxes are decisive and varied."""
    torch.manual_seed(seed)
    config = mt.TransformerConfig(20, 20, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                                  dropout=0.0, max_len=64, tie_output=False,
                                  norm_first=norm_first)
    model = mt.Transformer(config).eval()
    torch.nn.init.normal_(model.generator.weight, std=1.0)
    return model


def sources(seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, 20, (6, 7), generator=g)
    src[1, 4:] = 0
    src[4, 2:] = 0
    return src


@pytest.mark.parametrize("norm_first", [False, True])
def test_cached_greedy_decoding_returns_exactly_the_tokens_of_full_recomputation(norm_first):
    model = sharp_model(1, norm_first)
    src = sources(1)
    cached = mt.greedy_decode(model, src, 25, BOS, None, use_cache=True)
    full = mt.greedy_decode(model, src, 25, BOS, None, use_cache=False)
    assert cached.shape == (6, 25)
    assert torch.equal(cached, full)
    assert len(set(cached.flatten().tolist())) > 3   # not a degenerate constant output


def test_cached_step_logits_equal_full_decoder_logits():
    model = sharp_model(2)
    src = sources(2)
    tokens = torch.randint(3, 20, (6, 9))
    memory = model.encode(src)
    mask = mt.padding_mask(src, 0)
    full = model.decode(tokens, memory, mask)
    cache = model.decoder.new_cache()
    steps = [model.decode(tokens[:, t:t + 1], memory, mask, cache=cache) for t in range(9)]
    assert cache.length == 9
    assert (torch.cat(steps, dim=1) - full).abs().max().item() < 1e-5


def test_cache_accepts_a_prefix_of_several_tokens_then_single_steps():
    model = sharp_model(3)
    src = sources(3)
    tokens = torch.randint(3, 20, (6, 6))
    memory = model.encode(src)
    mask = mt.padding_mask(src, 0)
    full = model.decode(tokens, memory, mask)
    cache = model.decoder.new_cache()
    first = model.decode(tokens[:, :4], memory, mask, cache=cache)
    rest = [model.decode(tokens[:, t:t + 1], memory, mask, cache=cache) for t in (4, 5)]
    assert (torch.cat([first, *rest], dim=1) - full).abs().max().item() < 1e-5


def test_greedy_stops_at_eos_and_pads_after_it():
    model = sharp_model(4)
    src = sources(4)
    free = mt.greedy_decode(model, src, 20, BOS, None)
    eos = int(free[0, 2])                  # a token row 0 produces at step 3
    out = mt.greedy_decode(model, src, 20, BOS, eos)
    stopped = 0
    for row_free, row in zip(free, out, strict=True):
        hits = (row_free == eos).nonzero()
        if len(hits):
            stop = int(hits[0])
            stopped += 1
            assert torch.equal(row[: stop + 1], row_free[: stop + 1])
            assert (row[stop + 1:] == 0).all()
        else:
            assert torch.equal(row, row_free[: out.shape[1]])
    assert stopped >= 1


def test_beam_of_size_one_equals_greedy():
    model = sharp_model(5)
    src = sources(5)
    greedy = mt.greedy_decode(model, src, 15, BOS, EOS)
    beam = mt.beam_search(model, src, 1, 15, BOS, EOS)
    assert torch.equal(greedy, beam)


def test_beam_search_finds_sequences_at_least_as_probable_as_greedy():
    model = sharp_model(6)
    src = sources(6)
    greedy = mt.greedy_decode(model, src, 6, BOS, None)
    beam = mt.beam_search(model, src, 4, 6, BOS, EOS, length_penalty=0.0)

    def log_prob(out):
        tgt_in = torch.cat([torch.full((6, 1), BOS), out[:, :-1]], dim=1)
        logp = model(src, tgt_in).log_softmax(-1).gather(-1, out[:, :, None])[..., 0]
        keep = torch.ones_like(out, dtype=torch.bool)
        for i, row in enumerate(out):     # count tokens up to and including the first eos
            hits = (row == EOS).nonzero()
            if len(hits):
                keep[i, int(hits[0]) + 1:] = False
        return (logp * keep).sum(-1)

    assert (log_prob(beam) >= log_prob(greedy) - 1e-4).all()
    assert (log_prob(beam) > log_prob(greedy) + 1e-4).any()


def test_decoding_rejects_bad_arguments():
    model = sharp_model(7)
    src = sources(7)
    with pytest.raises(ValueError, match="max_len"):
        mt.greedy_decode(model, src, 0, BOS, EOS)
    with pytest.raises(ValueError, match="max_len"):
        mt.greedy_decode(model, src, 64, BOS, EOS)
    with pytest.raises(ValueError, match="bos_id"):
        mt.greedy_decode(model, src, 5, 20, EOS)
    with pytest.raises(ValueError, match="src"):
        mt.greedy_decode(model, src + 20, 5, BOS, EOS)
    with pytest.raises(TypeError, match="use_cache"):
        mt.greedy_decode(model, src, 5, BOS, EOS, use_cache="yes")
    with pytest.raises(TypeError, match="model"):
        mt.greedy_decode(torch.nn.Linear(2, 2), src, 5, BOS, EOS)
    with pytest.raises(ValueError, match="beam_size"):
        mt.beam_search(model, src, 0, 5, BOS, EOS)
    with pytest.raises(ValueError, match="length_penalty"):
        mt.beam_search(model, src, 2, 5, BOS, EOS, length_penalty=-1.0)


def test_exact_match_compares_up_to_eos_only():
    target = torch.tensor([[5, 6, EOS], [5, 6, EOS], [7, EOS, 0]])
    predicted = torch.tensor([[5, 6, EOS, 9], [5, 7, EOS, 0], [7, EOS, 4, 4]])
    assert mt.exact_match(predicted, target, EOS) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="target"):
        mt.exact_match(predicted, target[:2], EOS)


def test_beam_search_without_eos_generates_exactly_max_len_tokens_like_greedy():
    model = sharp_model(7)
    src = sources(7)
    beam = mt.beam_search(model, src, 3, 12, BOS, None)
    assert beam.shape == (6, 12)
    assert torch.equal(mt.beam_search(model, src, 1, 12, BOS, None),
                       mt.greedy_decode(model, src, 12, BOS, None))
