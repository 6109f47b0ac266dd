"""The built website, shared by the browser tests of tests/book (site, server, browser fixtures).

The site is built once per test run (a file lock makes the ``pytest -n 2`` workers and every test
module share one build) from a copy of the working tree (tracked and untracked files that git does
not ignore, as in a fresh clone) with a decoy ``.venv/`` inside it, into a temporary folder, never
into the repository's ``_build``. tests/book/conftest.py makes the fixtures available to every
module of tests/book.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from _chromium import chromium, require_chromium

REPO = Path(__file__).resolve().parents[2]
PDF_NAME = "normalize-and-drop.pdf"  # where the site links to it: book/_ext/nd_pdf.py
BUILD_FLAGS = ["-W", "-n", "--keep-going"]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def toc_docnames():
    """Every document of ``_toc.yml``, root first, in reading order."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    out = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                out.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return out


def source_of(docname):
    for suffix in (".ipynb", ".md"):
        if (REPO / (docname + suffix)).exists():
            return REPO / (docname + suffix)
    raise FileNotFoundError(f"{docname} is in _toc.yml but has no .ipynb or .md file")


PAGES = toc_docnames()


#: An exercise directive of sphinx-exercise and its ``:label:`` (the whole label, ``ex-...``).
EXERCISE_LABEL = re.compile(r"```\{exercise(?:-start)?\}[^\n]*\n(?:\s*:[\w-]+:.*\n)*?\s*:label:\s*(ex-[\w-]+)")


def markdown_of(docname):
    """The Markdown of one page, read from its source (a notebook's Markdown cells, joined)."""
    path = source_of(docname)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf8")


def exercise_labels(docname):
    """The ``ex-*`` labels of the exercises of one page, in order, read from its source."""
    return EXERCISE_LABEL.findall(markdown_of(docname))


def _copy_working_tree(dest):
    """Copy what a fresh clone would have (plus untracked, not ignored files) to ``dest``."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        ignore = shutil.ignore_patterns(".git", "_build", ".venv", "venv", "*.egg-info", "__pycache__",
                                        ".pytest_cache", ".hypothesis", ".ipynb_checkpoints")
        shutil.copytree(REPO, dest, ignore=ignore, dirs_exist_ok=True)
        return
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _add_decoy_venv(src):
    """A virtual environment inside the repository must not leak into the build."""
    decoy = src / ".venv" / "lib" / "python3.11" / "site-packages" / "decoy"
    decoy.mkdir(parents=True)
    (decoy / "README.md").write_text("# Decoy\n\n```{no-such-directive}\n```\n\n{no-such-role}`x`\n")
    (decoy / "broken.ipynb").write_text("{ not a notebook")


def pdf_printer_available():
    """Chromium and Playwright, which the PDF edition (nd-pdf) is printed with."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return shutil.which("chromium") is not None


def _build_pdf(src, out, root):
    """The second half of the README's build command: ``nd-pdf --site _build/html`` (the site links to the PDF).

    It builds the singlehtml edition next to the website (sharing its doctrees) and prints it;
    ``report.json`` is what nd-pdf measured (tests/book/test_pdf.py checks the PDF itself).
    """
    folder = root / "pdf"
    folder.mkdir()
    pdf, report, log = folder / PDF_NAME, folder / "report.json", folder / "nd-pdf.log"
    command = [sys.executable, "-m", "companion.tools.pdf", "--path-output", str(out), "--out", str(pdf),
               "--site", str(out / "_build" / "html"), "--report", str(report)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=src, capture_output=True, text=True)
    log.write_text(proc.stdout + "\n" + proc.stderr)
    return {"command": command, "returncode": proc.returncode, "seconds": time.perf_counter() - start,
            "pdf": str(pdf), "report": str(report), "log": str(log),
            "singlehtml": str(out / "_build" / "singlehtml")}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once (shared by the xdist workers of this run) and return its record.

    The build is the README's build command: ``jupyter-book build`` and then, where Chromium is
    installed, ``nd-pdf --site`` (the PDF edition, which every page links to; without Chromium the
    browser tests, which would follow that link, are skipped or fail under CI anyway).
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "site"
    record_file = root / "build.json"
    with FileLock(str(shared / "site.lock")):
        if not record_file.exists():
            if root.exists():
                shutil.rmtree(root)
            src, out = root / "src", root / "out"
            src.mkdir(parents=True)
            _copy_working_tree(src)
            _add_decoy_venv(src)
            jb = Path(sys.executable).with_name("jupyter-book")
            command = [str(jb) if jb.exists() else "jupyter-book", "build", ".", "--path-output", str(out)]
            command += BUILD_FLAGS
            start = time.perf_counter()
            proc = subprocess.run(command, cwd=src, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            log = root / "build.log"
            log.write_text(proc.stdout + "\n" + proc.stderr)
            record = {"command": command, "returncode": proc.returncode, "seconds": seconds,
                      "log": str(log), "html": str(out / "_build" / "html"), "src": str(src)}
            if proc.returncode == 0 and pdf_printer_available():
                record["pdf"] = _build_pdf(src, out, root)
            record_file.write_text(json.dumps(record))
    record = json.loads(record_file.read_text())
    record["html"] = Path(record["html"])
    record["log_text"] = re.sub(r"\x1b\[[0-9;]*m", "", Path(record["log"]).read_text())  # no colour codes
    return record


@pytest.fixture(scope="module")
def html_dir(site):
    """The built site. A build with warnings still gets checked page by page (with --keep-going
    every page is written); test_build_has_zero_warnings reports the warnings themselves."""
    if not (site["html"] / "index.html").is_file():
        pytest.fail(f"the site was not built (see test_build_has_zero_warnings); log: {site['log']}", pytrace=False)
    return site["html"]


def page_file(html_dir, docname):
    return html_dir / (docname + ".html")



class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(html_dir):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(html_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def screenshots(site):
    folder = Path(os.environ.get("ND_SCREENSHOTS") or Path(site["log"]).parent / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser tests then skip or fail in require_chromium()
    PlaywrightTimeout = TimeoutError


@pytest.fixture(scope="module")
def browser(tmp_path_factory, html_dir):
    require_chromium()
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        context.set_default_timeout(20_000)
        yield context


def new_page(context, viewport):
    page = context.new_page()
    page.set_viewport_size(viewport)
    return page


WAIT_FOR_MATHJAX = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
    await document.fonts.ready;
    return true;
}"""

