"""Printing helpers: rounding without negative zeros, and tables in Markdown and text."""
import numpy as np
import pytest

from companion.notebook.printing import Table, below, rounded


def test_rounded_removes_negative_zero():
    assert str(rounded(-1e-12, 3)) == "0.0"
    assert str(rounded(np.array([-1e-9, 1.23456]), 2)) == "[0.   1.23]"
    assert isinstance(rounded(2.5), float)


def test_table_rounds_noise_to_zero_and_huge_values_in_g_format():
    t = Table([["a", -4e-17, 0.5], ["b", 2.5e7, -0.0004]], headers=["name", "x", "y"], decimals=3)
    md = t._repr_markdown_()
    assert "| a | 0.000 | 0.500 |" in md
    assert "| b | 2.5e+07 | 0.000 |" in md
    assert md.splitlines()[0] == "| name | x | y |"
    text = repr(t).splitlines()
    assert text[0].split() == ["name", "x", "y"] and text[2].split() == ["a", "0.000", "0.500"]


def test_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        Table([[1.0]], headers=["a", "b"])


def test_below_is_a_stable_verdict():
    assert below(3e-13, 1e-12) == "< 1e-12"
    assert below(-3e-13, 1e-12) == "< 1e-12"
    assert below(2e-12, 1e-12) == ">= 1e-12"
    assert below(float("nan"), 1e-12) == ">= 1e-12"


def test_table_escapes_pipes_in_markdown_only():
    t = Table([["|x|", 1.0]], headers=["max |dx|", "v"], decimals=1)
    md = t._repr_markdown_().splitlines()
    assert md[0] == "| max \\|dx\\| | v |" and md[2] == "| \\|x\\| | 1.0 |"
    assert repr(t).splitlines()[0].split() == ["max", "|dx|", "v"]


def test_glue_records_formatted_text_that_myst_nb_reads_and_displays_nothing(monkeypatch):
    import IPython.display

    from companion.notebook.printing import GLUE_PREFIX, glue

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw, metadata: shown.append((data, metadata)))
    assert glue("acc", 0.93049, ".3f") == "0.930"
    assert glue("steps", np.int64(36)) == "36"
    assert glue("tiny", -0.0001, ".2f") == "0.00"  # no "-0.00" from rounding noise
    data, metadata = shown[0]
    assert data == {GLUE_PREFIX + "text/plain": "'0.930'"}  # every key prefixed: nothing visible
    assert metadata == {"scrapbook": {"name": "acc", "mime_prefix": GLUE_PREFIX}}


def test_glue_refuses_an_unformatted_float_and_other_types():
    from companion.notebook.printing import glue

    with pytest.raises(ValueError, match="give fmt"):
        glue("acc", 0.93)
    with pytest.raises(TypeError, match="int, float, str or bool"):
        glue("arr", np.ones(3))
    with pytest.raises(ValueError, match="non-empty name"):
        glue("", 1)
