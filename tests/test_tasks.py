"""Tests for minitransformer/tasks.py: the read-out wrappers and the long-range experiment."""

import pytest
import torch
from torch import nn

import minitransformer as mt


def test_sequence_classifier_and_regressor_shapes():
    clf = mt.SequenceClassifier(mt.RNN(3, 4), 4, 5)
    reg = mt.SequenceRegressor(nn.LSTM(3, 4, batch_first=True), 4, 2)
    x = torch.randn(2, 7, 3)
    assert clf(x).shape == (2, 5)
    assert reg(x).shape == (2, 7, 2)


def test_sequence_classifier_reads_the_last_step_only():
    clf = mt.SequenceClassifier(mt.RNN(3, 4), 4, 2)
    x = torch.randn(2, 7, 3)
    changed = x.clone()
    changed[:, -1] += 1.0
    assert not torch.allclose(clf(x), clf(changed))
    assert torch.allclose(clf(x), clf(torch.cat([torch.zeros(2, 0, 3), x], dim=1)))


def test_wrappers_reject_bad_input():
    with pytest.raises(TypeError, match="recurrent"):
        mt.SequenceClassifier("rnn", 4, 2)
    with pytest.raises(ValueError, match="x must be a 3-D"):
        mt.SequenceRegressor(mt.RNN(3, 4), 4)(torch.zeros(2, 3))


def _factory(i, c):
    return mt.SequenceClassifier(nn.RNN(i, 16, batch_first=True), 16, c)


def test_train_long_range_learns_a_short_sequence_and_is_deterministic():
    acc = mt.train_long_range(_factory, 3, steps=100, lr=1e-2, n_test=200, seed=0)
    again = mt.train_long_range(_factory, 3, steps=100, lr=1e-2, n_test=200, seed=0)
    assert acc > 0.9
    assert acc == again


def test_train_long_range_on_a_named_device_gives_the_same_accuracy():
    on_default = mt.train_long_range(_factory, 3, steps=10, n_test=50, seed=1)
    on_cpu = mt.train_long_range(_factory, 3, steps=10, n_test=50, seed=1, device="cpu")
    assert on_cpu == on_default


def test_train_long_range_rejects_bad_arguments():
    with pytest.raises(ValueError, match="length"):
        mt.train_long_range(_factory, 0)
    with pytest.raises(TypeError, match="model_factory"):
        mt.train_long_range("not callable", 5)
    with pytest.raises(TypeError, match="model_factory must return"):
        mt.train_long_range(lambda i, c: None, 5, steps=1)
