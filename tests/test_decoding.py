"""Tests for minitransformer/decoding.py: greedy decoding, the key/value cache, beam search,
sampling (generate)."""

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
    full, _ = model.decode(tokens, memory, mask)
    cache = model.decoder.new_cache()
    steps = [model.decode(tokens[:, t:t + 1], memory, mask, cache=cache)[0] for t in range(9)]
    assert cache.length == 9
    assert (torch.cat(steps, dim=1) - full).abs().max().item() < 1e-5


def test_cache_accepts_a_prefix_of_several_tokens_then_single_steps():
    model = sharp_model(3)
    src = sources(3)
    tokens = torch.randint(3, 20, (6, 6))
    memory = model.encode(src)
    mask = mt.padding_mask(src, 0)
    full, _ = model.decode(tokens, memory, mask)
    cache = model.decoder.new_cache()
    first, _ = model.decode(tokens[:, :4], memory, mask, cache=cache)
    rest = [model.decode(tokens[:, t:t + 1], memory, mask, cache=cache)[0] for t in (4, 5)]
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


# --- sampling from a decoder-only model (generate) ------------------------------------------------

def sharp_gpt(seed=0, vocab=12, max_len=40, scale=4.0):
    """A random GPT whose logits spread widely, so distributions are far from uniform."""
    torch.manual_seed(seed)
    model = mt.GPT(mt.GPTConfig(vocab, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                                dropout=0.0, max_len=max_len)).eval()
    with torch.no_grad():
        model.embed.weight.mul_(scale)
    return model


def prompt(b=4, t=3, vocab=12, seed=0):
    return torch.randint(0, vocab, (b, t), generator=torch.Generator().manual_seed(seed))


def greedy(model, ids, n):
    for _ in range(n):
        ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids


def seeded(seed):
    return torch.Generator().manual_seed(seed)


def chi_square_p_value(counts, probs):
    """P-value of Pearson's chi-square statistic, from the chi-square CDF (df = k - 1)."""
    expected = probs * counts.sum()
    keep = expected > 0
    stat = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    df = keep.sum() - 1
    return torch.special.gammaincc(df / 2.0, stat / 2.0).item()


def test_generate_returns_the_prompt_followed_by_the_new_tokens():
    model, ids = sharp_gpt(1, scale=1.0), prompt()
    out = mt.generate(model, ids, 9, generator=seeded(0))
    assert out.shape == (4, 3 + 9) and out.dtype == torch.long
    assert torch.equal(out[:, :3], ids)
    assert torch.equal(mt.generate(model, ids, 0), ids)
    assert torch.equal(out, mt.generate(model, ids, 9, generator=seeded(0)))
    assert not torch.equal(out, mt.generate(model, ids, 9, generator=seeded(1)))


def test_top_k_1_is_greedy_decoding_whatever_the_seed():
    model, ids = sharp_gpt(2), prompt(seed=2)
    expected = greedy(model, ids, 15)
    for seed in range(3):
        assert torch.equal(mt.generate(model, ids, 15, top_k=1, generator=seeded(seed)),
                           expected)


def test_temperature_towards_zero_is_greedy_decoding():
    model, ids = sharp_gpt(3), prompt(seed=3)
    sampled = mt.generate(model, ids, 15, temperature=1e-4, generator=seeded(0))
    assert torch.equal(sampled, greedy(model, ids, 15))


@pytest.mark.parametrize("temperature", [0.6, 1.0, 1.8])
def test_token_frequencies_match_softmax_of_logits_over_temperature(temperature):
    model = sharp_gpt(4, scale=0.7)          # probabilities 0.01-0.56: spread, not one-hot
    n = 20_000
    ids = prompt(1, 3, seed=4).expand(n, 3)
    drawn = mt.generate(model, ids, 1, temperature=temperature, generator=seeded(5))[:, -1]
    counts = torch.bincount(drawn, minlength=12).double()
    logits = model(ids[:1])[0, -1].double()
    assert chi_square_p_value(counts, (logits / temperature).softmax(-1)) > 1e-3
    # the test has the power to see a wrong temperature
    assert chi_square_p_value(counts, (logits / (temperature * 1.5)).softmax(-1)) < 1e-6


def test_top_k_samples_only_the_k_most_probable_tokens_in_proportion():
    model = sharp_gpt(5, scale=1.0)
    n = 20_000
    ids = prompt(1, 3, seed=6).expand(n, 3)
    drawn = mt.generate(model, ids, 1, top_k=4, generator=seeded(7))[:, -1]
    counts = torch.bincount(drawn, minlength=12).double()
    logits = model(ids[:1])[0, -1].double()
    top = logits.topk(4).indices
    assert set(drawn.unique().tolist()) == set(top.tolist())
    probs = torch.zeros(12, dtype=torch.float64)
    probs[top] = logits[top].softmax(-1)
    assert chi_square_p_value(counts, probs) > 1e-3


