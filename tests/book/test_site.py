"""The published website: a strict build, then every page of the table of contents in a real browser.

The site is built once per test run (a file lock makes the ``pytest -n 2`` workers share one
build) from a copy of the working tree (tracked and untracked files that git does not ignore,
as in a fresh clone) with a decoy ``.venv/`` inside it, into a temporary folder, never into the
repository's ``_build``. The build must report zero warnings with ``-W -n --keep-going``.

``_build/html`` of that build is then served on 127.0.0.1 and driven with headless Chromium
(Debian's ``chromium``; see tests/book/_chromium.py). Every page listed in ``_toc.yml`` is checked:
HTTP 200, no console or uncaught script error, math rendered by the site's own MathJax, every
image loaded, every internal link and anchor resolving, no request leaving 127.0.0.1, figures
with alt text or a caption, and a 375 px wide phone layout. A screenshot of every page (desktop
and phone) is saved in the folder printed by the tests (run ``pytest -rP tests/book/test_site.py``,
or ``-s``, to see it): its first screen, or the whole page with ``ND_SCREENSHOTS=/some/dir``, which
also chooses the folder.
"""
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

from _chromium import PageLog
from _site import (
    DESKTOP,
    PAGES,
    PHONE,
    REPO,
    WAIT_FOR_MATHJAX,
    PlaywrightTimeout,
    exercise_labels,
    new_page,
    page_file,
    source_of,
)

# --------------------------------------------------------------------------------------------
# What the book contains: read from the sources, never hard-coded
# --------------------------------------------------------------------------------------------



def readme_command(marker):
    """The bash command that follows ``<!-- marker -->`` in README.md."""
    text = (REPO / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text, flags=re.S)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return match.group(1).strip()




# --------------------------------------------------------------------------------------------
# The build itself
# --------------------------------------------------------------------------------------------
def test_build_has_zero_warnings(site):
    log = site["log_text"]
    problems = [line for line in log.splitlines()
                if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b|Traceback", line)
                and "Kernel is running over TCP" not in line]
    print(f"cold build: {site['seconds']:.1f} s ({' '.join(site['command'][1:])}); log: {site['log']}")
    assert site["returncode"] == 0, f"jupyter-book build failed (exit {site['returncode']}):\n" + "\n".join(
        problems[:40] or log.splitlines()[-40:])
    assert not problems, "the build reported problems:\n" + "\n".join(problems[:40])
    assert "build succeeded" in log
    # the decoy virtual environment inside the repository was not read
    assert not list(site["html"].rglob("*decoy*")), "files from .venv/ ended up in the site"


def test_every_toc_page_was_built(html_dir):
    missing = [d for d in PAGES if not page_file(html_dir, d).is_file()]
    assert not missing, f"pages of _toc.yml missing from the site: {missing}"


