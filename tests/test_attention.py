"""Tests for minitransformer/attention.py: masks, scaled dot-product and multi-head attention."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import minitransformer as mt
from minitransformer.attention import (
    KVCache,
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)

# --- masks ----------------------------------------------------------------------------------------


def test_causal_mask_allows_exactly_the_past_and_present():
    mask = causal_mask(4)
    assert mask.dtype == torch.bool and mask.shape == (4, 4)
    for i in range(4):
        for j in range(4):
            assert bool(mask[i, j]) == (j <= i)


def test_padding_mask_is_true_on_real_tokens_with_broadcast_shape():
    tokens = torch.tensor([[5, 6, 0, 0], [7, 0, 8, 9]])
    mask = padding_mask(tokens, pad_id=0)
    assert mask.shape == (2, 1, 1, 4)
    assert mask[:, 0, 0].tolist() == [[True, True, False, False], [True, False, True, True]]


def test_mask_builders_reject_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        causal_mask(0)
    with pytest.raises(TypeError, match="tokens"):
        padding_mask(torch.zeros(2, 3), pad_id=0)
    with pytest.raises(ValueError, match="tokens"):
        padding_mask(torch.zeros(3, dtype=torch.long), pad_id=0)
    with pytest.raises(ValueError, match="pad_id"):
        padding_mask(torch.zeros(2, 3, dtype=torch.long), pad_id=-1)


# --- scaled dot-product attention ------------------------------------------------------------------


def _by_hand(q, k, v, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V written out with explicit loops over rows."""
    d_k = q.shape[-1]
    out = torch.zeros(q.shape[0], v.shape[-1], dtype=q.dtype)
    weights = torch.zeros(q.shape[0], k.shape[0], dtype=q.dtype)
    for i in range(q.shape[0]):
        scores = torch.tensor([float(q[i] @ k[j]) / math.sqrt(d_k) for j in range(k.shape[0])],
                              dtype=q.dtype)
        allowed = torch.ones(k.shape[0], dtype=torch.bool) if mask is None else mask[i]
        if not allowed.any():
            continue
        e = torch.where(allowed, torch.exp(scores - scores[allowed].max()), 0.0)
        weights[i] = e / e.sum()
        out[i] = weights[i] @ v
    return out, weights


def test_scaled_dot_product_matches_the_formula_computed_by_hand():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(5, 8, generator=g, dtype=torch.float64),
               torch.randn(7, 8, generator=g, dtype=torch.float64),
               torch.randn(7, 3, generator=g, dtype=torch.float64))
    mask = torch.rand(5, 7, generator=g) > 0.3
    mask[:, 0] = True
    for m in (None, mask):
        out, weights = scaled_dot_product_attention(q, k, v, m)
        want_out, want_weights = _by_hand(q, k, v, m)
        torch.testing.assert_close(out, want_out)
        torch.testing.assert_close(weights, want_weights)


def test_attention_weights_are_probabilities_that_ignore_masked_keys():
    q, k, v = torch.randn(2, 3, 4, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 5)
    mask = padding_mask(torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]), 0)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 4))
    assert (weights[0, :, :, 4:] == 0).all()


def test_fully_masked_query_gets_zero_output_and_finite_gradients():
    q = torch.randn(1, 3, 4, requires_grad=True)
    k = torch.randn(1, 5, 4, requires_grad=True)
    v = torch.randn(1, 5, 2, requires_grad=True)
    mask = torch.ones(1, 3, 5, dtype=torch.bool)
    mask[0, 1] = False  # query 1 may attend to nothing
    for need_weights in (True, False):
        out, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)
        assert torch.isfinite(out).all()
        assert (out[0, 1] == 0).all()
        if need_weights:
            assert (weights[0, 1] == 0).all() and torch.isfinite(weights).all()
        out.sum().backward()
        for x in (q, k, v):
            assert torch.isfinite(x.grad).all()
        assert (q.grad[0, 1] == 0).all()
        q.grad = k.grad = v.grad = None


