"""The exercise checker: right answers pass, wrong ones are explained, nothing raises."""

import numpy as np
import pytest
import torch

import minitransformer as mt
from minitransformer import exercises


def test_every_registered_exercise_reference_passes_its_own_check(capsys):
    names = exercises.names()
    assert names, "no exercise is registered"
    for name in names:
        assert exercises.check(name, exercises._REGISTRY[name].reference), name
    assert "✗" not in capsys.readouterr().out


@pytest.mark.parametrize("name", exercises.names())
def test_every_registered_exercise_has_cases_and_a_description(name):
    assert exercises._REGISTRY[name].cases()
    assert exercises.describe(name)


def test_check_accepts_a_correct_reader_function(capsys):
    def my_update(w, b, x, y, lr):
        y_hat = 1 if w @ x + b > 0 else 0
        return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)

    assert exercises.check("perceptron_update", my_update) is True
    assert "✓ perceptron_update" in capsys.readouterr().out


def test_check_returns_false_and_prints_the_failing_case_for_a_wrong_function(capsys):
    def wrong_update(w, b, x, y, lr):
        return w, b  # never learns

    assert exercises.check("perceptron_update", wrong_update) is False
    out = capsys.readouterr().out
    assert "case 1 of" in out and "failed" in out
    assert "expected:" in out and "got:" in out and "hint:" in out


def test_check_reports_an_exception_in_the_reader_function_instead_of_raising(capsys):
    def broken(z, grad_out):
        raise ZeroDivisionError("oops")

    assert exercises.check("sigmoid_backward", broken) is False
    assert "your function raised ZeroDivisionError: oops" in capsys.readouterr().out


def test_check_reports_a_wrong_shape(capsys):
    def transposed(grad_out, x, weight):
        return grad_out @ weight, x.T @ grad_out, grad_out.sum(axis=0)

    assert exercises.check("linear_backward", transposed, verbose=True) is False
    assert "shape" in capsys.readouterr().out


def test_check_is_silent_when_not_verbose(capsys):
    assert exercises.check("sigmoid_backward", lambda z, g: np.zeros_like(z), verbose=False) is False
    assert capsys.readouterr().out == ""


def test_check_rejects_unknown_names_and_non_callables():
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        exercises.check("nope", lambda: None)
    with pytest.raises(TypeError, match="fn must be a callable"):
        exercises.check("sigmoid_backward", 3)


def test_check_leaves_the_global_random_state_alone():
    """A chapter's numbers must not depend on whether the reader ran an exercise."""
    state = torch.get_rng_state()
    for name in exercises.names():
        exercises.check(name, exercises._REGISTRY[name].reference, verbose=False)
    assert torch.equal(torch.get_rng_state(), state)


def test_register_decorates_the_cases_and_rejects_a_taken_name_or_a_non_callable():
    try:
        @exercises.register("_probe", description="d", reference=abs, hint="h")
        def cases():
            return [(-2,)]

        assert cases() == [(-2,)]  # returned unchanged
        assert exercises.check("_probe", lambda x: -x if x < 0 else x, verbose=False)
        with pytest.raises(ValueError, match="already registered"):
            exercises.register("_probe", description="d", reference=abs, hint="h")
    finally:
        exercises._REGISTRY.pop("_probe", None)
    with pytest.raises(TypeError, match="reference must be callable"):
        exercises.register("other", description="d", reference=3, hint="h")


def test_chapter_1_exercises_are_registered():
    assert {"perceptron_update", "sigmoid_backward", "linear_backward"} <= set(mt.exercises.names())


# What a formula or a line of code looks like: a hint that holds one gives the answer away.
FORMULA = ("=", "**", "@", "torch.", "np.", "exp(", "sqrt(", " * ", " / ", "tril", "triu")


@pytest.mark.parametrize("name", mt.exercises.names())
def test_hints_point_the_way_without_printing_the_formula(name, capsys):
    hint = mt.exercises._get(name).hint
    assert not [f for f in FORMULA if f in hint], f"{name}'s hint gives a formula: {hint!r}"
    # What a reader sees on a wrong answer: the hint is the only guidance printed.
    assert mt.exercises.check(name, lambda *args: None) is False
    out = capsys.readouterr().out
    assert " ".join(hint.split()) in " ".join(out.split())
    hint_lines = out[out.index("  hint:"):].splitlines()
    assert max(len(line) for line in hint_lines) <= 88  # the hint fits the page


# --- each chapter's exercise tells a right answer from a typical wrong one ---------------------

def test_lstm_cell_step_exercise_accepts_reference_and_rejects_swapped_gates(capsys):
    assert mt.exercises.check("lstm_cell_step", mt.lstm.lstm_cell_step, verbose=False)

    def swapped_f_and_i(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
        def swap(w):
            return None if w is None else torch.cat([w.chunk(4)[k] for k in (1, 0, 2, 3)])
        return mt.lstm.lstm_cell_step(x, h, c, swap(weight_ih), swap(weight_hh), swap(bias_ih), swap(bias_hh))

    assert not mt.exercises.check("lstm_cell_step", swapped_f_and_i)
    assert "lstm_cell_step: case 1 of 4 failed" in capsys.readouterr().out


def test_noam_lr_exercise_accepts_the_reference_and_rejects_a_missing_warmup():
    assert mt.exercises.check("noam_lr", mt.noam_lr, verbose=False)
    assert not mt.exercises.check("noam_lr", lambda s, d, w: d ** -0.5 * max(s, 1) ** -0.5,
                                  verbose=False)


def test_positional_encoding_exercise_accepts_the_reference_and_rejects_zeros(capsys):
    assert mt.exercises.check("positional_encoding", mt.sinusoidal_positions, verbose=False)
    assert not mt.exercises.check("positional_encoding", lambda m, d: torch.zeros(m, d))
    assert "case 1" in capsys.readouterr().out


def test_chapter_7_solutions_pass_and_the_notebook_stubs_fail(capsys):
    import math

    import torch

    def my_merge(ids, pair, new_id):
        out, i = [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(new_id)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        return out

    def my_top_k(logits, k):
        kth = logits.topk(min(k, logits.shape[-1]), dim=-1).values[..., -1:]
        return logits.masked_fill(logits < kth, float("-inf")).softmax(dim=-1)

    def my_bits(loss, n_tokens, n_chars):
        return loss * n_tokens / n_chars / math.log(2), math.exp(loss)

    assert exercises.check("bpe_merge", my_merge)
    assert exercises.check("top_k_filter", my_top_k)
    assert exercises.check("bits_and_perplexity", my_bits)
    assert not exercises.check("bpe_merge", lambda ids, pair, new_id: list(ids))
    assert not exercises.check("top_k_filter", lambda logits, k: logits.softmax(dim=-1))
    assert not exercises.check("bits_and_perplexity", lambda loss, n, c: (loss, loss))
    # keeping exactly k indices (ties broken arbitrarily) is not the same as top-k filtering
    def k_indices(logits, k):
        keep = torch.zeros_like(logits, dtype=torch.bool).scatter(
            -1, logits.topk(min(k, logits.shape[-1]), dim=-1).indices, True)
        return logits.masked_fill(~keep, float("-inf")).softmax(dim=-1)

    assert not exercises.check("top_k_filter", k_indices)
    capsys.readouterr()
