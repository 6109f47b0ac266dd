"""The instructor CLI: nd-grade-notebooks runs readers' notebooks and grades their check cells."""
import json

import nbformat
import pytest

from companion.exercises import grade_notebooks

STUB = "def dropout_backward(dy, mask, p):\n    raise NotImplementedError"
DONE = "def dropout_backward(dy, mask, p):\n    return dy * mask / (1 - p)"
NO_RESCALE = "def dropout_backward(dy, mask, p):\n    return dy * mask"
CHECK = "from companion.exercises import check\ncheck('dropout_backward', dropout_backward)"
SOLUTION = DONE + "\ncheck('dropout_backward', dropout_backward)"
Q_STUB = "answer_zz_never_registered = None"
Q_CHECK = "check('zz_never_registered', answer_zz_never_registered)"


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade four notebooks in one CLI call; returns (exit status, stdout, JSON, paths)."""
    tmp = tmp_path_factory.mktemp("grade")
    paths = {
        "untouched": _notebook(tmp / "untouched.ipynb", (STUB, ["exercise"]), (CHECK, ["check"]),
                               (SOLUTION, ["solution"])),
        "completed": _notebook(tmp / "completed.ipynb", (DONE, ["exercise"]), (CHECK, ["check"]),
                               (SOLUTION, ["solution"])),
        "misconception": _notebook(tmp / "misconception.ipynb", (NO_RESCALE, ["exercise"]), (CHECK, ["check"]),
                                   ("check('dropout_backward', lambda dy, mask, p: dy * mask / (1 - p))", []),
                                   (SOLUTION, ["solution"])),
        "crash": _notebook(tmp / "crash.ipynb", (DONE, ["exercise"]), ("import os\nos._exit(1)", []),
                           (CHECK, ["check"])),
        "deleted_stub": _notebook(tmp / "deleted_stub.ipynb", (CHECK, ["check"]), (SOLUTION, ["solution"])),
    }
    out = tmp / "grades.json"
    return paths, out, tmp


@pytest.fixture(scope="module")
def ran(batch):
    paths, out, _ = batch
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = grade_notebooks.main([str(p) for p in paths.values()] + ["--json", str(out), "--cell-timeout", "30"])
    return status, buffer.getvalue(), json.loads(out.read_text()), {k: str(v) for k, v in paths.items()}


def test_exit_status_is_nonzero_when_anything_fails(ran):
    status, *_ = ran
    assert status == 1


def test_untouched_notebook_is_not_attempted_even_though_its_solution_passes(ran):
    _, _, grades, paths = ran
    verdict = grades[paths["untouched"]]["dropout_backward"]
    assert verdict["passed"] is False and verdict["status"] == "todo"
    assert "NotImplementedError" in verdict["message"]


def test_completed_notebook_passes(ran):
    _, _, grades, paths = ran
    assert grades[paths["completed"]] == {
        "dropout_backward": {"passed": True, "status": "pass", "message": "Right on all 4 hidden test cases.",
                             "points": 1.0, "max_points": 1.0}
    }


def test_the_check_cells_verdict_counts_not_a_later_demonstration(ran):
    _, _, grades, paths = ran
    verdict = grades[paths["misconception"]]["dropout_backward"]
    assert verdict["passed"] is False
    assert "Likely misconception: Your dx is dy * mask without the factor 1 / (1 - p)" in verdict["message"]


def test_crashed_notebook_is_reported_and_the_batch_goes_on(ran):
    _, _, grades, paths = ran
    crashed = grades[paths["crash"]]
    assert crashed["(notebook)"]["passed"] is False
    assert "kernel died" in crashed["(notebook)"]["message"]
    assert crashed["dropout_backward"]["message"].startswith("not reached")
    assert paths["deleted_stub"] in grades  # graded after the crash


def test_a_check_cell_that_raises_is_reported(ran):
    _, _, grades, paths = ran
    verdict = grades[paths["deleted_stub"]]["dropout_backward"]
    assert verdict == {"passed": False, "status": "fail",
                       "message": "the check cell raised NameError: name 'dropout_backward' is not defined",
                       "points": 0.0, "max_points": 1.0}


def test_table_and_progress_lines(ran):
    _, stdout, _, paths = ran
    assert f"[2/5] {paths['completed']}: 1/1 exercises passed, 1/1 points in " in stdout
    assert f"[1/5] {paths['untouched']}: 0/1 exercises passed, 0/1 points in " in stdout
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("[2/5]"))
    assert lines[header + 1].split() == ["exercise", "verdict", "points", "details"]
    assert "dropout_backward" in lines[header + 3] and "passed" in lines[header + 3]
    assert "not attempted yet" in stdout


def test_the_readers_notebook_is_not_modified(batch, ran):
    paths, _, _ = batch
    nb = nbformat.read(paths["completed"], as_version=4)
    assert all(cell.outputs == [] and cell.execution_count is None for cell in nb.cells)


def test_single_notebook_without_progress_line_and_success_status(batch, capsys):
    paths, _, _ = batch
    assert grade_notebooks.main([str(paths["completed"])]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith(f"{paths['completed']}: 1/1 exercises passed, 1/1 points\n")
    assert "[1/1]" not in stdout


def test_hanging_cell_is_interrupted_and_a_hanging_notebook_is_stopped(tmp_path):
    hang = _notebook(tmp_path / "hang.ipynb", (DONE, ["exercise"]), ("import time\ntime.sleep(600)", []),
                     (CHECK, ["check"]))
    # The hanging cell sleeps far longer than the cell timeout, and the timeout leaves the check cell
    # (0.1-0.5 s on an idle machine) a margin of 40x or more on a busy one.
    interrupted = grade_notebooks.grade_notebook(hang, cell_timeout=20, total_timeout=600)
    assert interrupted == {"dropout_backward": {"passed": True, "status": "pass",
                                                "message": "Right on all 4 hidden test cases.",
                                                "points": 1.0, "max_points": 1.0}}
    stopped = grade_notebooks.grade_notebook(hang, cell_timeout=600, total_timeout=3)
    assert stopped["(notebook)"]["message"] == "the notebook did not finish within 3 s"
    assert stopped["dropout_backward"]["passed"] is False


def test_questions_and_unreadable_notebooks(tmp_path):
    nb = _notebook(tmp_path / "q.ipynb", ("from companion.exercises import check", []), (Q_STUB, ["exercise"]),
                   (Q_CHECK, ["check"]))
    grades = grade_notebooks.grade_notebook(nb, total_timeout=120)
    assert grades["zz_never_registered"]["passed"] is False
    assert "no exercise named 'zz_never_registered'" in grades["zz_never_registered"]["message"]
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    assert "could not read the notebook" in grade_notebooks.grade_notebook(bad)["(notebook)"]["message"]


def test_check_cells_are_found_by_tag_or_by_call():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("check('a', f)"), nbformat.v4.new_code_cell('check( "b" , g)')]
    assert grade_notebooks._check_cells(nb) == {"a": [0], "b": [1]}
    nb.cells[1].metadata["tags"] = ["check"]
    assert grade_notebooks._check_cells(nb) == {"b": [1]}
    nb.cells[1].metadata["tags"] = ["solution"]
    assert grade_notebooks._check_cells(nb) == {"a": [0]}