def test_fused_path_equals_explicit_path_with_and_without_masks():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 4, 6, 8, generator=g), torch.randn(2, 4, 6, 8, generator=g),
               torch.randn(2, 4, 6, 8, generator=g))
    tokens = torch.tensor([[3, 4, 5, 0, 0, 0], [3, 4, 5, 6, 7, 8]])
    dead = torch.ones(2, 1, 6, 6, dtype=torch.bool)
    dead[0, 0, 2] = False  # one fully masked row
    for mask in (None, causal_mask(6), padding_mask(tokens, 0), padding_mask(tokens, 0) & causal_mask(6),
                 dead):
        explicit, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=True)
        fused, none = scaled_dot_product_attention(q, k, v, mask, need_weights=False)
        assert none is None and weights is not None
        assert (explicit - fused).abs().max() < 1e-6


def test_dropout_on_weights_is_applied_only_when_asked():
    torch.manual_seed(0)
    q = k = v = torch.randn(1, 4, 16, 8)
    _, clean = scaled_dot_product_attention(q, k, v)
    _, dropped = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert (dropped == 0).any() and not (clean == 0).any()


def test_scaled_dot_product_rejects_bad_inputs():
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    with pytest.raises(TypeError, match="q"):
        scaled_dot_product_attention(q.long(), k, v)
    with pytest.raises(ValueError, match="k must have the same last dimension"):
        scaled_dot_product_attention(q, torch.randn(2, 5, 3), v)
    with pytest.raises(ValueError, match="v must have as many positions"):
        scaled_dot_product_attention(q, k, torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match="mask"):
        scaled_dot_product_attention(q, k, v, torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask"):
        scaled_dot_product_attention(q, k, v, torch.ones(3, 5))
    with pytest.raises(ValueError, match="dropout_p"):
        scaled_dot_product_attention(q, k, v, dropout_p=1.5)


@settings(max_examples=30, deadline=None)
@given(tq=st.integers(1, 5), tk=st.integers(1, 5), mq=st.integers(1, 6), mk=st.integers(1, 6))
def test_mask_that_would_grow_the_scores_is_rejected_never_broadcast(tq, tk, mq, mk):
    q, k, v = torch.randn(2, tq, 4), torch.randn(2, tk, 4), torch.randn(2, tk, 4)
    mask = torch.ones(mq, mk, dtype=torch.bool)
    fits = mq in (1, tq) and mk in (1, tk)
    if fits:
        out, _ = scaled_dot_product_attention(q, k, v, mask)
        assert out.shape == (2, tq, 4)
    else:
        with pytest.raises(ValueError, match="mask"):
            scaled_dot_product_attention(q, k, v, mask)


# --- multi-head attention --------------------------------------------------------------------------


def _pair(d_model=16, n_heads=4, bias=True, batch_first=True, seed=0):
    torch.manual_seed(seed)
    theirs = nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=batch_first).eval()
    with torch.no_grad():  # PyTorch zero-initialises biases: make them matter in the comparison
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return theirs, MultiHeadAttention.from_torch(theirs).eval()


@pytest.mark.parametrize("bias", [True, False])
def test_multihead_matches_torch_self_and_cross_attention(bias):
    theirs, ours = _pair(bias=bias)
    x, memory = torch.randn(3, 5, 16), torch.randn(3, 7, 16)
    for q, kv in ((x, x), (x, memory)):
        want, want_w = theirs(q, kv, kv)
        got, got_w = ours(q, kv, kv)
        assert (got - want).abs().max() < 1e-5
        assert (got_w.mean(dim=1) - want_w).abs().max() < 1e-5


def test_multihead_matches_torch_with_key_padding_and_causal_masks():
    theirs, ours = _pair()
    x = torch.randn(2, 6, 16)
    tokens = torch.tensor([[4, 5, 6, 7, 0, 0], [4, 5, 6, 7, 8, 9]])
    keep = padding_mask(tokens, pad_id=0)  # ours: True = may attend
    causal = causal_mask(6)
    want, want_w = theirs(x, x, x, key_padding_mask=tokens == 0)  # torch: True = blocked
    got, got_w = ours(x, x, x, mask=keep)
    assert (got - want).abs().max() < 1e-5 and (got_w.mean(1) - want_w).abs().max() < 1e-5
    want, want_w = theirs(x, x, x, attn_mask=~causal)
    got, got_w = ours(x, x, x, mask=causal)
    assert (got - want).abs().max() < 1e-5 and (got_w.mean(1) - want_w).abs().max() < 1e-5
    want, want_w = theirs(x, x, x, attn_mask=~causal, key_padding_mask=tokens == 0)
    got, got_w = ours(x, x, x, mask=keep & causal)
    assert (got - want).abs().max() < 1e-5 and (got_w.mean(1) - want_w).abs().max() < 1e-5


