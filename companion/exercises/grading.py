"""Grading: turn a submission into a :class:`~companion.exercises.results.Result`.

A code submission runs on the exercise's hidden cases in the sandbox; then, in this order, the
checker looks for: an exception (``NotImplementedError`` means "not attempted yet"), a wrong return
type, shape or dtype, NaN or inf, an input modified in place, and finally wrong values. Values are
compared only after converting every output to a plain float64 ndarray. Wrong values are explained
by the first registered mutant whose outputs the submission reproduces.
"""
import json
import numbers
import os

import numpy as np

from . import own_work, registry, sandbox
from .results import FAIL, PASS, TODO, Result

__all__ = ["CLOSE_FACTOR", "LOG_ENV", "QUESTION_MESSAGES", "RAISE_ENV", "check"]

#: Environment variable naming a file to which every check appends one JSON line (used by the grading CLI).
LOG_ENV = "ND_EXERCISES_LOG"
#: Set to 1 to make a check that does not pass raise AssertionError (for nbgrader's autograder, which
#: grades a test cell by whether it raises).
RAISE_ENV = "ND_EXERCISES_RAISE"
_MISSING = object()


# ---------------------------------------------------------------------------------------------- helpers
def _shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _case_text(case):
    """A short description of a case's array arguments, e.g. ``x of shape (4, 3)``."""
    keys = sorted(case, key=lambda k: k != "x")  # the input x first, if there is one
    for key in keys:
        value = case[key]
        if isinstance(value, np.ndarray):
            return f"{key} of shape {_shape_text(value.shape)}"
    return "one of the hidden cases"


def _type_text(desc):
    if desc.kind == "none":
        return "None"
    if desc.kind == "array":
        return f"a {desc.type_name} of dtype {desc.dtype}"
    if desc.kind == "sequence":
        return f"a {desc.type_name} of {len(desc.items)} items"
    return f"a {desc.type_name}"


def _item_problem(desc, ref, label, n_outputs):
    """Why one returned item is not an array like ``ref`` (``None`` when its type, shape and dtype fit)."""
    if ref.kind == "scalar":  # the reference returns a number: accept a real number or a 0-d array
        if _item_array(desc) is not None and (desc.kind == "scalar" or desc.shape == ()):
            return None
        return f"{label} is {_type_text(desc)}, expected a number"
    if desc.kind == "none":
        return f"{label} is None: did you forget a `return` statement?"
    if desc.kind == "sequence":
        if n_outputs == 1 and desc.type_name == "tuple" and desc.items and desc.items[0].kind == "array":
            return (f"it returned {_type_text(desc)}, expected only the array {label} "
                    "(this exercise returns no cache)")
        return f"{label} is {_type_text(desc)}, expected a numpy.ndarray"
    if desc.kind != "array":
        hint = " (call .detach().numpy() on a torch tensor)" if desc.type_name.startswith("torch.") else ""
        return f"{label} is {_type_text(desc)}, expected a numpy.ndarray{hint}"
    if desc.shape != ref.shape:
        return f"{label} has shape {_shape_text(desc.shape)}, expected {_shape_text(ref.shape)}"
    if desc.dtype != ref.dtype:
        return f"{label} has dtype {desc.dtype}, expected {ref.dtype}"
    return None


def _structure_problem(desc, ref, names):
    """Why a returned value does not have the reference's structure, or ``None``."""
    if ref.kind != "sequence":
        return _item_problem(desc, ref, names[0], 1)
    want = f"a tuple of {len(ref.items)} arrays ({', '.join(names)})"
    if desc.kind == "none":
        return f"it returned None, expected {want}: did you forget a `return` statement?"
    if desc.kind != "sequence" or len(desc.items) != len(ref.items):
        return f"it returned {_type_text(desc)}, expected {want}"
    for item, ref_item, label in zip(desc.items, ref.items, names, strict=False):
        problem = _item_problem(item, ref_item, label, len(names))
        if problem:
            return problem
    return None


def _item_array(item):
    """The plain ndarray of a described array, or of a described real number (0-d), else ``None``."""
    if item.kind == "array":
        return item.data
    if item.kind == "scalar" and item.value is not None:
        return np.array(item.value, dtype=np.float64)
    return None


def _arrays(desc):
    """The plain ndarrays of a (structurally valid) description, as a tuple."""
    items = desc.items if desc.kind == "sequence" else [desc]
    return tuple(_item_array(item) for item in items)


