"""The PDF edition of the book, built offline: the one-page (``singlehtml``) build printed by headless Chromium.

    nd-pdf                          # build _build/singlehtml, print _build/pdf/normalize-and-drop.pdf
    nd-pdf --site _build/html       # ... and put a copy at the root of the website (the site links to it)
    nd-pdf --no-build               # print the existing _build/singlehtml again

Run from the repository root (the folder of ``_config.yml``). The steps, each reported as it ends:

1. ``jupyter-book build . --builder singlehtml -W -n --keep-going`` (zero warnings, as the website);
   ``book/_ext/nd_pdf.py`` gives that builder the visitors of every node and loads the print style
   sheet ``book/_static/nd_print.css``.
2. The page is served on 127.0.0.1 and opened in Debian's ``chromium`` through Playwright (never a
   browser that Playwright downloads). Every request to another host is aborted and recorded; if
   there was any, the command fails and writes no PDF: the PDF is built offline, from the site's own
   MathJax, fonts and images.
3. The tool waits until MathJax has typeset every formula (and fails if one is left as TeX), loads
   every image, and prepares the page for paper: each part's title before its first chapter, display
   math wider than the column scaled to fit, the solutions of the exercises moved to an appendix at
   the end (each linked to its exercise and back). The print style sheet leaves out the folded code
   of plot-only cells and the site's navigation, and wraps long code lines.
4. ``page.pdf``: A4, margins, the book's title in the header, "page n of N" in the footer, bookmarks
   from the headings.

Without ``chromium`` it stops with a message saying how to install it (``apt-get install chromium``;
``--chromium PATH`` or ``ND_CHROMIUM`` names another Chromium or Chrome executable).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PDF_NAME = "normalize-and-drop.pdf"  # book/_ext/nd_pdf.py links the website to this name at its root
DEFAULT_OUT = Path("_build") / "pdf" / PDF_NAME
BUILD_FLAGS = ["-W", "-n", "--keep-going"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_SCHEMES = ("data", "blob", "about", "chrome-error")


class PdfError(RuntimeError):
    """The PDF could not be built (the message says why)."""


def log(message):
    print(f"nd-pdf: {message}", flush=True)


def find_chromium(explicit=None):
    """The Chromium executable: ``explicit``, else ``$ND_CHROMIUM``, else ``chromium`` on the PATH."""
    name = explicit or os.environ.get("ND_CHROMIUM") or "chromium"
    found = shutil.which(name)
    if found is None:
        raise PdfError(f"no Chromium found ({name!r} is not an executable on the PATH). The PDF is printed by "
                       "Debian's chromium: apt-get install chromium (never `playwright install`); "
                       "--chromium PATH or ND_CHROMIUM=PATH names another Chromium or Chrome.")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise PdfError("the Python package playwright is missing: pip install -r requirements.txt") from exc
    return found


# --------------------------------------------------------------------------------------------
# 1. The one-page build
# --------------------------------------------------------------------------------------------
def build_singlehtml(book_root, path_output=None):
    """Build the book with the ``singlehtml`` builder; return the folder of the page and the seconds taken."""
    book_root = Path(book_root).resolve()
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb) if jb.exists() else "jupyter-book", "build", str(book_root), "--builder", "singlehtml"]
    if path_output is not None:
        command += ["--path-output", str(path_output)]
    command += BUILD_FLAGS
    out = Path(path_output or book_root).resolve() / "_build" / "singlehtml"
    log(f"building the one-page edition: {' '.join(command[1:])} (about a minute)")
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=book_root, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise PdfError(f"the singlehtml build failed (exit {proc.returncode}):\n{tail}")
    log(f"singlehtml build done in {seconds:.0f} s: {out}")
    return out, seconds


# --------------------------------------------------------------------------------------------
# 2.-4. Print it
# --------------------------------------------------------------------------------------------
class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser closed while loading: fine
            super().handle_error(request, client_address)


@contextmanager
def serve(folder):
    """Serve ``folder`` on 127.0.0.1 (a free port); yields the base URL."""
    httpd = _Server(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def is_local(url):
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname == "127.0.0.1"


# Wait for MathJax (its startup typesets the page), the fonts, and every image (also those that
# load lazily, which a printed page would otherwise leave empty).
WAIT_FOR_PAGE = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
    if (window.MathJax && MathJax.typesetPromise) { await MathJax.typesetPromise(); }
    for (const img of document.images) { img.loading = 'eager'; }
    await Promise.all(Array.from(document.images).map(img => img.complete ? null
        : new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
    await document.fonts.ready;
    const article = document.querySelector('article.bd-article') || document.body;
    const math = Array.from(article.querySelectorAll('.math'));
    return {
        math: math.length,
        mathRendered: math.filter(e => e.querySelector('mjx-container')).length,
        mathErrors: document.querySelectorAll('mjx-merror').length,
        images: Array.from(article.querySelectorAll('img')).length,
        brokenImages: Array.from(article.querySelectorAll('img'))
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.getAttribute('src')),
    };
}"""

