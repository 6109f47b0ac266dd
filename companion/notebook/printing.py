"""Printing helpers for the chapters: rounded numbers and small tables.

Chapters print rounded numbers so that their stored outputs are deterministic and
readable; ``rounded`` also turns ``-0.0`` into ``0.0`` so that a sign of rounding noise
never shows up on the page.
"""
import numpy as np

__all__ = ["GLUE_PREFIX", "Table", "below", "glue", "rounded"]

GLUE_PREFIX = "application/papermill.record/"


def rounded(x, decimals=3):
    """Round ``x`` (scalar or array) to ``decimals`` places, with ``-0.0`` shown as ``0.0``.

    Returns a Python float for scalar input and a NumPy array otherwise.
    """
    out = np.round(np.asarray(x, dtype=np.float64), decimals) + 0.0
    return float(out) if out.ndim == 0 else out


def below(value, bound):
    """A verdict that reads the same on every machine: ``"< 1e-12"`` if ``|value| < bound``, else ``">= 1e-12"``.

    Use it to print errors whose exact digits depend on the hardware (parity with torch, gradient checks).
    """
    return f"{'<' if abs(float(value)) < bound else '>='} {bound:.0e}"


def glue(name, value, fmt=None):
    """Record ``value`` under ``name`` for the prose: ``{glue:text}`name``` in a Markdown cell shows it.

    This is myst-nb's ``glue(name, value, display=False)`` without importing myst-nb (1.4 s): the
    value is stored as a hidden output of the cell, which nbval checks like any other output, so the
    page cannot show a number that the code did not compute. Nothing is shown in the notebook.

    Parameters
    ----------
    name : str
        Key used in the prose; unique within the chapter.
    value : int, float, str or bool
        What the prose shows. Floats must be formatted (``fmt``), so that no run-to-run noise in the
        last digits reaches the page.
    fmt : str, optional
        A format spec such as ``".3f"``, ``".1%"`` or ``","``: the value is glued as that string.

    Returns
    -------
    str
        The glued text (handy for a check beside it).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue needs a non-empty name, got {name!r}")
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, float) and fmt is None:
        raise ValueError(f"glue({name!r}, {value!r}): give fmt (e.g. '.3f') for a float, so its last digits "
                         "cannot differ between machines")
    if not isinstance(value, (int, float, str, bool)):
        raise TypeError(f"glue({name!r}, ...) takes an int, float, str or bool, got {type(value).__name__}")
    text = format(value, fmt) if fmt else str(value)
    if text.startswith("-") and not text.strip("-0.,%e+"):
        text = text[1:]  # "-0.000" is rounding noise: show "0.000"
    from IPython.display import display

    display({GLUE_PREFIX + "text/plain": repr(text)}, raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})
    return text


def _cell(v, decimals):
    """Format one table cell: rounded fixed-point, or ``g`` format for values of a million or more.

    Values smaller than ``10**-decimals`` print as zero: that hides rounding noise (``4e-17``), which
    differs between machines. To show a small number that matters, format it yourself (e.g. ``f"{v:.1e}"``)
    or print a verdict with :func:`below`.
    """
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if np.isfinite(v) and abs(v) >= 1e6:
            return f"{v:.{decimals}g}"
        return f"{rounded(v, decimals):.{decimals}f}"
    return str(v)


class Table:
    """A small table that renders as Markdown on the website and as aligned text elsewhere.

    Parameters
    ----------
    rows : sequence of sequences
        Cell values; floats are rounded to ``decimals`` places (tiny or huge values in ``g`` format).
    headers : sequence of str
    decimals : int
    """

    def __init__(self, rows, headers, decimals=4):
        self.headers = [str(h) for h in headers]
        self.cells = [[_cell(v, decimals) for v in row] for row in rows]
        for row in self.cells:
            if len(row) != len(self.headers):
                raise ValueError(f"every row needs {len(self.headers)} cells, got {len(row)}: {row}")

    def _repr_markdown_(self):
        esc = lambda text: text.replace("|", "\\|")  # noqa: E731  (a literal | would split the cell)
        lines = ["| " + " | ".join(map(esc, self.headers)) + " |", "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(map(esc, row)) + " |" for row in self.cells]
        return "\n".join(lines)

    def __repr__(self):
        widths = [max(len(r[i]) for r in [self.headers] + self.cells) for i in range(len(self.headers))]
        fmt = "  ".join(f"{{:>{w}}}" for w in widths)
        lines = [fmt.format(*self.headers), fmt.format(*("-" * w for w in widths))]
        return "\n".join(lines + [fmt.format(*row) for row in self.cells])

