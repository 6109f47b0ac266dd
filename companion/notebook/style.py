"""The book's look: one consistent figure style, NumPy print options, and :func:`setup_notebook`.

Curves that must be told apart (with vs without BN, train vs test) differ in colour *and*
line style, so that the figures read in grey-scale and for colour-blind readers.
"""

import numpy as np

__all__ = ["STYLES", "setup_notebook", "use_book_style"]

#: (colour, line style, marker) triples, to cycle through when several curves share an axis.
STYLES = [
    ("#1f77b4", "-", "o"),
    ("#d62728", "--", "s"),
    ("#2ca02c", "-.", "^"),
    ("#9467bd", ":", "D"),
    ("#ff7f0e", (0, (5, 1, 1, 1)), "v"),
    ("#8c564b", (0, (3, 1, 1, 1, 1, 1)), "P"),
]


def use_book_style():
    """Set matplotlib defaults used by every chapter (size, resolution, grid, colour+dash cycle)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 10,
            "axes.prop_cycle": cycler(color=[s[0] for s in STYLES]) + cycler(linestyle=[s[1] for s in STYLES]),
        }
    )


def setup_notebook():
    """Book-wide defaults for a chapter: figure style, NumPy print options (4 decimals, no
    e-notation), and one BLAS thread for NumPy.

    The chapters' arrays are small: a second BLAS thread only adds start-up and waiting (and
    spins on a core that a busy laptop needs elsewhere). One thread also means that no printed
    number can depend on how a matrix product was split between threads.
    """
    from threadpoolctl import threadpool_limits

    use_book_style()
    np.set_printoptions(precision=4, suppress=True)
    threadpool_limits(limits=1, user_api="blas")