# Paper is not a screen: part titles from the contents (sphinx-book-theme prints the contents of a
# singlehtml page itself, #jb-print-toc), display math scaled to the column, solutions in an appendix.
# Returns what it did.
PREPARE_FOR_PRINT = """() => {
    const article = document.querySelector('article.bd-article');
    const chapters = Array.from(article.querySelectorAll('.toctree-wrapper > span[id^="document-"]'));
    const titleOf = span => {
        const h = span.nextElementSibling && span.nextElementSibling.querySelector('h1, h2');
        return h ? h.firstChild.textContent.trim() : span.id.replace('document-', '');
    };
    // The parts of the book, read from the printed contents (the sidebar's lists are empty on this page).
    const parts = [];
    const nav = document.querySelector('#jb-print-toc nav');
    let current = null;
    for (const el of (nav ? nav.querySelectorAll('p.caption, a.reference.internal') : [])) {
        if (el.matches('p.caption')) { current = {caption: el.textContent.trim(), docs: []}; parts.push(current); }
        else if (current) {
            const doc = (el.getAttribute('href') || '').replace(/^#document-/, '');
            if (doc && !current.docs.includes(doc)) current.docs.push(doc);
        }
    }
    const spanOf = doc => document.getElementById('document-' + doc);
    // Each part's title on its own line before its first chapter (the theme prints the contents).
    for (const part of parts) {
        const docs = part.docs.filter(spanOf);
        if (!docs.length) continue;
        const title = document.createElement('p');
        title.className = 'nd-print-part';
        title.setAttribute('role', 'heading');
        title.setAttribute('aria-level', '1');
        title.textContent = part.caption;
        spanOf(docs[0]).before(title);
    }
    // Display math wider than the text column is scaled down to fit it (paper cannot scroll).
    let scaled = 0;
    for (const m of article.querySelectorAll('mjx-container[display="true"]')) {
        m.style.overflow = 'visible';
        const inner = m.firstElementChild, width = m.clientWidth;
        const need = inner ? inner.getBoundingClientRect().width : 0;
        if (width > 0 && need > width + 1) { m.style.zoom = (width / need).toFixed(3); scaled += 1; }
    }
    // Solutions: moved to an appendix, grouped by chapter, each titled with its exercise.
    const solutions = Array.from(article.querySelectorAll('div.solution'));
    let appendix = null;
    if (solutions.length) {
        appendix = document.createElement('section');
        appendix.className = 'nd-print-solutions';
        appendix.id = 'nd-print-solutions';
        appendix.innerHTML = '<h2>Solutions</h2><p>The solutions of the exercises, chapter by chapter. '
            + 'Each one links back to its exercise.</p>';
        let lastChapter = null;
        for (const solution of solutions) {
            const chapter = chapters.filter(span =>
                span.compareDocumentPosition(solution) & Node.DOCUMENT_POSITION_FOLLOWING).pop();
            if (chapter && chapter !== lastChapter) {
                const h = document.createElement('h3');
                h.textContent = titleOf(chapter);
                appendix.appendChild(h);
                lastChapter = chapter;
            }
            const exercise = solution.querySelector('.admonition-title a[href^="#"]');
            if (exercise) {
                const target = document.getElementById(exercise.getAttribute('href').slice(1));
                if (target) {
                    const back = document.createElement('p');
                    back.className = 'nd-print-solution-link';
                    back.innerHTML = '<a>Solution in the appendix</a>';
                    back.firstChild.href = '#' + solution.id;
                    target.appendChild(back);
                }
            }
            solution.classList.remove('dropdown', 'toggle-hidden');
            solution.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
            appendix.appendChild(solution);
        }
        article.appendChild(appendix);
    }
    // Other folded content is opened: dropdown admonitions and <details> that are not folded code.
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
    document.querySelectorAll('details:not(.hide)').forEach(d => { d.open = true; });
    return {parts: parts.length, chapters: chapters.length, solutions: solutions.length, scaledMath: scaled};
}"""

