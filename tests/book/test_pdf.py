"""The PDF edition (``nd-pdf``): every chapter, figure, formula and solution in it, built with no network.

The PDF is built once per test run, as the README's build command builds it: the ``site`` fixture
(tests/book/_site.py) builds the website into a temporary folder and then runs ``nd-pdf --site``,
which builds the one-page (singlehtml) edition next to it, prints it with Debian's Chromium and
copies the PDF to the root of the website. These tests read that PDF with pypdf and compare it with
the sources and the one-page HTML. Select them with ``-m pdf``; they need ``chromium`` (skipped
without it, a failure under ``CI``). Two quick tests run ``nd-pdf`` on purpose-made pages: one that
would load an image from another host (refused) and one without Chromium (a clear error).
"""
import html
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

from _chromium import require_chromium
from _site import PAGES, PDF_NAME, REPO, source_of

pytestmark = pytest.mark.pdf

CHAPTERS = PAGES[1:]  # the root document is the front page


# --------------------------------------------------------------------------------------------
# What the book contains, read from the sources
# --------------------------------------------------------------------------------------------
def _markdown_and_code(docname):
    path = source_of(docname)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf8"))["cells"]
        markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        return markdown, [c for c in cells if c["cell_type"] == "code"]
    return path.read_text(encoding="utf8"), []


def title_of(docname):
    """The first ``# `` heading of a page's source."""
    markdown, _ = _markdown_and_code(docname)
    markdown = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    match = re.search(r"^# (.+)$", markdown, flags=re.M)
    assert match, f"{docname}: no '# title' in its source"
    return match.group(1).strip()


def longest_shown_code_lines(n=3):
    """The ``n`` longest lines of the code cells the pages show (not hidden or removed by a tag)."""
    hidden = {"hide-input", "remove-input", "remove-cell", "hide-cell"}
    lines = []
    for doc in CHAPTERS:
        for cell in _markdown_and_code(doc)[1]:
            if hidden & set(cell.get("metadata", {}).get("tags", [])):
                continue
            lines += [(line.strip(), doc) for line in "".join(cell["source"]).splitlines() if line.strip()]
    return sorted(lines, key=lambda item: -len(item[0]))[:n]


def squeeze(text):
    """Text compared without whitespace (lines wrap differently on paper) and ligatures (ﬁ is fi)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# --------------------------------------------------------------------------------------------
# The PDF and the page it was printed from
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pdf_build(site):
    require_chromium()
    if "pdf" not in site:
        pytest.fail("the site fixture did not run nd-pdf although chromium is installed", pytrace=False)
    build = site["pdf"]
    log = Path(build["log"]).read_text()
    assert build["returncode"] == 0, f"nd-pdf failed (log {build['log']}):\n{log[-3000:]}"
    print(f"nd-pdf: {build['seconds']:.0f} s; log {build['log']}\n{log}")
    return build


@pytest.fixture(scope="module")
def reader(pdf_build):
    from pypdf import PdfReader

    return PdfReader(pdf_build["pdf"])


@pytest.fixture(scope="module")
def page_texts(reader):
    return [unicodedata.normalize("NFKC", page.extract_text() or "") for page in reader.pages]


@pytest.fixture(scope="module")
def singlehtml(pdf_build):
    """The article of the one page that was printed (``index.html`` of the singlehtml build)."""
    text = (Path(pdf_build["singlehtml"]) / "index.html").read_text(encoding="utf8")
    start = text.index("<article")
    return text[start:text.index("</article>", start)]


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------
def part_openings():
    """``{docname: caption}`` for the first chapter of each part of ``_toc.yml``."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return {part["chapters"][0]["file"]: part["caption"] for part in toc.get("parts", []) if part.get("chapters")}


def _bookmarks(reader):
    """``(title, page index)`` of every bookmark of the PDF (Chromium makes them from the headings)."""
    out = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return out