def test_pages_load_nothing_from_other_hosts_and_declare_no_script_twice(html_dir):
    """Static check of every built HTML file (search and index pages included).

    Regression test for the duplicated inline ``<script>`` (Sphinx 7 added body-only scripts
    twice; ``const THEBE_JS_URL`` then raised a SyntaxError) and for any CDN reference.
    """
    problems = []
    for path in sorted(html_dir.rglob("*.html")):
        text = path.read_text(encoding="utf8")
        rel = path.relative_to(html_dir)
        for tag in re.findall(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*>", text):
            for attr in re.findall(r'\b(?:src|href)="([^"]*)"', tag):
                if re.match(r"(?i)(https?:)?//", attr) and not tag.startswith("<link rel=\"canonical\""):
                    problems.append(f"{rel}: {tag[:160]}")
        inline = [body.strip() for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", text, re.S)]
        repeated = {b for b in inline if b and inline.count(b) > 1}
        problems += [f"{rel}: inline script repeated: {b[:100]}" for b in sorted(repeated)]
        if "unpkg.com" in text or "cdn.jsdelivr" in text:
            problems.append(f"{rel}: mentions a CDN")
    assert not problems, "\n".join(problems[:40])
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not served by the site"


def _mini_sphinx(tmp_path, conf):
    """Build a one-page Sphinx project (HTML, basic theme) with ``conf``; return (ok, log, html)."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text(conf)
    (src / "index.rst").write_text("Page\n====\n\nText.\n")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", str(src), str(out)],
                          capture_output=True, text=True)
    page = out / "index.html"
    return proc.returncode == 0, proc.stdout + proc.stderr, page.read_text() if page.exists() else ""


INLINE_CONST_EXTENSION = f"""
import sys
sys.path.insert(0, {str(REPO / "book" / "_ext")!r})
def add_inline(app, env, docnames):  # what sphinx-thebe does with `const THEBE_JS_URL = ...`
    app.add_js_file(None, body="const ND_PROBE = 1")
def setup(app):
    app.connect("env-before-read-docs", add_inline)
"""


@pytest.mark.parametrize("with_fix", [False, True])
def test_inline_script_added_after_builder_init_appears_once_with_nd_site(tmp_path, with_fix):
    """The root cause of ``Identifier 'THEBE_JS_URL' has already been declared``, and its fix.

    Sphinx 7 writes a body-only script added after the builder was initialised twice (once with
    filename None, once with ''); book/_ext/nd_site.py makes both adds use ''.
    """
    (tmp_path / "probe_ext.py").write_text(INLINE_CONST_EXTENSION)
    conf = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nextensions = ['probe_ext'"
    conf += ", 'nd_site']\n" if with_fix else "]\n"
    ok, warnings, page = _mini_sphinx(tmp_path, conf)
    assert ok, warnings
    count = page.count("const ND_PROBE = 1")
    assert count == (1 if with_fix else 2), f"inline script found {count} times (with nd_site: {with_fix})"


def test_nd_site_fails_the_build_on_a_remote_script(tmp_path):
    conf = (f"import sys\nsys.path.insert(0, {str(REPO / 'book' / '_ext')!r})\nextensions = ['nd_site']\n"
            "html_js_files = ['https://cdn.example.org/tracker.js']\n")
    ok, warnings, _page = _mini_sphinx(tmp_path, conf)
    assert not ok and "from another host" in warnings, warnings


def test_exercise_index_lists_every_exercise(html_dir):
    expected = {(doc, label) for doc in PAGES for label in exercise_labels(doc)}
    text = page_file(html_dir, "book/exercise_index").read_text(encoding="utf8")
    block = text[text.index("nd-exercise-index-count"):]
    links = set(re.findall(r'href="([\w./-]+)\.html#(ex-[\w-]+)"', block))
    listed = {("book/" + Path(href).name if not href.startswith("book/") else href, label) for href, label in links}
    assert listed == expected, (f"missing from the index: {sorted(expected - listed)}; "
                                f"listed but not in the book: {sorted(listed - expected)}")
    assert f"{len(expected)} exercise" in block or (not expected and "No exercises yet" in block)
    print(f"{len(expected)} exercises in the index")


def test_learning_path_lists_every_page(html_dir):
    text = page_file(html_dir, "book/intro").read_text(encoding="utf8")
    tables = "".join(re.findall(r'<table class="[^"]*nd-learning-path.*?</table>', text, flags=re.S))
    rows = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in re.findall(r"<tr.*?</tr>", tables, flags=re.S)]
    listed = ["book/" + m.group(1) for cells in rows if len(cells) == 5
              for m in [re.search(r'href="([\w-]+)\.html"', cells[1])] if m]
    assert listed == PAGES[1:], f"the learning path must list the pages of _toc.yml in order: {listed} != {PAGES[1:]}"
    assert all(re.search(r"\d+ min|\d+ h|as needed", cells[3]) for cells in rows if len(cells) == 5)
    assert "of study" in text


def test_launch_and_download_buttons(html_dir):
    """Binder, JupyterHub and Colab links of a notebook page all come from ``repository.url`` and open the
    chapter's learner edition (book/learner/), which the download button serves too."""
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    org, repo = urlsplit(config["repository"]["url"]).path.strip("/").split("/")[:2]
    branch = config["repository"]["branch"]
    notebooks = [d for d in PAGES if source_of(d).suffix == ".ipynb"]
    assert notebooks, "no notebook in the table of contents"
    for page in notebooks:
        doc = page.replace("book/", "book/learner/", 1)
        text = page_file(html_dir, page).read_text(encoding="utf8")
        hrefs = [unquote(html.unescape(h)) for h in re.findall(r'href="([^"]+)"', text)]
        for provider, pattern in [
            ("Binder", rf"^https://mybinder\.org/v2/gh/{org}/{repo}/{branch}\?urlpath=lab/tree/{doc}\.ipynb$"),
            ("Colab", rf"^https://colab\.research\.google\.com/github/{org}/{repo}/blob/{branch}/{doc}\.ipynb$"),
            ("JupyterHub", rf"^https://[^/]+/hub/user-redirect/git-pull\?repo=https://github\.com/{org}/{repo}"
                           rf"&urlpath=lab/tree/{repo}/{doc}\.ipynb&branch={branch}$"),
        ]:
            assert any(re.match(pattern, h) for h in hrefs), f"{doc}: no {provider} launch link built from repository.url"
        download = re.search(r'href="(\.\./_sources/[^"]+\.ipynb)"', text)
        assert download, f"{page}: no .ipynb download button"
        served = (page_file(html_dir, page).parent / download.group(1)).read_text(encoding="utf8")
        assert served == (REPO / f"{doc}.ipynb").read_text(encoding="utf8"), f"{page}: the download is not the learner edition"
    for doc in PAGES:
        if source_of(doc).suffix == ".md":
            text = page_file(html_dir, doc).read_text(encoding="utf8")
            download = re.search(r'href="(\.\./_sources/[^"]+\.md)"', text)
            assert download, f"{doc}: no .md download button"
            assert (page_file(html_dir, doc).parent / download.group(1)).read_text() == source_of(doc).read_text()


def test_every_page_shows_the_licence(html_dir):
    for doc in PAGES:
        text = page_file(html_dir, doc).read_text(encoding="utf8")
        assert "creativecommons.org/licenses/by/4.0" in text and ">MIT<" in text, f"{doc}: no licence in the footer"
    licence = (REPO / "LICENSE").read_text()
    assert "MIT License" in licence and "Creative Commons Attribution 4.0 International" in licence
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("<!-- licence-start -->"):readme.index("<!-- licence-end -->")]
    assert "MIT" in section and "CC BY 4.0" in section


def test_pages_workflow_runs_the_readme_build_command():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    runs = [step.get("run", "").strip() for step in steps]
    assert readme_command("build-command") in runs, "the Pages workflow must run the README's build command"
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "_build/html"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in steps)


