"""Tests for minitransformer/checkpoint.py: saving and loading every configurable model."""

import dataclasses

import pytest
import torch
from torch import nn

import minitransformer as mt
from minitransformer.transformer import Transformer, TransformerConfig


def small_gpt(norm_first=True):
    return mt.GPTConfig(41, d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=0.0,
                        max_len=24, norm_first=norm_first)


def gpt_ids(b=3, t=11, seed=0):
    return torch.randint(0, 41, (b, t), generator=torch.Generator().manual_seed(seed))


def small_config(**overrides):
    fields = dict(d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=0.0, max_len=40)
    return TransformerConfig(23, 19, **{**fields, **overrides})


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


def test_checkpoint_round_trip_of_a_gpt_loads_safely_and_gives_the_same_logits(tmp_path):
    torch.manual_seed(9)
    model = mt.GPT(small_gpt(norm_first=False)).eval()
    mt.save_checkpoint(model, tmp_path / "gpt.pt", seed=0, bits_per_char=2.4)
    payload = torch.load(tmp_path / "gpt.pt", weights_only=True)
    assert payload["format"] == "minitransformer-gpt-v1"
    loaded, extra = mt.load_checkpoint(tmp_path / "gpt.pt")
    assert isinstance(loaded, mt.GPT) and not loaded.training
    assert loaded.config == model.config and extra == {"seed": 0, "bits_per_char": 2.4}
    assert torch.equal(loaded(gpt_ids()), model(gpt_ids()))


def test_checkpoint_that_does_not_fit_the_gpt_raises_a_clear_error(tmp_path):
    torch.manual_seed(10)
    mt.save_checkpoint(mt.GPT(small_gpt()), tmp_path / "gpt.pt")
    payload = torch.load(tmp_path / "gpt.pt", weights_only=True)
    payload["config"]["d_model"] = 64
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=r"bad\.pt does not fit the GPT"):
        mt.load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(TypeError, match="model must be a Transformer or a GPT"):
        mt.save_checkpoint(nn.Linear(2, 2), tmp_path / "x.pt")


@dataclasses.dataclass
class _TinyConfig:
    width: int = 3


class _Tiny(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.width, 2)


def test_a_model_joins_the_registry_with_one_entry(tmp_path, monkeypatch):
    monkeypatch.setitem(mt.checkpoint.MODELS, "test-tiny-v1", (_Tiny, _TinyConfig))
    model = _Tiny(_TinyConfig(width=5))
    mt.save_checkpoint(model, tmp_path / "tiny.pt", note="x")
    loaded, extra = mt.load_checkpoint(tmp_path / "tiny.pt")
    assert isinstance(loaded, _Tiny) and loaded.config == _TinyConfig(5) and extra == {"note": "x"}
    assert torch.equal(loaded.linear.weight, model.linear.weight)
    with pytest.raises(TypeError, match="model must be a Transformer, a GPT or a _Tiny"):
        mt.save_checkpoint(nn.Linear(2, 2), tmp_path / "x.pt")
