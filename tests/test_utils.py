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
