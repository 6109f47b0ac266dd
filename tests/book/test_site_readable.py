"""The website as a reader sees it, on every page, at 1280 px and at 375 px (issue 16, parts 1 and 4).

Every page of ``_toc.yml`` is opened once per width in Chromium (the site is built once per run, see
tests/book/_site.py), with every hidden code cell and solution opened, and measured:

- code: no code block (``div.highlight pre``) or printed output (``.cell_output pre``) scrolls
  sideways at either width. At 1280 px the column holds :data:`CODE_COLUMN` characters and the
  chapters are written to that width (``ruff format --line-length 77``); narrower screens wrap
  long lines (book/_static/nd_site.css);
- figures: every figure is a 2x PNG, and the smallest text in it, as displayed, is at least as
  large as the page's small print (the footer). companion.notebook.style stamps the smallest font
  size of the figure (points) in the PNG (text chunk ``nd:min-font-pt``) and matplotlib its dpi
  (``pHYs``); the displayed size of that text is ``pt / 72 * dpi * displayed width / PNG width``;
- display math: no equation is clipped: one wider than its box scrolls inside it, and at
  1280 px none is wider than the column;
- tables: every table fits its box or scrolls inside its wrapper, and no word in a table cell is
  broken across lines (except after a hyphen or a slash, as in running text);
- one search box, and in dark mode every custom element of the book (classes ``nd-*``) has text
  with a contrast of at least 4.5 against its background;
- axe-core (bundled with the pinned PyPI package axe-playwright-python, injected into the page;
  nothing is fetched) reports no violation of WCAG 2.1 A/AA.
"""
import json
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from _chromium import PageLog
from _site import DESKTOP, PAGES, PHONE, REPO, WAIT_FOR_MATHJAX, new_page, source_of

#: Characters per code line: the column of a code block at 1280 px holds 77 (measured below);
#: chapters are formatted with ``ruff format --line-length 77``.
CODE_COLUMN = 77
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_CONTRAST = 4.5
HIDDEN_CELL = {"remove-cell", "remove-input"}

