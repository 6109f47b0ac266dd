"""What a chapter's first cell needs, and nothing else: presentation of results.

One import line serves a chapter::

    from companion.notebook import STYLES, Table, glue, rounded, setup_notebook

- :mod:`~companion.notebook.style`: the book's figure style (``STYLES``) and ``setup_notebook()``;
- :mod:`~companion.notebook.printing`: ``rounded``, ``below``, ``Table`` and ``glue`` (numbers for the prose);
- :mod:`~companion.notebook.timing`: ``median_time``, the way the book reports a timing;
- :mod:`~companion.notebook.netdraw`: ``draw_network`` and ``legend_handles`` (networks thinned by dropout).

matplotlib is imported only when a figure is drawn, so this import stays light.
"""
from .netdraw import draw_network, legend_handles
from .printing import GLUE_PREFIX, Table, below, glue, rounded
from .style import STYLES, setup_notebook, use_book_style
from .timing import median_time

__all__ = [
    "GLUE_PREFIX",
    "STYLES",
    "Table",
    "below",
    "draw_network",
    "glue",
    "legend_handles",
    "median_time",
    "rounded",
    "setup_notebook",
    "use_book_style",
]
