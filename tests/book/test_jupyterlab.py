"""The reader's path in Jupyter: JupyterLab on 127.0.0.1, the exercises chapter run through the UI.

JupyterLab starts on 127.0.0.1 with a token chosen by the test and fresh settings, config,
data and runtime folders (as after a fresh install), on a copy of ``book/`` (so that nothing
the UI saves can touch the stored notebooks). Headless Chromium (Debian's ``chromium``, see
tests/book/_chromium.py) opens ``book/exercises.ipynb``, runs *Run → Run All Cells* from the menu,
and reads the rendered check results from the page: every check result is an HTML element of
class ``nd-check`` with one of ``nd-check-pass`` / ``nd-check-fail`` / ``nd-check-todo`` and the
exercise's name in ``data-exercise``. The results must be the ones stored in the notebook (which
nbval verifies): the unanswered stubs show "todo", the solutions "pass" (a "fail" appears only where
the chapter demonstrates a wrong answer on purpose), and no cell may raise.
"""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from _chromium import PageLog, chromium, require_chromium

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "book/exercises.ipynb"


def _cells(path):
    return json.loads(path.read_text(encoding="utf8"))["cells"]


def _tagged(cell, tag):
    return tag in cell.get("metadata", {}).get("tags", [])


CHECK_HTML = re.compile(r'class="nd-check nd-check-(pass|fail|todo)"[^>]*\bdata-exercise="([\w-]+)"'
                        r'|data-exercise="([\w-]+)"[^>]*class="nd-check nd-check-(pass|fail|todo)"')