def _as_float(a):
    return np.array(a, dtype=np.float64, copy=True)


def _nonfinite_problem(outputs, expected, names):
    for out, exp, label in zip(outputs, expected, names):
        if out.dtype.kind not in "fc":
            continue
        out = _as_float(out.real if out.dtype.kind == "c" else out)
        finite_expected = np.isfinite(_as_float(exp))
        nan = np.isnan(out) & finite_expected
        inf = np.isinf(out) & finite_expected
        if nan.any():
            return (f"{label} contains NaN ({int(nan.sum())} of {out.size} entries) where the expected values are "
                    "finite: some operation had no defined result for this case (such as 0/0, inf - inf or the "
                    "square root of a negative number). Check each division and square root for this case's shape.")
        if inf.any():
            return (f"{label} contains inf ({int(inf.sum())} of {out.size} entries) where the expected values are "
                    "finite: something was divided by zero, or overflowed, for this case. Check each denominator "
                    "for this case's shape.")
    return None


def _close(a, b, ex):
    a, b = _as_float(a), _as_float(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=ex.rtol, atol=ex.atol))


def _wrong_outputs(outputs, expected, ex):
    """``{(case, output index)}`` where the submission's values differ from the reference's."""
    return {(i, k) for i, (outs, exps) in enumerate(zip(outputs, expected))
            for k, (o, e) in enumerate(zip(outs, exps)) if not _close(o, e, ex)}


def _reference_outputs(ex, cases):
    """Run the reference on copies of the cases; returns the descriptions (cached on the exercise)."""
    cached = getattr(ex, "_expected_cache", None)
    if cached is None:
        outcomes = sandbox.run_inline(ex.reference, _copy(cases))
        for outcome in outcomes:
            if not outcome.ok:
                info = outcome.error
                raise RuntimeError(f"the reference of {ex.name!r} raised {info.type}: {info.message}")
        cached = [outcome.value for outcome in outcomes]
        ex._expected_cache = cached
    return cached


def _copy(cases):
    import copy

    return copy.deepcopy(cases)


def _mutant_outputs(ex, mutant, cases):
    """A mutant's outputs on the cases (list of tuples of arrays), or ``None`` if it fails on one."""
    cache = ex.__dict__.setdefault("_mutant_cache", {})
    if mutant.name not in cache:
        outs = []
        for outcome in sandbox.run_inline(mutant.fn, _copy(cases)):
            if not outcome.ok:
                outs = None
                break
            arrays = _arrays(outcome.value)
            if any(a is None for a in arrays):
                outs = None
                break
            outs.append(arrays)
        cache[mutant.name] = outs if outs is not None and len(outs) == len(cases) else None
    return cache[mutant.name]


def _explaining_mutant(ex, cases, outputs):
    """The first mutant whose outputs the submission reproduces on every case, right outputs included.

    Matching only the wrong outputs is not enough: a mutant that also differs from the submission
    where the submission is right describes another program (e.g. "the running statistics moved"
    for a submission whose statistics stayed put), and naming its misconception would mislead.
    """
    for mutant in ex.mutants:
        mouts = _mutant_outputs(ex, mutant, cases)
        if mouts is None:
            continue
        try:
            if all(len(mouts[i]) == len(outs) and all(_close(o, m, ex) for o, m in zip(outs, mouts[i]))
                   for i, outs in enumerate(outputs)):
                return mutant
        except (ValueError, TypeError):
            continue
    return None


#: The pseudo-misconception of a submission that is right to float32 precision only.
FLOAT32 = registry.Mutant(
    "float32_precision",
    "Your values agree with the expected ones to about 7 significant digits, the precision of float32, but "
    "not to this exercise's tolerance: somewhere the computation ran in float32 (a `torch` tensor or an "
    "`np.float32` array). Compute in float64, NumPy's default (e.g. `x.astype(np.float64)`).",
    lambda *args: None)


def _float32_representable(a):
    return np.array_equal(a, a.astype(np.float32).astype(np.float64))


def _float32_precision(outputs, expected, wrong):
    """True when every wrong output is what a float32 computation of the right float64 values gives.

    The evidence is that each wrong output is exactly representable in float32 (a float64 computation
    practically never is), while the expected values are not, and that it is near them (float32
    rounding, amplified by cancellation in ill-conditioned cases, stays well within 1 %).
    """
    for i, k in wrong:
        out, exp = _as_float(outputs[i][k]), _as_float(expected[i][k])
        scale = max(float(np.max(np.abs(exp), initial=0.0)), np.finfo(np.float32).tiny)
        if (_float32_representable(exp) or not _float32_representable(out)
                or np.max(np.abs(out - exp), initial=0.0) > 1e-2 * scale):
            return False
    return True


