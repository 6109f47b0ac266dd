"""The book's look: one consistent figure style, NumPy print options, and :func:`setup_notebook`.

Curves that must be told apart (with vs without BN, train vs test) differ in colour *and*
line style, so that the figures read in grey-scale and for colour-blind readers.

Figures are made for the page they are shown on (the site's column is 688 CSS px wide at a
1280 px window, and its small print, the footer, is 14 px): :func:`setup_notebook` shows every
figure as a 2x PNG (crisp on high-DPI screens) no wider than :data:`COLUMN_INCHES` at 100 dpi,
so that it is shown at its natural size, with no text smaller than :data:`MIN_FONT_PT`
(10.5 pt at 100 dpi is 14.6 CSS px). The smallest font size of the figure and the width it is
meant to be shown at are stamped in the PNG (``nd:min-font-pt`` text chunk, ``pHYs`` dpi), so
the site tests can measure the size of the text as displayed.
"""

import warnings
from io import BytesIO

import numpy as np

__all__ = ["COLUMN_INCHES", "MIN_FONT_PT", "STYLES", "figure_png", "setup_notebook", "use_book_style"]

#: (colour, line style, marker) triples, to cycle through when several curves share an axis.
STYLES = [
    ("#1f77b4", "-", "o"),
    ("#d62728", "--", "s"),
    ("#2ca02c", "-.", "^"),
    ("#9467bd", ":", "D"),
    ("#ff7f0e", (0, (5, 1, 1, 1)), "v"),
    ("#8c564b", (0, (3, 1, 1, 1, 1, 1)), "P"),
]

#: Logical resolution of a figure: one inch is shown as 100 CSS px (the PNG has twice as many pixels).
DPI = 100
#: The widest a figure may be, in inches at :data:`DPI`: the site's text column (688 px at 1280 px).
COLUMN_INCHES = 6.8
#: The smallest text in a figure, in points: 14 CSS px (the site's small print) at :data:`DPI` is 10.08 pt.
MIN_FONT_PT = 10.5


def use_book_style():
    """Set matplotlib defaults used by every chapter (size, resolution, grid, colour+dash cycle)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": MIN_FONT_PT,
            "axes.titlesize": "large",
            "axes.labelsize": "medium",
            "xtick.labelsize": "medium",
            "ytick.labelsize": "medium",
            "legend.fontsize": "medium",
            "legend.title_fontsize": "medium",
            "axes.prop_cycle": cycler(color=[s[0] for s in STYLES]) + cycler(linestyle=[s[1] for s in STYLES]),
        }
    )


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _png(fig, dpi, min_pt):
    buffer = BytesIO()
    fig.canvas.print_figure(buffer, format="png", dpi=dpi, bbox_inches="tight",
                            facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor(),
                            metadata={"nd:min-font-pt": f"{min_pt:g}"},
                            # zlib level 4 instead of 6: a 2x figure encodes in 3/4 of the time, 3 % larger
                            pil_kwargs={"compress_level": 4})
    data = buffer.getvalue()
    width, height = (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
    return data, width, height


def _tight_width(fig, pad):
    """Width (inches) of the PNG that ``bbox_inches="tight"`` would save, without rasterizing it."""
    if fig.get_layout_engine() is not None:
        fig.draw_without_rendering()  # the layout engine places the axes while drawing
    bbox = fig.get_tightbbox(fig.canvas.get_renderer())
    return bbox.width + 2 * pad


def figure_png(fig, max_inches=COLUMN_INCHES, min_pt=MIN_FONT_PT, scale=2):
    """A figure as a ``scale``-times PNG for the page: ``(png bytes, {"width": px, "height": px})``.

    Text smaller than ``min_pt`` is enlarged to it, and a figure wider than ``max_inches`` (its
    tight bounding box, at the figure's dpi) is narrowed, its height kept, and laid out again,
    so that it is shown at its natural size in the column. The metadata gives the size to show it
    at (CSS px, ``scale`` times fewer than the PNG's pixels). Returns ``None`` for an empty figure.
    """
    import matplotlib as mpl

    if not fig.axes and not fig.lines:
        return None
    for text in _texts(fig):
        if text.get_fontsize() < min_pt:
            text.set_fontsize(min_pt)
    dpi, pad = fig.dpi, mpl.rcParams["savefig.pad_inches"]
    for _attempt in range(4):
        if fig.get_layout_engine() is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fig.tight_layout()
        w, h = fig.get_size_inches()
        # a figure set wider than the column is first measured without rasterizing it (a 2x PNG
        # costs about as much as the rest of a figure cell); the PNG itself has the last word
        shown = _tight_width(fig, pad) if w + 2 * pad > max_inches else None
        if shown is None or shown <= max_inches + 0.005:
            smallest = min((t.get_fontsize() for t in _texts(fig)), default=min_pt)
            data, width, height = _png(fig, dpi * scale, smallest)
            shown = width / (dpi * scale)
            if shown <= max_inches + 0.005:
                break
        fig.set_size_inches(max(1.0, w - (shown - max_inches) - 0.02), h)
    return data, {"width": round(width / scale), "height": round(height / scale)}


def _show_figures_for_the_page():
    """Make IPython display every figure with :func:`figure_png` (when running under IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    # Load the inline backend now (pyplot would load it at the first figure): it registers its own
    # formatters, once, and ours must replace them.
    try:
        import matplotlib_inline.backend_inline  # noqa: F401
    except ImportError:
        pass
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type(Figure, figure_png)
    for mime in ("image/svg+xml", "image/jpeg", "application/pdf", "text/html"):
        if mime in formatters:
            formatters[mime].pop(Figure, None)


def setup_notebook():
    """Book-wide defaults for a chapter: figure style, 2x figures sized for the page, NumPy print
    options, and one BLAS thread for NumPy.

    The chapters' arrays are small: a second BLAS thread only adds start-up and waiting (and
    spins on a core that a busy laptop needs elsewhere). One thread also means that no printed
    number can depend on how a matrix product was split between threads.
    """
    from threadpoolctl import threadpool_limits

    _show_figures_for_the_page()
    use_book_style()
    np.set_printoptions(precision=4, suppress=True)
    threadpool_limits(limits=1, user_api="blas")
