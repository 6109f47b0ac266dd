"""book/differences.md: every row names tests that exist in tests/ (so the table cannot go out of date)."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _defined_tests():
    names = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)\(", path.read_text(), flags=re.M))
    return names


def test_every_row_of_the_differences_page_names_existing_tests():
    text = (REPO / "book" / "differences.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("|---")]
    rows = [r for r in rows if not r.startswith(("| Topic", "| Behaviour"))]
    assert len(rows) >= 15
    defined = _defined_tests()
    for row in rows:
        named = re.findall(r"`(test_\w+)`", row.rsplit("|", 2)[-2])
        assert named, f"row without a test: {row[:80]}"
        missing = [n for n in named if n not in defined]
        assert not missing, f"{missing} named on the differences page but not defined in tests/"


def test_the_page_is_in_the_table_of_contents():
    assert "book/differences" in (REPO / "_toc.yml").read_text()
