"""companion.notebook.style: the figure style and setup_notebook()."""
import matplotlib
import numpy as np

matplotlib.use("Agg")

from companion.notebook import STYLES, setup_notebook, use_book_style


def test_styles_differ_in_colour_and_in_line_style():
    colours, dashes, markers = zip(*STYLES, strict=True)
    assert len(set(colours)) == len(set(map(str, dashes))) == len(set(markers)) == len(STYLES) >= 4


def test_use_book_style_sets_the_colour_and_dash_cycle():
    use_book_style()
    cycle = list(matplotlib.rcParams["axes.prop_cycle"])
    assert [(s["color"], s["linestyle"]) for s in cycle] == [(c, d) for c, d, _ in STYLES]
    assert matplotlib.rcParams["axes.grid"] and not matplotlib.rcParams["axes.spines.top"]


def test_setup_notebook_sets_print_options():
    old = np.get_printoptions()
    try:
        setup_notebook()
        assert np.get_printoptions()["precision"] == 4 and np.get_printoptions()["suppress"]
    finally:
        np.set_printoptions(**old)
