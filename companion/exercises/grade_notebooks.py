"""Grade readers' notebooks: run each in a fresh kernel and collect the verdict of every check cell.

    nd-grade-notebooks submissions/*.ipynb --jobs 4 --csv grades.csv --feedback feedback/
    nd-grade-notebooks NOTEBOOK.ipynb --json grades.json

Before a notebook runs, its check cells are restored from the chapter's learner edition
(``book/learner/<chapter>.ipynb``, or ``--source DIR``; see :mod:`.restore`): an edited or deleted check
cell is put back, run, and the exercise counts as not passed, reported as tampered or missing.
Each notebook then runs top to bottom in a fresh kernel (nbclient), with a per-cell and a total time
limit, **except the cells tagged ``solution``**: the exercises are graded against the reader's own
functions by the check cells. A cell that fails or hangs is interrupted and the run goes on; a
notebook that crashes or runs out of time is reported, and the exercises it did not reach count as
not passed; output beyond a limit (a notebook that floods) is dropped. The exit status is 1 when
anything did not pass.

Every exercise earns its points (from the learner edition's nbgrader metadata) when it passes.
``--json FILE`` writes ``{notebook: {exercise: {"passed", "status", "message", "points", "max_points"}}}``
(a notebook that did not run to the end also gets an entry ``"(notebook)"`` saying why); ``--csv FILE``
writes the gradebook, one row per student; ``--feedback DIR`` writes one HTML page per student with
every verdict in full. ``--jobs N`` grades N notebooks at a time, with a progress bar.
"""
import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from ..notebook.printing import Table
from . import gradebook, restore
from .grading import LOG_ENV

__all__ = ["OUTPUT_LIMIT", "grade_notebook", "main"]

#: Characters of output kept per notebook; the rest is dropped (a notebook that floods its output).
OUTPUT_LIMIT = 2_000_000
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
_MARKER = "#cell "
_NOTEBOOK_KEY = gradebook.NOTEBOOK_KEY
_WORDS = gradebook.STATUS_WORDS


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _check_cells(nb):
    """``{exercise: [cell indices]}`` of the check cells, in order of appearance.

    Cells tagged ``check`` count; a notebook without such tags falls back to every code cell
    (not tagged ``solution``) that calls ``check("<name>", ...)``.
    """
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and "solution" not in _tags(c)]
    tagged = [(i, c) for i, c in code if "check" in _tags(c)]
    found = {}
    for i, cell in tagged or code:
        for name in _CHECK_CALL.findall(cell.source):
            found.setdefault(name, []).append(i)
    return found


def _append(path, line):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _read_log(path):
    """``{cell index: {exercise: record}}`` from the log written by the kernel (and the cell markers)."""
    by_cell, cell = {}, None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return by_cell
    for line in lines:
        if line.startswith(_MARKER):
            cell = int(line[len(_MARKER):])
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        by_cell.setdefault(cell, {})[record.get("exercise")] = record
    return by_cell


