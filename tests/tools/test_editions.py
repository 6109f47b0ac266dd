"""The learner and instructor editions (nd-editions): up to date, no solution in the learner edition, plain
Markdown that JupyterLab renders, exercise numbers as on the site, nbgrader metadata, a first cell that makes
the companion importable. Running them is tested in tests/book/test_editions_run.py."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from companion.tools import editions
from companion.tools.plain_markdown import Bibliography, Context, rewrite

REPO = Path(__file__).resolve().parents[2]
CHAPTERS = [p for _, p in editions.chapters(REPO) if p.suffix == ".ipynb"]
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
MYST = re.compile(r"\{[\w:-]+\}`|^:::|^```+\s*\{|^:(class|label):|^\([\w-]+\)=", re.M)


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _learner(path):
    return REPO / editions.LEARNER_DIR / path.name


def test_the_committed_learner_edition_equals_a_fresh_generation():
    stale = editions.stale(REPO)
    assert not stale, f"regenerate the learner edition with `nd-editions` (from the repository root): {stale}"


def test_every_chapter_has_a_learner_notebook():
    assert CHAPTERS and {p.name for p in CHAPTERS} == {p.name for p in (REPO / editions.LEARNER_DIR).glob("*.ipynb")}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_learner_edition_has_no_solution_and_no_stored_verdict(path):
    learner = _cells(_learner(path))
    text = "\n".join(_src(c) for c in learner)
    for cell in _cells(path):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            code = "\n".join(line for line in _src(cell).splitlines() if not CHECK_CALL.search(line)).strip()
            assert code not in text, f"{path.name}: solution code in the learner edition:\n{code[:300]}"
    assert "solution-start" not in text and "Solution to Exercise" not in text
    for cell in learner:
        tags = cell.get("metadata", {}).get("tags", [])
        assert "solution" not in tags
        shown = json.dumps(cell.get("outputs", []))
        assert "nd-check-pass" not in shown and "\u2714" not in shown, f"{path.name}: a stored 'passed'"
        if "exercise" in tags or "check" in tags:
            assert cell["outputs"] == [], f"{path.name}: a stored output in an exercise or check cell"
    counts = [c["execution_count"] for c in learner if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts not as one top-to-bottom run"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_learner_markdown_is_plain_with_site_numbers(path):
    numbers = editions.exercise_numbers(REPO)
    learner = _cells(_learner(path))
    for cell in learner:
        if cell["cell_type"] == "markdown":
            assert not MYST.search(_src(cell)), f"{path.name}: MyST left in:\n{_src(cell)[:400]}"
    labels = re.findall(r"```\{exercise-start\}[^\n]*\n:label:\s*ex-(\w+)", "\n".join(_src(c) for c in _cells(path)))
    text = "\n".join(_src(c) for c in learner)
    for name in labels:
        assert f'<a id="ex-{name}"></a>\n**Exercise {numbers[name]}' in text, name


def test_exercise_numbers_run_through_the_book_in_toc_order():
    numbers = editions.exercise_numbers(REPO)
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    order = [name for name, _ in editions.chapters(REPO)]
    assert numbers["bn_forward"] > numbers["pitfall_freeze_bn"]  # exercises comes after pitfalls
    assert order.index("exercises") > order.index("pitfalls")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_nbgrader_metadata_and_chapter_metadata(path):
    nb = json.loads(_learner(path).read_text(encoding="utf-8"))
    assert nb["metadata"]["normalize_and_drop"] == {"chapter": path.stem, "edition": "learner",
                                                   "source": f"book/{path.name}"}
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if "nbgrader" in c["metadata"]]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        meta = cell["metadata"].get("nbgrader")
        if "check" in tags:
            (name,) = CHECK_CALL.findall(_src(cell))
            assert meta["grade"] and meta["locked"] and meta["grade_id"] == f"check-{name}"
            assert meta["points"] == editions.points(name)
        elif "exercise" in tags:
            assert meta["solution"] and not meta["locked"] and not meta["grade"]
        elif cell["id"] != "nd-setup":
            assert meta["locked"] and not meta["solution"]


def test_first_cell_makes_the_companion_importable_or_says_how():
    url, branch = editions.repository(REPO)
    assert editions.distribution(REPO) == "normalize-and-drop"
    for path in CHAPTERS:
        first = _cells(_learner(path))[0]
        assert first["id"] == "nd-setup"
        source = _src(first)
        assert f'pip install "normalize-and-drop @ git+{url}@{branch}"' in source
        assert "import companion" in source.splitlines()[3]


def test_the_setup_cells_install_line_installs_the_companion(tmp_path):
    """The line of the first cell, pointed at a clone of this repository instead of the web, installs the
    distribution that provides `companion` (resolved with pip's dry run: nothing is installed)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    requirement = editions.setup_source(f"file://localhost{REPO}", head.stdout.strip(), editions.distribution(REPO))
    line = re.search(r'pip install "([^"]+)"', requirement).group(1)
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                          "--no-index", "--quiet", "--report", str(report), line],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    installs = json.loads(report.read_text())["install"]
    assert [item["metadata"]["name"] for item in installs] == ["normalize-and-drop"]


