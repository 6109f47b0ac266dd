"""Local Sphinx extension of *Normalize & Drop*: generated front/back matter and an offline site.

Loaded from ``_config.yml`` (``sphinx.local_extensions``). It does nine things:

``{learning-path}`` directive (used in ``book/intro.md``)
    A table per part of the book, in table-of-contents order: each page with its prerequisites,
    an estimated study time computed from the page itself (words, code cells, exercises) and its
    number of exercises. Only the body lines (``book/x: book/y, book/z`` prerequisites and
    ``route <name>: book/a book/b ...`` suggested routes) are written by hand; pages that do not
    exist yet are left out, so the table can neither list a missing page nor miss a new one.

``{exercise-index}`` directive (used in ``book/exercise_index.md``)
    Every exercise of the book (the ``ex-*`` labels of sphinx-exercise), grouped by chapter in
    table-of-contents order, each linked to its statement and shown with the statement's first words.

No duplicated inline scripts (a backport of Sphinx PR #13402)
    Sphinx 7 stores an inline script added with ``app.add_js_file(None, body=...)`` after the
    builder was initialised twice: once directly in the HTML builder with the filename ``None``,
    and once more from the registry in ``prepare_writing`` with the filename ``''``. The two
    assets compare unequal (``None != ''``), so the page gets the ``<script>`` twice. For a
    ``const`` declaration (sphinx-thebe's ``const THEBE_JS_URL = ...``) the second copy is a
    ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``. Sphinx 8.2 fixed this
    by passing ``''`` both times; Jupyter Book 1 needs Sphinx 7, so the fix is applied here to the
    builder instance.

Offline guard
    A page that would load a script or a stylesheet from another host fails the build (a warning,
    and the book is built with ``-W``): the site must work without any network.

Unique element ids
    sphinx-exercise gives every exercise body the same id; repeated ids get a numbered suffix.

The learner edition behind the buttons
    The launch buttons (Binder, JupyterHub, Colab) of a chapter open its learner edition
    ``book/learner/<chapter>.ipynb`` (written by ``nd-editions``: exercises without solutions), and
    the ``.ipynb`` download button serves it: the solutions stay on the page, in the dropdowns.

Accessible markup (axe-core, WCAG 2.1 A/AA: tests/book/test_site_readable.py)
    Sphinx writes every bibliography entry as ``<div role="doc-biblioentry">`` inside a
    ``<div role="list">``: ``doc-biblioentry`` is a deprecated ARIA role, and a list whose items
    have no ``listitem`` role is invalid (assistive technology then sees the links of the entries as
    the list's children). Each page's body is written with ``role="listitem"`` instead.

Tables that read as tables
    A table cell of running text (four words or more) gets the class ``nd-prose-cell``: it wraps
    between words, with a minimum width (``nd_site.css``), and every other cell stays on one line.
    A table too wide for the column then scrolls in its wrapper, instead of squeezing a column to
    one word per line or breaking an identifier.

Working sidebar buttons, phone-width text
    Loads ``book/_static/nd_site.js`` (see there: the themes attach their click handlers to a
    hidden duplicate of the sidebar buttons, so the menu button does nothing on a phone) and
    ``book/_static/nd_site.css`` (long inline code may wrap instead of widening the page).
"""
import json
import math
import re
import shutil
from pathlib import Path
from urllib.parse import quote

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util import docname_join, logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

__version__ = "1.0"


# --------------------------------------------------------------------------------------------
# Sphinx 7: inline scripts added after Builder.init() end up twice in every page (PR #13402)
# --------------------------------------------------------------------------------------------
def no_duplicate_inline_scripts(app):
    """Make the HTML builder store a body-only script under the same filename both times."""
    builder = app.builder
    original = getattr(builder, "add_js_file", None)
    if original is None or getattr(original, "_nd_normalizes_none", False):
        return

    def add_js_file(filename, **kwargs):
        return original(filename or "", **kwargs)

    add_js_file._nd_normalizes_none = True
    builder.add_js_file = add_js_file