def test_every_chapter_is_in_the_pdf_in_toc_order(reader, page_texts):
    """Each chapter of ``_toc.yml`` has a bookmark, in order, on a page that shows its title and
    starts with it (or with its part's title, for a part's first chapter)."""
    marks = [(squeeze(title), page) for title, page in _bookmarks(reader)]
    parts = part_openings()
    pages, problems, cursor = [], [], 0
    for doc in CHAPTERS:
        title = squeeze(title_of(doc))
        # in reading order, after the previous chapter's bookmark; a wrapped heading is read without
        # the space at the break (squeeze), sometimes twice over
        found = [k for k in range(cursor, len(marks))
                 if marks[k][0].startswith(title) and title.startswith(marks[k][0][len(title):])]
        if not found:
            problems.append(f"{title_of(doc)}: no bookmark after the previous chapter's")
            continue
        cursor = found[0] + 1
        page = marks[found[0]][1]
        pages.append(page)
        text = squeeze(page_texts[page])
        if title not in text:
            problems.append(f"{title_of(doc)}: not on its page {page + 1}")
        elif doc in parts and squeeze(parts[doc]).upper() not in text:
            problems.append(f"{title_of(doc)}: its part's title {parts[doc]!r} is not on its page {page + 1}")
    assert not problems, "\n".join(problems)
    assert pages == sorted(pages), "chapters out of the table of contents' order"
    assert squeeze(title_of(PAGES[0])) in squeeze(page_texts[0]), "the book's title is not on the first page"
    assert all(squeeze(title_of(doc)) in squeeze("".join(page_texts[:3])) for doc in CHAPTERS), \
        "the contents at the start of the PDF do not list every chapter"


def _pdf_images(reader):
    """(width, height) of every raster image drawn in the PDF, per page, Form XObjects included."""
    sizes = []

    def walk(resources, seen):
        xobjects = (resources or {}).get("/XObject") or {}
        for ref in xobjects.values():
            obj = ref.get_object()
            key = id(obj)
            if key in seen:
                continue
            seen.add(key)
            if obj.get("/Subtype") == "/Image":
                sizes.append((int(obj["/Width"]), int(obj["/Height"])))
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"), seen)

    for page in reader.pages:
        walk(page.get("/Resources"), set())
    return sorted(sizes)


def test_every_figure_is_in_the_pdf(reader, singlehtml, pdf_build):
    """The raster images of the PDF are the figures of the page: same number, same pixel sizes."""
    from PIL import Image

    folder = Path(pdf_build["singlehtml"])
    sources = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', singlehtml)
    raster = [s for s in sources if re.search(r"\.(png|jpe?g|gif|webp)$", s, re.I)]
    assert raster, "the one-page edition has no figures at all"
    expected = sorted(Image.open(folder / html.unescape(s)).size for s in raster)
    got = _pdf_images(reader)
    assert len(got) == len(expected), f"{len(expected)} figures on the page, {len(got)} raster images in the PDF"
    assert got == expected, "the PDF's images are not the page's figures at their full resolution"


def test_formulas_are_typeset(pdf_build, singlehtml, page_texts, reader):
    """MathJax typeset every formula before printing, and no TeX source is left in the PDF's text."""
    report = json.loads(Path(pdf_build["report"]).read_text())
    math_nodes = len(re.findall(r'class="math[ "]', singlehtml))
    assert math_nodes > 100, f"only {math_nodes} formulas on the page: the book has hundreds"
    assert report["loaded"]["math"] == math_nodes, "nd-pdf did not see every formula of the page"
    assert report["loaded"]["mathRendered"] == math_nodes and report["loaded"]["mathErrors"] == 0
    assert report["printed"]["mjx"] >= math_nodes, "formulas without MathJax output when printed"
    # The TeX commands the formulas use must not appear as text (code that spells one out is allowed).
    formulas = " ".join(re.findall(r'class="math[^"]*">(.*?)</(?:span|div)>', singlehtml, flags=re.S))
    commands = set(re.findall(r"\\[A-Za-z]{2,}", html.unescape(formulas)))
    prose = re.sub(r'<(span|div) class="math[^"]*">.*?</\1>', " ", singlehtml, flags=re.S)
    allowed = {c for c in commands if c in html.unescape(re.sub(r"<[^>]+>", "", prose))}
    text = "\n".join(page_texts)
    leaked = sorted(c for c in commands - allowed if re.search(re.escape(c) + r"(?![A-Za-z])", text))
    assert not leaked, f"TeX commands printed as text: {leaked[:10]}"
    for delimiter in ("$$", "\\(", "\\[", "\\begin{"):
        assert delimiter not in text, f"raw {delimiter!r} in the PDF's text"
    # MathJax's glyphs are its own web fonts, embedded by Chromium as Type 3 fonts.
    pages_with_math_font = sum(1 for page in reader.pages if any(
        f.get_object().get("/Subtype") == "/Type3"
        for f in ((page.get("/Resources") or {}).get("/Font") or {}).values()))
    assert pages_with_math_font >= len(CHAPTERS) // 2, f"MathJax's fonts are on only {pages_with_math_font} pages"