def stored_checks(path):
    """``(name, status, tags)`` of every check result stored in the notebook, in order.

    The stored outputs are what nbval verifies; a reader who runs the notebook from the top
    must see the same results.
    """
    out = []
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        tags = tuple(cell.get("metadata", {}).get("tags", []))
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            for m in CHECK_HTML.finditer(html):
                status, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                out.append((name, status, tags))
    return out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of book/; yields (base URL, token, log path)."""
    require_chromium()  # no point in starting a server that no browser will use
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "root"
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns(
        "_build", ".ipynb_checkpoints", "__pycache__"))
    config = home / "config"
    config.mkdir()
    # no announcement feed and no update check: nothing to fetch from other hosts
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}}))
    # Every cell rendered at once (no windowing), so that the page holds the whole notebook.
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), IPYTHONDIR=str(home / "ipython"))
    env.pop("JUPYTER_TOKEN", None)
    port, token = _free_port(), secrets.token_hex(16)
    log = home / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    with open(log, "w") as log_file:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start; its log:\n{log.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.5)
        yield base, token, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


PROGRESS = """() => {
    const prompts = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'))
        .map(e => e.textContent.trim());
    return {total: prompts.length,
            done: prompts.filter(t => /^\\[\\d+\\]:$/.test(t)).length,
            busy: prompts.filter(t => t.includes('*')).length};
}"""

RESULTS = """() => ({
    checks: Array.from(document.querySelectorAll('.jp-NotebookPanel .nd-check')).map(e => ({
        name: e.getAttribute('data-exercise'),
        status: ['pass', 'fail', 'todo'].filter(s => e.classList.contains('nd-check-' + s)),
        text: e.textContent.trim().slice(0, 120)})),
    errors: Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        .map(e => e.textContent.trim()).filter(t => /Traceback|Error/.test(t)).map(t => t.slice(0, 400)),
})"""


def test_exercises_chapter_runs_in_jupyterlab(jupyterlab, tmp_path_factory):
    base, token, server_log = jupyterlab
    path = REPO / NOTEBOOK
    assert path.is_file(), f"{NOTEBOOK} is missing"
    stored = stored_checks(path)
    # the exercise pattern: the check under a stub says "todo", the one in its solution "pass"
    contract = [(n, st, t) for n, st, t in stored if ("check" in t and st != "todo") or ("solution" in t and st != "pass")]
    assert not contract, f"stored check results that break the exercise pattern: {contract}"
    exercises = {n for n, _st, t in stored if "solution" in t}
    assert exercises, f"{NOTEBOOK} has no exercise with a solution"
    expected = [(n, st) for n, st, _t in stored]
    n_code = sum(1 for c in _cells(path) if c["cell_type"] == "code")
    shots = tmp_path_factory.mktemp("jupyterlab-screenshots")
    print(f"JupyterLab screenshots: {shots}; server log: {server_log}")

    with chromium(tmp_path_factory.mktemp("chromium-lab-profile")) as context:
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.set_viewport_size({"width": 1400, "height": 1000})
        log = PageLog(page)
        start = time.perf_counter()
        page.goto(f"{base}lab/tree/{NOTEBOOK}?token={token}")
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
        status = page.locator("#jp-main-statusbar")
        status.get_by_text(re.compile(r"\bIdle\b")).first.wait_for(timeout=90_000)  # the kernel is ready
        opened = time.perf_counter() - start

        page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()
        page.wait_for_function(f"() => ({PROGRESS})().busy > 0 || ({PROGRESS})().done > 0", timeout=30_000)
        try:
            page.wait_for_function(f"() => {{ const p = ({PROGRESS})(); return p.busy === 0 && p.done > 0; }}",
                                   timeout=240_000, polling=500)
        finally:
            page.screenshot(path=str(shots / "exercises_run_all.png"), full_page=False)
        ran = time.perf_counter() - start - opened
        progress = page.evaluate(PROGRESS)
        results = page.evaluate(RESULTS)
        page.close()

    print(f"JupyterLab: notebook open with an idle kernel after {opened:.1f} s, Run All Cells took {ran:.1f} s")
    assert not results["errors"], "cells raised errors:\n" + "\n---\n".join(results["errors"])
    assert progress["total"] == n_code and progress["done"] == n_code, (
        f"only {progress['done']} of {n_code} code cells ran ({progress})")
    seen = [(c["name"], c["status"][0] if len(c["status"]) == 1 else "/".join(c["status"]) or "no status")
            for c in results["checks"]]
    assert seen == expected, ("check results in JupyterLab differ from the notebook's stored (nbval-verified) ones:\n"
                              + "\n".join(f"  {a} != {b}" for a, b in zip(seen, expected) if a != b)
                              + f"\n  ({len(seen)} on the page, {len(expected)} stored)")
    passed = {n for n, st in seen if st == "pass"}
    assert exercises <= passed, f"exercises whose solution did not pass: {sorted(exercises - passed)}"
    print(f"{len(seen)} check results read from the page: {sum(st == 'pass' for _n, st in seen)} pass, "
          f"{sum(st == 'todo' for _n, st in seen)} todo, {sum(st == 'fail' for _n, st in seen)} fail (demonstrations)")
    problems = log.problems()
    assert not problems, "JupyterLab page problems:\n" + "\n".join(problems)


VISIBLE = "Array.from(document.querySelectorAll('.jp-NotebookPanel')).find(p => p.checkVisibility())"
RENDERED = """() => {
    const panel = VISIBLE;
    if (!panel) return {texts: [], quotes: [], math: 0, images: []};
    const md = Array.from(panel.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown'));
    return {
        texts: md.map(e => e.innerText),
        quotes: Array.from(panel.querySelectorAll('.jp-RenderedMarkdown blockquote > p > strong'))
            .map(e => e.textContent.trim()),
        math: panel.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
        images: Array.from(panel.querySelectorAll('.jp-OutputArea-output img')).map(i => i.complete && i.naturalWidth > 0),
    };
}""".replace("VISIBLE", VISIBLE)
RAW_MYST = re.compile(r":::|\{admonition\}|\{cite:[pt]\}|\{glue:text\}|\{doc\}|:label:|:class:|\{exercise-start\}"
                      r"|\{solution-start\}|\{exercise-end\}")


@pytest.mark.parametrize("chapter", ["bn_layer", "exercises"])
def test_learner_edition_renders_in_jupyterlab(jupyterlab, tmp_path_factory, chapter):
    """The learner edition as JupyterLab shows it: no raw MyST, admonitions as titled quotes, author-year
    citations, exercise numbers as on the site, math typeset, figures loaded; a screenshot of each."""
    from companion.tools.editions import exercise_numbers

    base, token, _ = jupyterlab
    path = REPO / "book" / "learner" / f"{chapter}.ipynb"
    cells = _cells(path)
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    numbers = exercise_numbers(REPO)
    labels = re.findall(r'<a id="ex-(\w+)"></a>', markdown)
    shots = tmp_path_factory.mktemp(f"jupyterlab-learner-{chapter}")
    with chromium(tmp_path_factory.mktemp("chromium-lab-learner")) as context:
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.set_viewport_size({"width": 1400, "height": 1000})
        log = PageLog(page)
        # a workspace of its own: no notebook left open by another test
        page.goto(f"{base}lab/workspaces/learner-{chapter}/tree/book/learner/{chapter}.ipynb?token={token}&reset")
        page.wait_for_function(f"() => {{ const p = {VISIBLE}; return p && p.querySelector('.jp-RenderedMarkdown'); }}")
        page.wait_for_timeout(2000)  # MathJax typesets asynchronously
        page.screenshot(path=str(shots / f"{chapter}_top.png"))
        # JupyterLab renders only the cells in view: scroll through the notebook and collect what each view shows.
        scroller = f"({VISIBLE}).querySelector('.jp-WindowedPanel-outer')"
        shown = {"texts": set(), "quotes": set(), "math": 0, "images": []}
        for step in range(300):
            view = page.evaluate(RENDERED)
            shown["texts"] |= set(view["texts"])
            shown["quotes"] |= set(view["quotes"])
            shown["math"] = max(shown["math"], view["math"])
            shown["images"] += view["images"]
            at_end = page.evaluate(f"""() => {{ const s = {scroller};
                if (!s) return true; const end = s.scrollTop + s.clientHeight >= s.scrollHeight - 2;
                s.scrollBy(0, 600); return end; }}""")
            if at_end:
                break
            page.wait_for_timeout(250 if step % 10 else 1500)  # now and then, time for MathJax to typeset
        page.screenshot(path=str(shots / f"{chapter}_end.png"))
        page.close()
    shown["text"] = "\n".join(sorted(shown["texts"]))
    print(f"JupyterLab screenshots of the learner edition: {shots}")
    assert len(shown["texts"]) >= sum(c["cell_type"] == "markdown" for c in cells) // 2
    assert not RAW_MYST.search(shown["text"]), RAW_MYST.search(shown["text"]).group(0)
    assert "Learning goals" in shown["quotes"], shown["quotes"]
    for name in labels:
        assert f"Exercise {numbers[name]}." in shown["text"], name
    if "(Ioffe & Szegedy, 2015" in markdown:
        assert "(Ioffe & Szegedy, 2015" in shown["text"]
    if "$" in markdown:
        assert shown["math"] > 0, "no math was typeset"
    assert all(shown["images"]), "an output image did not load"
    problems = log.problems()
    assert not problems, "JupyterLab page problems:\n" + "\n".join(problems)
