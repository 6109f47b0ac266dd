"""The interactive figures of the website (book/_static/nd_widgets.js): the companion's numbers, in a browser.

The figures run in the reader's browser, without a kernel, so their arithmetic is JavaScript. These tests
call the script's pure functions (``window.ndWidgets``) in Chromium on the built site, for fixed inputs and
seeds, and compare them with the companion and NumPy in float64:

* the random numbers: ``mulberry32`` is re-implemented here from its specification (a PRNG is a spec), and
  Box-Muller on top of it;
* dropout: the JavaScript output for given inputs and uniforms against ``companion.dropout_forward`` fed
  the same uniforms (a Generator whose ``random`` returns them), for drop probabilities from 0 to 1;
* batch statistics: the mean and biased variance of each batch of a fixed population against
  ``companion.batch_stats`` and ``np.var(ddof=0)``;
* running means: PyTorch's convention against ``companion.BatchNorm``'s running_mean step by step, Keras's
  against a NumPy loop (and against BatchNorm with ``momentum = 1 - momentum``).

Then each figure as a reader uses it: its slider and its "New random draw" button driven from the keyboard,
the aria-live summary checked against numbers recomputed here with the companion, the figure within a
375 px phone with text of at least 12 px, readable colours in light and dark mode, no console error and no
request leaving 127.0.0.1. Finally the Sphinx hook (book/_ext/nd_widgets.py) in a one-page build.
"""
import json
import math
import re
import subprocess
import sys
from urllib.parse import urljoin

import numpy as np
import pytest

from companion import BatchNorm, batch_stats, dropout_forward

from _chromium import PageLog
from _site import DESKTOP, PAGES, PHONE, REPO, markdown_of, new_page, page_file

