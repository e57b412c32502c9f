"""Tests for the chapters 2-4 section of minitransformer/data.py: the sequence tasks."""

import pytest
import torch

import minitransformer as mt


def test_noisy_sines_shapes_and_target_is_next_clean_value():
    x, y = mt.data.noisy_sines(5, 12, noise=0.0, seed=1)
    assert x.shape == (5, 12, 1) and y.shape == (5, 12, 1)
    assert x.dtype == torch.float32
    assert torch.allclose(x[:, 1:], y[:, :-1])   # without noise, input t+1 is target t
    assert y.abs().max() <= 1.0


def test_noisy_sines_is_deterministic_and_seed_dependent():
    a = mt.data.noisy_sines(3, 8, seed=4)
    b = mt.data.noisy_sines(3, 8, seed=4)
    c = mt.data.noisy_sines(3, 8, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_noisy_sines_noise_has_requested_scale():
    x, y = mt.data.noisy_sines(200, 50, noise=0.3, seed=0)
    residual = x[:, 1:] - y[:, :-1]
    assert abs(float(residual.std()) - 0.3) < 0.02


def test_remember_first_label_is_the_first_symbol_and_the_rest_are_distractors():
    x, y = mt.data.remember_first(50, 9, n_classes=3, n_distractors=2, seed=0)
    assert x.shape == (50, 9, 5) and y.shape == (50,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x.sum(-1), torch.ones(50, 9))       # one-hot
    assert torch.equal(x[:, 0].argmax(-1), y)
    assert bool((x[:, 1:].argmax(-1) >= 3).all())           # later steps: distractors only
    assert set(y.tolist()) == {0, 1, 2}


def test_remember_first_is_deterministic_and_seed_dependent():
    a = mt.data.remember_first(20, 6, seed=3)
    b = mt.data.remember_first(20, 6, seed=3)
    c = mt.data.remember_first(20, 6, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("fn, kwargs, error, match", [
    (mt.data.noisy_sines, {"n_sequences": 0, "length": 5}, ValueError, "n_sequences"),
    (mt.data.noisy_sines, {"n_sequences": 2, "length": 2.5}, TypeError, "length"),
    (mt.data.noisy_sines, {"n_sequences": 2, "length": 5, "noise": -1.0}, ValueError, "noise"),
    (mt.data.remember_first, {"n_sequences": 2, "length": 0}, ValueError, "length"),
    (mt.data.remember_first, {"n_sequences": 2, "length": 5, "n_classes": 1}, ValueError,
     "n_classes"),
    (mt.data.remember_first, {"n_sequences": 2, "length": 5, "seed": -1}, ValueError, "seed"),
])
def test_sequence_tasks_reject_bad_arguments(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(**kwargs)
