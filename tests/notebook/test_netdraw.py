"""draw_network: counts of kept units and connections, the drawing itself, and input errors."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.markers import MarkerStyle

from companion.notebook.netdraw import draw_network


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_full_network_counts_every_unit_and_edge(ax):
    info = draw_network(ax, [3, 4, 2])
    assert info == {"units_kept": 9, "units_total": 9, "edges_kept": 3 * 4 + 4 * 2, "edges_total": 20}
    assert len(ax.lines) == 20  # one line per connection
    assert len(ax.collections) == 3  # one scatter of kept units per layer, no dropped units


def test_thinned_network_removes_the_edges_of_dropped_units(ax):
    keep = [np.array([True, False, True]), np.array([False, True, True, False]), None]
    info = draw_network(ax, [3, 4, 2], keep=keep, title="thinned")
    # kept: 2 inputs x 2 hidden + 2 hidden x 2 outputs
    assert info["edges_kept"] == 2 * 2 + 2 * 2 == len(ax.lines)
    assert info["units_kept"] == 2 + 2 + 2
    assert "6/9 units, 8/20 connections" in ax.get_title()


def test_dropped_units_differ_by_marker_and_line_style_not_only_colour(ax):
    draw_network(ax, [2, 3], keep=[np.array([True, False]), np.array([True, True, False])])
    hollow = [c for c in ax.collections if c.get_facecolor().size and np.all(c.get_facecolor()[:, :3] == 1.0)]
    assert {tuple(map(tuple, c.get_offsets())) for c in hollow} == {((0.0, -0.5),), ((2.0, -1.0),)}  # spacing 2
    solid = ax.collections[0].get_linestyle()[0]  # the kept units of the input layer
    assert all(c.get_linestyle()[0] != solid for c in hollow)  # dropped units have a dashed outline
    x_marker = MarkerStyle("x")
    x_path = x_marker.get_path().transformed(x_marker.get_transform())
    n_cross = sum(1 for c in ax.collections if c.get_paths()[0].vertices.shape == x_path.vertices.shape
                  and np.allclose(c.get_paths()[0].vertices, x_path.vertices))
    assert n_cross == 2  # and a cross on each layer that has dropped units


@pytest.mark.parametrize("sizes, keep, exc, words", [
    ([3], None, ValueError, "at least two layers"),
    ([3, 0], None, ValueError, "width >= 1"),
    ("ab", None, TypeError, "sizes must be a sequence"),
    ([3, 2], [np.ones(3, bool)], ValueError, "one mask per layer"),
    ([3, 2], [np.ones(3, bool), np.ones(3, bool)], ValueError, "keep[1] must be a boolean array of shape (2,)"),
    ([3, 2], [np.ones(3), None], ValueError, "keep[0] must be a boolean array"),
])
def test_bad_input_is_named(ax, sizes, keep, exc, words):
    with pytest.raises(exc, match=words.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        draw_network(ax, sizes, keep=keep)


def test_legend_handles_describe_the_three_elements(ax):
    from companion.notebook.netdraw import legend_handles

    handles, labels = legend_handles()
    assert len(handles) == len(labels) == 3
    assert labels[0] == "kept unit" and labels[1].startswith("dropped unit") and "connection" in labels[2]
    hollow, cross = handles[1]
    assert handles[0].get_markerfacecolor() != hollow.get_markerfacecolor() and cross.get_marker() == "x"
    legend = ax.legend(handles, labels)
    assert [t.get_text() for t in legend.get_texts()] == labels