def test_rewrite_admonitions_citations_roles_and_exercises():
    ctx = Context(Bibliography(REPO / "book" / "references.bib"), glue={"k_acc": "0.912"},
                  numbers={"x_demo": 7}, titles={"bn_layer": "The batch normalization layer", "notation": "Notation"},
                  notebooks={"bn_layer"})
    md = ("(sec-a)=\n# T\n\n:::{admonition} Learning goals\n:class: tip\n- one\n- two $x^2$\n:::\n\n"
          "BN {cite:p}`ioffe2015batch` and {cite:p}`ioffe2015batch,santurkar2018how`; {cite:t}`ioffe2015batch` "
          "got {glue:text}`k_acc`; see {doc}`bn_layer` and {doc}`that page <bn_layer>` and {ref}`below <sec-a>`; "
          "{doc}`notation`.\n\n"
          "```{exercise-start}\n:label: ex-x_demo\n```\nDo it.\n```{exercise-end}\n```")
    out = rewrite(md, ctx)
    assert out.startswith("# T\n\n> **Learning goals**\n>\n> - one\n> - two $x^2$")
    # text right after the closing fence is not swallowed by the quote (Markdown's lazy continuation)
    assert rewrite(":::{admonition} Goals\n:class: tip\n- one\n:::\nAfter.", ctx) == "> **Goals**\n>\n> - one\n\nAfter."
    assert rewrite("{cite:p}`cs231n`", ctx).startswith("(Li et al., ")  # "Li, Fei-Fei and others"
    assert "BN (Ioffe & Szegedy, 2015) and (Ioffe & Szegedy, 2015; Santurkar et al., 2018); Ioffe & Szegedy (2015)" in out
    assert ("got 0.912; see [The batch normalization layer](bn_layer.ipynb) and [that page](bn_layer.ipynb) and "
            "below; Notation." in out)
    assert '<a id="ex-x_demo"></a>\n**Exercise 7.**\nDo it.' in out
    assert "exercise-end" not in out and ":class:" not in out
    with pytest.raises(KeyError, match="nope"):
        rewrite("{cite:p}`nope`", ctx)


def test_instructor_edition_keeps_the_solutions_inside_nbgrader_markers(tmp_path):
    path = REPO / "book" / "exercises.ipynb"
    nb = editions.instructor_edition(path, REPO)
    assert nb["metadata"]["normalize_and_drop"]["edition"] == "instructor"
    stubs = [c for c in nb["cells"] if "exercise" in c["metadata"].get("tags", [])]
    assert stubs and all(_src(c).startswith("### BEGIN SOLUTION\n") and _src(c).endswith("\n### END SOLUTION")
                         for c in stubs)
    assert all(not CHECK_CALL.search(_src(c)) for c in stubs)
    assert "Solution to Exercise" in "\n".join(_src(c) for c in nb["cells"])
    assert not [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", []) and c["cell_type"] == "code"]


def test_cli_check_reports_a_stale_notebook(tmp_path, capsys):
    assert editions.main(["--repo", str(REPO), "--check"]) == 0