# --------------------------------------------------------------------------------------------
# In the browser
# --------------------------------------------------------------------------------------------
OPEN_EVERYTHING = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
    window.dispatchEvent(new Event('resize'));  // as after a reader's click: nd_site.js looks again
    return true;
}"""

MEASURE = """() => {
    const article = document.querySelector('article.bd-article');
    const shown = e => e.getClientRects().length > 0;
    const longest = text => text.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '');
    const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    const box = e => e.getBoundingClientRect();
    const articleBox = box(article);

    const code = Array.from(article.querySelectorAll('div.highlight pre, .cell_output pre')).filter(shown);
    const codeScrolling = code.filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => `${e.scrollWidth} px in ${e.clientWidth} px: ${longest(e.textContent).slice(0, 90)}`);
    // characters per line of the narrowest code cell of the chapter (the ones behind "show code" too;
    // exercises and solutions are boxes of their own, and their code is written to fit them)
    let columnChars = null;
    const cellCode = code.filter(e => e.matches('.cell_input div.highlight pre')
                                      && !e.closest('.admonition:not(details.hide)'));
    for (const pre of cellCode) {
        const style = getComputedStyle(pre);
        const probe = document.createElement('span');
        probe.textContent = 'M'.repeat(100);
        pre.appendChild(probe);
        const charWidth = probe.getBoundingClientRect().width / 100;
        probe.remove();
        const chars = (pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)) / charWidth;
        columnChars = columnChars === null ? chars : Math.min(columnChars, chars);
    }

    const footer = Array.from(document.querySelectorAll('footer p, .bd-footer p, .bd-footer-content p')).filter(shown);
    const smallPrint = Math.min(...footer.map(e => parseFloat(getComputedStyle(e).fontSize)));

    const figures = Array.from(article.querySelectorAll('.cell_output img')).filter(shown).map(img => {
        const holder = img.closest('figure') || img.parentElement;
        return {src: img.currentSrc || img.src, natural: img.naturalWidth, shown: box(img).width,
                holderScrolls: scrolls(holder), holderWidth: holder.clientWidth,
                overflows: holder.scrollWidth > holder.clientWidth + 1,
                outside: box(holder).right > articleBox.right + 1};
    });

    const math = Array.from(article.querySelectorAll('mjx-container[display="true"]')).filter(shown).map(m => ({
        tex: (m.parentElement.textContent || '').trim().slice(0, 60) || m.getAttribute('aria-label') || '',
        content: m.scrollWidth, visible: m.clientWidth, scrolls: scrolls(m),
        outside: box(m).right > articleBox.right + 1}));

    const tables = Array.from(article.querySelectorAll('table')).filter(shown).map(t => {
        const parent = t.parentElement;
        const brokenWords = [];
        const cramped = [];
        t.querySelectorAll('td, th').forEach(cell => {
            if (cell.scrollWidth > cell.clientWidth + 1) cramped.push(cell.textContent.trim().slice(0, 40));
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (node.parentElement.closest('mjx-container')) continue;
                // a word may wrap after a hyphen or a slash (sub-block, float16/float32), nowhere else
                for (const m of node.textContent.matchAll(/[^\\s\\-\\/\u2013\u2014]+[\\-\\/\u2013\u2014]*/g)) {
                    const range = document.createRange();
                    range.setStart(node, m.index);
                    range.setEnd(node, m.index + m[0].length);
                    const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0)
                                          .map(r => Math.round(r.top)));
                    if (tops.size > 1) brokenWords.push(m[0]);
                }
            }
        });
        return {head: t.textContent.trim().replace(/\\s+/g, ' ').slice(0, 50), width: box(t).width,
                box: parent.clientWidth, wrapperScrolls: scrolls(parent),
                wrapperOutside: box(parent).right > articleBox.right + 1, brokenWords, cramped};
    });

    const search = Array.from(document.querySelectorAll(
        '.search-button-field, button.search-button, form.bd-search input[type="search"]'))
        .filter(e => shown(e) && !e.closest('dialog')).map(e => e.className || e.tagName);

    return {columnChars, codeBlocks: code.length, codeScrolling, smallPrint, figures, math, tables, search,
            pageWidth: document.documentElement.scrollWidth};
}"""

#: Contrast of the text of some elements against the background painted under it (WCAG formula,
#: translucent layers composited). ``[dark, scope]``: in dark mode or not; ``scope`` "nd" for the
#: book's own elements (classes ``nd-*``), "code" for the code cells and printed outputs of the article.
CONTRAST = """async ([dark, scope]) => {
    if (dark) {
        localStorage.setItem('mode', 'dark');
        document.documentElement.dataset.mode = 'dark';
        document.documentElement.dataset.theme = 'dark';
        localStorage.removeItem('mode');  // the next page opens in the default mode again
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    }
    const parse = c => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
    const luminance = ([r, g, b]) => {
        const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const over = (top, below) => { const a = top[3];
        return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]); };
    const background = e => {
        const layers = [];
        for (let a = e; a; a = a.parentElement) {
            const c = parse(getComputedStyle(a).backgroundColor);
            if (c[3] > 0) layers.push(c);
            if (c[3] >= 1) break;
        }
        let colour = [255, 255, 255, 1];
        if (!layers.length || layers[layers.length - 1][3] < 1) colour = parse(getComputedStyle(document.body).backgroundColor);
        for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
        return colour;
    };
    const contrast = (fg, bg) => { const a = luminance(fg) + 0.05, b = luminance(bg) + 0.05; return Math.max(a, b) / Math.min(a, b); };
    const custom = scope === 'nd'
        ? Array.from(document.querySelectorAll('[class]')).filter(e => Array.from(e.classList).some(c => c.startsWith('nd-')))
        : Array.from(document.querySelectorAll('article.bd-article div.highlight, article.bd-article .cell_output'));
    const checked = new Set();
    const low = [];
    let count = 0;
    for (const root of custom) {
        for (const e of [root, ...root.querySelectorAll('*')]) {
            if (checked.has(e) || !e.getClientRects().length || e.closest('mjx-container')) continue;
            checked.add(e);
            const text = Array.from(e.childNodes).filter(n => n.nodeType === 3 && n.textContent.trim()).map(n => n.textContent.trim()).join(' ');
            if (!text) continue;
            const style = getComputedStyle(e);
            if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
            const bg = background(e);
            const fg = over(parse(style.color), bg);
            const ratio = contrast(fg, bg);
            count += 1;
            if (ratio < 4.5) low.push(`${e.tagName.toLowerCase()}.${Array.from(e.classList).join('.')} in .${Array.from(root.classList).join('.')} "${text.slice(0, 40)}": ${ratio.toFixed(2)} (${style.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
        }
    }
    return {count, low};
}"""

#: axe-core with every rule of ``tags``. Its color-contrast rule, which looks up what is painted under
#: each text node, spends seconds on the thousands of highlighted tokens of a chapter's code: it runs on
#: the rest of the page, and the code cells and outputs are measured with CONTRAST (same formula and
#: threshold, for backgrounds that are painted boxes).
AXE_RUN = """async (tags) => {
    const only = {type: 'tag', values: tags};
    const all = await axe.run(document, {runOnly: only, rules: {'color-contrast': {enabled: false}},
                                         resultTypes: ['violations']});
    const context = {exclude: [['article.bd-article div.highlight'], ['article.bd-article .cell_output']]};
    const text = await axe.run(context, {runOnly: {type: 'rule', values: ['color-contrast']},
                                        resultTypes: ['violations']});
    return all.violations.concat(text.violations).map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' '))}));
}"""


def axe_source():
    """axe.min.js as shipped in the pinned package axe-playwright-python (MPL-2.0, read from disk)."""
    try:
        import axe_playwright_python
    except ImportError:
        pytest.fail("axe-core comes with the Python package axe-playwright-python: pip install -r requirements.txt",
                    pytrace=False)
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf8")


_SEEN = {}  # docname -> {"desktop": ..., "phone": ..., "axe": [...], "dark": {...}}


@pytest.fixture
def seen(browser, server):
    """Open a page once at 1280 px (measure, axe, dark mode) and once more narrowed to 375 px; cached."""
    def _seen(docname):
        if docname in _SEEN:
            return _SEEN[docname]
        page = new_page(browser, DESKTOP)
        log = PageLog(page)
        url = urljoin(server, docname + ".html")
        page.goto(url, wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX)
        page.evaluate(OPEN_EVERYTHING)
        page.wait_for_timeout(400)  # nd_site.js makes what now scrolls keyboard-focusable (200 ms debounce)
        info = {"url": url, "desktop": page.evaluate(MEASURE)}
        # what the page itself reported; axe's own requests come after (it re-reads the stylesheets,
        # and resolves the theme's `@import "../basic.css"` against the page, not the stylesheet)
        info["problems"] = log.problems()
        page.add_script_tag(content=axe_source())
        info["axe"] = page.evaluate(AXE_RUN, AXE_TAGS)
        info["code contrast"] = page.evaluate(CONTRAST, [False, "code"])
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(300)  # the sidebar slides away with a CSS transition
        info["phone"] = page.evaluate(MEASURE)
        page.set_viewport_size(DESKTOP)
        info["dark"] = page.evaluate(CONTRAST, [True, "nd"])
        page.close()
        _SEEN[docname] = info
        return info

    return _seen


# --------------------------------------------------------------------------------------------
# Code
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("docname", PAGES)
def test_code_fits_the_column_at_1280px(seen, docname):
    desktop = seen(docname)["desktop"]
    if desktop["columnChars"] is not None:
        assert desktop["columnChars"] >= CODE_COLUMN, (
            f"{docname}: a code block holds {desktop['columnChars']:.1f} characters, fewer than {CODE_COLUMN}")
    assert not desktop["codeScrolling"], (
        f"{docname}: {len(desktop['codeScrolling'])} of {desktop['codeBlocks']} code blocks scroll sideways at "
        "1280 px:\n" + "\n".join(desktop["codeScrolling"][:8]))


@pytest.mark.parametrize("docname", PAGES)
def test_code_wraps_on_a_phone(seen, docname):
    phone = seen(docname)["phone"]
    assert not phone["codeScrolling"], (
        f"{docname}: {len(phone['codeScrolling'])} code blocks scroll sideways at 375 px:\n"
        + "\n".join(phone["codeScrolling"][:8]))
    assert phone["pageWidth"] <= PHONE["width"] + 1, f"{docname}: the page is {phone['pageWidth']} px wide at 375 px"


NOTEBOOK_PAGES = [d for d in PAGES if source_of(d).suffix == ".ipynb"]


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_chapter_code_lines_fit_the_column(docname):
    """The source of what the browser test measures: no shown code line longer than CODE_COLUMN."""
    cells = json.loads(source_of(docname).read_text(encoding="utf8"))["cells"]
    long = [f"cell {i}: {line}" for i, cell in enumerate(cells)
            if cell["cell_type"] == "code" and not HIDDEN_CELL & set(cell["metadata"].get("tags", []))
            for line in "".join(cell["source"]).splitlines() if len(line) > CODE_COLUMN]
    assert not long, (f"{docname}: {len(long)} code lines longer than {CODE_COLUMN} characters (format with "
                      f"`ruff format --line-length {CODE_COLUMN}`):\n" + "\n".join(long[:8]))


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------
def png_facts(path):
    """``(width px, dpi, smallest font size in pt or None)`` from a PNG's IHDR, pHYs and tEXt chunks."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, dpi, min_pt, pos = None, None, None, 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", body[:4])[0]
        elif kind == b"pHYs":
            per_metre, _, unit = struct.unpack(">IIB", body)
            dpi = per_metre * 0.0254 if unit == 1 else None
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            key, _, value = body.partition(b"\0")
            if kind == b"zTXt":
                value = zlib.decompress(value[1:])
            elif kind == b"iTXt":
                value = value[2:].split(b"\0", 2)[2]
            if key == b"nd:min-font-pt":
                min_pt = float(value.decode("latin-1"))
        pos += 12 + length
    return width, dpi, min_pt


def _figure_problems(html_dir, server, docname, info, width_name):
    view = info[width_name]
    problems, sizes = [], []
    for fig in view["figures"]:
        path = html_dir / unquote(urlsplit(fig["src"]).path[len(urlsplit(server).path):])
        name = path.name[:12]
        if path.suffix.lower() != ".png":
            continue
        width, dpi, min_pt = png_facts(path)
        if min_pt is None or dpi is None:
            problems.append(f"{name}: no nd:min-font-pt stamp or dpi (not drawn by companion.notebook's "
                            "setup_notebook(); re-execute the chapter)")
            continue
        scale = fig["shown"] / width
        if width < 1.99 * fig["shown"]:
            problems.append(f"{name}: {width} px shown at {fig['shown']:.0f} CSS px: not 2x")
        smallest = min_pt / 72 * dpi * scale
        sizes.append(smallest)
        if smallest < view["smallPrint"] - 0.01:
            problems.append(f"{name}: smallest text {smallest:.1f} px at {width_name} "
                            f"(small print {view['smallPrint']:.0f} px)")
        if fig["overflows"] and not fig["holderScrolls"]:
            problems.append(f"{name}: wider than its box at {width_name}, which does not scroll")
        if fig["outside"]:
            problems.append(f"{name}: its box is wider than the column at {width_name}")
    return problems, sizes


@pytest.mark.parametrize("docname", PAGES)
@pytest.mark.parametrize("width_name", ["desktop", "phone"])
def test_figure_text_is_as_large_as_the_small_print(seen, html_dir, server, docname, width_name):
    info = seen(docname)
    problems, sizes = _figure_problems(html_dir, server, docname, info, width_name)
    if sizes:
        print(f"{docname} at {width_name}: smallest figure text {min(sizes):.1f} px")
    assert not problems, f"{docname}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Math, tables, search, dark mode
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("docname", PAGES)
@pytest.mark.parametrize("width_name", ["desktop", "phone"])
def test_display_math_is_not_clipped(seen, docname, width_name):
    view = seen(docname)[width_name]
    clipped = [m["tex"] for m in view["math"] if (m["content"] > m["visible"] + 1 and not m["scrolls"]) or m["outside"]]
    assert not clipped, f"{docname}: display math clipped at {width_name}: {clipped[:4]}"
    if width_name == "desktop":
        wide = [f"{m['content']} px in {m['visible']} px: {m['tex']}" for m in view["math"]
                if m["content"] > m["visible"] + 1]
        assert not wide, f"{docname}: equations wider than the column at 1280 px (break them):\n" + "\n".join(wide)


@pytest.mark.parametrize("docname", PAGES)
@pytest.mark.parametrize("width_name", ["desktop", "phone"])
def test_tables_fit_or_scroll_and_keep_words_whole(seen, docname, width_name):
    problems = []
    for t in seen(docname)[width_name]["tables"]:
        if t["width"] > t["box"] + 1 and not t["wrapperScrolls"]:
            problems.append(f"table '{t['head']}' is cut off ({t['width']:.0f} px in {t['box']} px)")
        if t["wrapperOutside"]:
            problems.append(f"table '{t['head']}': its wrapper is wider than the column")
        if t["brokenWords"]:
            problems.append(f"table '{t['head']}': words broken across lines: {t['brokenWords'][:5]}")
        if t["cramped"]:
            problems.append(f"table '{t['head']}': cells narrower than their content: {t['cramped'][:3]}")
    assert not problems, f"{docname} at {width_name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("docname", PAGES)
def test_one_search_box(seen, docname):
    info = seen(docname)
    for width_name in ("desktop", "phone"):
        found = info[width_name]["search"]
        assert len(found) == 1, f"{docname} at {width_name}: {len(found)} search boxes: {found}"


@pytest.mark.parametrize("docname", PAGES)
def test_custom_elements_are_readable_in_dark_mode(seen, docname):
    dark = seen(docname)["dark"]
    assert not dark["low"], (f"{docname}: in dark mode, text of the book's own elements below contrast "
                             f"{MIN_CONTRAST}:\n" + "\n".join(dark["low"][:8]))


def test_dark_mode_setting_reaches_the_verdict_boxes(browser, server, html_dir):
    """A reader who chose dark mode (pydata-sphinx-theme keeps it in localStorage.mode) gets dark verdicts."""
    doc = next(d for d in PAGES if "nd-check" in (html_dir / (d + ".html")).read_text(encoding="utf8"))
    page = new_page(browser, DESKTOP)
    page.add_init_script("localStorage.setItem('mode', 'dark')")
    page.goto(urljoin(server, doc + ".html"))
    theme, background, colour, frame = page.evaluate("""() => {
        const box = document.querySelector('.nd-check');
        const s = getComputedStyle(box);
        return [document.documentElement.dataset.theme, s.backgroundColor, s.color,
                getComputedStyle(box.parentElement).backgroundColor];
    }""")
    page.evaluate("localStorage.removeItem('mode')")
    page.close()
    assert theme == "dark"
    light = [int(v) for v in re.findall(r"\d+", background)[:3]]
    assert sum(light) / 3 < 100, f"{doc}: the verdict box is {background} in dark mode"
    assert sum(int(v) for v in re.findall(r"\d+", colour)[:3]) / 3 > 150, f"{doc}: verdict text {colour}"
    # the theme paints HTML outputs on a light block in dark mode: not around a verdict
    rgba = [float(v) for v in re.findall(r"[\d.]+", frame)]
    assert (len(rgba) == 4 and rgba[3] == 0) or sum(rgba[:3]) / 3 < 100, f"{doc}: light frame {frame} around the verdict"


# --------------------------------------------------------------------------------------------
# Accessibility
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("docname", PAGES)
def test_axe_finds_no_wcag21_aa_violation(seen, docname):
    info = seen(docname)
    violations = info["axe"]
    by_impact = {}
    for v in violations:
        by_impact[v["impact"]] = by_impact.get(v["impact"], 0) + len(v["nodes"])
    print(f"{docname}: axe violations by impact {by_impact or 'none'}")
    assert not violations, f"{docname}: axe-core ({', '.join(AXE_TAGS)}):\n" + "\n".join(
        f"[{v['impact']}] {v['id']} ({v['help']}): {len(v['nodes'])} nodes, e.g. {v['nodes'][0]}" for v in violations)


@pytest.mark.parametrize("docname", PAGES)
def test_code_and_printed_outputs_have_contrast(seen, docname):
    """What axe's color-contrast rule leaves out (see AXE_RUN): every highlighted token and printed line."""
    info = seen(docname)
    code = info["code contrast"]
    if info["desktop"]["codeBlocks"]:
        assert code["count"] >= info["desktop"]["codeBlocks"], (docname, code["count"])
    assert not code["low"], (f"{docname}: code or output text below contrast {MIN_CONTRAST}:\n"
                             + "\n".join(code["low"][:8]))


@pytest.mark.parametrize("docname", PAGES)
def test_measuring_left_no_script_error(seen, docname):
    problems = seen(docname)["problems"]
    assert not problems, f"{docname}:\n" + "\n".join(problems)


def test_axe_is_pinned_and_bundled():
    """axe-core is installed from the pinned requirements, never fetched at test time."""
    requirements = (REPO / "requirements.txt").read_text()
    assert re.search(r"^axe-playwright-python==\d", requirements, re.M)
    assert "axe v4." in axe_source()[:200]