def forbid_remote_assets(app, pagename, templatename, context, doctree):
    """Warn (an error under ``-W``) when a page would load a script or stylesheet from another host."""
    for key in ("script_files", "css_files"):
        for asset in context.get(key, ()):
            name = str(getattr(asset, "filename", asset) or "")
            if "://" in name or name.startswith("//"):
                logger.warning(f"[nd_site] page {pagename!r} would load {name!r} from another host; "
                               "the site must work offline", location=pagename, type="nd_site", subtype="remote")


# --------------------------------------------------------------------------------------------
# Helpers shared by the two generated lists
# --------------------------------------------------------------------------------------------
def book_parts(env):
    """The book's parts in table-of-contents order: a list of ``(caption, [docname, ...])``.

    Read from the root document's toctrees (Jupyter Book writes one per part); pages included
    by a chapter's own toctree follow their parent.
    """
    root = env.config.root_doc
    parts = []
    seen = {root}

    def walk(doc, out):
        for child in env.toctree_includes.get(doc, []):
            if child not in seen:
                seen.add(child)
                out.append(child)
                walk(child, out)

    for toctree in env.get_doctree(root).findall(addnodes.toctree):
        docs = []
        for _title, ref in toctree["entries"]:
            if ref in env.found_docs and ref not in seen:
                seen.add(ref)
                docs.append(ref)
                walk(ref, docs)
        parts.append((toctree.get("caption") or "", docs))
    return parts


def title_of(env, docname):
    title = env.titles.get(docname)
    return title.astext() if title is not None else docname


def exercises_of(env, docname):
    """The exercise labels of one document, in the order they appear."""
    registry = getattr(env, "sphinx_exercise_registry", {})
    labels = [label for label, entry in registry.items()
              if entry["docname"] == docname and entry["type"].startswith("exercise")]
    order = [info["label"] for info in getattr(env, "sphinx_exercise_node_order", {}).get(docname, [])
             if info["type"].startswith("exercise")]
    position = {label: i for i, label in enumerate(order)}
    return sorted(labels, key=lambda label: position.get(label, len(position)))


def link(app, fromdocname, docname, children, anchor=""):
    uri = app.builder.get_relative_uri(fromdocname, docname) + (f"#{anchor}" if anchor else "")
    ref = nodes.reference("", "", internal=True, refuri=uri)
    ref += children if isinstance(children, list) else [children]
    return ref


def _table(headers, rows, widths, classes):
    table = nodes.table(classes=classes + ["colwidths-given"], width="100%")
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head += _row([nodes.Text(h) for h in headers])
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(row)
    return table


def _row(cells):
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        para = nodes.paragraph()
        para += cell if isinstance(cell, list) else [cell]
        entry += para
        row += entry
    return row


class GeneratedPlaceholder(nodes.General, nodes.Element):
    """Replaced by generated content once every document has been read."""


def _skip(self, node):
    raise nodes.SkipNode


class _GeneratedDirective(SphinxDirective):
    kind = ""

    def run(self):
        node = GeneratedPlaceholder(kind=self.kind, options=dict(self.options), content=list(self.content))
        # The generated lists may show math (exercise statements do). Sphinx decides whether a page
        # loads MathJax from the math nodes it finds while *reading* it, before the list exists:
        # an empty math node here makes it load MathJax on this page.
        node += nodes.math("", "")
        self.env.nd_generated_docs = getattr(self.env, "nd_generated_docs", set()) | {self.env.docname}
        return [node]


# --------------------------------------------------------------------------------------------
# {learning-path}
# --------------------------------------------------------------------------------------------
class LearningPathDirective(_GeneratedDirective):
    """Body lines: ``book/page: book/prereq, book/other`` and ``route Name: book/a book/b``."""

    kind = "learning-path"
    has_content = True
    option_spec = {
        "words-per-minute": directives.positive_int,
        "seconds-per-code-cell": directives.nonnegative_int,
        "minutes-per-exercise": directives.nonnegative_int,
        "reference": directives.unchanged,
    }


