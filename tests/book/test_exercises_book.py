"""The exercises as the book uses them: every check names a registered exercise, every label is used once,
every stored solution passed its check and every stored check cell says "not attempted yet".

nbval re-executes each notebook and compares these stored outputs, so a solution that stops passing, or a
stub that stops being "not attempted yet", fails there; this file makes sure the stored outputs say the
right thing in the first place, and that the exercise pattern of CONTRIBUTING.md is followed.
"""
import json
import re
from pathlib import Path

import pytest

from companion.exercises import check, registry

BOOK = Path(__file__).resolve().parents[2] / "book"
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb")
                   if not {".ipynb_checkpoints", "_build", "learner"} & set(p.parts))  # learner: generated editions
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
LABEL = re.compile(r"```\{exercise-start\}\s*\n:label:\s*ex-([A-Za-z_]\w*)")
SOLUTION_START = re.compile(r"```\{solution-start\}\s*ex-([A-Za-z_]\w*)")
CORE = ["bn_forward", "bn_backward", "bn_running_update", "bn_inference", "spatial_bn_forward",
        "dropout_forward", "dropout_backward", "layer_norm_forward"]


def _cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        yield cell, source, set(cell.get("metadata", {}).get("tags", []))


def _plain_outputs(cell):
    texts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        for mime in ("text/plain", "text/html"):
            if mime in data:
                texts.append("".join(data[mime]) if isinstance(data[mime], list) else data[mime])
    return "\n".join(texts)


def _labels():
    where = {}
    for path in NOTEBOOKS:
        for cell, source, _ in _cells(path):
            if cell["cell_type"] == "markdown":
                for name in LABEL.findall(source):
                    where.setdefault(name, []).append(path.name)
    return where


def test_the_book_has_notebooks():
    assert any(p.name == "exercises.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_check_in_the_book_names_a_registered_exercise(path):
    known = set(registry.names())
    for _, source, _ in _cells(path):
        for name in CHECK_CALL.findall(source):
            assert name in known, f"{path.name}: check({name!r}, ...) names no registered exercise"


def test_each_exercise_label_appears_in_exactly_one_notebook():
    for name, notebooks in _labels().items():
        assert len(notebooks) == 1, f"ex-{name} is defined {len(notebooks)} times: {notebooks}"
        assert name in registry.names(), f"ex-{name} in {notebooks[0]} is no registered exercise"


def test_every_core_exercise_is_in_the_exercises_chapter_exactly_once():
    labels = _labels()
    for name in CORE:
        assert labels.get(name) == ["exercises.ipynb"], name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_solutions_passed_and_stored_checks_are_not_attempted(path):
    for cell, source, tags in _cells(path):
        if cell["cell_type"] != "code":
            continue
        names = CHECK_CALL.findall(source)
        shown = _plain_outputs(cell)
        if "solution" in tags:
            assert names, f"{path.name}: a solution cell must end with its check(...) call:\n{source}"
            for name in names:
                assert f"\u2714 {name}: passed" in shown, f"{path.name}: the solution of {name} did not pass"
                assert f'class="nd-check nd-check-pass" data-exercise="{name}"' in shown
        if "check" in tags:
            for name in names:
                assert f"\u2026 {name}: not attempted yet" in shown, (
                    f"{path.name}: the stored check of {name} should say 'not attempted yet'")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_follows_the_pattern(path):
    """label -> stub cell tagged exercise -> check cell tagged check -> solution-start -> solution cell."""
    cells = list(_cells(path))
    for i, (cell, source, _) in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for name in LABEL.findall(source):
            rest = cells[i + 1:]
            kinds = []
            for c, s, tags in rest:
                if c["cell_type"] == "code" and "exercise" in tags and not kinds:
                    kinds.append("exercise")
                elif c["cell_type"] == "code" and "check" in tags and name in CHECK_CALL.findall(s):
                    kinds.append("check")
                elif c["cell_type"] == "markdown" and name in SOLUTION_START.findall(s):
                    kinds.append("solution-start")
                elif c["cell_type"] == "code" and "solution" in tags and name in CHECK_CALL.findall(s):
                    kinds.append("solution")
                    break
            assert kinds == ["exercise", "check", "solution-start", "solution"], f"{path.name}: ex-{name}: {kinds}"


def test_the_chapters_solutions_pass_when_run():
    """The solutions of the core chapter are self-contained: run each and check it live."""
    import numpy as np

    for _, source, tags in _cells(BOOK / "exercises.ipynb"):
        if "solution" not in tags:
            continue
        namespace = {"np": np}
        code = "\n".join(line for line in source.splitlines() if not CHECK_CALL.search(line))
        exec(compile(code, "solution", "exec"), namespace)
        for name in CHECK_CALL.findall(source):
            result = check(name, namespace[name])
            assert result.passed, result.message
