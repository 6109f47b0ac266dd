"""Grade readers' notebooks: run each in a fresh kernel and collect the verdict of every check cell.

    nd-grade-notebooks NOTEBOOK.ipynb [...]                 # a table per notebook
    nd-grade-notebooks submissions/*.ipynb --json grades.json

Each notebook runs top to bottom in a fresh kernel (nbclient), with a per-cell and a total time
limit, **except the cells tagged ``solution``**: the exercises are graded against the reader's own
functions (their edited stub cells) by the check cells they call. A cell that fails or hangs is
interrupted and the run goes on; a notebook that crashes or runs out of time is reported, and the
exercises it did not reach count as not passed. The exit status is 1 when anything did not pass.

``--json FILE`` writes ``{notebook: {exercise: {"passed": bool, "status": str, "message": str}}}``;
a notebook that did not run to the end also gets an entry ``"(notebook)"`` saying why.
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
from .grading import LOG_ENV

__all__ = ["grade_notebook", "main"]

_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
_MARKER = "#cell "
_NOTEBOOK_KEY = "(notebook)"
_WORDS = {"pass": "passed", "fail": "not passed", "todo": "not attempted yet"}


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


def _execute(nb, workdir, log_path, cell_timeout, total_timeout, kernel_name):
    """Run ``nb`` in place; returns ``None`` when it ran to the end, else why it stopped."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    client = NotebookClient(
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


def grade_notebook(path, cell_timeout=120, total_timeout=600, kernel_name="python3"):
    """Execute one notebook without its solution cells and grade every exercise it checks.

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

    Returns
    -------
    grades : dict
        ``{exercise: {"passed": bool, "status": "pass" | "fail" | "todo", "message": str}}`` in order of
        appearance; plus ``"(notebook)": {...}`` (not passed) when the notebook did not run to the end.
    """
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        return {_NOTEBOOK_KEY: {"passed": False, "status": "fail",
                                "message": f"could not read the notebook ({type(exc).__name__}: {exc})"}}
    checks = _check_cells(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in _tags(cell):
            cell.source, cell.outputs = "", []
    with tempfile.TemporaryDirectory(prefix="nd-grade-") as tmp:
        log_path = Path(tmp) / "checks.jsonl"
        log_path.touch()
        stopped = _execute(nb, path.parent.resolve(), log_path, cell_timeout, total_timeout, kernel_name)
        by_cell = _read_log(log_path)
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
    if stopped:
        grades[_NOTEBOOK_KEY] = {"passed": False, "status": "fail", "message": stopped}
    return grades


def _first_line(text, width=90):
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 3] + "..."


def _table(grades):
    rows = [(name, _WORDS.get(g["status"], g["status"]), _first_line(g["message"])) for name, g in grades.items()]
    return Table(rows, headers=["exercise", "verdict", "details"])


def main(argv=None):
    """Command-line entry point: grade the notebooks, print the tables, optionally write JSON.

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
    parser.add_argument("--cell-timeout", type=float, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per notebook (default 600)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    args = parser.parse_args(argv)
    everything, ok = {}, True
    total = len(args.notebooks)
    for k, nb in enumerate(args.notebooks, 1):
        start = time.perf_counter()
        grades = grade_notebook(nb, args.cell_timeout, args.timeout, args.kernel)
        seconds = time.perf_counter() - start
        everything[str(nb)] = grades
        exercises = {n: g for n, g in grades.items() if n != _NOTEBOOK_KEY}
        passed = sum(g["passed"] for g in exercises.values())
        ok &= all(g["passed"] for g in grades.values())
        head = f"{nb}: {passed}/{len(exercises)} exercises passed"
        if _NOTEBOOK_KEY in grades:
            head += f" ({grades[_NOTEBOOK_KEY]['message']})"
        if total > 1:
            head = f"[{k}/{total}] {head} in {seconds:.1f} s"
        print(head, flush=True)
        if exercises:
            print(repr(_table(exercises)) + "\n", flush=True)
        else:
            print("  (no check cells found)\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
