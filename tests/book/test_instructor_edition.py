"""The instructor edition of every chapter (nd-editions --instructor) runs top to bottom and every check passes."""
import pytest

from _editions_run import REPO, chapters, execute, verdicts


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_instructor_edition_passes_every_check(path):
    from companion.tools import editions

    nb = editions.instructor_edition(path, REPO)
    ran = execute(nb, REPO / "book")  # where the chapter itself runs (it reads book/data/)
    checks = [cell for cell in ran.cells if "check" in cell.metadata.get("tags", [])]
    shown = [v for cell in checks for v in verdicts(cell)]
    assert len(shown) == len(checks), shown
    assert all(status == "pass" for status, _ in shown), [v for v in shown if v[0] != "pass"]
