"""Execute the book's notebooks in place and time them.

    nd-run-chapters book/*.ipynb            # re-execute, store outputs, print times
    nd-run-chapters --check book/*.ipynb    # execute into memory only (nothing written)
    nd-run-chapters --markdown book/*.ipynb # also print a Markdown table of times
    nd-run-chapters --check --readme README.md book/*.ipynb
                                                          # put that table in README.md between the markers
                                                          # <!-- notebook-times-start --> / <!-- notebook-times-end -->

Each notebook runs in a fresh kernel of the current Python environment, top to bottom,
so that the stored outputs are exactly what nbval will re-check. Progress is printed
as each notebook finishes.

Before it stores anything, the tool runs the notebook again under other CPU configurations
(:data:`VERIFY_CONFIGS`: PyTorch's portable kernels on one thread, and AVX2 kernels on an x86
machine) and refuses to store outputs that differ, naming the cell: a reader whose laptop
has another instruction set or thread count must see the numbers the page shows
(``--no-verify`` skips this while drafting).
"""
import argparse
import os
import platform
import re
import sys
import time
from pathlib import Path

from .machine import describe

README_START = "<!-- notebook-times-start -->"
README_END = "<!-- notebook-times-end -->"

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


# The configuration the test suite re-checks every chapter under (tests/book/test_reproducible.py), beside the
# machine's own: PyTorch's portable (non-SIMD) kernels, one thread, and MKL capped at AVX2. A chaotic
# experiment whose digits depend on the instruction set or the thread count fails there.
REPRO_ENV = {"ATEN_CPU_CAPABILITY": "default", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
_X86 = platform.machine().lower() in ("x86_64", "amd64")
VERIFY_CONFIGS = [("ATEN_CPU_CAPABILITY=default, 1 thread", REPRO_ENV)] + (
    [("ATEN_CPU_CAPABILITY=avx2", {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"})] if _X86 else [])
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")  # as tests/sanitize.cfg
_SKIP_MIMES = ("image/png", "image/jpeg")   # nbval does not compare images either


class NotReproducible(RuntimeError):
    """A notebook whose outputs differ under another CPU configuration (see :data:`VERIFY_CONFIGS`)."""


def _comparable(cell):
    """What nbval compares of a code cell's outputs: text of every mime type but images, streams merged."""
    items = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            if items and items[-1][0] == ("stream", out["name"]):
                items[-1] = (items[-1][0], items[-1][1] + out["text"])
                continue
            items.append((("stream", out["name"]), out["text"]))
        elif out["output_type"] == "error":
            items.append((("error", out["ename"]), out["evalue"]))
        else:
            data = out.get("data", {})
            items.append((("data",), {k: v if isinstance(v, str) else "".join(v) for k, v in data.items()
                                      if k not in _SKIP_MIMES}))
    return [(kind, _ADDRESS.sub("0xADDRESS", repr(value))) for kind, value in items]


def differences(reference, other):
    """Code cells whose outputs differ between two executions of one notebook.

    Parameters
    ----------
    reference, other : nbformat.NotebookNode
        The same notebook executed twice (same cells in the same order).

    Returns
    -------
    list of (int, str)
        ``(cell index, first differing output, shortened)`` for each differing cell; cells tagged
        ``nbval-ignore-output`` (timings) are not compared.
    """
    found = []
    for i, (a, b) in enumerate(zip(reference.cells, other.cells)):
        if a.cell_type != "code" or "nbval-ignore-output" in a.get("metadata", {}).get("tags", []):
            continue
        ca, cb = _comparable(a), _comparable(b)
        if ca != cb:
            pairs = [(x, y) for x, y in zip(ca, cb) if x != y] or [(ca[len(cb):] or ["(none)"],
                                                                   cb[len(ca):] or ["(none)"])]
            x, y = pairs[0]
            found.append((i, f"{str(x)[:160]} != {str(y)[:160]}"))
    return found


def _run(nb, path, timeout, env=None):
    from nbclient import NotebookClient

    ends = []
    # the time a reader waits for: until the last cell is done (the kernel's shutdown afterwards, which
    # tears down torch and can take a second, is not part of running the notebook)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_executed=lambda **_: ends.append(time.perf_counter()))
    start = time.perf_counter()
    client.execute(**({"env": {**os.environ, **env}} if env else {}))
    return (ends[-1] if ends else time.perf_counter()) - start


def execute(path, timeout=300, write=True, verify=None):
    """Run one notebook top to bottom in a fresh kernel; return the wall time in seconds.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.ipynb`` file. Its directory is the kernel's working directory.
    timeout : int
        Per-cell timeout in seconds.
    write : bool
        Store the executed notebook back to ``path`` (with a clean kernelspec metadata).
    verify : bool, optional
        Also execute under every configuration of :data:`VERIFY_CONFIGS` and compare; default: when
        ``write`` is true.

    Returns
    -------
    float
        Seconds from kernel start to the end of the last cell (the first, normal execution).

    Raises
    ------
    NotReproducible
        If an output differs under another configuration; nothing is written then.
    """
    import copy

    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    source = copy.deepcopy(nb)
    seconds = _run(nb, path, timeout)
    for name, env in (VERIFY_CONFIGS if (write if verify is None else verify) else []):
        again = copy.deepcopy(source)
        _run(again, path, timeout, env)
        diff = differences(nb, again)
        if diff:
            cells = "; ".join(f"cell {i}: {what}" for i, what in diff[:3])
            raise NotReproducible(f"{path}: {len(diff)} cell(s) differ under {name} ({cells}). Outputs not stored: "
                                  "report a robust summary (companion.experiments.robust), see CONTRIBUTING.md")
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
    note = ("Wall time of each chapter, executed top to bottom in a fresh kernel, from the kernel's start to the "
            "end of the last cell (the kernel's shutdown afterwards is not counted), measured with "
            "`nd-run-chapters --check --readme README.md book/*.ipynb` on "
            f"{describe()}" + (f"; {failed} notebook(s) failed and are not listed" if failed else "") + ". "
            "The machine was shared with other jobs, so expect some noise; regenerate the table after changing "
            "a chapter.")
    return f"## Notebook execution times\n\n{note}\n\n{markdown_table(rows)}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nd-run-chapters", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="execute without writing the outputs back")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table of execution times")
    parser.add_argument("--readme", type=Path, metavar="FILE",
                        help=f"write that table into FILE between {README_START} and {README_END}")
    parser.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds (default 300)")
    parser.add_argument("--no-verify", action="store_true",
                        help="store without re-executing under other CPU configurations (drafts only)")
    args = parser.parse_args(argv)
    rows, failed = [], 0
    for i, nb in enumerate(args.notebooks, 1):
        try:
            seconds = execute(nb, timeout=args.timeout, write=not args.check,
                              verify=False if args.no_verify else None)
            rows.append((nb, seconds))
            checked = ("" if args.check or args.no_verify
                       else f", same outputs under {len(VERIFY_CONFIGS)} other configuration(s)")
            print(f"[{i}/{len(args.notebooks)}] {nb}: {seconds:.1f} s{checked}", flush=True)
        except Exception as exc:  # report and go on with the next notebook
            failed += 1
            text = str(exc) if isinstance(exc, NotReproducible) else str(exc)[:300]
            print(f"[{i}/{len(args.notebooks)}] {nb}: FAILED ({type(exc).__name__}: {text})", flush=True)
    if args.markdown and rows:
        print("\n" + markdown_table(rows))
    if args.readme and rows:
        update_readme(args.readme, readme_section(rows, failed))
        print(f"updated the table in {args.readme}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
