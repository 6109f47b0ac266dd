"""The learner and instructor editions of the chapters, generated from ``book/*.ipynb`` (one source of truth).

    nd-editions                       # write book/learner/*.ipynb from the chapters of _toc.yml
    nd-editions --check               # exit 1 if book/learner/ differs from a fresh generation
    nd-editions --instructor DIR      # also write the instructor edition into DIR

The **learner edition** (``book/learner/<chapter>.ipynb``: what the site's download button, the
launch buttons and ``jupyter lab book/learner`` open) keeps each exercise's statement, stub and
check cell, and drops every solution (the code, the prose, the stored "passed"). Its first cell makes
the companion importable where it is missing. Its Markdown is plain Markdown
(:mod:`companion.tools.plain_markdown`): admonitions, citations "(Ioffe & Szegedy, 2015)", glued
numbers, and the exercise numbers of the site. The outputs of the exercise and check cells are
cleared; the outputs of the chapter's other cells (figures, tables) are kept, so the chapter reads
as on the site before it is run. A cell the site hides (tag ``remove-cell``: the asserts that bind
the prose to the results) is left out when it reads the solutions' answers.

The **instructor edition** keeps the solutions: each exercise's stub cell holds the solution code
between nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers, and the solution's prose
follows the check. Both editions carry nbgrader metadata (``nbgrader``: ``solution`` for the cell the
learner edits, ``grade`` with ``points`` for the check cell, ``locked`` for the rest, ``grade_id``
on each), so they drop into an nbgrader course, and notebook metadata naming the chapter, which
the grading command (:mod:`companion.exercises.grade_notebooks`) uses to restore check cells.
"""
import argparse
import copy
import json
import re
import sys
from pathlib import Path

from .plain_markdown import Bibliography, Context, glued_values, rewrite

__all__ = ["LEARNER_DIR", "chapters", "exercise_numbers", "instructor_edition", "learner_edition", "main",
           "points", "setup_source"]