def study_minutes(path, n_exercises, words_per_minute, seconds_per_code_cell, minutes_per_exercise):
    """Estimated study time of one page, rounded up to 5 minutes (at least 5)."""
    path = Path(path)
    text = path.read_text(encoding="utf8")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        code_cells = sum(1 for c in cells if c["cell_type"] == "code")
    else:
        prose, code_cells = text, len(re.findall(r"^```\{code-cell\}", text, flags=re.M))
    prose = re.sub(r"^\s*(```|:::).*$", " ", prose, flags=re.M)  # directive fences are not words
    words = len(re.findall(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*", prose))
    minutes = words / words_per_minute + code_cells * seconds_per_code_cell / 60 + n_exercises * minutes_per_exercise
    return max(5, 5 * math.ceil(minutes / 5))


def _parse_learning_path(lines, location):
    prereqs, routes = {}, []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("route "):
            name, _, docs = line[len("route "):].partition(":")
            routes.append((name.strip(), docs.split()))
            continue
        doc, sep, rest = line.partition(":")
        if not sep:
            logger.warning(f"[nd_site] learning-path line needs 'book/page: prerequisites': {line!r}",
                           location=location)
            continue
        prereqs[doc.strip()] = [d.strip() for d in rest.split(",") if d.strip() and d.strip() != "-"]
    return prereqs, routes


def _format_minutes(minutes):
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def learning_path_content(app, node, fromdocname):
    env = app.env
    options = node["options"]
    wpm = options.get("words-per-minute", 150)
    code_s = options.get("seconds-per-code-cell", 30)
    ex_min = options.get("minutes-per-exercise", 10)
    reference = set((options.get("reference") or "").split())
    prereqs, routes = _parse_learning_path(node["content"], fromdocname)
    parts = book_parts(env)
    present = {doc for _caption, docs in parts for doc in docs}

    def doc_link(doc):
        return link(app, fromdocname, doc, nodes.Text(title_of(env, doc)))

    out, total, number = [], 0, 0
    for caption, docs in parts:
        rows = []
        for doc in docs:
            n_ex = len(exercises_of(env, doc))
            if doc in reference:
                label, time = nodes.emphasis(text="ref."), nodes.emphasis(text="as needed")
            else:
                number += 1
                label = nodes.Text(str(number))
                minutes = study_minutes(env.doc2path(doc), n_ex, wpm, code_s, ex_min)
                total += minutes
                time = nodes.Text(_format_minutes(minutes))
            before = [d for d in prereqs.get(doc, []) if d in present]
            cells = []
            for i, d in enumerate(before):
                cells += ([nodes.Text(", ")] if i else []) + [doc_link(d)]
            exercises = nodes.Text(str(n_ex) if n_ex or doc not in reference else "")
            rows.append([label, doc_link(doc), cells or nodes.Text("none"), time, exercises])
        if rows:
            out.append(nodes.rubric(text=caption))
            out.append(_table(["#", "Page", "Read first", "Time", "Exercises"], rows, [6, 40, 34, 11, 9],
                              ["nd-learning-path"]))
    summary = nodes.paragraph(classes=["nd-learning-path-total"])
    summary += nodes.Text(f"All {number} chapters: about {_format_minutes(total)} of study. Times are estimated "
                          f"from each page: {wpm} words of prose per minute, {code_s} s per code cell to read it "
                          f"and its output, and {ex_min} min per exercise, rounded up to 5 minutes.")
    out.append(summary)
    route_list = nodes.bullet_list(classes=["nd-routes"])
    for name, docs in routes:
        docs = [d for d in docs if d in present]
        if len(docs) < 2:  # a route of one page is no route (its other pages are not written yet)
            continue
        item = nodes.paragraph()
        item += nodes.strong(text=f"{name}: ")
        for i, d in enumerate(docs):
            item += ([nodes.Text(" → ")] if i else []) + [doc_link(d)]
        route_list += nodes.list_item("", item)
    if len(route_list):
        intro = nodes.paragraph(text="Suggested routes through the book:")
        out[:0] = [intro, route_list]
    return out


# --------------------------------------------------------------------------------------------
# {exercise-index}
# --------------------------------------------------------------------------------------------
class ExerciseIndexDirective(_GeneratedDirective):
    kind = "exercise-index"
    option_spec = {"max-chars": directives.positive_int}


def _inline_copy(env, node):
    """Inline children of a paragraph that are safe to render outside their page (None: stop here)."""
    if isinstance(node, nodes.Text):
        return nodes.Text(str(node))
    if isinstance(node, (nodes.math, nodes.literal)):
        return node.deepcopy()
    if isinstance(node, (nodes.emphasis, nodes.strong)):
        return type(node)(text=node.astext())
    if isinstance(node, addnodes.pending_xref):
        if node.get("refdomain") == "cite":
            return None  # a citation key means nothing out of context: end the excerpt before it
        if node.get("reftype") == "doc" and not node.get("refexplicit"):
            return nodes.Text(title_of(env, docname_join(node.get("refdoc", ""), node.get("reftarget", ""))))
    return nodes.Text(node.astext())


def statement_start(env, docname, label, max_chars):
    """The first paragraph of an exercise's statement, cut after about ``max_chars`` characters."""
    domain = env.get_domain("std")
    anchor = domain.labels.get(label, (None, label))[1]
    for node in env.get_doctree(docname).findall(nodes.Element):
        if anchor in node.get("ids", ()):
            for para in node.findall(nodes.paragraph):
                if isinstance(para.parent, nodes.title) or para.astext().strip() == "":
                    continue
                out, used = [], 0
                for child in para.children:
                    copy = _inline_copy(env, child)
                    if copy is None:
                        out.append(nodes.Text(" …"))
                        break
                    text = copy.astext()
                    if used + len(text) <= max_chars or isinstance(child, (nodes.math, nodes.literal)):
                        out.append(copy)
                        used += len(text)
                        continue
                    cut = text[: max(0, max_chars - used)].rsplit(" ", 1)[0]
                    out.append(nodes.Text(cut.rstrip(" ,;:") + " …"))
                    break
                return out, anchor
            return [], anchor
    return [], anchor


def exercise_index_content(app, node, fromdocname):
    env = app.env
    max_chars = node["options"].get("max-chars", 160)
    out, total, chapters = [], 0, 0
    for _caption, docs in book_parts(env):
        for doc in docs:
            labels = exercises_of(env, doc)
            if not labels:
                continue
            chapters += 1
            heading = nodes.paragraph(classes=["nd-exercise-index-chapter"])
            heading += nodes.strong("", "", link(app, fromdocname, doc, nodes.Text(title_of(env, doc))))
            heading += nodes.Text(f" ({_plural(len(labels), 'exercise')})")
            items = nodes.bullet_list(classes=["nd-exercise-index"])
            numbers = env.toc_fignumbers.get(doc, {}).get("exercise", {})
            for label in labels:
                total += 1
                statement, anchor = statement_start(env, doc, label, max_chars)
                number = ".".join(map(str, numbers.get(anchor, ())))
                item = nodes.paragraph()
                item += link(app, fromdocname, doc, nodes.Text(f"Exercise {number}".strip()), anchor=anchor)
                item += nodes.Text(" (")
                item += nodes.literal(text=label[3:] if label.startswith("ex-") else label)
                item += nodes.Text(")")
                if statement:
                    item += nodes.Text(": ")
                    item += statement
                items += nodes.list_item("", item)
            out += [heading, items]
    count = nodes.paragraph(classes=["nd-exercise-index-count"])
    count += nodes.Text(f"{_plural(total, 'exercise')} in {_plural(chapters, 'chapter')}." if total
                        else "No exercises yet.")
    return [count] + out


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------------------------
# Wiring
# --------------------------------------------------------------------------------------------
GENERATORS = {"learning-path": learning_path_content, "exercise-index": exercise_index_content}


def replace_placeholders(app, doctree, fromdocname):
    for node in list(doctree.findall(GeneratedPlaceholder)):
        node.replace_self(GENERATORS[node["kind"]](app, node, fromdocname))


def unique_ids(app, doctree, fromdocname):
    """Give repeated element ids on one page a numbered suffix.

    sphinx-exercise gives the body of every exercise and solution the same id
    (``exercise-content``, ``solution-content``); an id must be unique on a page (HTML, and
    assistive technology that follows ``aria`` references). Nothing links to these ids.
    """
    seen = set()
    for node in doctree.findall(nodes.Element):
        ids = node.get("ids")
        if not ids:
            continue
        for k, id_ in enumerate(ids):
            if id_ in seen:
                n = 2
                while f"{id_}-{n}" in seen:
                    n += 1
                ids[k] = f"{id_}-{n}"
            seen.add(ids[k])


PROSE_CELL_WORDS = 4


def mark_prose_cells(app, doctree, fromdocname):
    """Give table cells of running text the class ``nd-prose-cell`` (a minimum width in nd_site.css)."""
    for table in doctree.findall(nodes.table):
        if "nd-learning-path" in table["classes"]:
            continue  # generated with column widths of its own
        for entry in table.findall(nodes.entry):
            if len(entry.astext().split()) >= PROSE_CELL_WORDS:
                entry["classes"].append("nd-prose-cell")


def accessible_bibliography(app, pagename, templatename, context, doctree):
    """Bibliography entries as list items (``doc-biblioentry`` is deprecated; their list needs ``listitem``)."""
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def always_regenerate(app, env, added, changed, removed):
    """Pages with generated lists depend on every other page: rebuild them whenever anything changed."""
    if added or changed or removed:
        return sorted(getattr(env, "nd_generated_docs", set()) & env.found_docs)
    return []


def purge(app, env, docname):
    getattr(env, "nd_generated_docs", set()).discard(docname)


def merge(app, env, docnames, other):
    env.nd_generated_docs = getattr(env, "nd_generated_docs", set()) | getattr(other, "nd_generated_docs", set())


def _learner_notebook(app, pagename):
    """``(path in the repository, file)`` of a page's learner edition, or ``None`` when it has none."""
    folder, _, name = pagename.rpartition("/")
    relative = f"{folder}/learner/{name}.ipynb" if folder else f"learner/{name}.ipynb"
    path = Path(app.srcdir) / relative
    return (relative, path) if path.is_file() else None


def launch_learner_edition(app, pagename, templatename, context, doctree):
    """Point the launch buttons of a chapter at its learner edition (they are built at priority 501)."""
    learner = _learner_notebook(app, pagename)
    if learner is None:
        return
    old, new = f"{pagename}.ipynb", learner[0]
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if url.startswith("http"):
                button["url"] = url.replace(old, new).replace(quote(old, safe=""), quote(new, safe=""))


def download_learner_edition(app, exception):
    """Serve the learner edition where the download button points (``_sources/<page>.ipynb``)."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in app.env.found_docs:
        learner = _learner_notebook(app, docname)
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        if learner is not None and target.is_file():
            shutil.copyfile(learner[1], target)


def setup(app):
    app.add_node(GeneratedPlaceholder, html=(_skip, None), latex=(_skip, None), text=(_skip, None))
    app.add_directive("learning-path", LearningPathDirective)
    app.add_directive("exercise-index", ExerciseIndexDirective)
    app.connect("doctree-resolved", replace_placeholders)
    app.connect("doctree-resolved", unique_ids, priority=900)
    app.connect("doctree-resolved", mark_prose_cells)
    app.connect("env-get-outdated", always_regenerate)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    # priority 0: before any other extension adds an inline script in builder-inited
    app.connect("builder-inited", no_duplicate_inline_scripts, priority=0)
    app.connect("html-page-context", forbid_remote_assets)
    app.connect("html-page-context", accessible_bibliography)
    app.connect("html-page-context", launch_learner_edition, priority=502)
    app.connect("build-finished", download_learner_edition)
    # book/_static/nd_site.js (html_static_path in _config.yml): deferred, so that it runs
    # after the page is parsed and before the themes' deferred scripts
    app.add_js_file("nd_site.js", loading_method="defer")
    app.add_css_file("nd_site.css")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