def test_no_network_during_the_build(pdf_build):
    """nd-pdf fails when a request leaves 127.0.0.1; its record of such requests is empty."""
    report = json.loads(Path(pdf_build["report"]).read_text())
    assert report["off_host"] == []


def test_page_count_is_sensible(reader, singlehtml):
    """Between 150 and 700 words of the page per printed page, and at least a page per chapter."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", singlehtml, flags=re.S)
    words = len(re.findall(r"[A-Za-z]{2,}", html.unescape(re.sub(r"<[^>]+>", " ", body))))
    pages = len(reader.pages)
    print(f"{pages} pages, {words} words on the page, {words / pages:.0f} words per page")
    assert pages >= len(CHAPTERS) + 2
    assert 150 <= words / pages <= 700, f"{pages} pages for {words} words"


def test_long_code_lines_are_printed_in_full(page_texts):
    """Code wraps at the margin: the book's longest shown code lines are in the PDF's text entire."""
    text = squeeze("\n".join(page_texts))
    for line, doc in longest_shown_code_lines():
        assert squeeze(line) in text, f"{doc}: code line cut off in the PDF: {line}"


def test_solutions_are_in_an_appendix(page_texts, singlehtml):
    """Every solution is printed, after every chapter, each titled with its exercise."""
    solutions = len(re.findall(r'<div class="solution[ "]', singlehtml))
    assert solutions > 0
    text = "\n".join(page_texts)
    start = [i for i, t in enumerate(page_texts) if t.lstrip().startswith("Solutions")]
    assert start, "no page opens the Solutions appendix"
    after = "\n".join(page_texts[start[-1]:])
    assert after.count("Solution to") == solutions == text.count("Solution to")
    last_chapter = squeeze(title_of(CHAPTERS[-1]))
    assert last_chapter not in squeeze(after), "the appendix is not after the last chapter"


def test_the_website_links_the_pdf(site, pdf_build):
    """The PDF sits at the root of the website, and every page links to it (header menu and footer)."""
    html_dir = Path(site["html"])
    assert (html_dir / PDF_NAME).read_bytes() == Path(pdf_build["pdf"]).read_bytes()
    for doc in PAGES:
        page = (html_dir / (doc + ".html")).read_text(encoding="utf8")
        target = "../" * doc.count("/") + PDF_NAME
        assert page.count(f'href="{target}"') >= 2, f"{doc}: no link to {target} in the header and the footer"


# --------------------------------------------------------------------------------------------
# nd-pdf refuses what it must refuse
# --------------------------------------------------------------------------------------------
def _nd_pdf(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "companion.tools.pdf", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_nd_pdf_refuses_a_page_that_reaches_another_host(tmp_path):
    require_chromium()
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body><article class='bd-article'>"
        + "<p>padding</p>" * 100 + "<img src='https://example.org/figure.png' alt='remote'></article></body></html>")
    out = tmp_path / "out.pdf"
    proc = _nd_pdf("--html", str(site), "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "https://example.org/figure.png" in proc.stderr
    assert not out.exists(), "a PDF was written although the page reached another host"


def test_nd_pdf_without_chromium_says_how_to_install_it(tmp_path):
    proc = _nd_pdf("--chromium", str(tmp_path / "no-such-chromium"), "--no-build", "--out", str(tmp_path / "x.pdf"))
    assert proc.returncode == 1
    assert "apt-get install chromium" in proc.stderr and "playwright install" in proc.stderr