# A4 (210 mm) less two 15 mm margins is 180 mm = 680 CSS px: the page is laid out (and wide formulas
# measured) at the width it is printed at.
PRINT_VIEWPORT = {"width": 680, "height": 1000}
HEADER = ('<div style="font-size:8px; width:100%; margin:0 15mm; color:#555; font-family:sans-serif;">'
          '<span class="title"></span></div>')
FOOTER = ('<div style="font-size:8px; width:100%; margin:0 15mm; color:#555; font-family:sans-serif; '
          'text-align:center;">page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')


def print_pdf(html_dir, out, chromium=None, timeout_s=600, report=None):
    """Print the one-page build in ``html_dir`` to ``out``; return what was measured (see ``report``).

    Raises :class:`PdfError` when a request to another host was attempted, when a formula is left
    unrendered, or when an image does not load: no PDF is written then.
    """
    executable = find_chromium(chromium)
    from playwright.sync_api import sync_playwright

    html_dir, out = Path(html_dir), Path(out)
    page_path = _page_of(html_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    off_host, failed, errors = [], [], []
    start = time.perf_counter()
    with serve(html_dir) as base, tempfile.TemporaryDirectory(prefix="nd-pdf-chromium-") as profile, \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            def block(route):
                off_host.append(route.request.url)
                route.abort()

            context.route(lambda url: not is_local(url), block)
            context.set_default_timeout(timeout_s * 1000)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda r: failed.append(r.url) if is_local(r.url) else None)
            page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
            page.set_viewport_size(PRINT_VIEWPORT)
            url = base + page_path.relative_to(html_dir).as_posix()
            log(f"opening {url} in {executable} (MathJax typesets the whole book: a minute or two)")
            page.goto(url, wait_until="load")
            loaded = page.evaluate(WAIT_FOR_PAGE)
            log(f"typeset {loaded['mathRendered']} of {loaded['math']} formulas, {loaded['images']} images "
                f"in {time.perf_counter() - start:.0f} s")
            problems = [f"request to another host (aborted): {u}" for u in off_host]
            for url in sorted(set(failed)):  # e.g. searchindex.js, which the one-page build has no use for
                log(f"warning: failed request on 127.0.0.1 (not needed on paper): {url}")
            problems += [f"script error: {e}" for e in errors]
            if loaded["mathRendered"] != loaded["math"] or loaded["mathErrors"]:
                problems.append(f"{loaded['math'] - loaded['mathRendered']} formulas left unrendered, "
                                f"{loaded['mathErrors']} MathJax errors")
            problems += [f"image did not load: {src}" for src in loaded["brokenImages"]]
            if problems:
                raise PdfError("the page is not fit to print, no PDF written:\n  " + "\n  ".join(problems))
            page.emulate_media(media="print")
            prepared = page.evaluate(PREPARE_FOR_PRINT)
            log(f"laid out for paper: {prepared['parts']} parts, {prepared['chapters']} chapters, "
                f"{prepared['scaledMath']} wide formulas scaled to the column, "
                f"{prepared['solutions']} solutions moved to the appendix; printing")
            printed = page.evaluate("""() => ({
                mjx: document.querySelectorAll('article.bd-article mjx-container').length,
                math: document.querySelectorAll('article.bd-article .math').length,
                images: document.querySelectorAll('article.bd-article img').length,
                title: document.title})""")
            page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                     header_template=HEADER, footer_template=FOOTER, outline=True, tagged=True,
                     margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"})
            if off_host:  # a request started while printing (a print-only style sheet or image)
                out.unlink(missing_ok=True)
                raise PdfError("requests to another host while printing (aborted), no PDF written:\n  "
                               + "\n  ".join(off_host))
        finally:
            context.close()
    seconds = time.perf_counter() - start
    result = {"pdf": str(out), "bytes": out.stat().st_size, "print_seconds": seconds, "off_host": off_host,
              "loaded": loaded, "prepared": prepared, "printed": printed, "pages": _page_count(out)}
    log(f"wrote {out} ({result['bytes'] / 1e6:.1f} MB"
        + (f", {result['pages']} pages" if result["pages"] else "") + f") in {seconds:.0f} s")
    if report is not None:
        Path(report).write_text(json.dumps(result, indent=1))
    return result