def _hint_of(ex, name):
    for mutant in ex.mutants:
        if mutant.name == name:
            return mutant.hint
    return None


# ---------------------------------------------------------------------------------------------- code exercises
def _error_result(ex, info, report):
    if info.not_implemented:
        return Result(ex.name, TODO, f"Replace `raise NotImplementedError` in {ex.name} with your code, "
                      "then run this check again.")
    summary = f"Your function raised {info.type}: {info.message}".rstrip(": ")
    if not info.frames and info.type == "TypeError":
        summary += "\n" + _call_advice(ex)
    return Result(ex.name, FAIL, summary, trace=info.frames, output=report.output,
                  output_total=report.output_total)


def _call_advice(ex):
    """What to do when the checker could not call the submission with the exercise's arguments."""
    if ex.usage:
        return (f"Keep the check cell as the chapter wrote it, `{ex.usage}`: it hands your function to the "
                "checker in the form the checker calls. Keep your function's parameters as in the stub, and "
                "run the check cell unchanged.")
    return (f"The checker calls your function as `{ex.call}`, every argument by position: define it with exactly "
            f"these parameters, in this order (`def {ex.call}:`).")


def _run_problem(ex, report):
    """A failing Result when the run itself went wrong (too slow, crashed, raised), else ``None``."""
    out_kw = dict(output=report.output, output_total=report.output_total)
    if report.status == "timeout":
        limit = sandbox.TIME_LIMIT if ex.time_limit is None else ex.time_limit
        return Result(ex.name, FAIL, f"Too slow: stopped after {limit:g} s (a correct solution needs well under "
                      "a second). Look for an endless loop, or a Python loop over every entry that NumPy can do "
                      "in one vectorized operation.", **out_kw)
    if report.status == "crashed":
        return Result(ex.name, FAIL, f"Your function ended the process: {report.detail}.", **out_kw)
    if report.outcomes and not report.outcomes[-1].ok:
        return _error_result(ex, report.outcomes[-1].error, report)
    return None


def _form_problem(cases, outcomes, outputs, expected, names):
    """What is wrong with the form of the outputs (type, shape, dtype, NaN/inf, inputs modified), or ``None``."""
    for case, outs, exps in zip(cases, outputs, expected, strict=False):
        problem = _nonfinite_problem(outs, exps, names)
        if problem:
            return f"For {_case_text(case)}, {problem}"
    for outcome in outcomes:
        if outcome.modified:
            which = ", ".join(f"`{k}`" for k in outcome.modified)
            return (f"Your function modified its input {which} in place. Leave the inputs untouched: build new "
                    "arrays (e.g. `x = x - mean` rather than `x -= mean`).")
    return None


def _value_problem(ex, cases, outputs, expected):
    """``(summary, mutant or None)`` when the values are wrong, else ``None``."""
    names = ex.output_names
    wrong = _wrong_outputs(outputs, expected, ex)
    if not wrong:
        return None
    n_cases = len({i for i, _ in wrong})
    bad_names = [names[k] for k in sorted({k for _, k in wrong})]
    first_case, first_k = min(wrong)
    diff = np.max(np.abs(_as_float(outputs[first_case][first_k]) - _as_float(expected[first_case][first_k])))
    summary = (f"{' and '.join(bad_names)} {'differs' if len(bad_names) == 1 else 'differ'} from the "
               f"expected values on {n_cases} of {len(cases)} hidden cases (e.g. for "
               f"{_case_text(cases[first_case])}, by up to {diff:.2g}).")
    mutant = _explaining_mutant(ex, cases, outputs)
    if mutant is None and _float32_precision(outputs, expected, wrong):
        mutant = FLOAT32
    return summary, mutant


def _wrong_result(ex, cases, outputs, expected, out_kw):
    """A failing Result for wrong values (through the exercise's own grader, if any), else ``None``."""
    if ex.grader is not None:
        verdict = ex.grader(cases, outputs, ex)
        if verdict is None:
            return None
        summary, mutant_name = verdict
        return Result(ex.name, FAIL, summary, hint=_hint_of(ex, mutant_name), misconception=mutant_name, **out_kw)
    problem = _value_problem(ex, cases, outputs, expected)
    if problem is None:
        return None
    summary, mutant = problem
    if mutant is None:
        return Result(ex.name, FAIL, summary, **out_kw)
    return Result(ex.name, FAIL, summary, hint=mutant.hint, misconception=mutant.name, **out_kw)


