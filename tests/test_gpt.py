"""Tests for minitransformer/gpt.py: the decoder-only Transformer of chapter 7."""

import math

import pytest
import torch
from torch import nn

import minitransformer as mt


def small(norm_first=True, dropout=0.0, **overrides):
    fields = dict(d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=dropout, max_len=24,
                  norm_first=norm_first)
    return mt.GPTConfig(41, **{**fields, **overrides})


def ids(b=3, t=11, seed=0, vocab=41):
    return torch.randint(0, vocab, (b, t), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("norm_first", [False, True])
def test_block_matches_torch_encoder_layer_with_a_causal_mask(norm_first):
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True,
                                        norm_first=norm_first).eval()
    ours = mt.EncoderLayer.from_torch(theirs).eval()
    x = torch.randn(3, 9, 32)
    causal = mt.causal_mask(9)                       # True = may attend; PyTorch: True = blocked
    diff = (ours(x, causal)[0] - theirs(x, src_mask=~causal, is_causal=True)).abs().max()
    assert diff.item() < 1e-5


@pytest.mark.parametrize("norm_first", [False, True])
def test_gpt_equals_its_embedding_then_torch_layers_then_tied_projection(norm_first):
    """The whole model is made of exactly these blocks: swap each for nn.TransformerEncoderLayer
    with the same weights and a causal mask, and the logits agree."""
    torch.manual_seed(1)
    model = mt.GPT(small(norm_first)).eval()
    tokens = ids()
    x = model.embed(tokens) * math.sqrt(32) + mt.sinusoidal_positions(24, 32)[:11]
    causal = ~mt.causal_mask(11)
    for block in model.layers:
        theirs = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True,
                                            norm_first=norm_first).eval()
        theirs.load_state_dict(block.state_dict())
        x = theirs(x, src_mask=causal, is_causal=True)
    if norm_first:
        x = nn.functional.layer_norm(x, (32,), model.norm.weight, model.norm.bias)
    expected = x @ model.embed.weight.T
    assert (model(tokens) - expected).abs().max().item() < 1e-5


def test_logits_at_a_position_ignore_every_later_token():
    torch.manual_seed(2)
    model = mt.GPT(small()).eval()
    a = ids(seed=3)
    b = a.clone()
    b[:, 6:] = (b[:, 6:] + 1) % 41
    la, lb = model(a), model(b)
    assert torch.equal(la[:, :6], lb[:, :6])
    assert not torch.allclose(la[:, 6:], lb[:, 6:])


def test_output_shape_and_tied_embeddings():
    torch.manual_seed(3)
    model = mt.GPT(small())
    assert model(ids(2, 5)).shape == (2, 5, 41)
    d, v, f, n = 32, 41, 64, 2
    block = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d          # attention, FFN, 2 norms
    assert mt.count_parameters(model) == v * d + n * block + 2 * d  # one matrix, in and out
    model(ids(2, 5)).sum().backward()
    assert model.embed.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("norm_first", [False, True])
def test_cached_steps_give_the_logits_of_the_full_forward(norm_first):
    torch.manual_seed(4)
    model = mt.GPT(small(norm_first)).eval()
    tokens = ids(t=12, seed=5)
    cache = model.new_cache()
    steps = [model(tokens[:, :5], cache=cache)]
    steps += [model(tokens[:, t:t + 1], cache=cache) for t in range(5, 12)]
    assert len(cache[0]) == 12
    assert (torch.cat(steps, dim=1) - model(tokens)).abs().max().item() < 1e-5


def test_forward_with_weights_returns_the_same_logits_and_causal_rows_summing_to_one():
    torch.manual_seed(6)
    model = mt.GPT(small()).eval()
    tokens = ids(2, 7)
    logits, weights = model.forward_with_weights(tokens)
    assert (logits - model(tokens)).abs().max().item() < 1e-5
    assert len(weights) == 2 and weights[0].shape == (2, 4, 7, 7)
    for w in weights:
        assert torch.allclose(w.sum(-1), torch.ones(2, 4, 7))
        assert (w.triu(1) == 0).all()


def test_a_fixed_seed_fixes_the_model_whatever_was_allocated_before():
    torch.manual_seed(7)
    first = mt.GPT(small()).state_dict()
    torch.manual_seed(7)
    _ = [torch.empty(n) for n in range(1, 50)]        # allocations move memory addresses
    second = mt.GPT(small()).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_runs_in_the_dtype_of_the_model():
    torch.manual_seed(8)
    model = mt.GPT(small()).double().eval()
    assert model(ids(1, 4)).dtype == torch.float64


def test_bad_input_raises_errors_naming_the_argument():
    torch.manual_seed(11)
    model = mt.GPT(small())
    with pytest.raises(ValueError, match=r"ids contains token id 41, outside the vocabulary \[0, 41\)"):
        model(torch.tensor([[1, 41]]))
    with pytest.raises(ValueError, match=r"ids reach position 25 .* max_len is 24"):
        model(ids(1, 25))
    with pytest.raises(TypeError, match="ids must be an integer tensor"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="ids must be a 2-D tensor"):
        model(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="at least one position"):
        model(torch.zeros(1, 0, dtype=torch.long))
    with pytest.raises(TypeError, match=r"cache must be model\.new_cache\(\)"):
        model(ids(1, 2), cache=[mt.KVCache()])
    cache = model.new_cache()
    model.eval()(ids(1, 20), cache=cache)
    with pytest.raises(ValueError, match=r"ids reach position 25 \(cached 20 \+ new 5\)"):
        model(ids(1, 5), cache=cache)
    with pytest.raises(ValueError, match="cache holds a batch of 1"):
        model(ids(2, 1), cache=cache)