# --------------------------------------------------------------------------------------------
# Reading comfort, checked on the notebooks themselves
# --------------------------------------------------------------------------------------------
NOTEBOOK_PAGES = [d for d in PAGES if (REPO / (d + ".ipynb")).is_file()]
MAX_OUTPUT_LINES = 40
HIDDEN_INPUT = {"hide-input", "remove-input", "hide-cell", "remove-cell"}


def _code_cells(docname):
    cells = json.loads(source_of(docname).read_text(encoding="utf8"))["cells"]
    return [(i, c) for i, c in enumerate(cells) if c["cell_type"] == "code"]


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_plot_only_cells_hide_their_code(docname):
    """A cell whose only output is a figure shows its code behind a "show code" toggle (tag ``hide-input``)."""
    bad = []
    for i, cell in _code_cells(docname):
        outputs = [o for o in cell.get("outputs", []) if o["output_type"] in ("display_data", "execute_result")]
        streams = [o for o in cell.get("outputs", []) if o["output_type"] == "stream" and "".join(o["text"]).strip()]
        only_figures = outputs and not streams and all(any(k.startswith("image/") for k in o["data"]) for o in outputs)
        if only_figures and not HIDDEN_INPUT & set(cell["metadata"].get("tags", [])):
            bad.append(i)
    assert not bad, f"{docname}: cells {bad} only draw a figure; tag them hide-input"


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_markdown_table_outputs_render_as_tables(html_dir, docname):
    """companion.notebook.printing.Table outputs (text/markdown) must become HTML tables, not raw pipes."""
    nb = json.loads(source_of(docname).read_text(encoding="utf-8"))
    tables = sum(
        1
        for cell in nb["cells"] if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if re.search(r"^\|(---\|)+$", "".join(out.get("data", {}).get("text/markdown", "")), re.M)
    )
    html = page_file(html_dir, docname).read_text(encoding="utf-8")
    assert "|---|" not in html, f"{docname}: a Markdown table is shown as raw text"
    assert html.count("<table") >= tables, f"{docname}: {tables} table outputs, {html.count('<table')} HTML tables"


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_outputs_are_short(docname):
    """No printed output longer than 40 lines, unless the cell scrolls it (tag ``scroll-output``) or hides it."""
    bad = []
    for i, cell in _code_cells(docname):
        if {"output_scroll", "scroll-output", "hide-output", "remove-output"} & set(cell["metadata"].get("tags", [])):
            continue
        lines = 0
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                lines += "".join(output["text"]).rstrip("\n").count("\n") + 1
            elif output["output_type"] in ("display_data", "execute_result") and set(output["data"]) == {"text/plain"}:
                lines += "".join(output["data"]["text/plain"]).rstrip("\n").count("\n") + 1
        if lines > MAX_OUTPUT_LINES:
            bad.append(f"cell {i}: {lines} lines")
    assert not bad, (f"{docname}: outputs longer than {MAX_OUTPUT_LINES} lines ({', '.join(bad)}): print less, "
                     "or tag the cell scroll-output")


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------
INSPECT = """() => {
    const article = document.querySelector('article.bd-article') || document.body;
    const text = (root) => {
        const clone = root.cloneNode(true);
        clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .cell_input').forEach(e => e.remove());
        return clone.textContent;
    };
    const mathNodes = Array.from(document.querySelectorAll('.math'));
    const images = Array.from(document.images).map(img => ({
        src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
        alt: (img.getAttribute('alt') || '').trim(),
        content: article.contains(img),
        caption: (() => { const f = img.closest('figure'); const c = f && f.querySelector('figcaption');
                          return c ? c.textContent.trim() : ''; })(),
    }));
    const ids = new Set(Array.from(document.querySelectorAll('[id]')).map(e => e.id));
    return {
        title: document.title,
        mathjax: !!(window.MathJax && MathJax.startup),
        math: mathNodes.length,
        mathUnrendered: mathNodes.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
        mathErrors: document.querySelectorAll('mjx-merror').length,
        rawDelimiters: (text(article).match(/\\$\\$|\\\\\\(|\\\\\\[/g) || []).length,
        rawCommands: (text(article).match(/\\\\[A-Za-z]{2,}/g) || []).slice(0, 5),
        images: images,
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
        ids: Array.from(ids),
    };
}"""

