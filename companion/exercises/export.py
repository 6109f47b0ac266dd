"""The registry as plain JSON data, for the site's in-page checker (no kernel needed).

:func:`questions_data` is called at build time by ``book/_ext/nd_questions.py``, which writes it to
``_static/nd_questions.json``; ``book/_static/nd_questions.js`` grades the answers typed on a page
with it. Everything :func:`~companion.exercises.grading.grade_question` needs to grade a question is
in the data: the right answer, the tolerance, the "close: give more digits" factor, the registered
wrong answers with their misconception hints, and the verdict texts themselves
(:data:`~companion.exercises.grading.QUESTION_MESSAGES`). Code exercises are listed only as needing a
notebook (their checker runs the reader's Python function).
"""
import json
import math

from . import grading, registry, results

__all__ = ["FORMAT_VERSION", "questions_data", "questions_json"]

#: Bumped when the shape of the data changes (the page script checks it).
FORMAT_VERSION = 1


def _question(q):
    entry = {"kind": q.kind, "expected": q.expected, "explanation": q.explanation}
    if q.kind == "choice":
        entry["answer"] = q.answer
        entry["choices"] = [[letter, text] for letter, text in q.choices.items()]
        entry["wrong"] = [[letter, hint] for letter, hint in q.wrong.items()]
        return entry
    # numeric and count: abs(value - target) <= factor * (atol + rtol * abs(target)), where a count
    # has no tolerance (Question.tolerance); wrong answers are tried in this order (dict order).
    for value in [q.answer, *q.wrong]:
        if not math.isfinite(value):  # pragma: no cover - register_question refuses them
            raise ValueError(f"question {q.name!r}: {value!r} cannot be written to JSON")
    entry["answer"] = q.answer
    entry["rtol"] = 0.0 if q.kind == "count" else q.rtol
    entry["atol"] = 0.0 if q.kind == "count" else q.atol
    entry["wrong"] = [[value, hint] for value, hint in q.wrong.items()]
    return entry


def questions_data():
    """Every registered exercise as plain JSON-able data.

    Returns
    -------
    dict
        ``{"version", "messages", "close_factor", "misconception", "exercises"}``, where
        ``exercises`` maps each exercise name to ``{"kind": "numeric" | "count" | "choice", ...}`` for a
        question (answer, tolerances, choices, wrong answers and hints, the expected-answer text
        and the explanation) or to ``{"kind": "code", "signature": ...}`` for a code exercise.

    Raises
    ------
    RuntimeError
        When a bank module failed to import: an export without its exercises would silently
        leave questions unanswerable on the site.
    """
    entries = registry.exercises()
    errors = registry.load_errors()
    if errors:
        raise RuntimeError("exercise modules failed to load: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    exercises = {}
    for entry in entries:
        if entry.kind == "code":
            exercises[entry.name] = {"kind": "code", "signature": entry.signature}
        else:
            exercises[entry.name] = _question(entry)
    return {
        "version": FORMAT_VERSION,
        "messages": dict(grading.QUESTION_MESSAGES),
        "close_factor": grading.CLOSE_FACTOR,
        "misconception": results.MISCONCEPTION,
        "exercises": exercises,
    }


def questions_json():
    """:func:`questions_data` as JSON text (strict JSON: no NaN or infinity)."""
    return json.dumps(questions_data(), ensure_ascii=False, allow_nan=False, sort_keys=False, indent=1)
