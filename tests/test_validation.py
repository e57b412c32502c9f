"""The argument checks behind every public function: right errors, with names and values."""

import numpy as np
import pytest
import torch

from minitransformer import _validation as v


def test_check_int_accepts_numpy_ints_and_rejects_bools_and_floats():
    assert v.check_int("n", np.int64(3), minimum=1) == 3
    with pytest.raises(TypeError, match=r"n must be an int, got True"):
        v.check_int("n", True)
    with pytest.raises(TypeError, match=r"n must be an int, got 2\.0"):
        v.check_int("n", 2.0)


def test_check_int_names_the_bound_and_the_value():
    with pytest.raises(ValueError, match=r"hidden_size must be >= 1, got 0"):
        v.check_int("hidden_size", 0, minimum=1)
    with pytest.raises(ValueError, match=r"k must be <= 4, got 5"):
        v.check_int("k", 5, maximum=4)


def test_check_float_rejects_nan_and_out_of_range_with_interval():
    with pytest.raises(ValueError, match="p must be finite"):
        v.check_float("p", float("nan"))
    with pytest.raises(ValueError, match=r"p must be in \[0.0, 1.0\], got 1.5"):
        v.check_float("p", 1.5, minimum=0.0, maximum=1.0)


def test_check_float_open_interval_excludes_endpoints():
    assert v.check_float("lr", 0.5, minimum=0.0, inclusive=False) == 0.5
    with pytest.raises(ValueError, match=r"lr must be in \(0.0, inf\), got 0.0"):
        v.check_float("lr", 0.0, minimum=0.0, inclusive=False)


def test_check_choice_lists_the_choices():
    with pytest.raises(ValueError, match=r"nonlinearity must be one of \['tanh', 'relu'\], got 'gelu'"):
        v.check_choice("nonlinearity", "gelu", ["tanh", "relu"])


def test_check_tensor_reports_rank_shape_and_dtype():
    x = torch.zeros(2, 3)
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor, got"):
        v.check_tensor("x", np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"x must be a 3-D tensor of shape \(B, T, 4\), got a 2-D tensor of shape \(2, 3\)"):
        v.check_tensor("x", x, shape=("B", "T", 4))
    with pytest.raises(ValueError, match=r"dimension 1 is 3, expected 4"):
        v.check_tensor("x", x, shape=("B", 4))
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor, got dtype torch\.int64"):
        v.check_tensor("x", x.long(), dtype="float")
    with pytest.raises(TypeError, match="src must be an integer tensor"):
        v.check_tensor("src", x, dtype="int")
    assert v.check_tensor("x", x, shape=(None, 3), dtype="float") is x


def test_check_token_ids_names_the_offending_id_and_vocabulary_size():
    tokens = torch.tensor([[1, 2, 11]])
    with pytest.raises(ValueError, match=r"src contains token id 11, outside the vocabulary \[0, 10\)"):
        v.check_token_ids("src", tokens, 10)
    with pytest.raises(ValueError, match=r"token id -1"):
        v.check_token_ids("src", torch.tensor([[-1, 2]]), 10)
    assert v.check_token_ids("src", torch.tensor([[0, 9]]), 10).shape == (1, 2)


def test_check_mask_rejects_non_bool_and_non_broadcastable_masks():
    target = (2, 4, 5, 6)
    assert v.check_mask("mask", torch.ones(5, 6, dtype=torch.bool), target).shape == (5, 6)
    assert v.check_mask("mask", torch.ones(2, 1, 1, 6, dtype=torch.bool), target).dim() == 4
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        v.check_mask("mask", torch.ones(5, 6), target)
    with pytest.raises(ValueError, match=r"mask must broadcast to \(2, 4, 5, 6\).*got shape \(6, 5\)"):
        v.check_mask("mask", torch.ones(6, 5, dtype=torch.bool), target)
    with pytest.raises(ValueError, match=r"mask must broadcast"):
        v.check_mask("mask", torch.ones(1, 2, 4, 5, 6, dtype=torch.bool), target)