PHONE_INSPECT = """() => {
    const width = window.innerWidth;
    const sidebar = document.querySelector('.bd-sidebar-primary');
    const box = sidebar ? sidebar.getBoundingClientRect() : null;
    const visible = sidebar && getComputedStyle(sidebar).visibility !== 'hidden'
                    && getComputedStyle(sidebar).display !== 'none' && box.width > 0 && box.right > 1 && box.left < width;
    const article = document.querySelector('article.bd-article') || document.body;
    const overflowing = Array.from(article.querySelectorAll('p, li, h1, h2, h3, h4, dt, dd, figcaption, .admonition-title'))
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1 && !e.closest('table, .table-wrapper, pre, .highlight, mjx-container, .MathJax'))
        .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 60));
    return {width: width, scrollWidth: document.documentElement.scrollWidth, sidebarVisible: !!visible,
            overflowing: overflowing};
}"""


def _links_problems(html_dir, server, page_url, links, cache):
    problems = []
    for url in links:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not url.startswith(server):
            continue
        path = html_dir / unquote(parts.path[len(urlsplit(server).path):])
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            problems.append(f"broken link {url} (no file {path.relative_to(html_dir)})")
            continue
        if parts.fragment and path.suffix == ".html":
            if path not in cache:
                cache[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf8")))
            if unquote(parts.fragment) not in cache[path]:
                problems.append(f"broken anchor {url}")
    return sorted(set(problems))


FULL_PAGE_SHOTS = bool(os.environ.get("ND_SCREENSHOTS"))
_VISITS = {}  # docname -> what the browser saw (each page is opened once per run)
_IDS = {}  # html file -> its element ids (for anchor checks)


@pytest.fixture
def visit(browser, server, html_dir, screenshots):
    """Open one page at 1280 px, inspect it, then narrow the window to 375 px; cached per page."""
    def _visit(docname):
        if docname in _VISITS:
            return _VISITS[docname]
        url = urljoin(server, docname + ".html")
        shot = screenshots / docname.replace("/", "__")
        page = new_page(browser, DESKTOP)
        log = PageLog(page)
        response = page.goto(url, wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX)
        info = page.evaluate(INSPECT)
        # the whole page when someone asked for the screenshots (ND_SCREENSHOTS), else its first screen:
        # a full-page capture of a long chapter costs seconds, 27 times per run
        page.screenshot(path=f"{shot}.jpg", full_page=FULL_PAGE_SHOTS, type="jpeg", quality=70)
        page.set_viewport_size(PHONE)
        try:  # the sidebar slides away with a CSS transition
            page.wait_for_function(f"() => !({PHONE_INSPECT})().sidebarVisible", timeout=5_000)
        except PlaywrightTimeout:
            pass  # reported by test_page_fits_a_phone
        info["phone"] = page.evaluate(PHONE_INSPECT)
        page.screenshot(path=f"{shot}__375px.jpg", type="jpeg", quality=70)
        page.close()
        info.update(status=response.status if response else None, log=log, screenshot=f"{shot}.jpg",
                    link_problems=_links_problems(html_dir, server, url, info["links"], _IDS))
        _VISITS[docname] = info
        return info

    print(f"screenshots of every page: {screenshots}")
    return _visit


@pytest.mark.parametrize("docname", PAGES)
def test_page_loads_cleanly_offline(visit, docname):
    info = visit(docname)
    assert info["status"] == 200, f"{docname}: HTTP {info['status']}"
    problems = info["log"].problems()
    assert not problems, f"{docname} ({info['screenshot']}):\n" + "\n".join(problems)


@pytest.mark.parametrize("docname", PAGES)
def test_page_math_is_rendered(visit, docname):
    info = visit(docname)
    if info["math"]:
        assert info["mathjax"], f"{docname} has math but MathJax did not start"
    assert not info["mathUnrendered"], f"{docname}: math left unrendered: {info['mathUnrendered'][:5]}"
    assert info["mathErrors"] == 0, f"{docname}: {info['mathErrors']} MathJax errors (bad LaTeX)"
    assert info["rawDelimiters"] == 0, f"{docname}: raw $$, \\( or \\[ left in the text"
    assert not info["rawCommands"], f"{docname}: LaTeX commands left unrendered in the text: {info['rawCommands']}"


@pytest.mark.parametrize("docname", PAGES)
def test_page_images_load(visit, docname):
    info = visit(docname)
    broken = [img["src"] for img in info["images"] if not img["loaded"]]
    assert not broken, f"{docname}: images that did not load: {broken}"


@pytest.mark.parametrize("docname", PAGES)
def test_page_internal_links_resolve(visit, docname):
    info = visit(docname)
    assert not info["link_problems"], f"{docname}:\n" + "\n".join(info["link_problems"])


def _is_file_name(alt, src):
    return alt == src or alt.endswith(Path(src or "").name) or re.search(r"\.(png|jpe?g|svg|gif|webp)$", alt, re.I)


@pytest.mark.parametrize("docname", PAGES)
def test_page_figures_have_alt_text_or_caption(visit, docname):
    """Strict: every content image needs real alt text (not its file name) or a figure caption.

    Chapter authors give a figure cell ``"mystnb": {"image": {"alt": ...}, "figure": {"caption": ...}}``.
    """
    info = visit(docname)
    bad = [img["src"] for img in info["images"] if img["content"]
           and (not img["alt"] or _is_file_name(img["alt"], img["src"])) and not img["caption"]]
    assert not bad, (f"{docname}: {len(bad)} figure(s) without alt text or caption: {bad}; add "
                     '"mystnb": {"image": {"alt": ...}, "figure": {"caption": ...}} to the cell metadata')


@pytest.mark.parametrize("docname", PAGES)
def test_page_fits_a_phone(visit, docname):
    phone = visit(docname)["phone"]
    assert not phone["sidebarVisible"], f"{docname}: at 375 px the navigation sidebar still takes space"
    assert phone["scrollWidth"] <= phone["width"] + 1, (
        f"{docname}: at 375 px the page scrolls sideways ({phone['scrollWidth']} px wide)")
    assert not phone["overflowing"], f"{docname}: text wider than a 375 px screen: {phone['overflowing'][:5]}"


def test_phone_menu_opens_the_table_of_contents(browser, server):
    page = new_page(browser, PHONE)
    log = PageLog(page)
    page.goto(urljoin(server, PAGES[-1] + ".html"))
    chapter_link = page.locator(f'a.reference.internal[href$="{Path(PAGES[1]).name}.html"]:visible')
    assert chapter_link.count() == 0, "at 375 px the table of contents is shown before the menu is opened"
    toggle = page.locator("button.primary-toggle:visible")
    assert toggle.count() == 1, "no menu button at 375 px"
    toggle.click()
    chapter_link.first.wait_for(state="visible", timeout=5_000)
    chapter_link.first.click()
    page.wait_for_url(f"**/{PAGES[1]}.html")
    page.close()
    assert not log.problems(), log.problems()


def test_solution_dropdown_opens_and_shows_code(browser, server, html_dir):
    with_solutions = [d for d in PAGES
                      if re.search(r'class="solution dropdown[^"]*"', page_file(html_dir, d).read_text(encoding="utf8"))]
    assert with_solutions, "no page of the book has an exercise with a dropdown solution"
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    page.goto(urljoin(server, with_solutions[0] + ".html"))
    solution = page.locator(".solution.dropdown").first
    code = solution.locator("div.highlight pre").first
    solution.scroll_into_view_if_needed()
    assert not code.is_visible(), f"{with_solutions[0]}: the solution is shown before it is opened"
    solution.locator(".admonition-title").first.click()
    code.wait_for(state="visible", timeout=5_000)
    assert code.inner_text().strip(), "the opened solution shows no code"
    page.close()
    assert not log.problems(), log.problems()


def test_search_finds_momentum(browser, server):
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    page.goto(urljoin(server, "search.html?q=momentum"))
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15_000)
    hrefs = [results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())]
    page.close()
    assert any(h and h.split("#")[0].split("?")[0].removesuffix(".html") in PAGES for h in hrefs), hrefs
    assert not log.problems(), log.problems()


def test_exercise_numbers_of_the_learner_edition_match_the_site(html_dir):
    """The learner edition numbers exercises as the site does ("Solution to Exercise 39" can be matched)."""
    from companion.tools.editions import exercise_numbers

    numbers = exercise_numbers(REPO)
    seen = {}
    for doc in PAGES:
        text = page_file(html_dir, doc).read_text(encoding="utf8")
        for name, number in re.findall(r'href="#ex-(\w+)">\s*Exercise (\d+)', text):
            seen[name] = int(number)
    assert seen and seen == {name: numbers[name] for name in seen}
    assert set(seen) == set(numbers)
