"""Restore a submission's check cells from the chapter's learner edition before it is graded.

A learner can edit or delete a check cell (``check("bn_forward", bn_forward)``) so that it reports a
pass, or reports nothing. The learner edition (``book/learner/<chapter>.ipynb``, written by
``nd-editions``) holds the original check cells, each with the nbgrader ``grade_id``
``check-<exercise>`` and its ``points``. :func:`restore` puts every original check cell back in the
submission: an edited one is replaced, a deleted one is inserted after the learner's answer cell
for that exercise (or at the end), and each is reported, so that the grading command counts the
exercise as not passed and says why.
"""
import copy
import json
from pathlib import Path

__all__ = ["MISSING", "TAMPERED", "default_source_dir", "restore", "source_for"]

TAMPERED, MISSING = "tampered", "missing"
_KEY = "normalize_and_drop"


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def default_source_dir():
    """``book/learner`` of the repository the companion was installed from, or ``None`` if there is none."""
    folder = Path(__file__).resolve().parents[2] / "book" / "learner"
    return folder if folder.is_dir() else None


def source_for(nb, path, source_dir):
    """The learner edition (a notebook dict) the submission ``nb`` was made from, or ``None``.

    The chapter is read from the notebook's metadata (``normalize_and_drop.chapter``), else from the
    file name.
    """
    if source_dir is None:
        return None
    chapter = nb.get("metadata", {}).get(_KEY, {}).get("chapter") or Path(path).stem
    candidate = Path(source_dir) / f"{chapter}.ipynb"
    if not candidate.is_file():
        return None
    return json.loads(candidate.read_text(encoding="utf-8"))


def restore(nb, source):
    """Put the source's check cells back into ``nb`` (in place).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The submission.
    source : dict
        Its chapter's learner edition.

    Returns
    -------
    changes : dict
        ``{exercise: "tampered" | "missing"}`` for every check cell that was edited or deleted.
    points : dict
        ``{exercise: points}`` of every check cell of the source, in order.
    """
    import nbformat

    changes, points = {}, {}
    for original in source["cells"]:
        gid = _grade_id(original) or ""
        if not gid.startswith("check-"):
            continue
        name = gid[len("check-"):]
        points[name] = original["metadata"]["nbgrader"].get("points", 1)
        text = _src(original)
        same_id = [c for c in nb.cells if _grade_id(c) == gid]
        same_text = [c for c in nb.cells if c.cell_type == "code" and _src(c).strip() == text.strip()]
        if same_id:
            cell = same_id[0]
            if _src(cell).strip() != text.strip():
                cell.source = text
                changes[name] = TAMPERED
            continue
        if same_text:
            continue  # the cell lost its metadata (e.g. copied), not its code
        cell = nbformat.from_dict(copy.deepcopy(original))
        cell.source, cell.outputs, cell.execution_count = text, [], None
        answer = [i for i, c in enumerate(nb.cells) if _grade_id(c) == name]
        nb.cells.insert(answer[0] + 1 if answer else len(nb.cells), cell)
        changes[name] = MISSING
    return changes, points
