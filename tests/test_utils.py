"""Seeding makes runs repeat exactly; the timer returns a median of positive durations."""

import random

import numpy as np
import pytest
import torch

import minitransformer as mt


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    mt.seed_everything(123)
    first = draw()
    mt.seed_everything(123)
    assert draw() == first
    mt.seed_everything(124)
    assert draw() != first


def test_seed_everything_returns_a_seeded_generator():
    a = torch.rand(3, generator=mt.seed_everything(7))
    b = torch.rand(3, generator=mt.seed_everything(7))
    assert torch.equal(a, b)


def test_seed_everything_rejects_bad_seeds():
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        mt.seed_everything(-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        mt.seed_everything(1.5)


def test_time_it_runs_warmup_plus_repeats_and_returns_a_duration():
    calls = []
    seconds = mt.time_it(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5
    assert seconds >= 0.0


def test_time_it_rejects_non_callables_and_zero_repeats():
    with pytest.raises(TypeError, match="fn must be callable"):
        mt.time_it(42)
    with pytest.raises(ValueError, match="repeats must be >= 1, got 0"):
        mt.time_it(lambda: None, repeats=0)


def test_seed_from_env_reads_the_variable_and_falls_back_to_the_default(monkeypatch):
    monkeypatch.delenv("MINITRANSFORMER_SEED", raising=False)
    assert mt.seed_from_env() == 0
    assert mt.seed_from_env(default=5) == 5
    monkeypatch.setenv("MINITRANSFORMER_SEED", " 3 ")
    assert mt.seed_from_env() == 3


@pytest.mark.parametrize("text", ["abc", "-1", "1.5"])
def test_seed_from_env_names_the_variable_when_it_is_not_a_seed(monkeypatch, text):
    monkeypatch.setenv("MINITRANSFORMER_SEED", text)
    with pytest.raises(ValueError, match="MINITRANSFORMER_SEED"):
        mt.seed_from_env()


def test_device_from_env_reads_the_variable_and_falls_back_to_the_default(monkeypatch):
    monkeypatch.delenv("MINITRANSFORMER_DEVICE", raising=False)
    assert mt.device_from_env() == torch.device("cpu")
    assert mt.device_from_env(default="meta") == torch.device("meta")
    monkeypatch.setenv("MINITRANSFORMER_DEVICE", " meta ")
    assert mt.device_from_env() == torch.device("meta")


@pytest.mark.parametrize("text", ["gpu", "cuda:x", "nonsense"])
def test_device_from_env_names_the_variable_when_it_is_not_a_device(monkeypatch, text):
    monkeypatch.setenv("MINITRANSFORMER_DEVICE", text)
    with pytest.raises(ValueError, match="MINITRANSFORMER_DEVICE"):
        mt.device_from_env()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_device_from_env_refuses_cuda_where_torch_cannot_use_it(monkeypatch):
    monkeypatch.setenv("MINITRANSFORMER_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"cuda.*is_available\(\) is False"):
        mt.device_from_env()


def test_device_from_env_rejects_a_default_that_is_not_a_string():
    with pytest.raises(TypeError, match="default"):
        mt.device_from_env(default=torch.device("cpu"))


def test_record_result_does_nothing_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("MINITRANSFORMER_RECORD", raising=False)
    monkeypatch.chdir(tmp_path)
    mt.record_result("accuracy", 0.5)
    assert list(tmp_path.iterdir()) == []


def test_record_result_collects_values_that_read_results_returns_by_seed(monkeypatch, tmp_path):
    import json

    record = tmp_path / "run.json"
    monkeypatch.setenv("MINITRANSFORMER_RECORD", str(record))
    mt.record_result("accuracy", np.float32(0.75))
    mt.record_result("solved", np.bool_(True))
    mt.record_result("steps", 12)
    assert json.loads(record.read_text()) == {"accuracy": 0.75, "solved": True, "steps": 12}
    gathered = tmp_path / "chapter.json"
    gathered.write_text(json.dumps({"results": {"accuracy": {"0": 0.75, "3": 0.5}}}))
    assert mt.read_results(gathered) == {"accuracy": {0: 0.75, 3: 0.5}}


@pytest.mark.parametrize("value", [float("nan"), "high", None, [1]])
def test_record_result_rejects_values_that_are_not_finite_numbers(value):
    with pytest.raises(TypeError, match="value must be a finite"):
        mt.record_result("x", value)


def test_read_results_rejects_a_file_it_did_not_write(tmp_path):
    path = tmp_path / "other.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match=r"scripts/claims\.py"):
        mt.read_results(path)


def test_importing_the_package_changes_no_global_state():
    # A fresh interpreter: matplotlib's settings and torch's seed/thread count before and after.
    import subprocess
    import sys

    code = (
        "import matplotlib, torch, numpy as np\n"
        "before = (dict(matplotlib.rcParams), torch.initial_seed(), torch.get_num_threads(),\n"
        "          torch.get_default_dtype(), np.random.get_state()[1][:4].tolist())\n"
        "import minitransformer\n"
        "after = (dict(matplotlib.rcParams), torch.initial_seed(), torch.get_num_threads(),\n"
        "         torch.get_default_dtype(), np.random.get_state()[1][:4].tolist())\n"
        "changed = [k for k in before[0] if before[0][k] != after[0][k]]\n"
        "assert not changed, f'rcParams changed: {changed}'\n"
        "assert before[1:] == after[1:], (before[1:], after[1:])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
