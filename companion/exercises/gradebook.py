"""The grading command's reports: a CSV gradebook and a feedback page per student.

``grades`` is what :func:`companion.exercises.grade_notebooks.grade_notebook` returns for each
submission: ``{exercise: {"passed", "status", "message", "points", "max_points"}}`` (plus the entry
``"(notebook)"`` when the notebook did not run to the end).
"""
import csv
import html
from pathlib import Path

from .results import to_html

__all__ = ["NOTEBOOK_KEY", "STATUS_WORDS", "feedback_html", "student_names", "write_csv", "write_feedback"]

NOTEBOOK_KEY = "(notebook)"
STATUS_WORDS = {"pass": "passed", "fail": "not passed", "todo": "not attempted yet",
                "tampered": "check cell edited", "missing": "check cell deleted"}


def student_names(paths):
    """A short, unique name per submission: the file name, else its folder (``submitted/alice/ch.ipynb``)."""
    paths = [Path(p) for p in paths]
    for naming in (lambda p: p.stem, lambda p: p.parent.name, lambda p: f"{p.parent.name}/{p.stem}", str):
        names = [naming(p) for p in paths]
        if len(set(names)) == len(names):
            return dict(zip(map(str, paths), names))
    return {str(p): str(p) for p in paths}  # pragma: no cover - str(p) is unique


def _exercises(grades):
    return {name: g for name, g in grades.items() if name != NOTEBOOK_KEY}


def write_csv(path, everything, names):
    """One row per student, one column per exercise (points earned), then the total and the maximum.

    Parameters
    ----------
    path : str or pathlib.Path
    everything : dict
        ``{notebook path: grades}``.
    names : dict
        ``{notebook path: student name}`` (:func:`student_names`).
    """
    columns = []
    for grades in everything.values():
        columns += [n for n in _exercises(grades) if n not in columns]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *columns, "total", "max", "notebook problem"])
        for nb, grades in everything.items():
            ex = _exercises(grades)
            row = [names[nb]] + [ex[c]["points"] if c in ex else "" for c in columns]
            total = sum(g["points"] for g in ex.values())
            maximum = sum(g["max_points"] for g in ex.values())
            writer.writerow(row + [total, maximum, grades.get(NOTEBOOK_KEY, {}).get("message", "")])


def feedback_html(student, notebook, grades):
    """A self-contained HTML page with every verdict in full (misconception included) and the points."""
    ex = _exercises(grades)
    total = sum(g["points"] for g in ex.values())
    maximum = sum(g["max_points"] for g in ex.values())
    esc = html.escape
    rows = []
    for name, g in ex.items():
        words = STATUS_WORDS.get(g["status"], g["status"])
        rows.append(f'<tr class="nd-{esc(g["status"])}"><td><code>{esc(name)}</code></td><td>{esc(words)}</td>'
                    f'<td>{g["points"]:g} / {g["max_points"]:g}</td><td>{to_html(g["message"])}</td></tr>')
    problem = grades.get(NOTEBOOK_KEY)
    note = f'<p class="nd-problem"><strong>The notebook did not run to the end:</strong> {esc(problem["message"])}</p>' \
        if problem else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Feedback: {esc(student)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;}td,th{border:1px solid #ccc;padding:.3em .5em;"
        "vertical-align:top;text-align:left;}table{border-collapse:collapse;}.nd-pass td:nth-child(2){color:#1a7f37;}"
        ".nd-fail td:nth-child(2),.nd-tampered td:nth-child(2),.nd-missing td:nth-child(2){color:#b42318;}"
        "</style></head><body>\n"
        f"<h1>Feedback for {esc(student)}</h1>\n<p>Notebook: <code>{esc(str(notebook))}</code>. "
        f"Points: <strong>{total:g} of {maximum:g}</strong>.</p>\n{note}"
        "<table><thead><tr><th>exercise</th><th>verdict</th><th>points</th><th>details</th></tr></thead><tbody>\n"
        + "\n".join(rows) + "\n</tbody></table>\n</body></html>\n"
    )


def write_feedback(folder, everything, names):
    """Write ``<folder>/<student>.html`` for every submission; returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for nb, grades in everything.items():
        target = folder / (names[nb].replace("/", "__") + ".html")
        target.write_text(feedback_html(names[nb], nb, grades), encoding="utf-8")
        written.append(target)
    return written