def _cell_error(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip(": ")
    return None


def _client_class():
    """nbclient's NotebookClient, keeping at most :data:`OUTPUT_LIMIT` characters of output per notebook."""
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        kept = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            self.kept += size
            if self.kept > OUTPUT_LIMIT:
                if self.kept - size <= OUTPUT_LIMIT:  # say once where the output was cut
                    outs.append(_stream_note())
                return None
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


def _stream_note():
    import nbformat

    return nbformat.v4.new_output("stream", name="stderr",
                                  text=f"[nd-grade-notebooks: output beyond {OUTPUT_LIMIT} characters dropped]\n")


def _execute(nb, workdir, log_path, cell_timeout, total_timeout, kernel_name):
    """Run ``nb`` in place; returns ``None`` when it ran to the end, else why it stopped."""
    from nbclient.exceptions import DeadKernelError

    client = _client_class()(
        nb, timeout=cell_timeout, kernel_name=kernel_name, allow_errors=True, interrupt_on_timeout=True,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_execute=lambda cell, cell_index: _append(log_path, f"{_MARKER}{cell_index}"),
    )
    env = dict(os.environ, **{LOG_ENV: str(log_path)})

    async def run():
        task = asyncio.ensure_future(client.async_execute(env=env))
        done, _ = await asyncio.wait({task}, timeout=total_timeout)
        if done:
            task.result()  # re-raise what stopped the run, if anything
            return None
        task.cancel()  # nbclient shuts the kernel down on the way out
        try:
            await task
        except BaseException:
            pass
        return f"the notebook did not finish within {total_timeout:g} s"

    try:
        return asyncio.run(run())
    except DeadKernelError:
        return "the kernel died (the notebook crashed)"
    except Exception as exc:  # any other failure of the run: report it, go on with the batch
        return f"the notebook could not be run ({type(exc).__name__}: {str(exc)[:200]})"


def _restore(nb, path, source_dir):
    """Restore the check cells from the learner edition; ``(changes, points)`` (empty without a source)."""
    source = restore.source_for(nb, path, source_dir)
    if source is None:
        return {}, {}
    return restore.restore(nb, source)


def _verdicts(nb, checks, by_cell, stopped):
    grades = {}
    for name, cells in checks.items():
        record = error = None
        for i in cells:
            record = by_cell.get(i, {}).get(name, record)
            error = error or _cell_error(nb.cells[i])
        if record is not None:
            grades[name] = {"passed": bool(record.get("passed")), "status": record.get("status", "fail"),
                            "message": record.get("message", "")}
        elif error:
            grades[name] = {"passed": False, "status": "fail", "message": f"the check cell raised {error}"}
        else:
            why = stopped or "its check cell did not run"
            grades[name] = {"passed": False, "status": "fail", "message": f"not reached: {why}"}
    return grades


_CHANGED = {restore.TAMPERED: "The check cell was edited", restore.MISSING: "The check cell was deleted"}


def grade_notebook(path, cell_timeout=120, total_timeout=600, kernel_name="python3", source_dir=None):
    """Restore the check cells, execute one notebook without its solution cells, and grade every exercise.

    Parameters
    ----------
    path : str or pathlib.Path
        The reader's ``.ipynb`` file (it is not modified). Its directory is the kernel's working directory.
    cell_timeout : float
        Seconds per cell before the kernel is interrupted (the run then goes on with the next cell).
    total_timeout : float
        Seconds for the whole notebook.
    kernel_name : str
        The Jupyter kernel to run it in.
    source_dir : str or pathlib.Path, optional
        The folder of the learner edition, whose check cells are restored; ``None``: no restoring.

    Returns
    -------
    grades : dict
        ``{exercise: {"passed": bool, "status": str, "message": str, "points": float, "max_points": float}}``
        in order of appearance; ``status`` is ``"pass"``, ``"fail"``, ``"todo"``, or ``"tampered"`` /
        ``"missing"`` for an edited / deleted check cell (never passed). Plus ``"(notebook)": {...}``
        (not passed) when the notebook did not run to the end.
    """
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        return {_NOTEBOOK_KEY: {"passed": False, "status": "fail",
                                "message": f"could not read the notebook ({type(exc).__name__}: {exc})"}}
    changes, points = _restore(nb, path, source_dir)
    checks = _check_cells(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in _tags(cell):
            cell.source, cell.outputs = "", []
    with tempfile.TemporaryDirectory(prefix="nd-grade-") as tmp:
        log_path = Path(tmp) / "checks.jsonl"
        log_path.touch()
        stopped = _execute(nb, path.parent.resolve(), log_path, cell_timeout, total_timeout, kernel_name)
        by_cell = _read_log(log_path)
    grades = _verdicts(nb, checks, by_cell, stopped)
    for name, change in changes.items():
        ran = grades.get(name, {}).get("message", "")
        grades[name] = {"passed": False, "status": change,
                        "message": f"{_CHANGED[change]}: it was restored from the chapter and run, and the exercise "
                                   f"counts as not passed. The restored check said: {ran}"}
    for name, g in grades.items():
        g["max_points"] = float(points.get(name, 1))
        g["points"] = g["max_points"] if g["passed"] else 0.0
    if stopped:
        grades[_NOTEBOOK_KEY] = {"passed": False, "status": "fail", "message": stopped}
    return grades


def _one_line(text, width=400):
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def _table(grades):
    rows = [(name, _WORDS.get(g["status"], g["status"]), f"{g['points']:g}/{g['max_points']:g}",
             _one_line(g["message"])) for name, g in grades.items()]
    return Table(rows, headers=["exercise", "verdict", "points", "details"])


class _Progress:
    """A progress bar on stderr: redrawn in place on a terminal, one line per step elsewhere."""

    def __init__(self, total, stream=None, width=30):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def step(self, label):
        self.done += 1
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"grading [{bar}] {self.done}/{self.total} ({time.perf_counter() - self.start:.0f} s) {label}"
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.stream.write(("\r\033[K" + line if tty else line + "\n") + ("\n" if tty and self.done == self.total else ""))
        self.stream.flush()


def _grade_timed(path, cell_timeout, total_timeout, kernel, source_dir):
    """Grade one notebook and time it; a failure of the grading itself is reported, never raised."""
    start = time.perf_counter()
    try:
        grades = grade_notebook(path, cell_timeout, total_timeout, kernel, source_dir)
    except Exception as exc:  # a bug or an unreadable file must not stop the batch
        grades = {_NOTEBOOK_KEY: {"passed": False, "status": "fail",
                                  "message": f"could not be graded ({type(exc).__name__}: {str(exc)[:300]})"}}
    return grades, time.perf_counter() - start


def _grade_all(paths, args, source_dir):
    """``{path: (grades, seconds)}`` in the order given, ``--jobs`` notebooks at a time."""
    progress = _Progress(len(paths))
    results = {}
    call = (args.cell_timeout, args.timeout, args.kernel, source_dir)
    if args.jobs <= 1:
        for path in paths:
            results[path] = _grade_timed(path, *call)
            progress.step(str(path))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_grade_timed, path, *call): path for path in paths}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.step(str(futures[future]))
    return {path: results[path] for path in paths}


