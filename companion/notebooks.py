"""Execute the book's notebooks in place and time them.

    python -m companion.notebooks book/*.ipynb            # re-execute, store outputs, print times
    python -m companion.notebooks --check book/*.ipynb    # execute into memory only (nothing written)
    python -m companion.notebooks --markdown book/*.ipynb # also print a Markdown table of times
    python -m companion.notebooks --check --readme README.md book/*.ipynb
                                                          # put that table in README.md between the markers
                                                          # <!-- notebook-times-start --> / <!-- notebook-times-end -->

Each notebook runs in a fresh kernel of the current Python environment, top to bottom,
so that the stored outputs are exactly what nbval will re-check. Progress is printed
as each notebook finishes.
"""
import argparse
import sys
import time
from pathlib import Path

README_START = "<!-- notebook-times-start -->"
README_END = "<!-- notebook-times-end -->"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def execute(path, timeout=300, write=True):
    """Run one notebook top to bottom in a fresh kernel; return the wall time in seconds.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.ipynb`` file. Its directory is the kernel's working directory.
    timeout : int
        Per-cell timeout in seconds.
    write : bool
        Store the executed notebook back to ``path`` (with a clean kernelspec metadata).

    Returns
    -------
    float
        Seconds from kernel start to the end of the last cell.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    if write:
        nbformat.write(nb, path)
    return seconds


def markdown_table(rows):
    """A Markdown table of ``(path, seconds)`` rows with a total line."""
    lines = ["| notebook | execution time (s) |", "|---|---:|"]
    lines += [f"| `{Path(nb).name}` | {seconds:.1f} |" for nb, seconds in rows]
    lines.append(f"| **total** | **{sum(s for _, s in rows):.1f}** |")
    return "\n".join(lines)


def _machine():
    import os
    import platform

    from .bench import cpu_name

    return f"{cpu_name()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"


def update_readme(path, body):
    """Replace the text between :data:`README_START` and :data:`README_END` in ``path`` by ``body``.

    Everything outside the markers is left byte for byte as it was. Raises ``ValueError`` if the
    markers are missing or out of order.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{path}: expected the markers {README_START} and then {README_END}")
    path.write_text(text[: start + len(README_START)] + "\n" + body.strip("\n") + "\n" + text[end:], encoding="utf-8")


def readme_section(rows, failed=0):
    """The README section: a heading, how and where the times were measured, and the table."""
    note = ("Wall time of each chapter, executed top to bottom in a fresh kernel, measured with "
            "`python -m companion.notebooks --check --readme README.md book/*.ipynb` on "
            f"{_machine()}" + (f"; {failed} notebook(s) failed and are not listed" if failed else "") + ". "
            "The machine was shared with other jobs, so expect some noise; regenerate the table after changing "
            "a chapter.")
    return f"## Notebook execution times\n\n{note}\n\n{markdown_table(rows)}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m companion.notebooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="execute without writing the outputs back")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table of execution times")
    parser.add_argument("--readme", type=Path, metavar="FILE",
                        help=f"write that table into FILE between {README_START} and {README_END}")
    parser.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds (default 300)")
    args = parser.parse_args(argv)
    rows, failed = [], 0
    for i, nb in enumerate(args.notebooks, 1):
        try:
            seconds = execute(nb, timeout=args.timeout, write=not args.check)
            rows.append((nb, seconds))
            print(f"[{i}/{len(args.notebooks)}] {nb}: {seconds:.1f} s", flush=True)
        except Exception as exc:  # report and go on with the next notebook
            failed += 1
            print(f"[{i}/{len(args.notebooks)}] {nb}: FAILED ({type(exc).__name__}: {str(exc)[:300]})", flush=True)
    if args.markdown and rows:
        print("\n" + markdown_table(rows))
    if args.readme and rows:
        update_readme(args.readme, readme_section(rows, failed))
        print(f"updated the table in {args.readme}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