# --------------------------------------------------------------------------------------------
# The specification of the random numbers, in Python
# --------------------------------------------------------------------------------------------
M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def mulberry32(seed):
    """Yield the uniforms of mulberry32 (Tommy Ettinger's generator) from a 32-bit seed."""
    a = seed & M32
    while True:
        a = (a + 0x6D2B79F5) & M32
        t = _imul(a ^ (a >> 15), a | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        yield ((t ^ (t >> 14)) & M32) / 2**32


def uniforms(seed, n):
    stream = mulberry32(seed)
    return np.array([next(stream) for _ in range(n)])


def normals(seed, n):
    """Box-Muller: each pair (u1, u2) gives r cos(2 pi u2), r sin(2 pi u2), r = sqrt(-2 log(1 - u1))."""
    u = uniforms(seed, n + n % 2).reshape(-1, 2)
    r = np.sqrt(-2 * np.log(1 - u[:, 0]))
    angle = 2 * math.pi * u[:, 1]
    return np.column_stack([r * np.cos(angle), r * np.sin(angle)]).ravel()[:n]


class GivenUniforms(np.random.Generator):
    """A Generator whose ``random(shape)`` returns given uniforms: the companion's dropout then draws
    its mask (``u >= p``) from exactly the numbers the JavaScript used."""

    def __init__(self, u):
        super().__init__(np.random.PCG64(0))
        self.u = np.asarray(u, dtype=np.float64)

    def random(self, size=None, dtype=np.float64, out=None):
        assert tuple(np.atleast_1d(size)) == self.u.shape, (size, self.u.shape)
        return self.u.copy()


# --------------------------------------------------------------------------------------------
# What the book places: read from the sources
# --------------------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r'<div class="nd-widget" data-widget="([\w-]+)"([^>]*)>(.*?)</div>', re.S)
WIDGETS = ("dropout", "batch-stats", "running-mean")


def placeholders():
    """``{widget: (docname, attributes, fallback html)}`` from the Markdown cells of every page."""
    found = {}
    for doc in PAGES:
        for name, attrs, fallback in PLACEHOLDER.findall(markdown_of(doc)):
            assert name not in found, f"figure {name!r} placed twice ({found[name][0]} and {doc})"
            found[name] = (doc, dict(re.findall(r'data-([\w-]+)="([^"]*)"', attrs)), fallback)
    return found


PLACED = placeholders()


def test_every_figure_is_placed_with_a_fallback_sentence():
    assert set(PLACED) == set(WIDGETS), f"placed: {sorted(PLACED)}; the script draws {WIDGETS}"
    for name, (doc, attrs, fallback) in PLACED.items():
        assert "seed" in attrs, f"{doc}: the {name} figure needs a data-seed"
        assert re.search(r"Interactive figure .*website", fallback), (
            f"{doc}: the {name} placeholder needs a sentence for readers without JavaScript")


def test_the_learner_edition_keeps_the_fallback_sentence():
    """In JupyterLab the placeholder is plain HTML: the learner edition shows the sentence."""
    for name, (doc, _attrs, fallback) in PLACED.items():
        learner = REPO / "book" / "learner" / (doc.split("/")[-1] + ".ipynb")
        cells = json.loads(learner.read_text(encoding="utf8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert fallback in text, f"{learner.name}: the {name} figure's sentence is missing (run nd-editions)"


# --------------------------------------------------------------------------------------------
# The pure functions, called in Chromium
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(browser, server):
    """A page that loads nd_widgets.js; ``api(js, arg)`` evaluates ``js`` (a function of ``arg``)."""
    page = new_page(browser, DESKTOP)
    log = PageLog(page)
    page.goto(urljoin(server, PLACED["dropout"][0] + ".html"))
    page.wait_for_function("() => window.ndWidgets !== undefined")
    yield lambda js, arg=None: page.evaluate(js, arg)
    page.close()
    assert not log.problems(), log.problems()


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**32 - 1])
def test_prng_is_mulberry32_and_box_muller(api, seed):
    js_u = api("s => ndWidgets.uniforms(s, 2000)", seed)
    np.testing.assert_array_equal(js_u, uniforms(seed, 2000))  # integer arithmetic: exact
    js_z = api("s => ndWidgets.normals(s, 1001)", seed)
    np.testing.assert_allclose(js_z, normals(seed, 1001), rtol=1e-14, atol=1e-15)


X = np.random.default_rng(11).normal(1.0, 2.0, size=37)  # inputs of both signs


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 0.5, 0.9, 1.0])
def test_dropout_matches_the_companion(api, p):
    u = uniforms(7, X.size)
    js = api("a => ndWidgets.dropout(a)", {"x": X.tolist(), "u": u.tolist(), "p": p})
    y, mask = dropout_forward(X, p, training=True, rng=GivenUniforms(u))
    np.testing.assert_array_equal(js["mask"], mask)
    np.testing.assert_allclose(js["y"], y, rtol=1e-15, atol=0)
    assert js["kept"] == mask.sum()
    np.testing.assert_allclose([js["meanX"], js["meanY"]], [X.mean(), y.mean()], rtol=1e-13, atol=1e-15)
    if 0 < p < 1:
        assert js["scale"] == 1 / (1 - p)


@pytest.mark.parametrize("p", [0.3, 0.75])
def test_dropout_figure_numbers_match_the_companion(api, p):
    """The figure: 20 inputs 0.5 + u, the mask shown, and the mean over 1,000 more masks."""
    n, masks, seed = 20, 1000, 4
    js = api("a => ndWidgets.dropoutExperiment(a)", {"seed": seed, "n": n, "p": p, "masks": masks})
    u = uniforms(seed, n * (2 + masks))
    x = 0.5 + u[:n]
    np.testing.assert_allclose(js["x"], x, rtol=1e-15, atol=0)
    y, mask = dropout_forward(x, p, rng=GivenUniforms(u[n:2 * n]))
    np.testing.assert_array_equal(js["shown"]["mask"], mask)
    np.testing.assert_allclose(js["shown"]["y"], y, rtol=1e-15, atol=0)
    many, _ = dropout_forward(np.tile(x, (masks, 1)), p, rng=GivenUniforms(u[2 * n:].reshape(masks, n)))
    np.testing.assert_allclose(js["averageMeanY"], many.mean(axis=1).mean(), rtol=1e-12)
    # inverted dropout keeps the mean on average: 20,000 kept-or-dropped draws, a standard error near 0.01
    assert abs(js["averageMeanY"] - x.mean()) < 0.05