def _page_of(html_dir):
    """The one page of a singlehtml build: ``index.html`` (book/_ext/nd_pdf.py writes it there)."""
    index = Path(html_dir) / "index.html"
    if index.is_file() and index.stat().st_size > 1000:
        return index
    pages = [p for p in Path(html_dir).rglob("*.html") if "_static" not in p.parts]
    real = [p for p in pages if p.stat().st_size > 1000 or "http-equiv" not in p.read_text(errors="replace")]
    if not real:
        raise PdfError(f"no HTML page in {html_dir} (build it first, without --no-build)")
    return max(real, key=lambda p: p.stat().st_size)


def _page_count(pdf):
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(str(pdf)).pages)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nd-pdf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the PDF to write (default {DEFAULT_OUT})")
    parser.add_argument("--site", type=Path, metavar="DIR",
                        help=f"also copy the PDF to DIR/{PDF_NAME}, where the website links to it (_build/html)")
    parser.add_argument("--path-output", type=Path, metavar="DIR",
                        help="build into DIR/_build/singlehtml instead of ./_build/singlehtml")
    parser.add_argument("--no-build", action="store_true", help="print the existing singlehtml build again")
    parser.add_argument("--html", type=Path, metavar="DIR", help="print this singlehtml folder (implies --no-build)")
    parser.add_argument("--chromium", metavar="PATH", help="the Chromium executable (default: $ND_CHROMIUM or chromium)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed for each browser step (default 600)")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write what was measured as JSON")
    args = parser.parse_args(argv)
    try:
        find_chromium(args.chromium)  # fail before a minute of building
        if args.site is not None and not args.site.is_dir():
            raise PdfError(f"--site {args.site}: no such folder (build the website first)")
        if args.html is not None:
            html_dir = args.html
        elif args.no_build:
            html_dir = Path(args.path_output or ".") / "_build" / "singlehtml"
        else:
            if not Path("_config.yml").is_file():
                raise PdfError("run nd-pdf from the repository root (the folder of _config.yml)")
            html_dir, _ = build_singlehtml(Path("."), args.path_output)
        print_pdf(html_dir, args.out, chromium=args.chromium, timeout_s=args.timeout, report=args.report)
        if args.site is not None:
            shutil.copyfile(args.out, args.site / PDF_NAME)
            log(f"copied to {args.site / PDF_NAME}")
    except PdfError as exc:
        print(f"nd-pdf: error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
