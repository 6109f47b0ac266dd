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

from . import registry, sandbox
from .results import FAIL, PASS, TODO, Result

__all__ = ["check", "LOG_ENV"]

#: Environment variable naming a file to which every check appends one JSON line (used by the grading CLI).
LOG_ENV = "ND_EXERCISES_LOG"
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
    kind = desc[0]
    if kind == "none":
        return "None"
    if kind == "array":
        return f"a {desc[4]} of dtype {desc[2]}"
    if kind == "sequence":
        return f"a {desc[1]} of {len(desc[2])} items"
    return f"a {desc[1]}"


def _item_problem(desc, ref, label, n_outputs):
    """Why one returned item is not an array like ``ref`` (``None`` when its type, shape and dtype fit)."""
    kind = desc[0]
    if ref[0] == "scalar":  # the reference returns a number: accept a real number or a 0-d array
        if (kind == "scalar" and desc[2] is not None) or (kind == "array" and desc[3] == () and desc[1] is not None):
            return None
        return f"{label} is {_type_text(desc)}, expected a number"
    if kind == "none":
        return f"{label} is None: did you forget a `return` statement?"
    if kind == "sequence":
        if n_outputs == 1 and desc[1] == "tuple" and desc[2] and desc[2][0][0] == "array":
            return (f"it returned {_type_text(desc)}, expected only the array {label} "
                    "(this exercise returns no cache)")
        return f"{label} is {_type_text(desc)}, expected a numpy.ndarray"
    if kind != "array":
        hint = " (call .detach().numpy() on a torch tensor)" if desc[1].startswith("torch.") else ""
        return f"{label} is {_type_text(desc)}, expected a numpy.ndarray{hint}"
    _, _, dtype, shape, _ = desc
    if shape != ref[3]:
        return f"{label} has shape {_shape_text(shape)}, expected {_shape_text(ref[3])}"
    if dtype != ref[2]:
        return f"{label} has dtype {dtype}, expected {ref[2]}"
    return None


def _structure_problem(desc, ref, names):
    """Why a returned value does not have the reference's structure, or ``None``."""
    if ref[0] != "sequence":
        return _item_problem(desc, ref, names[0], 1)
    want = f"a tuple of {len(ref[2])} arrays ({', '.join(names)})"
    if desc[0] == "none":
        return f"it returned None, expected {want}: did you forget a `return` statement?"
    if desc[0] != "sequence":
        return f"it returned {_type_text(desc)}, expected {want}"
    if len(desc[2]) != len(ref[2]):
        return f"it returned {_type_text(desc)}, expected {want}"
    for item, ref_item, label in zip(desc[2], ref[2], names):
        problem = _item_problem(item, ref_item, label, len(names))
        if problem:
            return problem
    return None


def _item_array(item):
    """The plain ndarray of a described array, or of a described real number (0-d), else ``None``."""
    if item[0] == "array":
        return item[1]
    if item[0] == "scalar" and item[2] is not None:
        return np.array(item[2], dtype=np.float64)
    return None


def _arrays(desc):
    """The plain ndarrays of a (structurally valid) description, as a tuple."""
    items = desc[2] if desc[0] == "sequence" else [desc]
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
            return (f"{label} contains NaN ({int(nan.sum())} of {out.size} entries). Look for 0/0, the square root "
                    "of a negative number, or a division by a variance without eps.")
        if inf.any():
            return (f"{label} contains inf ({int(inf.sum())} of {out.size} entries). Look for a division by zero, "
                    "e.g. by a standard deviation without eps.")
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
        report = sandbox._run_all(ex.reference, _copy(cases))
        for outcome in report:
            if outcome[0] != "ok":
                info = outcome[1]
                raise RuntimeError(f"the reference of {ex.name!r} raised {info['type']}: {info['message']}")
        cached = [outcome[1] for outcome in report]
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
        for outcome in sandbox._run_all(mutant.fn, _copy(cases)):
            if outcome[0] != "ok":
                outs = None
                break
            arrays = _arrays(outcome[1])
            if any(a is None for a in arrays):
                outs = None
                break
            outs.append(arrays)
        cache[mutant.name] = outs if outs is not None and len(outs) == len(cases) else None
    return cache[mutant.name]


def _explaining_mutant(ex, cases, outputs, wrong):
    """The first mutant that reproduces every wrong output of the submission."""
    for mutant in ex.mutants:
        mouts = _mutant_outputs(ex, mutant, cases)
        if mouts is None:
            continue
        try:
            if all(len(mouts[i]) > k and _close(outputs[i][k], mouts[i][k], ex) for i, k in wrong):
                return mutant
        except (ValueError, TypeError):
            continue
    return None


def _hint_of(ex, name):
    for mutant in ex.mutants:
        if mutant.name == name:
            return mutant.hint
    return None


