"""companion.notebooks: the Markdown table of execution times and its place in README.md."""
import pytest

from companion import notebooks


def test_markdown_table_has_one_row_per_notebook_and_a_total():
    table = notebooks.markdown_table([("book/a.ipynb", 1.24), ("book/b.ipynb", 10.0)])
    assert table.splitlines() == ["| notebook | execution time (s) |", "|---|---:|", "| `a.ipynb` | 1.2 |",
                                  "| `b.ipynb` | 10.0 |", "| **total** | **11.2** |"]


def test_update_readme_replaces_only_the_text_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    before = "# Title\n\nintro\n"
    after = "\n## Later section\ntext\n"
    readme.write_text(before + notebooks.README_START + "\nold table\n" + notebooks.README_END + after)
    notebooks.update_readme(readme, "Measured today.\n\n| new |\n")
    assert readme.read_text() == (before + notebooks.README_START + "\nMeasured today.\n\n| new |\n"
                                  + notebooks.README_END + after)
    notebooks.update_readme(readme, "| newer |")  # the markers stay, the content is replaced again
    assert readme.read_text() == before + notebooks.README_START + "\n| newer |\n" + notebooks.README_END + after


def test_readme_section_has_a_heading_a_note_and_the_table():
    section = notebooks.readme_section([("book/a.ipynb", 2.0)], failed=1)
    assert section.startswith("## Notebook execution times\n\n")
    assert "1 notebook(s) failed and are not listed" in section
    assert section.endswith(notebooks.markdown_table([("book/a.ipynb", 2.0)]))


def test_update_readme_without_markers_is_an_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    with pytest.raises(ValueError, match="expected the markers"):
        notebooks.update_readme(readme, "| t |")
    assert readme.read_text() == "no markers here\n"