def test_config_rejects_bad_hyper_parameters_naming_them():
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads"):
        mt.GPTConfig(10, d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="vocab_size must be >= 1"):
        mt.GPTConfig(0)
    with pytest.raises(ValueError, match="dropout"):
        mt.GPTConfig(10, dropout=1.5)
    with pytest.raises(TypeError, match="norm_first must be a bool"):
        mt.GPTConfig(10, norm_first=1)
    with pytest.raises(TypeError, match="config must be a GPTConfig"):
        mt.GPT(mt.TransformerConfig(10, 10))


def test_train_shakespeare_script_trains_saves_and_reports_on_a_tiny_model(tmp_path, monkeypatch):
    """scripts/train_shakespeare.py end to end, shrunk: the GPT learns, the LSTM gets the
    same training time, the checkpoint loads safely, the JSON holds both curves."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "train_shakespeare.py"
    spec = importlib.util.spec_from_file_location("train_shakespeare", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(sys, "argv", [
        "train_shakespeare.py", "--steps", "30", "--seeds", "0", "--batch-size", "8",
        "--evals", "3", "--eval-windows", "4", "--threads", str(torch.get_num_threads()),
        "--model", '{"d_model": 32, "n_layers": 1, "d_ff": 64, "max_len": 32}',
        "--json", str(tmp_path / "runs.json"), "--checkpoint", str(tmp_path / "gpt.pt")])
    script.main()
    report = json.loads((tmp_path / "runs.json").read_text())
    gpt, lstm = report["runs"]["gpt"]["0"], report["runs"]["lstm"]["0"]
    assert gpt["step"][-1] == 30 and len(gpt["valid_bits_per_char"]) == 4
    assert gpt["valid_bits_per_char"][-1] < gpt["valid_bits_per_char"][0]
    assert gpt["final_valid_bits_per_char"] < math.log2(report["vocab_size"])
    # the LSTM trains for the GPT's wall-clock time (how many steps depends on the machine)
    assert lstm["train_seconds"] >= gpt["train_seconds"] and lstm["step"][-1] >= 1
    assert abs(lstm["parameters"] / gpt["parameters"] - 1) < 0.05
    model, extra = mt.load_checkpoint(tmp_path / "gpt.pt")
    assert isinstance(model, mt.GPT) and extra["steps"] == 30 and extra["seed"] == 0
    assert len(extra["chars"]) + 4 == model.config.vocab_size
    # another seed in another process, appended to the same JSON
    argv = sys.argv[:]
    argv[argv.index("--seeds") + 1] = "1"
    monkeypatch.setattr(sys, "argv", [*argv, "--append"])
    script.main()
    report = json.loads((tmp_path / "runs.json").read_text())
    assert sorted(report["runs"]["gpt"]) == sorted(report["runs"]["lstm"]) == ["0", "1"]
    assert report["runs"]["gpt"]["0"] == gpt


def test_kv_cache_bytes_counts_the_bytes_a_filled_cache_holds():
    torch.manual_seed(4)
    model = mt.GPT(small(n_layers=3)).eval()
    cache = model.new_cache()
    with torch.no_grad():
        model(ids(b=2, t=7), cache=cache)
        model(ids(b=2, t=1, seed=5), cache=cache)
    held = sum(t.numel() * t.element_size() for c in cache for t in (c.k, c.v))
    assert held == mt.kv_cache_bytes(n_layers=3, d_model=32, context=8, batch=2)
    assert mt.kv_cache_bytes(1, 8, 10, bytes_per_value=2) * 2 == mt.kv_cache_bytes(1, 8, 10)


def test_kv_cache_bytes_rejects_bad_arguments_naming_them():
    with pytest.raises(ValueError, match="context"):
        mt.kv_cache_bytes(2, 8, 0)
    with pytest.raises(TypeError, match="d_model"):
        mt.kv_cache_bytes(2, 8.0, 10)


def test_shipped_shakespeare_gpt_loads_with_weights_only_and_reads_its_characters():
    from pathlib import Path

    path = Path(mt.__file__).parent / "assets" / "shakespeare_gpt.pt"
    assert path.stat().st_size <= 5 * 2**20
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["format"] and payload["extra"]["seed"] == 0
    model, extra = mt.load_checkpoint(path)
    assert isinstance(model, mt.GPT) and len(extra["chars"]) + 4 == model.config.vocab_size
    tok = mt.CharTokenizer(extra["chars"])
    text = "ROMEO.\nWhat light"
    logits = model(torch.tensor([tok.encode(text)]))
    assert logits.shape == (1, len(text), model.config.vocab_size)
    assert extra["valid_bits_per_char"] < math.log2(model.config.vocab_size)
