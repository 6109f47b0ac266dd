"""Local Sphinx extension of *Normalize & Drop*: the one-page build behind the PDF edition.

Loaded from ``_config.yml`` (``sphinx.local_extensions``), beside ``nd_site``. ``nd-pdf``
(``companion/tools/pdf.py``) builds the book with Sphinx's ``singlehtml`` builder and prints that
one page with headless Chromium. This extension does three things:

The ``singlehtml`` builder gets the HTML visitors of every node
    Sphinx looks for the visitors of custom nodes under the builder's *name* first and falls back
    to its *format* (``html``) only when no extension registered anything under that name.
    sphinx-exercise registers its nodes for ``singlehtml`` too, so every node registered for
    ``html`` only (myst-nb's ``HideCodeCellNode``, sphinx-togglebutton's toggles, sphinx-design's
    dropdowns and cards, ``nd_site``'s placeholder, ...) had no visitor there and the build stopped
    with ``NotImplementedError: unknown node type: HideCodeCellNode``. Every ``html`` visitor that
    the ``singlehtml`` builder lacks is copied to it when the builder starts. Links between
    chapters become links inside the one page (``#<id>``; Sphinx writes ``book/intro.html#<id>``,
    which is wrong when the root document is in a folder), and the page is written as
    ``index.html``, where its relative paths to style sheets, scripts and images point.

Print style sheet
    ``book/_static/nd_print.css`` (``@media print`` only, so the website looks the same on screen):
    code wraps instead of being cut at the margin, no sidebars, navigation bars or buttons, figures
    kept on one page, each chapter on a new page.

The PDF link of the website
    Every page of the ``html`` build gets a "PDF edition" entry in the header's download menu and
    a link in the footer, pointing at ``normalize-and-drop.pdf`` at the root of the site (``PDF_NAME``),
    where ``nd-pdf --site _build/html`` (part of the README's build command) puts the PDF.
"""
import shutil
from pathlib import Path
from types import MethodType

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "1.0"

PDF_NAME = "normalize-and-drop.pdf"  # at the root of the website (written there by nd-pdf --site)


def html_visitors_for_singlehtml(app):
    """Copy to ``singlehtml`` every ``html`` visitor it lacks (what is already there is kept)."""
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    html = handlers.get("html", {})
    single = handlers.setdefault("singlehtml", {})
    added = sorted(set(html) - set(single))
    for name in added:
        single[name] = html[name]
    logger.info(f"[nd_pdf] singlehtml: HTML visitors of {len(added)} node types added")
    app.builder.fix_refuris = MethodType(fix_refuris_on_one_page, app.builder)


def fix_refuris_on_one_page(builder, tree):
    """Turn a reference to ``#document-<doc>#<id>`` into ``#<id>`` (the page links to itself).

    Sphinx's own version writes ``<root_doc>.html#<id>``, a path relative to the site's root; the
    book's root document is ``book/intro``, so from ``book/intro.html`` that is ``book/book/intro.html``.
    """
    for refnode in tree.findall(nodes.reference):
        refuri = refnode.get("refuri", "")
        first = refuri.find("#")
        second = refuri.find("#", first + 1) if first >= 0 else -1
        if second >= 0:
            refnode["refuri"] = refuri[second:]


def page_at_the_root(app, exception):
    """Write the one page as ``index.html``, where its relative links (``_static/``, ``_images/``) point.

    The singlehtml builder writes the page under the root document's name, ``book/intro.html``,
    but computes every asset path as if the page were at the root of the output folder (where
    Jupyter Book writes an ``index.html`` that only redirects). Served from ``book/``, the page
    would load no style sheet, script or image.
    """
    if exception is not None or app.builder.name != "singlehtml":
        return
    page = Path(app.outdir) / (app.config.root_doc + app.builder.out_suffix)
    if page.parent != Path(app.outdir) and page.is_file():
        shutil.copyfile(page, Path(app.outdir) / "index.html")


def link_the_pdf(app, pagename, templatename, context, doctree):
    """The PDF edition in the header's download menu and in the footer of every website page."""
    if app.builder.name != "html":
        return
    url = context["pathto"](PDF_NAME, 1)
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group.setdefault("buttons", []).append({
                "type": "link", "url": url, "text": "PDF edition", "tooltip": "The whole book as one PDF",
                "icon": "fas fa-book", "label": "download-book-pdf-button"})
    footer = context.get("theme_extra_footer") or ""
    context["theme_extra_footer"] = (
        footer + f'<p class="nd-pdf-link">The whole book as one PDF: <a href="{url}" download>'
        f'{PDF_NAME}</a>.</p>')


def setup(app):
    app.connect("builder-inited", html_visitors_for_singlehtml)
    app.connect("html-page-context", link_the_pdf, priority=600)
    # after Jupyter Book's sphinx-external-toc writes its redirecting index.html (build-finished too)
    app.connect("build-finished", page_at_the_root, priority=900)
    app.add_css_file("nd_print.css", media="print")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
