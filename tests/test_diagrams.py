"""Diagrams are drawn by code into one Axes they return, with a title and no axis lines;
bad input is rejected."""

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes

import minitransformer as mt


def test_draw_mlp_draws_one_circle_per_unit_and_names_the_layers():
    ax = mt.diagrams.draw_mlp([2, 3, 1])
    assert isinstance(ax, Axes)
    assert len(ax.patches) == 6
    texts = " ".join(t.get_text() for t in ax.texts)
    for role in ("input", "hidden", "output"):
        assert role in texts
    assert len(ax.get_lines()) == 2 * 3 + 3 * 1  # one line per weight
    assert ax.get_title()


def test_draw_mlp_caps_wide_layers_and_rejects_bad_sizes():
    ax = mt.diagrams.draw_mlp([2, 100, 1], max_units=5)
    assert len(ax.patches) == 2 + 5 + 1
    assert any("100 units" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="sizes"):
        mt.diagrams.draw_mlp([3])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        mt.diagrams.draw_mlp([3, 0, 1])


@pytest.mark.parametrize("draw", [
    lambda ax: mt.diagrams.draw_mlp([2, 4, 1], ax=ax, title="MLP"),
    lambda ax: mt.diagrams.draw_rnn(steps=3, ax=ax, title="RNN"),
    lambda ax: mt.diagrams.draw_lstm_cell(ax=ax, title="LSTM"),
    lambda ax: mt.diagrams.draw_transformer(n_layers=2, ax=ax, title="Transformer"),
    lambda ax: mt.diagrams.draw_transformer(n_layers=2, norm_first=True, ax=ax,
                                            title="Transformer"),
])
@pytest.mark.parametrize("given", [False, True])
def test_every_diagram_draws_into_the_axes_it_returns_with_its_title(draw, given):
    ax = plt.subplots()[1] if given else None
    result = draw(ax)
    assert isinstance(result, Axes) and (result is ax or not given)
    assert result.get_title() in {"MLP", "RNN", "LSTM", "Transformer"}
    assert not result.axison
    assert len(result.patches) >= 3
    plt.close("all")


def test_rnn_diagram_draws_three_boxes_per_step_beside_the_folded_cell():
    ax = mt.diagrams.draw_rnn(steps=5)
    assert len(ax.patches) == 3 + 3 * 5
    texts = [t.get_text() for t in ax.texts]
    assert "folded" in texts and "unrolled over 5 time steps" in texts
    with pytest.raises(ValueError, match="steps"):
        mt.diagrams.draw_rnn(steps=0)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        mt.diagrams.draw_lstm_cell(ax=plt.figure())
    plt.close("all")


def test_draw_lstm_cell_draws_four_gates_and_four_pointwise_operations():
    ax = mt.diagrams.draw_lstm_cell()
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("σ") == 3
    assert texts.count("tanh") == 2
    assert texts.count("×") == 3 and texts.count("+") == 1
    plt.close(ax.figure)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_diagram_has_one_residual_skip_per_sublayer_and_memory_into_cross_attention(
        norm_first):
    from matplotlib.colors import to_hex
    from matplotlib.text import Annotation

    ax = mt.diagrams.draw_transformer(n_layers=2, norm_first=norm_first)
    arrows = [a for a in ax.texts if isinstance(a, Annotation) and a.arrow_patch is not None]
    by_color = {}
    for a in arrows:
        by_color.setdefault(to_hex(a.arrow_patch.get_edgecolor()), []).append(a)
    assert len(by_color[mt.viz.PALETTE["purple"]]) == 2 + 3  # encoder 2, decoder 3 sublayers
    (memory,) = by_color[mt.viz.PALETTE["red"]]
    (cross,) = [t for t in ax.texts if t.get_text() == "Cross-attention"]
    assert memory.xy[1] == pytest.approx(cross.get_position()[1])
    plt.close("all")