#: Where the learner edition lives, relative to the repository root.
LEARNER_DIR = Path("book") / "learner"
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
_LABEL = re.compile(r"```\{exercise-start\}[^\n]*\n:label:\s*ex-([A-Za-z_]\w*)")
_SOLUTION_START = re.compile(r"^```+\s*\{solution-start\}[^\n]*\n.*?^```+\s*$", re.M | re.S)
_SOLUTION_END = re.compile(r"^```+\s*\{solution-end\}\s*\n?```+\s*$", re.M)
_KEY = "normalize_and_drop"
_SCHEMA = 3


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def chapters(repo):
    """The documents of ``_toc.yml`` in reading order: ``[(name, path)]`` (notebooks and Markdown pages)."""
    import yaml

    toc = yaml.safe_load((Path(repo) / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [ch["file"] for part in toc.get("parts", []) for ch in part.get("chapters", [])]
    out = []
    for file in files:
        for ext in (".ipynb", ".md"):
            path = Path(repo) / (file + ext)
            if path.is_file():
                out.append((path.stem, path))
                break
    return out


def _markdown_texts(path):
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]


def exercise_numbers(repo):
    """``{exercise name: number}``: sphinx-exercise numbers exercises through the book in ``_toc.yml`` order."""
    numbers = {}
    for _, path in chapters(repo):
        for text in _markdown_texts(path):
            for name in _LABEL.findall(text):
                numbers[name] = len(numbers) + 1
    return numbers


def _titles(repo):
    titles = {}
    for name, path in chapters(repo):
        for text in _markdown_texts(path):
            match = re.search(r"^#\s+(.+)$", text, re.M)
            if match:
                titles[name] = match.group(1).strip()
                break
    return titles


def repository(repo):
    """``(url, branch)`` of the repository, from ``_config.yml`` (the one setting to change)."""
    import yaml

    config = yaml.safe_load((Path(repo) / "_config.yml").read_text(encoding="utf-8"))
    settings = config.get("repository", {})
    return settings["url"].rstrip("/"), settings.get("branch", "main")


def distribution(repo):
    """The companion's distribution name on the package index, from ``pyproject.toml``."""
    import tomllib

    return tomllib.loads((Path(repo) / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]


def setup_source(url, branch, dist):
    """The first cell of every learner notebook: import the companion, or install it and say how."""
    requirement = f"{dist} @ git+{url}@{branch}"
    return (
        "# Run this cell first. Where the book's companion package is missing (e.g. on Colab), it installs it:\n"
        f'#     pip install "{requirement}"\n'
        "try:\n"
        "    import companion\n"
        "except ImportError:\n"
        f'    %pip install --quiet "{requirement}"\n'
        "    import companion\n"
        "import os\n"
        "\n"
        'if not os.path.isdir("data") and os.path.isdir(os.path.join("..", "data")):\n'
        '    os.chdir("..")  # in book/learner/: the chapters read book/data/ relative to the book\'s folder'
    )


def points(name):
    """Points of an exercise: 2 for a code exercise, 1 for a question."""
    from companion.exercises import registry

    return 2 if registry.get(name).kind == "code" else 1


def _nbgrader(cell, grade_id, solution=False, grade=False, locked=False, pts=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": _SCHEMA,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = pts
    cell.setdefault("metadata", {})["nbgrader"] = meta


def _split_solutions(cells):
    """Label each cell ``"keep"``, ``"solution"`` (inside a solution block) or split a Markdown cell that
    opens or closes a solution block into its parts. Returns ``[(kind, cell)]``."""
    out, inside = [], False
    for cell in cells:
        if cell["cell_type"] != "markdown":
            out.append(("solution" if inside or "solution" in _tags(cell) else "keep", cell))
            continue
        text = _source(cell)
        pieces = []
        while text:
            marker = (_SOLUTION_END if inside else _SOLUTION_START).search(text)
            if marker is None:
                pieces.append(("solution" if inside else "keep", text))
                break
            pieces.append(("solution" if inside else "keep", text[:marker.start()]))
            pieces.append(("solution-marker", text[marker.start():marker.end()]))
            text, inside = text[marker.end():], not inside
        for n, (kind, piece) in enumerate(p for p in pieces if p[1].strip()):
            part = copy.deepcopy(cell)
            part["source"] = piece.strip("\n")
            if n:
                part["id"] = f"{cell.get('id', 'cell')}-{n}"
            out.append((kind, part))
    return out


def _context(repo, nb):
    return Context(Bibliography(Path(repo) / "book" / "references.bib"), glue=glued_values(nb["cells"]),
                   numbers=exercise_numbers(repo), titles=_titles(repo),
                   notebooks={p.stem for p in _notebooks(repo)})


def _clear(cell):
    cell["outputs"], cell["execution_count"] = [], None


def _number(cells):
    """Execution counts 1, 2, ... on the code cells, as in one top-to-bottom run.

    The edition is the chapter's run with the solutions left out: the kept outputs come from that run, and a
    stub or check cell run there prints nothing the learner should see. Consecutive counts keep the notebook
    hygiene check (no unexecuted or out-of-order cells) meaningful for the editions too.
    """
    count = 0
    for cell in cells:
        if cell["cell_type"] == "code":
            count += 1
            cell["execution_count"] = count
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = count


def _reads_answers(source, exercises):
    """True when code reads the exercises' answers (``answer_...``) or functions, which only the solutions define."""
    return "answer_" in source or any(re.search(rf"\b{re.escape(name)}\b", source) for name in exercises)


def _code_without_checks(source):
    return "\n".join(line for line in source.splitlines() if not _CHECK_CALL.search(line)).rstrip()


def _edition(path, repo, learner):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    ctx = _context(repo, nb)
    name = Path(path).stem
    url, branch = repository(repo)
    setup = {"cell_type": "code", "execution_count": None, "id": "nd-setup",
             "metadata": {"tags": ["nd-setup"]}, "outputs": [], "source": setup_source(url, branch, distribution(repo))}
    cells, pending_stub, solutions = [setup], None, {}
    parts = _split_solutions(nb["cells"])
    exercises = {ex for c in nb["cells"] if "check" in _tags(c) for ex in _CHECK_CALL.findall(_source(c))}
    if not learner:  # the solution code of each exercise, for its stub cell
        for kind, cell in parts:
            if kind == "solution" and cell["cell_type"] == "code":
                for ex in _CHECK_CALL.findall(_source(cell)):
                    solutions[ex] = _code_without_checks(_source(cell))
    for kind, cell in parts:
        cell = copy.deepcopy(cell)
        tags = _tags(cell)
        if kind == "solution" and (learner or cell["cell_type"] == "code"):
            continue
        if learner and "remove-cell" in tags and _reads_answers(_source(cell), exercises):
            continue  # a hidden check of the prose that reads the solutions' answers
        if kind == "solution-marker":
            if learner:
                continue
            cell["source"] = rewrite(cell["source"], ctx)
            if not cell["source"]:
                continue
        if cell["cell_type"] == "markdown":
            cell["source"] = rewrite(_source(cell), ctx)
            _nbgrader(cell, f"{name}-md-{cell.get('id', len(cells))}", locked=True)
        elif "exercise" in tags:
            pending_stub = cell
            _clear(cell)
        elif "check" in tags:
            _clear(cell)
            for ex in _CHECK_CALL.findall(_source(cell)):
                _nbgrader(cell, f"check-{ex}", grade=True, locked=True, pts=points(ex))
                if pending_stub is not None:
                    _nbgrader(pending_stub, ex, solution=True)
                    if not learner and ex in solutions:
                        pending_stub["source"] = f"### BEGIN SOLUTION\n{solutions[ex]}\n### END SOLUTION"
                    pending_stub = None
        else:
            if _CHECK_CALL.search(_source(cell)):
                _clear(cell)  # no stored verdict outside the check cells either
            _nbgrader(cell, f"{name}-code-{cell.get('id', len(cells))}", locked=True)
        cells.append(cell)
    _number(cells)
    nb["cells"] = cells
    nb["metadata"][_KEY] = {"chapter": name, "edition": "learner" if learner else "instructor",
                            "source": f"book/{name}.ipynb"}
    return nb


def learner_edition(path, repo):
    """The learner edition of one chapter, as a notebook dict (see the module docstring)."""
    return _edition(path, repo, learner=True)


def instructor_edition(path, repo):
    """The instructor edition of one chapter, as a notebook dict (see the module docstring)."""
    return _edition(path, repo, learner=False)


def dumps(nb):
    """The notebook as stored: JSON with one-space indentation and a final newline, like nbformat."""
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _notebooks(repo):
    return [path for _, path in chapters(repo) if path.suffix == ".ipynb"]


def generate(repo, learner_dir=None, instructor_dir=None):
    """Write the editions of every chapter of ``_toc.yml``; returns ``{path: text}`` of the learner edition."""
    repo = Path(repo)
    learner_dir = repo / LEARNER_DIR if learner_dir is None else Path(learner_dir)
    texts = {learner_dir / p.name: dumps(learner_edition(p, repo)) for p in _notebooks(repo)}
    if instructor_dir is not None:
        Path(instructor_dir).mkdir(parents=True, exist_ok=True)
        for p in _notebooks(repo):
            (Path(instructor_dir) / p.name).write_text(dumps(instructor_edition(p, repo)), encoding="utf-8")
    return texts


def stale(repo):
    """The learner notebooks that differ from a fresh generation (or are missing, or left over)."""
    repo = Path(repo)
    fresh = generate(repo)
    stored = set((repo / LEARNER_DIR).glob("*.ipynb"))
    out = [p for p, text in fresh.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    return sorted(out + [p for p in stored if p not in fresh])


def main(argv=None):
    """Command-line entry point (``nd-editions``); see the module docstring.

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds a learner notebook that differs from a fresh generation.
    """
    parser = argparse.ArgumentParser(prog="nd-editions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="repository root (default: .)")
    parser.add_argument("--check", action="store_true", help="only check that book/learner/ is up to date")
    parser.add_argument("--instructor", type=Path, metavar="DIR", help="also write the instructor edition to DIR")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.repo)
        for path in bad:
            print(f"out of date: {path} (run: nd-editions)", file=sys.stderr)
        return 1 if bad else 0
    texts = generate(args.repo, instructor_dir=args.instructor)
    target = args.repo / LEARNER_DIR
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.ipynb"):
        if old not in texts:
            old.unlink()
    for k, (path, text) in enumerate(sorted(texts.items()), 1):
        path.write_text(text, encoding="utf-8")
        print(f"[{k}/{len(texts)}] {path}", flush=True)
    if args.instructor:
        print(f"instructor edition: {args.instructor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
