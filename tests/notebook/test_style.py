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