def test_from_torch_accepts_sequence_first_modules_since_weights_are_the_same():
    theirs, ours = _pair(batch_first=False)
    x = torch.randn(2, 5, 16)
    want, _ = theirs(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1))
    got, _ = ours(x, x, x)
    assert (got - want.transpose(0, 1)).abs().max() < 1e-5


def test_from_torch_rejects_modules_without_a_counterpart():
    with pytest.raises(TypeError, match="module"):
        MultiHeadAttention.from_torch(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="kdim"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4))
    with pytest.raises(ValueError, match="add_bias_kv"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, add_bias_kv=True))
    with pytest.raises(ValueError, match="add_zero_attn"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, add_zero_attn=True))


def test_multihead_fused_path_equals_explicit_path():
    _, ours = _pair()
    x = torch.randn(2, 6, 16)
    mask = padding_mask(torch.tensor([[1, 1, 1, 0, 0, 0], [1] * 6]), 0) & causal_mask(6)
    for m in (None, mask):
        explicit, weights = ours(x, x, x, mask=m)
        fused, none = ours(x, x, x, mask=m, need_weights=False)
        assert none is None and weights.shape == (2, 4, 6, 6)
        assert (explicit - fused).abs().max() < 1e-6


def test_multihead_fully_masked_row_gives_zero_attention_and_finite_gradients():
    _, ours = _pair()
    x = torch.randn(2, 4, 16, requires_grad=True)
    mask = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    mask[1] = True
    out, weights = ours(x, x, x, mask=mask)
    assert torch.isfinite(out).all() and (weights[0] == 0).all()
    # a query that sees nothing gets a zero head output, so only the out-projection bias remains
    assert torch.allclose(out[0], ours.out_proj.bias.expand(4, 16))
    out.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in ours.parameters())


def test_self_attention_without_positions_is_permutation_equivariant():
    _, ours = _pair()
    x = torch.randn(2, 7, 16)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(3))
    out, _ = ours(x, x, x)
    out_perm, _ = ours(x[:, perm], x[:, perm], x[:, perm])
    assert (out_perm - out[:, perm]).abs().max() < 1e-5
    assert (out_perm - out).abs().max() > 1e-3  # the permutation really moved things


def test_cached_step_by_step_self_attention_equals_full_causal_computation():
    _, ours = _pair()
    x = torch.randn(3, 6, 16)
    full, full_w = ours(x, x, x, mask=causal_mask(6))
    cache = KVCache()
    steps = []
    for t in range(6):
        out, w = ours(x[:, t:t + 1], x[:, t:t + 1], x[:, t:t + 1], cache=cache)
        assert len(cache) == t + 1 and w.shape == (3, 4, 1, t + 1)
        torch.testing.assert_close(w[:, :, 0], full_w[:, :, t, :t + 1])
        steps.append(out)
    assert (torch.cat(steps, dim=1) - full).abs().max() < 1e-5


def test_cache_accepts_several_new_positions_with_a_mask_over_all_cached_keys():
    _, ours = _pair()
    x = torch.randn(2, 5, 16)
    full, _ = ours(x, x, x, mask=causal_mask(5))
    cache = KVCache()
    first, _ = ours(x[:, :3], x[:, :3], x[:, :3], mask=causal_mask(3), cache=cache)
    rest, _ = ours(x[:, 3:], x[:, 3:], x[:, 3:], mask=causal_mask(5)[3:], cache=cache)
    assert (torch.cat([first, rest], 1) - full).abs().max() < 1e-5


def test_static_cache_projects_cross_attention_memory_once_and_reuses_it():
    _, ours = _pair()
    x, memory = torch.randn(2, 4, 16), torch.randn(2, 7, 16)
    keep = padding_mask(torch.tensor([[1] * 5 + [0] * 2, [1] * 7]), 0)
    full, _ = ours(x, memory, memory, mask=keep)
    cache = KVCache(static=True)
    first, _ = ours(x[:, :1], memory, memory, mask=keep, cache=cache)
    k_first = cache.k
    later = [ours(x[:, t:t + 1], None, None, mask=keep, cache=cache)[0] for t in range(1, 4)]
    assert cache.k is k_first and len(cache) == 7
    assert (torch.cat([first, *later], 1) - full).abs().max() < 1e-5