def test_top_p_keeps_the_smallest_set_of_tokens_whose_probability_reaches_p():
    probs = torch.tensor([0.10, 0.40, 0.05, 0.25, 0.20])        # sorted: 1, 3, 4, 0, 2
    logits = probs.log()
    for p, kept in [(0.3, {1}), (0.6, {1, 3}), (0.66, {1, 3, 4}), (0.9, {1, 3, 4, 0}),
                    (1.0, {0, 1, 2, 3, 4})]:
        out = mt.filter_logits(logits, top_p=p)
        assert set(torch.isfinite(out).nonzero().flatten().tolist()) == kept, p
        assert torch.equal(out[torch.isfinite(out)], logits[torch.isfinite(out)])


def test_top_p_on_random_logits_keeps_the_most_probable_tokens_reaching_p_and_no_more():
    g = seeded(8)
    logits = 2 * torch.randn(50, 30, generator=g, dtype=torch.float64)
    ps = torch.rand(50, generator=g, dtype=torch.float64) * 0.98 + 0.01
    for row, p in zip(logits, ps.tolist()):
        probs = row.softmax(-1)
        kept = torch.isfinite(mt.filter_logits(row, top_p=p))
        assert probs[kept].sum() >= p                           # reaches p ...
        assert probs[kept].sum() - probs[kept].min() < p        # ... and is the smallest
        assert probs[kept].min() >= probs[~kept].max()          # with the most probable


def test_filter_logits_top_k_keeps_the_k_largest():
    logits = torch.tensor([[1.0, 5.0, 3.0, 4.0], [0.0, -1.0, 2.0, 1.0]])
    out = mt.filter_logits(logits, top_k=2)
    assert torch.isfinite(out).tolist() == [[False, True, False, True], [False, False, True, True]]
    assert torch.equal(mt.filter_logits(logits, top_k=10), logits)


@pytest.mark.parametrize("options", [{}, {"top_k": 5}, {"top_p": 0.8, "temperature": 0.7}])
def test_cached_and_uncached_generation_give_the_same_tokens_for_the_same_generator(options):
    model, ids = sharp_gpt(6, scale=1.0), prompt(3, 4, seed=9)
    cached = mt.generate(model, ids, 30, generator=seeded(10), use_cache=True, **options)
    full = mt.generate(model, ids, 30, generator=seeded(10), use_cache=False, **options)
    assert torch.equal(cached, full)
    assert len(set(cached[:, 4:].flatten().tolist())) > 3       # really sampling


def test_generate_rejects_bad_arguments_naming_them():
    model, ids = sharp_gpt(7), prompt()
    for kwargs, name in [({"temperature": 0.0}, "temperature"), ({"temperature": -1.0}, "temperature"),
                         ({"top_k": 0}, "top_k"), ({"top_p": 0.0}, "top_p"),
                         ({"top_p": 1.5}, "top_p"), ({"top_p": -0.1}, "top_p"),
                         ({"max_new_tokens": -1}, "max_new_tokens")]:
        kwargs = {"max_new_tokens": 3, **kwargs}
        with pytest.raises(ValueError, match=name):
            mt.generate(model, ids, **kwargs)
    with pytest.raises(ValueError, match=r"prompt_ids contains token id 12, outside the vocabulary"):
        mt.generate(model, torch.tensor([[1, 12]]), 3)
    with pytest.raises(ValueError, match=r"prompt \(3 tokens\) plus max_new_tokens \(38\) .* max_len = 40"):
        mt.generate(model, ids, 38)
    with pytest.raises(TypeError, match="decoder-only"):
        mt.generate(sharp_model(), ids, 3)
    with pytest.raises(TypeError, match="generator"):
        mt.generate(model, ids, 3, generator=0)
    with pytest.raises(ValueError, match="top_k"):
        mt.filter_logits(torch.zeros(5), top_k=0)


def test_token_ids_are_checked_once_per_call_not_at_every_step(monkeypatch):
    """Reading the ids' range costs as much as a small layer: the decoding loops check the
    source once where they enter the model, then run its unchecked path."""
    import minitransformer.transformer as transformer

    original, calls = transformer.check_token_ids, []

    def counting(name, *args, **kwargs):
        calls.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(transformer, "check_token_ids", counting)
    model, src = sharp_model(8), sources(8)
    for use_cache in (True, False):
        calls.clear()
        mt.greedy_decode(model, src, 10, BOS, None, use_cache=use_cache)
        assert calls == ["src"]
    calls.clear()
    mt.beam_search(model, src, 2, 10, BOS, None)
    assert calls == ["src"]
    calls.clear()
    model(src, src[:, :3])
    assert calls == ["src", "tgt"]
