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


def test_setup_notebook_limits_numpy_blas_to_one_thread():
    """In a fresh process (the limit is process-wide), so this test does not change the others'."""
    import json
    import os
    import subprocess
    import sys

    code = ("from threadpoolctl import threadpool_info\n"
            "from companion.notebook import setup_notebook\n"
            "before = [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
            "setup_notebook()\n"
            "after = [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
            "import json; print(json.dumps([before, after]))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    before, after = json.loads(out)
    assert before and all(n == 2 for n in before), out
    assert after == [1] * len(before), out


def _png_text(data, key):
    pos = 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"tEXt" and body.split(b"\0")[0] == key:
            return body.split(b"\0", 1)[1].decode("latin-1")
        pos += 12 + length
    return None


def test_figure_png_is_2x_fits_the_column_and_stamps_its_smallest_text():
    import matplotlib.pyplot as plt

    from companion.notebook.style import COLUMN_INCHES, DPI, MIN_FONT_PT, figure_png

    use_book_style()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="a curve")
        ax.set_title("a title", fontsize=6)
        ax.legend(fontsize=7)
    data, meta = figure_png(fig)
    plt.close(fig)
    width = int.from_bytes(data[16:20], "big")
    assert meta["width"] == round(width / 2)
    assert meta["width"] <= COLUMN_INCHES * DPI + 1  # shown at its natural size in the column
    assert float(_png_text(data, b"nd:min-font-pt")) == MIN_FONT_PT  # text below it was enlarged
    assert min(t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_text().strip()) >= MIN_FONT_PT


def test_figure_png_leaves_a_narrow_figure_its_size():
    import matplotlib.pyplot as plt

    from companion.notebook.style import figure_png

    use_book_style()
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    _, meta = figure_png(fig)
    plt.close(fig)
    assert 300 < meta["width"] < 420  # about 4 in at 100 dpi (tight bounding box)
