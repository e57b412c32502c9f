"""Plots return the Axes they drew, with named axes and a title; bad input is rejected."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
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


def test_draw_mlp_draws_one_circle_per_unit_and_names_the_layers():
    ax = mt.viz.draw_mlp([2, 3, 1])
    assert isinstance(ax, Axes)
    assert len(ax.patches) == 6
    texts = " ".join(t.get_text() for t in ax.texts)
    for role in ("input", "hidden", "output"):
        assert role in texts
    assert len(ax.get_lines()) == 2 * 3 + 3 * 1  # one line per weight
    assert ax.get_title()


def test_draw_mlp_caps_wide_layers_and_rejects_bad_sizes():
    ax = mt.viz.draw_mlp([2, 100, 1], max_units=5)
    assert len(ax.patches) == 2 + 5 + 1
    assert any("100 units" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="sizes"):
        mt.viz.draw_mlp([3])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        mt.viz.draw_mlp([3, 0, 1])


# --- chapters 2-6: every diagram and plot draws with a title ----------------------------------------

def _title_of(result):
    """The title of a returned Figure (its first titled Axes or suptitle) or Axes."""
    if isinstance(result, Axes):
        return result.get_title()
    titles = [ax.get_title() for ax in result.axes if ax.get_title()]
    suptitle = result._suptitle.get_text() if result._suptitle is not None else ""
    return suptitle or (titles[0] if titles else "")


@pytest.mark.parametrize("draw", [
    lambda: mt.viz.draw_rnn(steps=3, title="RNN"),
    lambda: mt.viz.draw_lstm_cell(title="LSTM"),
    lambda: mt.viz.draw_transformer(n_layers=2, title="Transformer"),
    lambda: mt.viz.draw_transformer(n_layers=2, norm_first=True, title="Transformer"),
    lambda: mt.viz.plot_gradient_norms({"rnn": [1.0, 0.1, 0.01]}, title="Gradients"),
    lambda: mt.viz.plot_attention_heads(np.full((2, 3, 4), 0.25), list("abc"), list("wxyz"),
                                        title="Heads"),
])
def test_every_diagram_and_plot_draws_with_its_title(draw):
    result = draw()
    assert _title_of(result) != ""
    figure = result.figure if isinstance(result, Axes) else result
    assert len(figure.axes) >= 1


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_diagram_has_one_residual_skip_per_sublayer_and_memory_into_cross_attention(
        norm_first):
    from matplotlib.colors import to_hex
    from matplotlib.text import Annotation

    ax = mt.viz.draw_transformer(n_layers=2, norm_first=norm_first).axes[0]
    arrows = [a for a in ax.texts if isinstance(a, Annotation) and a.arrow_patch is not None]
    by_colour = {}
    for a in arrows:
        by_colour.setdefault(to_hex(a.arrow_patch.get_edgecolor()), []).append(a)
    assert len(by_colour[mt.viz.PALETTE["purple"]]) == 2 + 3  # encoder 2, decoder 3 sublayers
    (memory,) = by_colour[mt.viz.PALETTE["red"]]
    (cross,) = [t for t in ax.texts if t.get_text() == "Cross-attention"]
    assert memory.xy[1] == pytest.approx(cross.get_position()[1])
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
