"""The registry exported for the site's in-page checker (companion/exercises/export.py).

These tests check coverage and shape. That the exported data grades answers exactly as ``check()``
does is tested in Chromium, on every question, by tests/book/test_site_questions.py.
"""
import json

import pytest

from companion.exercises import export, grading, registry, results
from companion.exercises.registry import register_question


@pytest.fixture(scope="module")
def data():
    return export.questions_data()


def test_every_registered_exercise_is_exported(data):
    entries = registry.exercises()
    questions = [e for e in entries if e.kind != "code"]
    code = [e for e in entries if e.kind == "code"]
    assert questions and code, "the book has both questions and code exercises"
    exported = data["exercises"]
    assert sorted(exported) == sorted(e.name for e in entries)
    assert sorted(n for n, e in exported.items() if e["kind"] != "code") == sorted(q.name for q in questions)
    assert sorted(n for n, e in exported.items() if e["kind"] == "code") == sorted(c.name for c in code)


def test_questions_carry_what_grading_needs(data):
    for q in registry.exercises():
        entry = data["exercises"][q.name]
        if q.kind == "code":
            assert entry == {"kind": "code", "signature": q.signature}
            continue
        assert entry["kind"] == q.kind
        assert entry["expected"] == q.expected
        assert entry["explanation"] == q.explanation
        assert entry["answer"] == q.answer
        # wrong answers in the order grade_question tries them, each with its hint
        assert [w for w, _ in entry["wrong"]] == list(q.wrong)
        assert [h for _, h in entry["wrong"]] == list(q.wrong.values())
        if q.kind == "choice":
            assert entry["choices"] == [[k, v] for k, v in q.choices.items()]
        else:
            # the exported tolerance gives the registry's at the answer and at every wrong answer
            for target in [q.answer, *q.wrong]:
                assert entry["atol"] + entry["rtol"] * abs(target) == q.tolerance(target)


def test_verdict_texts_and_rules_are_the_checkers(data):
    assert data["version"] == export.FORMAT_VERSION
    assert data["messages"] == grading.QUESTION_MESSAGES
    assert data["close_factor"] == grading.CLOSE_FACTOR
    assert data["misconception"] == results.MISCONCEPTION


def test_checker_verdicts_use_the_exported_texts():
    """The texts the site fills in are the ones check() writes (a template edited in one place only)."""
    q = next(e for e in registry.exercises() if e.kind == "numeric" and e.rtol > 0 and e.wrong)
    wrong_value, hint = next(iter(q.wrong.items()))
    result = grading.check(q.name, wrong_value)
    assert result.summary == grading.QUESTION_MESSAGES["wrong"].format(shown=f"{wrong_value:.6g}")
    assert result.message == f"{result.summary}\n{results.MISCONCEPTION} {results.plain(hint)}"
    close = q.answer * (1 + 3 * q.rtol) + 3 * q.atol
    result = grading.check(q.name, close)
    assert result.summary == grading.QUESTION_MESSAGES["close"].format(shown=f"{close:.6g}", expected=q.expected)


def test_json_is_strict_and_round_trips(data):
    text = export.questions_json()

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    assert json.loads(text, parse_constant=refuse) == data


def test_a_bank_that_fails_to_load_fails_the_export(monkeypatch):
    monkeypatch.setattr(registry, "load_errors", lambda: {"companion.exercises.bank.broken": "SyntaxError"})
    with pytest.raises(RuntimeError, match="bank.broken"):
        export.questions_data()


def test_a_new_question_is_exported(scratch_names):
    scratch_names.append("export_scratch_q")
    register_question("export_scratch_q", answer=0.5, kind="numeric", rtol=1e-3, wrong={0.25: "half of it"})
    entry = export.questions_data()["exercises"]["export_scratch_q"]
    assert entry["answer"] == 0.5 and entry["rtol"] == 1e-3 and entry["atol"] == 0.0
    assert entry["wrong"] == [[0.25, "half of it"]]