def grade_code(ex, fn):
    """Grade a function submitted for the code exercise ``ex``.

    Parameters
    ----------
    ex : companion.exercises.registry.CodeExercise
    fn : object
        The reader's submission (should be a function with the exercise's signature).

    Returns
    -------
    Result
    """
    if fn is None or not callable(fn):
        return Result(ex.name, FAIL, f"check({ex.name!r}, ...) expects your function {ex.call}, "
                      f"got {_type_text(sandbox.describe(fn, top=False))}.")
    used = None if fn is ex.reference else own_work.borrowed(fn, ex.forbidden)
    if used is not None:
        return Result(ex.name, FAIL, f"Your function calls `{used}`, the companion's own implementation of what "
                      "this exercise asks for. Write it yourself: the point is to build it from NumPy operations.")
    cases = ex.make_cases()
    expected_desc = _reference_outputs(ex, cases)
    report = sandbox.run_cases(fn, cases, ex.time_limit)
    out_kw = dict(output=report.output, output_total=report.output_total)
    failed = _run_problem(ex, report)
    if failed is not None:
        return failed
    for case, outcome, ref in zip(cases, report.outcomes, expected_desc, strict=False):
        problem = _structure_problem(outcome.value, ref, ex.output_names)
        if problem:
            return Result(ex.name, FAIL, f"Wrong return value for {_case_text(case)}: {problem}.".replace("..", "."),
                          **out_kw)
    outputs = [_arrays(outcome.value) for outcome in report.outcomes]
    expected = [_arrays(ref) for ref in expected_desc]
    problem = _form_problem(cases, report.outcomes, outputs, expected, ex.output_names)
    if problem:
        return Result(ex.name, FAIL, problem, **out_kw)
    wrong = _wrong_result(ex, cases, outputs, expected, out_kw)
    if wrong is not None:
        return wrong
    summary = f"Right on all {len(cases)} hidden test cases."
    if ex.explanation:
        summary += " " + ex.explanation
    return Result(ex.name, PASS, summary, **out_kw)


# ---------------------------------------------------------------------------------------------- questions
def _number(answer):
    """``answer`` as a float, or ``None`` if it is not a single real number."""
    if isinstance(answer, (bool, np.bool_)):
        return None
    if isinstance(answer, numbers.Real):
        return float(answer)
    if isinstance(answer, np.ndarray) and answer.size == 1 and answer.dtype.kind in "iuf":
        return float(answer.reshape(()))
    return None


#: The texts of a question's verdicts, as ``str.format`` templates. The site's in-page checker
#: (``book/_static/nd_questions.js``) receives them from :mod:`companion.exercises.export`, so a verdict
#: on the page reads exactly as ``check()`` gives it in a notebook.
QUESTION_MESSAGES = {
    "right": "Right. {explanation}",
    "wrong": "{shown} is not right.",
    "close": ("Close: give more digits. {shown} is near the right value but not within the precision asked "
              "for: {expected}."),
    "not_whole": "{value} is not a whole number: the answer is a count.",
    "not_finite": "Expected a finite number, got {value}.",
    "choice_wrong": "({letter}) is not right.",
    "not_a_choice": "{answer} is not one of the choices {choices}.",
}
#: An answer to a numeric question within this many times the tolerance is told to give more digits.
CLOSE_FACTOR = 10.0


def _numeric_verdict(q, value):
    """The Result for a real number answering the numeric or count question ``q``."""
    text = QUESTION_MESSAGES
    if q.kind == "count" and value != round(value):
        return Result(q.name, FAIL, text["not_whole"].format(value=f"{value:g}"))

    def close(target, factor=1.0):
        return abs(value - target) <= factor * q.tolerance(target)

    shown = f"{int(value)}" if q.kind == "count" else f"{value:.6g}"
    if close(q.answer):
        return Result(q.name, PASS, text["right"].format(explanation=q.explanation).strip())
    for wrong_value, hint in q.wrong.items():
        if close(wrong_value):
            return Result(q.name, FAIL, text["wrong"].format(shown=shown), hint=hint,
                          misconception=f"{wrong_value:g}")
    if q.kind == "numeric" and close(q.answer, factor=CLOSE_FACTOR):
        return Result(q.name, FAIL, text["close"].format(shown=shown, expected=q.expected))
    return Result(q.name, FAIL, text["wrong"].format(shown=shown))


