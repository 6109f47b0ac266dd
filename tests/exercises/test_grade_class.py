"""A class of 30 generated submissions of the core chapter's learner edition, graded in parallel by
nd-grade-notebooks: right, wrong, untouched, deleted and edited check cells, and notebooks that crash, hang
or flood their output. Checks every verdict, the points, the CSV gradebook and the feedback pages."""
import contextlib
import copy
import csv
import io
import json
import re
import time
from pathlib import Path

import pytest

from companion.exercises import grade_notebooks, restore

REPO = Path(__file__).resolve().parents[2]
LEARNER = REPO / "book" / "learner" / "exercises.ipynb"
CHAPTER = REPO / "book" / "exercises.ipynb"
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
N_STUDENTS = 30
CRASH, FLOOD, HANG = 5, 11, 17


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _solutions():
    out = {}
    for cell in json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]:
        if "solution" in cell["metadata"].get("tags", []):
            for name in CHECK_CALL.findall(_src(cell)):
                out[name] = "\n".join(line for line in _src(cell).splitlines() if not CHECK_CALL.search(line))
    return out


UNBIASED = """def bn_forward(x, gamma, beta, eps=1e-5):
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps)
    return gamma * x_hat + beta"""


def _plan(student, k):
    """What student ``student`` does with the ``k``-th exercise: right, wrong or untouched."""
    return ("right", "wrong", "untouched")[(student + k) % 3]


def _make_class(folder):
    """Write the submissions; returns ``{path: {exercise: expected status}}`` and the exercises in order."""
    source = json.loads(LEARNER.read_text(encoding="utf-8"))
    # A short homework: the chapter's imports, statements, stubs and checks (its demonstrations left out).
    source["cells"] = [c for c in source["cells"] if c["cell_type"] == "markdown" or "import " in _src(c)
                       or {"exercise", "check"} & set(c["metadata"].get("tags", []))]
    solutions = _solutions()
    stubs = [i for i, c in enumerate(source["cells"]) if "exercise" in c["metadata"].get("tags", [])]
    names = [c["metadata"]["nbgrader"]["grade_id"] for c in (source["cells"][i] for i in stubs)]
    expected = {}
    for s in range(N_STUDENTS):
        nb = copy.deepcopy(source)
        cells = nb["cells"]
        want = {}
        for k, (i, name) in enumerate(zip(stubs, names)):
            plan = _plan(s, k)
            if plan == "right":
                cells[i]["source"] = solutions[name]
                want[name] = "pass"
            elif plan == "wrong":
                cells[i]["source"] = UNBIASED if name == "bn_forward" else _src(cells[i]).replace(
                    "raise NotImplementedError", "return None")
                want[name] = "fail"
            else:
                want[name] = "todo"
        if s % 10 == 3:  # deletes the check cell of the first exercise
            cells[:] = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") != f"check-{names[0]}"]
            want[names[0]] = restore.MISSING
        if s % 10 == 7:  # makes the second check print a pass
            cell = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == f"check-{names[1]}")
            cell["source"] = 'print("\u2714 passed")'
            want[names[1]] = restore.TAMPERED
        extra = {CRASH: "import os\nos._exit(1)", FLOOD: 'for _ in range(20):\n    print("x" * 500_000)',
                 HANG: "import time\ntime.sleep(100_000)"}.get(s)
        if extra:
            after = cells.index(next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == names[2]))
            cells.insert(after + 1, {"cell_type": "code", "execution_count": None, "id": "extra", "metadata": {},
                                     "outputs": [], "source": extra})
            if s == CRASH:  # exercises checked after the crash are not reached
                for name in names[2:]:
                    want[name] = "fail"
        folder.joinpath(f"student{s:02d}").mkdir()
        path = folder / f"student{s:02d}" / "exercises.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        expected[str(path)] = want
    return expected, names


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    expected, names = _make_class(folder)
    out = folder / "reports"
    buffer, errors = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    # Each notebook runs in a few seconds; the cell timeout only stops the hanging student (whose wait is
    # the longest part of this test), and leaves a busy machine a wide margin: a check takes well under a
    # second, the import cell one or two. Two jobs: CI has two cores.
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(errors):
        status = grade_notebooks.main(list(expected) + ["--jobs", "2", "--cell-timeout", "30", "--timeout", "1200",
                                                        "--json", str(folder / "g.json"), "--csv", str(folder / "g.csv"),
                                                        "--feedback", str(out)])
    seconds = time.perf_counter() - start
    print(f"graded {N_STUDENTS} submissions with --jobs 2 in {seconds:.0f} s")
    return status, json.loads((folder / "g.json").read_text()), expected, names, folder, buffer.getvalue(), errors.getvalue()


def test_every_verdict_is_the_expected_one(graded):
    status, grades, expected, names, *_ = graded
    assert status == 1
    for path, want in expected.items():
        got = {name: grades[path][name]["status"] for name in names}
        assert got == want, path


def test_points_are_earned_only_by_passes_and_edited_checks_never_pass(graded):
    _, grades, expected, names, *_ = graded
    for path in expected:
        for name in names:
            g = grades[path][name]
            assert g["points"] == (g["max_points"] if g["status"] == "pass" else 0)
            assert g["max_points"] == 2  # code exercises
            if g["status"] in (restore.TAMPERED, restore.MISSING):
                assert not g["passed"] and "restored from the chapter" in g["message"]


def test_crash_hang_and_flood_are_survived(graded):
    _, grades, expected, names, *_ = graded
    paths = list(expected)
    assert "kernel died" in grades[paths[CRASH]]["(notebook)"]["message"]
    assert "(notebook)" not in grades[paths[FLOOD]] and "(notebook)" not in grades[paths[HANG]]


def test_csv_gradebook_has_one_row_per_student(graded):
    _, grades, expected, names, folder, *_ = graded
    rows = list(csv.DictReader((folder / "g.csv").open(encoding="utf-8")))
    assert [r["student"] for r in rows] == [f"student{s:02d}" for s in range(N_STUDENTS)]
    assert list(rows[0])[1:len(names) + 1] == names
    for row, path in zip(rows, expected):
        assert float(row["total"]) == sum(grades[path][n]["points"] for n in names)
        assert float(row["max"]) == 2 * len(names)


def test_feedback_pages_show_every_verdict_in_full(graded):
    _, grades, expected, names, folder, *_ = graded
    pages = sorted((folder / "reports").glob("*.html"))
    assert len(pages) == N_STUDENTS
    wrong_bn = next(p for p, want in expected.items() if want["bn_forward"] == "fail")
    page = (folder / "reports" / f"{Path(wrong_bn).parent.name}.html").read_text(encoding="utf-8")
    assert "Likely misconception:" in grades[wrong_bn]["bn_forward"]["message"]
    assert "Likely misconception:" in page and "N - 1" in page  # the hint itself, not only its first line
    assert "check cell deleted" in (folder / "reports" / "student03.html").read_text(encoding="utf-8")


def test_the_table_and_the_progress_bar(graded):
    *_, stdout, stderr = graded
    assert "Likely misconception:" in stdout  # the full verdict, not its first line
    assert f"grading [{'#' * 30}] {N_STUDENTS}/{N_STUDENTS}" in stderr
