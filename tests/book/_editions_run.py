"""Shared by test_learner_run_all.py and test_instructor_edition.py: execute an edition of a chapter with nbclient
and read the verdicts of its check cells."""
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERDICT = re.compile(r'class="nd-check nd-check-(pass|fail|todo)" data-exercise="(\w+)"')
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")
#: Seconds per cell: a chapter takes at most 15 s on the reference machine; a busy CI machine may be 20x slower.
CELL_TIMEOUT = 600


def chapters():
    from companion.tools import editions

    return [p for _, p in editions.chapters(REPO) if p.suffix == ".ipynb"]


def verdicts(cell):
    """``[(status, exercise)]`` of the check results a cell shows."""
    found = []
    for out in cell.get("outputs", []):
        html = out.get("data", {}).get("text/html", "")
        found += VERDICT.findall("".join(html) if isinstance(html, list) else html)
    return found


def execute(nb, cwd):
    """Run the notebook (a dict) top to bottom in a fresh kernel; raise on the first error, as Run All stops."""
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(node, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return node
