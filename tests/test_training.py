"""Tests for training.py: the generic loop, the Transformer's schedule and label smoothing."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import minitransformer as mt


def paper_lrate(step_num, d_model, warmup):
    return d_model ** -0.5 * min(step_num ** -0.5, step_num * warmup ** -1.5)


# --- noam_lr ------------------------------------------------------------------------------------

@pytest.mark.parametrize("d_model,warmup", [(512, 4000), (1024, 4000), (64, 100)])
def test_noam_lr_equals_the_papers_formula(d_model, warmup):
    for step in [1, 2, 10, warmup // 2, warmup - 1, warmup, warmup + 1, 3 * warmup, 100_000]:
        assert mt.noam_lr(step, d_model, warmup) == pytest.approx(paper_lrate(step, d_model, warmup))


def test_noam_lr_peaks_at_warmup_with_the_closed_form_value():
    d_model, warmup = 512, 4000
    rates = [mt.noam_lr(s, d_model, warmup) for s in range(1, 3 * warmup)]
    assert rates.index(max(rates)) + 1 == warmup
    assert max(rates) == pytest.approx((d_model * warmup) ** -0.5)
    assert all(a < b for a, b in itertools.pairwise(rates[:warmup]))
    assert all(a > b for a, b in itertools.pairwise(rates[warmup - 1:]))


def test_noam_lr_step_zero_is_zero():
    assert mt.noam_lr(0, 512) == 0.0


def test_noam_scheduler_gives_the_first_update_step_one():
    model = nn.Linear(2, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1.0)
    sched = mt.noam_scheduler(opt, d_model=64, warmup=10, factor=2.0)
    seen = []
    for _ in range(30):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [2.0 * paper_lrate(s, 64, 10) for s in range(1, 31)]
    assert seen == pytest.approx(expected)


def test_noam_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="step"):
        mt.noam_lr(-1, 512)
    with pytest.raises(ValueError, match="warmup"):
        mt.noam_lr(1, 512, warmup=0)
    with pytest.raises(TypeError, match="d_model"):
        mt.noam_lr(1, 512.0)
    with pytest.raises(TypeError, match="optimizer"):
        mt.noam_scheduler("adam", 512)
    with pytest.raises(ValueError, match="factor"):
        mt.noam_scheduler(torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=1.0), 8, factor=0.0)


# --- label smoothing ----------------------------------------------------------------------------

@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3, 1.0])
def test_label_smoothing_equals_torch_cross_entropy_with_padding(smoothing):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 11, generator=g)
    target = torch.randint(1, 11, (3, 7), generator=g)
    target[0, 4:] = 0
    target[2, 1:] = 0
    ours = mt.label_smoothed_cross_entropy(logits, target, smoothing, ignore_index=0)
    ref = F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1), label_smoothing=smoothing,
                          ignore_index=0)
    assert torch.allclose(ours, ref, atol=1e-6)


def test_label_smoothing_without_ignore_index_and_gradients_match_torch():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(20, 5, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 5, (20,), generator=g)
    ours = mt.label_smoothed_cross_entropy(logits, target, 0.2, ignore_index=None)
    (grad_ours,) = torch.autograd.grad(ours, logits)
    ref = F.cross_entropy(logits, target, label_smoothing=0.2)
    (grad_ref,) = torch.autograd.grad(ref, logits)
    assert torch.allclose(ours, ref) and torch.allclose(grad_ours, grad_ref)


def test_label_smoothing_all_padding_gives_zero_not_nan():
    loss = mt.label_smoothed_cross_entropy(torch.randn(2, 3, 4), torch.zeros(2, 3, dtype=torch.long))
    assert loss.item() == 0.0


def test_label_smoothing_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="target"):
        mt.label_smoothed_cross_entropy(torch.randn(2, 3, 4), torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="target"):
        mt.label_smoothed_cross_entropy(torch.randn(2, 4), torch.ones(2))
    with pytest.raises(TypeError, match="logits"):
        mt.label_smoothed_cross_entropy(torch.ones(2, 4, dtype=torch.long), torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match="smoothing"):
        mt.label_smoothed_cross_entropy(torch.randn(2, 4), torch.ones(2, dtype=torch.long), 1.5)
    with pytest.raises(ValueError, match="target"):
        mt.label_smoothed_cross_entropy(torch.randn(2, 4), torch.tensor([1, 9]))


# --- the generic train loop ---------------------------------------------------------------------

def _regression_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1
    return [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]


def _mse(model, batch):
    x, y = batch
    return F.mse_loss(model(x), y)


def test_train_decreases_the_loss_and_records_history_lengths():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = _regression_problem()
    history = mt.train(model, batches, _mse, opt, epochs=5, progress=False,
                       evaluate=lambda m: {"mse": float(_mse(m, batches[0]))})
    assert len(history.loss) == len(history.lr) == 5 * 4
    assert len(history.epoch_loss) == len(history.epoch_time) == len(history.metrics["mse"]) == 5
    assert history.epoch_loss[-1] < 0.1 * history.epoch_loss[0]
    assert history.total_time == pytest.approx(sum(history.epoch_time))
    assert not model.training


def test_train_steps_the_scheduler_every_step_and_records_the_rate():
    model = nn.Linear(3, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1.0)
    sched = mt.noam_scheduler(opt, d_model=16, warmup=3)
    history = mt.train(model, _regression_problem(), _mse, opt, epochs=2, scheduler=sched,
                       progress=False)
    assert history.lr == pytest.approx([paper_lrate(s, 16, 3) for s in range(1, 9)])


def test_train_accepts_a_function_of_the_epoch_for_reshuffling():
    seen = []
    batches = _regression_problem()

    def per_epoch(epoch):
        seen.append(epoch)
        return batches[epoch:]

    history = mt.train(nn.Linear(3, 1), per_epoch, _mse,
                       torch.optim.SGD(nn.Linear(3, 1).parameters(), lr=0.1), epochs=3,
                       progress=False)
    assert seen == [0, 1, 2] and len(history.loss) == 4 + 3 + 2


def test_train_raises_floating_point_error_on_nan_loss():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def nan_loss(m, batch):
        return _mse(m, batch) * math.nan

    with pytest.raises(FloatingPointError, match="step 0"):
        mt.train(model, _regression_problem(), nan_loss, opt, progress=False)


def test_train_bad_arguments_name_the_argument():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = _regression_problem()
    with pytest.raises(TypeError, match="model"):
        mt.train("model", batches, _mse, opt)
    with pytest.raises(TypeError, match="optimizer"):
        mt.train(model, batches, _mse, "sgd")
    with pytest.raises(TypeError, match="loss_fn"):
        mt.train(model, batches, 3, opt)
    with pytest.raises(ValueError, match="epochs"):
        mt.train(model, batches, _mse, opt, epochs=0)
    with pytest.raises(ValueError, match="clip_norm"):
        mt.train(model, batches, _mse, opt, clip_norm=-1.0)
    with pytest.raises(ValueError, match="batches"):
        mt.train(model, [], _mse, opt, progress=False)

    with pytest.raises(ValueError, match="device"):
        mt.train(model, batches, _mse, opt, device="gpu")
    with pytest.raises(TypeError, match="device"):
        mt.train(model, batches, _mse, opt, device=0.5)


def test_train_moves_every_tensor_of_every_batch_to_device():
    """device="meta" stands in for a GPU (none is needed): the loss is computed on the CPU
    from a stand-in parameter so that train can read its value, and the test records what
    loss_fn received."""
    meta = torch.device("meta")
    model = nn.Linear(3, 1).to(meta)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    stand_in = torch.ones((), requires_grad=True)
    seen = []

    def loss_fn(m, batch):
        seen.append((next(m.parameters()).device, batch))
        return stand_in * 2.0

    t = torch.zeros(2, 3)
    batches = [mt.data.Batch(t, t.long(), t.long()), {"x": t, "pair": [t, "label"]}, (t, 7)]
    mt.train(model, batches, loss_fn, opt, progress=False, device="meta")
    assert [device for device, _ in seen] == [meta] * 3
    batch, mapping, pair = (b for _, b in seen)
    assert isinstance(batch, mt.data.Batch) and all(x.device == meta for x in batch)
    assert mapping["x"].device == meta and mapping["pair"][0].device == meta
    assert isinstance(mapping["pair"], list) and mapping["pair"][1] == "label"
    assert isinstance(pair, tuple) and pair[0].device == meta and pair[1] == 7
    assert t.device == torch.device("cpu")  # the reader's batches themselves are not changed


def test_train_refuses_a_move_that_would_leave_the_optimizer_behind():
    """Moving to meta replaces a module's parameters (a move between CPU and GPU keeps
    them): the optimizer built before would update the old ones, so train says so."""
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="create the optimizer"):
        mt.train(model, _regression_problem(), _mse, opt, progress=False, device="meta")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_train_on_cuda_moves_the_model_and_keeps_the_optimizer_working():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = mt.train(model, _regression_problem(), _mse, opt, epochs=3, progress=False,
                       device="cuda")
    assert next(model.parameters()).is_cuda
    assert history.epoch_loss[-1] < history.epoch_loss[0]