def test_cache_reorder_keeps_the_chosen_batch_rows():
    _, ours = _pair()
    x = torch.randn(3, 2, 16)
    cache = KVCache()
    ours(x, x, x, cache=cache)
    k = cache.k.clone()
    cache.reorder(torch.tensor([2, 2, 0]))
    assert torch.equal(cache.k, k[[2, 2, 0]])


def test_multihead_rejects_bad_configuration_and_inputs():
    with pytest.raises(ValueError, match=r"d_model must be divisible by n_heads.*d_model=10.*n_heads=4"):
        MultiHeadAttention(10, 4)
    with pytest.raises(TypeError, match="d_model"):
        MultiHeadAttention(8.0, 2)
    ours = MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(ValueError, match="query"):
        ours(torch.randn(2, 3, 7), x, x)
    with pytest.raises(ValueError, match="key"):
        ours(x, torch.randn(2, 3, 6), x)
    with pytest.raises(ValueError, match="value"):
        ours(x, x, torch.randn(2, 4, 8))
    with pytest.raises(TypeError, match="query"):
        ours(x.long(), x, x)
    with pytest.raises(TypeError, match="query"):
        ours(x.double(), x.double(), x.double())
    with pytest.raises(ValueError, match="mask"):
        ours(x, x, x, mask=torch.ones(2, 3, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="cache"):
        ours(x, x, x, cache={})
    with pytest.raises(ValueError, match="cache"):
        cache = KVCache()
        ours(x, x, x, cache=cache)
        ours(torch.randn(1, 1, 8), torch.randn(1, 1, 8), torch.randn(1, 1, 8), cache=cache)


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 3), tq=st.integers(1, 5), tk=st.integers(1, 5),
       heads=st.sampled_from([1, 2, 4]), seed=st.integers(0, 1000))
def test_multihead_matches_torch_for_random_shapes(batch, tq, tk, heads, seed):
    theirs, ours = _pair(d_model=8, n_heads=heads, seed=seed)
    g = torch.Generator().manual_seed(seed)
    q, kv = torch.randn(batch, tq, 8, generator=g), torch.randn(batch, tk, 8, generator=g)
    keep = torch.rand(batch, tk, generator=g) > 0.3
    keep[:, 0] = True  # torch gives NaN for fully masked rows; ours gives zeros (tested above)
    want, want_w = theirs(q, kv, kv, key_padding_mask=~keep)
    got, got_w = ours(q, kv, kv, mask=keep[:, None, None, :])
    assert (got - want).abs().max() < 1e-5
    assert (got_w.mean(1) - want_w).abs().max() < 1e-5


def test_public_names_are_exported():
    for name in ("causal_mask", "padding_mask", "scaled_dot_product_attention",
                 "KVCache", "MultiHeadAttention"):
        assert getattr(mt, name) is not None and name in mt.__all__


def test_packed_projections_equal_separate_ones():
    """Self-attention (no key, no value) projects Q, K and V in one matmul; passing the same
    input as key and value projects them one by one: the results must be equal."""
    torch.manual_seed(0)
    mha = mt.MultiHeadAttention(16, 4).eval()
    x = torch.randn(2, 5, 16)
    packed, packed_w = mha(x)
    separate, separate_w = mha(x, x, x)
    assert torch.allclose(packed, separate, atol=1e-6)
    assert torch.allclose(packed_w, separate_w, atol=1e-6)


def test_kv_cache_update_appends_for_self_attention_and_stores_once_when_static():
    k1, v1, k2, v2 = (torch.randn(2, 4, n, 8) for n in (3, 3, 1, 1))
    grows = KVCache()
    assert grows.update(k1, v1) == (k1, v1)
    k, v = grows.update(k2, v2)
    assert torch.equal(k, torch.cat([k1, k2], 2)) and torch.equal(v, torch.cat([v1, v2], 2))
    assert len(grows) == 4 and grows.stored() is None
    static = KVCache(static=True)
    assert static.stored() is None
    static.update(k1, v1)
    k, v = static.update(k2, v2)
    assert k is k1 and v is v1 and len(static) == 3 and static.stored() == (k1, v1)


def test_self_attention_key_and_value_come_together_and_a_static_cache_needs_them_first():
    mha = mt.MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(TypeError, match="key and value"):
        mha(x, x, None)
    with pytest.raises(TypeError, match="static"):
        mha(x, cache=KVCache(static=True))
    with pytest.raises(TypeError, match="need_weights"):
        mha(x, need_weights=1)
