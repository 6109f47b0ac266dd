"""companion.tools.chapters: the Markdown table of execution times and its place in README.md."""
import pytest

from companion.tools import chapters


def test_markdown_table_has_one_row_per_notebook_and_a_total():
    table = chapters.markdown_table([("book/a.ipynb", 1.24), ("book/b.ipynb", 10.0)])
    assert table.splitlines() == ["| notebook | execution time (s) |", "|---|---:|", "| `a.ipynb` | 1.2 |",
                                  "| `b.ipynb` | 10.0 |", "| **total** | **11.2** |"]


def test_update_readme_replaces_only_the_text_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    before = "# Title\n\nintro\n"
    after = "\n## Later section\ntext\n"
    readme.write_text(before + chapters.README_START + "\nold table\n" + chapters.README_END + after)
    chapters.update_readme(readme, "Measured today.\n\n| new |\n")
    assert readme.read_text() == (before + chapters.README_START + "\nMeasured today.\n\n| new |\n"
                                  + chapters.README_END + after)
    chapters.update_readme(readme, "| newer |")  # the markers stay, the content is replaced again
    assert readme.read_text() == before + chapters.README_START + "\n| newer |\n" + chapters.README_END + after


def test_readme_section_has_a_heading_a_note_and_the_table():
    section = chapters.readme_section([("book/a.ipynb", 2.0)], failed=1)
    assert section.startswith("## Notebook execution times\n\n")
    assert "1 notebook(s) failed and are not listed" in section
    assert section.endswith(chapters.markdown_table([("book/a.ipynb", 2.0)]))


def test_update_readme_without_markers_is_an_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    with pytest.raises(ValueError, match="expected the markers"):
        chapters.update_readme(readme, "| t |")
    assert readme.read_text() == "no markers here\n"


def _notebook(*sources):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    return nb


def _output(cell_text):
    import nbformat

    return nbformat.v4.new_output("stream", name="stdout", text=cell_text)


def test_differences_names_the_cells_whose_text_differs_and_ignores_images_addresses_and_timings():
    import nbformat

    a, b = _notebook("1", "2", "3", "4"), _notebook("1", "2", "3", "4")
    a.cells[0].outputs = [_output("acc 0.608\n")]
    b.cells[0].outputs = [_output("acc 0.564\n")]
    a.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "AAA", "text/plain": "<Figure>"})]
    b.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "BBB", "text/plain": "<Figure>"})]
    a.cells[2].outputs = [_output("<object at 0x7f00aa11bb22>\n")]
    b.cells[2].outputs = [_output("<object at 0x55aa11bb22cc>\n")]
    a.cells[3].metadata["tags"] = ["nbval-ignore-output"]
    a.cells[3].outputs = [_output("3.1 ms\n")]
    b.cells[3].outputs = [_output("2.7 ms\n")]
    diff = chapters.differences(a, b)
    assert [i for i, _ in diff] == [0]
    assert "0.608" in diff[0][1] and "0.564" in diff[0][1]


def test_differences_sees_a_missing_output_and_merged_streams_as_equal():
    a, b = _notebook("1", "2"), _notebook("1", "2")
    a.cells[0].outputs = [_output("x\n"), _output("y\n")]
    b.cells[0].outputs = [_output("x\ny\n")]
    a.cells[1].outputs = [_output("z\n")]
    assert [i for i, _ in chapters.differences(a, b)] == [1]


def test_the_tool_refuses_to_store_outputs_that_depend_on_the_thread_count(tmp_path, monkeypatch):
    import nbformat

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the first run sees the machine's own setting
    path = tmp_path / "threads.ipynb"
    nb = _notebook("print('same everywhere')", "import os\nprint(os.environ.get('OMP_NUM_THREADS', 'unset'))")
    nbformat.write(nb, path)
    before = path.read_text()
    with pytest.raises(chapters.NotReproducible, match=r"cell 1:.*unset.*1") as info:
        chapters.execute(path, timeout=120)
    assert "cell 0" not in str(info.value)
    assert path.read_text() == before  # nothing stored
    chapters.execute(path, timeout=120, verify=False)  # a draft can still be stored on purpose
    assert "same everywhere" in path.read_text()


def test_the_time_ends_with_the_last_cell_not_with_the_kernels_shutdown(tmp_path):
    """A kernel slow to exit (an atexit handler sleeps; the client waits for it, then kills it) adds nothing
    to the notebook's time."""
    import time

    import nbformat

    path = tmp_path / "slow_exit.ipynb"
    nbformat.write(_notebook("import atexit, time\natexit.register(time.sleep, 30)", "print('done')"), path)
    start = time.perf_counter()
    seconds = chapters.execute(path, timeout=120, write=False)
    wall = time.perf_counter() - start
    assert wall - seconds >= 1.5, (wall, seconds)  # the client waited that long for the kernel to exit
    assert seconds > 0


def test_readme_section_names_the_instruction_set_and_the_thread_count():
    section = chapters.readme_section([("book/a.ipynb", 2.0)])
    assert "PyTorch CPU capability" in section and "threads" in section
