"""Both editions of every chapter, run as their readers run them, in one kernel per chapter.

1. **Learner** (book/learner/, as a learner opens it): Run All. No cell fails, every check says "not
   attempted yet", and nothing later in the notebook overwrites what the learner wrote: the check
   cells, run again after the whole chapter, still see the untouched stubs.
2. **Instructor** (``nd-editions --instructor``): then, in the same kernel, each exercise's cell of
   the instructor edition (the solution between nbgrader's markers) and its check cell, in order:
   every check passes.

The instructor's cells run after the whole chapter rather than in their places, which saves a
second execution of every chapter: a solution may only use names that the rest of the chapter
leaves as they were (true of every chapter, and a solution that breaks it fails here, not
silently). The solutions in their places are executed by nbval, which runs book/*.ipynb itself.
"""
import copy
import json
import re

import pytest

from _site import REPO

VERDICT = re.compile(r'class="nd-check nd-check-(pass|fail|todo)" data-exercise="(\w+)"')
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
#: Seconds per cell: a chapter takes at most 15 s on the reference machine; a busy CI machine may be 20x slower.
CELL_TIMEOUT = 600


def chapters():
    from companion.tools import editions

    return [p for _, p in editions.chapters(REPO) if p.suffix == ".ipynb"]


def verdicts(cell):
    """``[(status, exercise)]`` of the check results a cell shows."""
    found = []
    for out in cell.get("outputs", []):
        html = out.get("data", {}).get("text/html", "")
        found += VERDICT.findall("".join(html) if isinstance(html, list) else html)
    return found


def execute(nb, cwd):
    """Run the notebook (a dict) top to bottom in a fresh kernel; raise on the first error, as Run All stops."""
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(node, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return node


def _tagged(cells, tag):
    return [c for c in cells if tag in c["metadata"].get("tags", [])]


def _renamed(cells, prefix, role):
    cells = copy.deepcopy(cells)
    for cell in cells:
        cell["id"] = prefix + cell["id"]
        cell["metadata"]["nd-role"] = role
    return cells


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_learner_run_all_then_the_instructors_solutions(path):
    from companion.tools import editions

    learner = REPO / "book" / "learner" / path.name
    nb = json.loads(learner.read_text(encoding="utf-8"))
    checks = _tagged(nb["cells"], "check")
    instructor = editions.instructor_edition(path, REPO)["cells"]
    solved = [c for c in instructor if {"exercise", "check"} & set(c["metadata"].get("tags", []))]
    # the same checks once more, after everything the chapter runs; then the instructor's cells
    nb["cells"] += _renamed(checks, "again-", "learner") + _renamed(solved, "solved-", "instructor")
    ran = execute(nb, learner.parent)

    expected = [name for c in checks for name in CHECK_CALL.findall("".join(c["source"]))]
    shown = [v for cell in ran.cells if "check" in cell.metadata.get("tags", [])
             and cell.metadata.get("nd-role") != "instructor" for v in verdicts(cell)]
    assert shown == [("todo", name) for name in expected + expected], f"learner edition: {shown}"

    solved_checks = [c for c in ran.cells if c.metadata.get("nd-role") == "instructor" and "check" in c.metadata.tags]
    solved_shown = [v for cell in solved_checks for v in verdicts(cell)]
    assert [name for _, name in solved_shown] == expected, f"instructor edition: {solved_shown}"
    assert all(status == "pass" for status, _ in solved_shown), (
        f"instructor edition: {[v for v in solved_shown if v[0] != 'pass']}")