def test_batch_stats_of_given_batches(api):
    population = np.linspace(-2.0, 5.0, 23) ** 2
    indices = [[0, 1], [2, 5, 9, 22], [3, 3, 3], list(range(23))]
    js = api("a => ndWidgets.batchStats(a)", {"population": population.tolist(), "indices": indices})
    means = [population[i].mean() for i in indices]
    variances = [population[i].var(ddof=0) for i in indices]
    np.testing.assert_allclose(js["means"], means, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(js["variances"], variances, rtol=1e-13, atol=1e-15)
    assert js["variances"][2] == 0.0


@pytest.mark.parametrize("m", [2, 16, 256])
def test_batch_statistics_figure_matches_the_companion(api, m):
    seed, size, batches = 3, 1000, 50
    js = api("a => ndWidgets.batchExperiment(a)",
             {"seed": seed, "batchSize": m, "batches": batches, "populationSize": size})
    population = 3 + 2 * normals(seed, size)
    np.testing.assert_allclose(js["population"], population, rtol=1e-14, atol=1e-14)
    indices = np.floor(uniforms(seed + 1, batches * m) * size).astype(int).reshape(batches, m)
    np.testing.assert_array_equal(js["indices"], indices)
    pop = np.array(js["population"])
    values = pop[indices].T  # (m, batches): each batch is one channel of batch_stats
    mean, var = batch_stats(values)
    np.testing.assert_allclose(js["means"], mean, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(js["variances"], var, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(js["variances"], values.var(axis=0, ddof=0), rtol=1e-12, atol=1e-14)
    expected = {
        "populationMean": pop.mean(), "populationVariance": pop.var(),
        "spreadOfMeans": mean.std(), "expectedSpread": np.sqrt(pop.var() / m),
        "averageVariance": var.mean(), "expectedVariance": (m - 1) / m * pop.var(),
        "minVariance": var.min(), "maxVariance": var.max(),
    }
    np.testing.assert_allclose([js[k] for k in expected], list(expected.values()), rtol=1e-12, atol=1e-14)


def companion_running_means(batches, momentum):
    """running_mean of companion.BatchNorm(1, momentum) before and after each batch."""
    bn = BatchNorm(1, momentum=momentum)
    out = [bn.running_mean[0]]
    for batch in batches:
        bn(np.asarray(batch)[:, None])
        out.append(bn.running_mean[0])
    return np.array(out)


@pytest.mark.parametrize("momentum", [0.01, 0.1, 0.5, 0.9, 0.99])
def test_running_mean_matches_the_companion(api, momentum):
    seed, steps, m = 5, 60, 16
    js = api("a => ndWidgets.runningExperiment(a)",
             {"seed": seed, "steps": steps, "batchSize": m, "momentum": momentum})
    batches = 3 + 2 * normals(seed, steps * m).reshape(steps, m)
    np.testing.assert_allclose(js["batches"], batches, rtol=1e-14, atol=1e-14)
    batches = np.array(js["batches"])
    np.testing.assert_allclose(js["batchMeans"], batches.mean(axis=1), rtol=1e-14, atol=1e-14)

    torch_convention = companion_running_means(batches, momentum)
    np.testing.assert_allclose(js["pytorch"], torch_convention, rtol=1e-13, atol=1e-15)

    keras, r = [0.0], 0.0
    for batch in batches:
        r = momentum * r + (1 - momentum) * batch.mean()
        keras.append(r)
    np.testing.assert_allclose(js["keras"], keras, rtol=1e-13, atol=1e-15)
    # Keras's momentum is PyTorch's 1 - momentum (the companion's BatchNorm docstring)
    np.testing.assert_allclose(js["keras"], companion_running_means(batches, 1 - momentum), rtol=1e-12, atol=1e-14)
    if momentum == 0.5:
        np.testing.assert_allclose(js["pytorch"], js["keras"], rtol=1e-15)
    else:  # the same number, opposite meanings
        assert np.abs(np.array(js["pytorch"]) - keras).max() > 0.1
    tail = js["window"]
    np.testing.assert_allclose([js["pytorchFluctuation"], js["kerasFluctuation"]],
                               [np.std(torch_convention[-tail:]), np.std(keras[-tail:])], rtol=1e-12, atol=1e-15)


def test_pure_functions_refuse_bad_arguments(api):
    for js in ["() => ndWidgets.dropout({x: [1], u: [0.5], p: 1.5})",
               "() => ndWidgets.runningMean({batchMeans: [1], momentum: 0.1, convention: 'tf'})",
               "() => ndWidgets.batchExperiment({batchSize: 1})"]:
        assert api(f"() => {{ try {{ ({js})(); return null; }} catch (e) {{ return e.name; }} }}") == "RangeError", js


# --------------------------------------------------------------------------------------------
# The figures as a reader uses them
# --------------------------------------------------------------------------------------------
def expected_summary(name, value, seed):
    """The numbers of a figure's summary, in order, recomputed with the companion: [(number, decimals)]."""
    if name == "dropout":
        n, masks = 20, 1000
        u = uniforms(seed, n * (2 + masks))
        x = 0.5 + u[:n]
        y, mask = dropout_forward(x, value, rng=GivenUniforms(u[n:2 * n]))
        many, _ = dropout_forward(np.tile(x, (masks, 1)), value, rng=GivenUniforms(u[2 * n:].reshape(masks, n)))
        return [(value, 2), (mask.sum(), 0), (n, 0), (1, 0), (1, 0), (1 / (1 - value), 2), (y.mean(), 2),
                (many.mean(), 2), (masks, 0), (x.mean(), 2)]
    if name == "batch-stats":
        m, size, batches = value, 10_000, 200
        pop = 3 + 2 * normals(seed, size)
        idx = np.floor(uniforms(seed + 1, batches * m) * size).astype(int).reshape(batches, m)
        mean, var = batch_stats(pop[idx].T)
        return [(m, 0), (batches, 0), (mean.std(), 2), (np.sqrt(pop.var() / m), 2), (var.min(), 2), (var.max(), 2),
                (var.mean(), 2), (pop.var(), 2), (1, 0), ((m - 1) / m * pop.var(), 2)]
    steps, m, tail = 100, 16, 50
    batches = 3 + 2 * normals(seed, steps * m).reshape(steps, m)
    torch_convention = companion_running_means(batches, value)
    keras = companion_running_means(batches, 1 - value)
    return [(value, 2), (value, 2), (steps, 0), (torch_convention[-1], 2), (np.std(torch_convention[-tail:]), 2),
            (tail, 0), (1 - value, 2), (keras[-1], 2), (np.std(keras[-tail:]), 2), (3, 2)]


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def check_summary(text, expected, where):
    found = [float(s.replace(",", "")) for s in NUMBER.findall(text.replace("\u2212", "-"))]
    assert len(found) == len(expected), f"{where}: summary {text!r} has {found}, expected {expected}"
    for got, (want, decimals) in zip(found, expected):
        assert abs(got - want) <= 0.5 * 10**-decimals + 1e-9, f"{where}: {got} shown for {want} in {text!r}"


def slider_value(name, raw):
    return 2 ** (int(raw) + 1) if name == "batch-stats" else float(raw)  # batch sizes 2, 4, ..., 256


@pytest.fixture
def widget(browser, server):
    """Open the page of a figure; yield (page, locator of the figure, PageLog); check the log at the end."""
    opened = []

    def _open(name, viewport=DESKTOP):
        page = new_page(browser, viewport)
        log = PageLog(page)
        page.goto(urljoin(server, PLACED[name][0] + ".html"), wait_until="load")
        root = page.locator(f'.nd-widget[data-widget="{name}"]')
        root.locator("svg").first.wait_for()
        opened.append((page, log))
        return page, root, log

    yield _open
    for page, log in opened:
        page.close()
        assert not log.problems(), log.problems()


@pytest.mark.parametrize("name", WIDGETS)
def test_slider_and_button_work_from_the_keyboard(widget, name):
    page, root, _log = widget(name)
    slider = root.locator('input[type="range"]')
    summary = root.locator('[aria-live="polite"]')
    label = root.locator(f'label[for="{slider.get_attribute("id")}"]')
    assert label.count() == 1 and label.inner_text().strip(), f"{name}: the slider has no <label>"
    seed = int(PLACED[name][1]["seed"])
    start = slider.input_value()
    check_summary(summary.inner_text(), expected_summary(name, slider_value(name, start), seed), f"{name} at start")

    slider.focus()
    page.keyboard.press("ArrowRight")
    moved = slider.input_value()
    assert float(moved) > float(start), f"{name}: ArrowRight did not move the slider"
    assert root.locator("output").inner_text() == slider.get_attribute("aria-valuetext")
    text = summary.inner_text()
    check_summary(text, expected_summary(name, slider_value(name, moved), seed), f"{name} after ArrowRight")

    page.keyboard.press("Home")
    assert slider.input_value() == slider.get_attribute("min")
    check_summary(summary.inner_text(), expected_summary(name, slider_value(name, slider.input_value()), seed),
                  f"{name} after Home")

    page.keyboard.press("Tab")  # to the "New random draw" button
    button = root.locator("button")
    assert button.evaluate("b => b === document.activeElement"), f"{name}: Tab does not reach the button"
    before = summary.inner_text()
    page.keyboard.press("Enter")
    assert root.get_attribute("data-seed") == str(seed + 1)
    assert summary.inner_text() != before
    check_summary(summary.inner_text(), expected_summary(name, slider_value(name, slider.input_value()), seed + 1),
                  f"{name} after a new draw")


@pytest.mark.parametrize("name", WIDGETS)
def test_figure_fits_a_phone_with_readable_text(widget, name):
    page, root, _log = widget(name, PHONE)
    root.scroll_into_view_if_needed()
    info = root.evaluate("""root => {
        const box = root.getBoundingClientRect();
        const parts = Array.from(root.querySelectorAll('*')).filter(e => e.getClientRects().length)
            .map(e => ({tag: e.tagName, right: e.getBoundingClientRect().right, left: e.getBoundingClientRect().left}));
        const texts = Array.from(root.querySelectorAll('text, label, output, button, p, li span'))
            .filter(e => e.textContent.trim());
        return {left: box.left, right: box.right, width: window.innerWidth,
                scrollWidth: document.documentElement.scrollWidth,
                outside: parts.filter(p => p.right > box.right + 1 || p.left < box.left - 1).map(p => p.tag),
                fonts: texts.map(e => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)]),
                fallback: root.querySelectorAll('.nd-widget-fallback').length};
    }""")
    assert info["fallback"] == 0, f"{name}: the fallback sentence is still shown"
    assert info["left"] >= 0 and info["right"] <= info["width"], f"{name}: wider than the phone: {info}"
    assert info["scrollWidth"] <= info["width"] + 1, f"{name}: the page scrolls sideways at 375 px"
    assert not info["outside"], f"{name}: elements stick out of the figure: {info['outside'][:5]}"
    small = [f for f in info["fonts"] if f[1] < 12]
    assert info["fonts"] and not small, f"{name}: text smaller than 12 px: {small[:5]}"


def _luminance(rgb):
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(float(v)) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_colours_are_readable_in_light_and_dark_mode(widget, theme):
    """Text 4.5:1 against the page's background, lines, bars and marks 3:1 (WCAG 2.1 AA)."""
    page, root, _log = widget("running-mean")
    page.evaluate("t => { document.documentElement.dataset.theme = t; }", theme)
    colours = page.evaluate("""() => {
        const rgb = s => (s.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
        let bg = getComputedStyle(document.body).backgroundColor;
        if (/rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) bg = getComputedStyle(document.documentElement).backgroundColor;
        const style = sel => getComputedStyle(document.querySelector(sel));
        return {background: rgb(bg),
                text: [rgb(style('.nd-widget svg text').fill), rgb(style('.nd-w-summary').color),
                       rgb(style('.nd-w-controls label').color)],
                marks: [rgb(style('.nd-w-line-a').stroke), rgb(style('.nd-w-line-b').stroke),
                        rgb(style('.nd-w-ref').stroke), rgb(style('.nd-w-axis').stroke), rgb(style('.nd-w-dot').fill)]};
    }""")
    bg = colours["background"]
    assert (_luminance(bg) < 0.2) == (theme == "dark"), f"{theme} mode, background {bg}"
    for rgb in colours["text"]:
        assert contrast(rgb, bg) >= 4.5, f"{theme}: text {rgb} on {bg}: {contrast(rgb, bg):.2f}:1"
    for rgb in colours["marks"]:
        assert contrast(rgb, bg) >= 3, f"{theme}: mark {rgb} on {bg}: {contrast(rgb, bg):.2f}:1"


def test_script_is_loaded_only_where_a_figure_is_placed(html_dir):
    with_figures = {doc for doc, _attrs, _fallback in PLACED.values()}
    for doc in PAGES:
        text = page_file(html_dir, doc).read_text(encoding="utf8")
        loads = bool(re.search(r'<script[^>]+src="[^"]*_static/nd_widgets\.js', text))
        assert loads == (doc in with_figures), f"{doc}: nd_widgets.js loaded: {loads}"
        if loads:
            assert re.search(r'<link[^>]+href="[^"]*_static/nd_widgets\.css', text), doc
    assert (html_dir / "_static" / "nd_widgets.js").is_file()


# --------------------------------------------------------------------------------------------
# The Sphinx hook
# --------------------------------------------------------------------------------------------
def _mini_sphinx(tmp_path, pages):
    """Build a small Sphinx project (HTML, basic theme) with nd_widgets; return (ok, log, {page: html})."""
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "_static").mkdir(parents=True)
    for name in ("nd_widgets.js", "nd_widgets.css"):
        (src / "_static" / name).write_text((REPO / "book" / "_static" / name).read_text())
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(REPO / 'book' / '_ext')!r})\n"
                                 "extensions = ['nd_widgets']\nhtml_static_path = ['_static']\n")
    toc = "\n".join(f"   {name}" for name in pages if name != "index")
    for name, body in pages.items():
        head = f"{name}\n{'=' * len(name)}\n\n"
        if name == "index":
            head += f".. toctree::\n\n{toc}\n\n"
        (src / f"{name}.rst").write_text(head + body + "\n")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", str(src), str(out)],
                          capture_output=True, text=True)
    html = {name: (out / f"{name}.html").read_text() for name in pages if (out / f"{name}.html").exists()}
    return proc.returncode == 0, proc.stdout + proc.stderr, html


def _raw(name):
    return f'.. raw:: html\n\n   <div class="nd-widget" data-widget="{name}" data-seed="0"><p>fallback</p></div>\n'


def test_hook_loads_the_script_on_figure_pages_only(tmp_path):
    ok, log, html = _mini_sphinx(tmp_path, {"index": "Text.", "figure": _raw("dropout"), "plain": "Text."})
    assert ok, log
    assert "nd_widgets.js" in html["figure"] and "nd_widgets.css" in html["figure"]
    assert "nd_widgets.js" not in html["plain"] and "nd_widgets.js" not in html["index"]


def test_hook_fails_the_build_on_an_unknown_figure(tmp_path):
    ok, log, _html = _mini_sphinx(tmp_path, {"index": _raw("no-such-figure")})
    assert not ok and "unknown figure 'no-such-figure'" in log, log