def grade_question(q, answer):
    """Grade an answer to the question ``q``.

    Parameters
    ----------
    q : companion.exercises.registry.Question
    answer : object
        A number (numeric and count questions), a letter (choice questions), or ``None`` (not attempted).

    Returns
    -------
    Result
    """
    if answer is None:
        return Result(q.name, TODO, f"Replace `None` in `answer_{q.name} = None` with {q.expected}, "
                      "then run this check again.")
    if q.kind in ("numeric", "count"):
        value = _number(answer)
        if value is None:
            return Result(q.name, FAIL, f"Expected {q.expected}, got {_type_text(sandbox.describe(answer, top=False))}.")
        if not np.isfinite(value):
            return Result(q.name, FAIL, QUESTION_MESSAGES["not_finite"].format(value=value))
        return _numeric_verdict(q, value)
    if not isinstance(answer, str):
        return Result(q.name, FAIL, f"Expected the letter of your choice (one of {', '.join(sorted(q.choices))}) "
                      f"as a string, got {_type_text(sandbox.describe(answer, top=False))}.")
    letter = answer.strip().strip("()").strip().lower()
    if letter not in q.choices:
        return Result(q.name, FAIL, QUESTION_MESSAGES["not_a_choice"].format(
            answer=repr(answer), choices=", ".join(sorted(q.choices))))
    if letter == q.answer:
        return Result(q.name, PASS, QUESTION_MESSAGES["right"].format(explanation=q.explanation).strip())
    if letter in q.wrong:
        return Result(q.name, FAIL, QUESTION_MESSAGES["choice_wrong"].format(letter=letter), hint=q.wrong[letter],
                      misconception=letter)
    return Result(q.name, FAIL, QUESTION_MESSAGES["choice_wrong"].format(letter=letter))


# ---------------------------------------------------------------------------------------------- entry point
def _record(result):
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"exercise": result.name, "status": result.status, **result.to_dict()}) + "\n")
    except OSError:
        pass


def check(name, submission=_MISSING):
    """Check a submission for an exercise or question of the book and return the verdict.

    Never raises, whatever the submission does: problems are reported in the result (unless the
    environment variable ``ND_EXERCISES_RAISE=1`` asks for an ``AssertionError`` on anything but a pass,
    as nbgrader's autograder needs).

    Parameters
    ----------
    name : str
        The exercise's name, e.g. ``"bn_forward"``.
    submission : callable, number or str
        Your function (code exercises), or your answer (a number, or the letter of a choice);
        ``None`` means not attempted yet.

    Returns
    -------
    Result
        ``.passed`` (bool) and ``.message`` (str); renders as HTML in Jupyter and as text elsewhere.

    Examples
    --------
    >>> from companion.exercises import check
    >>> def bn_forward(x, gamma, beta, eps=1e-5):
    ...     raise NotImplementedError
    >>> check("bn_forward", bn_forward).status
    'todo'
    """
    try:
        if not isinstance(name, str):
            result = Result(str(name), FAIL, f"The first argument of check() is the exercise's name (a string), "
                            f"got {type(name).__name__}.")
        else:
            try:
                entry = registry.get(name)
            except KeyError:
                entry = None
            if entry is None:
                import difflib

                close = difflib.get_close_matches(name, registry.names(), n=3)
                summary = f"There is no exercise named {name!r}."
                if close:
                    summary += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
                errors = registry.load_errors()
                if errors:
                    summary += " (Some exercise modules failed to load: " + "; ".join(errors) + ")"
                result = Result(name, FAIL, summary)
            elif submission is _MISSING:
                what = "your function" if entry.kind == "code" else f"answer_{name}"
                result = Result(name, FAIL, f"check() needs two arguments: check({name!r}, {what}).")
            elif entry.kind == "code":
                result = grade_code(entry, submission)
            else:
                result = grade_question(entry, submission)
    except Exception as exc:  # the checker itself failed: report it, never raise into the notebook
        result = Result(str(name), FAIL, f"The checker failed ({type(exc).__name__}: {exc}). "
                        "This is a bug in the book: please report it.")
    _record(result)
    if os.environ.get(RAISE_ENV) == "1" and not result.passed:
        raise AssertionError(f"{result.headline}\n{result.message}")
    return result
