"""Run All on the learner edition of every chapter (book/learner/, as a learner opens it): no cell fails, every
check says "not attempted yet", and nothing later in the notebook overwrites what the learner wrote: the check
cells, run again at the very end, still see the untouched stubs."""
import copy
import json

import pytest

from _editions_run import CHECK_CALL, REPO, chapters, execute, verdicts


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_run_all_leaves_every_untouched_exercise_not_attempted(path):
    learner = REPO / "book" / "learner" / path.name
    nb = json.loads(learner.read_text(encoding="utf-8"))
    checks = [c for c in nb["cells"] if "check" in c["metadata"].get("tags", [])]
    again = copy.deepcopy(checks)
    for cell in again:
        cell["id"] = "again-" + cell["id"]
    nb["cells"] += again  # the same checks once more, after everything the chapter runs
    ran = execute(nb, learner.parent)
    expected = [name for c in checks for name in CHECK_CALL.findall("".join(c["source"]))]
    shown = [v for cell in ran.cells if "check" in cell.metadata.get("tags", []) for v in verdicts(cell)]
    assert shown == [("todo", name) for name in expected + expected], shown
