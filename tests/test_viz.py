"""Plots return the Axes (or, for several panels, the figure) they drew into, with named axes
and a title; bad input is rejected."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

import minitransformer as mt

# --- chapter 1 ------------------------------------------------------------------------------------


def test_plot_curves_draws_one_labelled_line_per_series():
    ax = mt.viz.plot_curves({"train": [3.0, 2.0, 1.0], "test": [3.5, 2.5]}, xlabel="epoch",
                            ylabel="loss (nats)", title="Loss falls", logy=True)
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss (nats)"
    assert ax.get_title() == "Loss falls"
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [1, 2])


def test_plot_curves_rejects_empty_series_and_missing_labels():
    with pytest.raises(TypeError, match="series"):
        mt.viz.plot_curves({}, xlabel="epoch", ylabel="loss", title="t")
    with pytest.raises(TypeError, match="ylabel"):
        mt.viz.plot_curves({"a": [1.0]}, xlabel="epoch", ylabel="", title="t")
    with pytest.raises(ValueError, match="series"):
        mt.viz.plot_curves({"a": []}, xlabel="epoch", ylabel="loss", title="t")


def test_plot_decision_boundary_labels_axes_and_draws_the_boundary_into_given_axes():
    X, y = mt.data.logic_gate("AND")
    _, ax = plt.subplots()
    out = mt.viz.plot_decision_boundary(lambda P: (P.sum(axis=1) > 1.5).astype(int), X, y,
                                        ax=ax, title="AND is linearly separable", resolution=30)
    assert out is ax
    assert ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_title() == "AND is linearly separable"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1"]


def test_plot_decision_boundary_accepts_constant_predictions_without_warning():
    X, y = mt.data.logic_gate("XOR")
    ax = mt.viz.plot_decision_boundary(lambda P: np.ones(len(P)), X, y, title="t", resolution=10)
    assert isinstance(ax, Axes)


def test_plot_decision_boundary_rejects_points_not_in_the_plane():
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        mt.viz.plot_decision_boundary(lambda P: P[:, 0], np.zeros((4, 3)), np.zeros(4), title="t")
    with pytest.raises(TypeError, match="predict_fn"):
        mt.viz.plot_decision_boundary(None, np.zeros((4, 2)), np.zeros(4), title="t")


# --- chapters 3-6 -------------------------------------------------------------------------------

def test_plot_gradient_norms_draws_one_line_per_curve_against_distance_into_given_axes():
    _, ax = plt.subplots()
    out = mt.viz.plot_gradient_norms({"rnn": torch.tensor([1.0, 0.1, 0.01]), "lstm": [1.0, 1.0]},
                                     title="Gradients", ax=ax)
    assert out is ax and ax.get_title() == "Gradients"
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["rnn", "lstm"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [2, 1, 0])
    with pytest.raises(TypeError, match="curves"):
        mt.viz.plot_gradient_norms({}, title="t")
    plt.close("all")


def test_every_plot_rejects_an_ax_or_fig_that_is_not_one():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        mt.viz.plot_curves({"a": [1.0]}, xlabel="x", ylabel="y", title="t", ax="left")
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        mt.viz.plot_attention_heads(np.full((1, 2, 2), 0.5), list("ab"), list("ab"), fig=3)


def test_attention_heads_draw_into_a_given_subfigure_and_return_it():
    fig = plt.figure()
    left, right = fig.subfigures(1, 2)
    out = mt.viz.plot_attention_heads(np.full((2, 3, 4), 0.25), list("abc"), list("wxyz"),
                                      title="Heads", fig=right)
    assert out is right
    assert [ax.get_title() for ax in right.axes[:2]] == ["head 1", "head 2"]
    assert left.axes == []
    plt.close("all")


def test_attention_heads_in_a_grid_have_one_heatmap_per_head_and_reject_bad_ncols():
    fig = mt.viz.plot_attention_heads(np.full((3, 2, 4), 0.25), list("ab"), list("wxyz"),
                                      title="Heads", ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_title().startswith("head")]
    assert [ax.get_title() for ax in visible] == ["head 1", "head 2", "head 3"]
    assert [t.get_text() for t in visible[2].get_xticklabels()] == list("wxyz")
    with pytest.raises(ValueError, match="ncols"):
        mt.viz.plot_attention_heads(np.full((3, 2, 4), 0.25), list("ab"), list("wxyz"), ncols=4)
    plt.close("all")
