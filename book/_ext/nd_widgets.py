"""Local Sphinx extension of *Normalize & Drop*: interactive figures that need no kernel.

A chapter places a figure with a raw-HTML placeholder in a Markdown cell (no blank line inside,
so that MyST keeps it as one HTML block), with a sentence for readers without JavaScript and for
the learner edition in JupyterLab, where the placeholder shows as that sentence::

    <div class="nd-widget" data-widget="dropout" data-seed="0"><p class="nd-widget-fallback">...</p></div>

This extension loads ``book/_static/nd_widgets.js`` (deferred) and ``book/_static/nd_widgets.css``
on the pages that have such a placeholder, and only there; the script draws the figures (inline
SVG, a slider, a text summary) from local files: no CDN, no kernel. A placeholder naming a figure
the script does not know fails the build (a warning, and the book is built with ``-W``).
"""
import re

from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "1.0"

#: The figures that ``nd_widgets.js`` draws (its ``WIDGETS`` table).
WIDGETS = ("dropout", "batch-stats", "running-mean")

_PLACEHOLDER = re.compile(r"<div\b[^>]*\bclass=\"nd-widget\"[^>]*>")
_NAME = re.compile(r"\bdata-widget=\"([^\"]*)\"")


def widget_names(body):
    """The ``data-widget`` names of the placeholders in a page's HTML body, in order."""
    names = []
    for tag in _PLACEHOLDER.findall(body):
        match = _NAME.search(tag)
        names.append(match.group(1) if match else "")
    return names


def load_on_widget_pages(app, pagename, templatename, context, doctree):
    """Add the script and stylesheet to the pages that hold a placeholder; check its name."""
    names = widget_names(context.get("body", ""))
    if not names:
        return
    for name in names:
        if name not in WIDGETS:
            logger.warning(f"[nd_widgets] page {pagename!r} has a placeholder for an unknown figure "
                           f"{name!r} (known: {', '.join(WIDGETS)})", location=pagename,
                           type="nd_widgets", subtype="unknown")
    # Called from html-page-context, these add the files to this page only.
    app.add_css_file("nd_widgets.css")
    app.add_js_file("nd_widgets.js", loading_method="defer")


def setup(app):
    app.connect("html-page-context", load_on_widget_pages)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