# ---------------------------------------------------------------------------------------------- code exercises
def _error_result(ex, info, report):
    if info["not_implemented"]:
        return Result(ex.name, TODO, f"Replace `raise NotImplementedError` in {ex.name} with your code, "
                      "then run this check again.")
    summary = f"Your function raised {info['type']}: {info['message']}".rstrip(": ")
    if not info["frames"] and info["type"] == "TypeError":
        summary += f"\nThe checker calls it as {ex.call} (all arguments by position)."
    return Result(ex.name, FAIL, summary, trace=info["frames"], output=report.output,
                  output_total=report.output_total)


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
    cases = ex.make_cases()
    expected_desc = _reference_outputs(ex, cases)
    names = ex.output_names
    report = sandbox.run_cases(fn, cases, ex.time_limit)
    out_kw = dict(output=report.output, output_total=report.output_total)
    if report.status == "timeout":
        limit = sandbox.TIME_LIMIT if ex.time_limit is None else ex.time_limit
        return Result(ex.name, FAIL, f"Too slow: stopped after {limit:g} s (a correct solution needs well under "
                      "a second). Look for an endless loop, or a Python loop over every entry that NumPy can do "
                      "in one vectorized operation.", **out_kw)
    if report.status == "crashed":
        return Result(ex.name, FAIL, f"Your function ended the process: {report.detail}.", **out_kw)
    last = report.outcomes[-1] if report.outcomes else None
    if last is not None and last[0] == "error":
        return _error_result(ex, last[1], report)
    outputs, expected = [], []
    for case, outcome, ref in zip(cases, report.outcomes, expected_desc):
        problem = _structure_problem(outcome[1], ref, names)
        if problem:
            return Result(ex.name, FAIL, f"Wrong return value for {_case_text(case)}: {problem}.".replace("..", "."),
                          **out_kw)
        outputs.append(_arrays(outcome[1]))
        expected.append(_arrays(ref))
    for case, outs, exps in zip(cases, outputs, expected):
        problem = _nonfinite_problem(outs, exps, names)
        if problem:
            return Result(ex.name, FAIL, f"For {_case_text(case)}, {problem}", **out_kw)
    for case, outcome in zip(cases, report.outcomes):
        if outcome[2]:
            which = ", ".join(f"`{k}`" for k in outcome[2])
            return Result(ex.name, FAIL, f"Your function modified its input {which} in place. Leave the inputs "
                          "untouched: build new arrays (e.g. `x = x - mean` rather than `x -= mean`).", **out_kw)
    if ex.grader is not None:
        verdict = ex.grader(cases, outputs, ex)
        if verdict is not None:
            summary, mutant_name = verdict
            return Result(ex.name, FAIL, summary, hint=_hint_of(ex, mutant_name), misconception=mutant_name,
                          **out_kw)
    else:
        wrong = _wrong_outputs(outputs, expected, ex)
        if wrong:
            n_cases = len({i for i, _ in wrong})
            bad_names = [names[k] for k in sorted({k for _, k in wrong})]
            first_case, first_k = min(wrong)
            diff = np.max(np.abs(_as_float(outputs[first_case][first_k]) - _as_float(expected[first_case][first_k])))
            summary = (f"{' and '.join(bad_names)} {'differs' if len(bad_names) == 1 else 'differ'} from the "
                       f"expected values on {n_cases} of {len(cases)} hidden cases (e.g. for "
                       f"{_case_text(cases[first_case])}, by up to {diff:.2g}).")
            mutant = _explaining_mutant(ex, cases, outputs, wrong)
            if mutant is None:
                return Result(ex.name, FAIL, summary, **out_kw)
            return Result(ex.name, FAIL, summary, hint=mutant.hint, misconception=mutant.name, **out_kw)
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


def grade_question(q, answer):
    """Grade an answer to the question ``q``.

    Parameters
    ----------
    q : companion.exercises.registry.Question
    answer : object
        A number (numeric questions), a letter (choice questions), or ``None`` (not attempted).

    Returns
    -------
    Result
    """
    if answer is None:
        return Result(q.name, TODO, f"Replace `None` in `answer_{q.name} = None` with your answer, "
                      "then run this check again.")
    if q.kind == "numeric":
        value = _number(answer)
        if value is None:
            return Result(q.name, FAIL, f"Expected a number, got {_type_text(sandbox.describe(answer, top=False))}.")
        if not np.isfinite(value):
            return Result(q.name, FAIL, f"Expected a finite number, got {value}.")

        def close(target):
            return abs(value - target) <= q.atol + q.rtol * abs(target)

        if close(q.answer):
            return Result(q.name, PASS, ("Right. " + q.explanation).strip())
        for wrong_value, hint in q.wrong.items():
            if close(wrong_value):
                return Result(q.name, FAIL, f"{value:.6g} is not right.", hint=hint, misconception=f"{wrong_value:g}")
        return Result(q.name, FAIL, f"{value:.6g} is not right.")
    if not isinstance(answer, str):
        return Result(q.name, FAIL, f"Expected the letter of your choice (one of {', '.join(sorted(q.choices))}) "
                      f"as a string, got {_type_text(sandbox.describe(answer, top=False))}.")
    letter = answer.strip().strip("()").strip().lower()
    if letter not in q.choices:
        return Result(q.name, FAIL, f"{answer!r} is not one of the choices {', '.join(sorted(q.choices))}.")
    if letter == q.answer:
        return Result(q.name, PASS, ("Right. " + q.explanation).strip())
    if letter in q.wrong:
        return Result(q.name, FAIL, f"({letter}) is not right.", hint=q.wrong[letter], misconception=letter)
    return Result(q.name, FAIL, f"({letter}) is not right.")


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

    Never raises, whatever the submission does: problems are reported in the result.

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
    return result