def main(argv=None):
    """Command-line entry point: grade the notebooks, print the tables, write the reports.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``); see ``nd-grade-notebooks --help``.

    Returns
    -------
    int
        The exit status: 0 when every exercise of every notebook passed and every notebook ran to
        the end, else 1.
    """
    parser = argparse.ArgumentParser(prog="nd-grade-notebooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the readers' notebooks")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every verdict to FILE as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write the gradebook (one row per student) to FILE")
    parser.add_argument("--feedback", type=Path, metavar="DIR", help="write one feedback HTML page per student to DIR")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at a time (default 1)")
    parser.add_argument("--source", type=Path, metavar="DIR",
                        help="the learner edition whose check cells are restored (default: book/learner)")
    parser.add_argument("--no-restore", action="store_true", help="grade the check cells as submitted")
    parser.add_argument("--cell-timeout", type=float, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per notebook (default 600)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    source_dir = None if args.no_restore else (args.source or restore.default_source_dir())
    if args.source is not None and not args.source.is_dir():
        parser.error(f"--source {args.source}: no such folder (the learner edition is written by nd-editions)")
    paths = [str(p) for p in args.notebooks]
    results = _grade_all(paths, args, source_dir)
    everything, ok, total = {}, True, len(paths)
    for k, path in enumerate(paths, 1):
        grades, seconds = results[path]
        everything[path] = grades
        exercises = {n: g for n, g in grades.items() if n != _NOTEBOOK_KEY}
        passed = sum(g["passed"] for g in exercises.values())
        ok &= all(g["passed"] for g in grades.values())
        head = f"{path}: {passed}/{len(exercises)} exercises passed"
        if exercises:
            head += (f", {sum(g['points'] for g in exercises.values()):g}/"
                     f"{sum(g['max_points'] for g in exercises.values()):g} points")
        if _NOTEBOOK_KEY in grades:
            head += f" ({grades[_NOTEBOOK_KEY]['message']})"
        if total > 1:
            head = f"[{k}/{total}] {head} in {seconds:.1f} s"
        print(head, flush=True)
        if exercises:
            print(repr(_table(exercises)) + "\n", flush=True)
        else:
            print("  (no check cells found)\n", flush=True)
    names = gradebook.student_names(paths)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n", encoding="utf-8")
    if args.csv:
        gradebook.write_csv(args.csv, everything, names)
    if args.feedback:
        gradebook.write_feedback(args.feedback, everything, names)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
