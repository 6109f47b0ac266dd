"""The exercise registry: every auto-graded exercise and question of the book, by name.

Chapters register their exercises in ``companion/exercises/bank/<chapter>.py``; every module in
that package is imported the first time an exercise is looked up (:func:`discover`).

Two kinds of entries:

* a **code exercise** (:func:`register_code`): the reader writes a function; the checker runs it on
  hidden cases generated inside the checker and compares its outputs with a reference
  implementation's. Known-wrong implementations (:class:`Mutant`) name the misconception when a
  submission reproduces one of them;
* a **question** (:func:`register_question`): a number (compared with a tolerance) or the letter
  of a multiple choice (case-insensitive). A known wrong answer gets its own hint.
"""
import ast
import importlib
import numbers
import pkgutil
import sys
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CodeExercise",
    "Mutant",
    "Question",
    "discover",
    "exercises",
    "get",
    "load_errors",
    "names",
    "register_code",
    "register_question",
]

_REGISTRY = {}
_LOAD_ERRORS = {}
_DISCOVERED = False


@dataclass(frozen=True)
class Mutant:
    """A known-wrong implementation that embodies one misconception.

    Parameters
    ----------
    name : str
        Short identifier of the misconception (e.g. ``"unbiased_variance"``); unique per exercise.
    hint : str
        What the reader sees when their outputs match this mutant's: name the misconception and
        say what the right rule is.
    fn : callable
        The wrong implementation, with the exercise's signature.
    """

    name: str
    hint: str
    fn: Callable


def _arg_names(signature):
    """Parameter names of a signature string such as ``"f(x, gamma, beta, eps=1e-5)"``."""
    try:
        tree = ast.parse(f"def {signature.strip()}: pass")
        args = tree.body[0].args
    except (SyntaxError, AttributeError, IndexError) as exc:
        raise ValueError(f"signature must look like 'f(x, gamma, beta, eps=1e-5)', got {signature!r}") from exc
    return tuple(a.arg for a in args.posonlyargs + args.args)


def _output_names(returns):
    """Output names of a ``returns`` string such as ``"(dx, dgamma, dbeta)"`` or ``"y"``."""
    text = returns.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ValueError(f"returns must name the outputs, e.g. 'y' or '(dx, dgamma, dbeta)', got {returns!r}")
    return names


@dataclass
class CodeExercise:
    """A registered code exercise (created by :func:`register_code`; see there for the fields)."""

    name: str
    signature: str
    reference: Callable
    cases: Callable
    mutants: tuple = ()
    rtol: float = 1e-6
    atol: float = 1e-8
    returns: str = "y"
    grader: Any = None
    explanation: str = ""
    time_limit: float = None
    module: str = ""
    kind: str = field(default="code", init=False)

    @property
    def arg_names(self):
        """Parameter names, in call order (the checker calls the reader's function positionally)."""
        return _arg_names(self.signature)

    @property
    def output_names(self):
        """Names of the outputs (one for a single array, several for a tuple)."""
        return _output_names(self.returns)

    @property
    def call(self):
        """How the checker calls the reader's function, e.g. ``bn_forward(x, gamma, beta, eps)``."""
        return f"{self.name}({', '.join(self.arg_names)})"

    @property
    def seed(self):
        """The fixed seed of this exercise's hidden cases (derived from its name)."""
        return zlib.crc32(self.name.encode())

    def make_cases(self):
        """Generate the hidden test cases: a fresh list of dicts ``{argument: value}`` in call order.

        Returns
        -------
        list of dict
            Generated from a generator seeded with :attr:`seed`, so every call gives equal cases.
        """
        cases = list(self.cases(np.random.default_rng(self.seed)))
        expected = list(self.arg_names)
        for i, case in enumerate(cases):
            if list(case) != expected:
                raise ValueError(
                    f"exercise {self.name!r}: case {i} has arguments {list(case)}, expected {expected} "
                    "(in the order of the signature)"
                )
        if not cases:
            raise ValueError(f"exercise {self.name!r}: cases() returned no case")
        return cases


@dataclass
class Question:
    """A registered question (created by :func:`register_question`; see there for the fields)."""

    name: str
    answer: Any
    kind: str
    rtol: float = 1e-6
    atol: float = 0.0
    choices: dict = None
    wrong: dict = None
    explanation: str = ""
    module: str = ""


def _caller_module(depth=2):
    try:
        return sys._getframe(depth).f_globals.get("__name__", "")
    except ValueError:  # pragma: no cover - only with a very shallow stack
        return ""


def _add(entry):
    old = _REGISTRY.get(entry.name)
    if old is not None and old.module != entry.module:
        raise ValueError(
            f"an exercise named {entry.name!r} is already registered by {old.module}; "
            "exercise names are global, pick another one"
        )
    _REGISTRY[entry.name] = entry
    return entry


def _check_name(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier such as 'bn_forward', got {name!r}")


def register_code(name, signature, reference, cases, mutants=(), rtol=1e-6, atol=1e-8, returns="y",
                  grader=None, explanation="", time_limit=None):
    """Register a code exercise: the reader writes a function, the checker compares it with ``reference``.

    Parameters
    ----------
    name : str
        Exercise name (a Python identifier, unique in the whole book); the reader's stub function
        has this name and the check cell calls ``check(name, fn)``.
    signature : str
        The function's signature, e.g. ``"f(x, gamma, beta, eps=1e-5)"``. The checker calls the
        reader's function positionally with one value per parameter.
    reference : callable
        A correct implementation with that signature (use the companion's functions).
    cases : callable
        ``cases(rng) -> list of dict``: the hidden test cases, each a dict mapping every parameter
        name (in signature order) to its value. ``rng`` is a ``numpy.random.Generator`` with a fixed
        seed. Include several shapes and the edge cases where misconceptions show (e.g. a
        small-variance batch where a misplaced ``eps`` is visible).
    mutants : sequence of Mutant
        Known-wrong implementations; the first one that explains the submission's wrong outputs
        gives its hint.
    rtol, atol : float
        Tolerances of ``numpy.allclose`` (after converting every output to a float64 ndarray).
    returns : str
        Names of the outputs: ``"y"`` for one array, ``"(dx, dgamma, dbeta)"`` for a tuple.
    grader : callable, optional
        For outputs that cannot be compared with the reference's (random ones, e.g. dropout):
        ``grader(cases, outputs, exercise) -> None`` when the outputs are right, else
        ``(message, mutant_name_or_None)``. ``outputs[i]`` is the tuple of plain ndarrays returned on
        ``cases[i]``, already checked for type, shape, dtype and finiteness against the reference's.
    explanation : str
        Shown when the submission passes (optional).
    time_limit : float, optional
        Seconds allowed for all cases together (default: :data:`companion.exercises.sandbox.TIME_LIMIT`).

    Returns
    -------
    CodeExercise
        The registered entry.
    """
    _check_name(name)
    _arg_names(signature)
    _output_names(returns)
    for what, fn in (("reference", reference), ("cases", cases)):
        if not callable(fn):
            raise TypeError(f"{what} must be callable, got {type(fn).__name__}")
    if grader is not None and not callable(grader):
        raise TypeError(f"grader must be callable or None, got {type(grader).__name__}")
    mutants = tuple(mutants)
    seen = set()
    for m in mutants:
        if not isinstance(m, Mutant):
            raise TypeError(f"mutants must be Mutant instances, got {type(m).__name__}")
        if m.name in seen:
            raise ValueError(f"exercise {name!r}: two mutants are named {m.name!r}")
        if not callable(m.fn):
            raise TypeError(f"mutant {m.name!r}: fn must be callable")
        seen.add(m.name)
    for tol_name, tol in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tol, numbers.Real) or not tol >= 0:
            raise ValueError(f"{tol_name} must be a number >= 0, got {tol!r}")
    entry = CodeExercise(name=name, signature=signature, reference=reference, cases=cases, mutants=mutants,
                         rtol=float(rtol), atol=float(atol), returns=returns, grader=grader,
                         explanation=explanation, time_limit=time_limit, module=_caller_module())
    return _add(entry)


def _letter(choice):
    return str(choice).strip().lower()


def register_question(name, answer, kind, rtol=1e-6, atol=0.0, choices=None, wrong=None, explanation=""):
    """Register a numeric or multiple-choice question.

    Parameters
    ----------
    name : str
        Question name (a Python identifier, unique in the book). The stub cell assigns
        ``answer_<name> = None`` and the check cell calls ``check(name, answer_<name>)``.
    answer : float or str
        The right answer: a number for ``kind="numeric"``, a letter (a key of ``choices``) for
        ``kind="choice"``.
    kind : {"numeric", "choice"}
    rtol, atol : float
        Numeric questions: an answer ``a`` is right when ``abs(a - answer) <= atol + rtol * abs(answer)``.
        Known wrong answers are matched with the same tolerance.
    choices : dict, optional
        Choice questions: ``{letter: text}``.
    wrong : dict, optional
        Known wrong answers (numbers or letters) mapped to the hint naming the misconception.
    explanation : str
        Shown when the answer is right.

    Returns
    -------
    Question
        The registered entry.
    """
    _check_name(name)
    wrong = dict(wrong or {})
    if kind == "numeric":
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
            raise TypeError(f"question {name!r}: a numeric answer must be a finite number, got {answer!r}")
        for value in wrong:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"question {name!r}: wrong answers must be numbers, got {value!r}")
            if abs(value - answer) <= atol + rtol * abs(answer):
                raise ValueError(f"question {name!r}: the wrong answer {value} is within tolerance of the answer")
        entry = Question(name=name, answer=float(answer), kind=kind, rtol=float(rtol), atol=float(atol),
                         wrong={float(k): v for k, v in wrong.items()}, explanation=explanation,
                         module=_caller_module())
    elif kind == "choice":
        if not choices:
            raise ValueError(f"question {name!r}: a choice question needs choices={{'a': ..., 'b': ...}}")
        choices = {_letter(k): v for k, v in choices.items()}
        if _letter(answer) not in choices:
            raise ValueError(f"question {name!r}: answer {answer!r} is not one of the choices {sorted(choices)}")
        wrong = {_letter(k): v for k, v in wrong.items()}
        for letter in wrong:
            if letter not in choices or letter == _letter(answer):
                raise ValueError(f"question {name!r}: wrong answer {letter!r} must be another one of the choices")
        entry = Question(name=name, answer=_letter(answer), kind=kind, choices=choices, wrong=wrong,
                         explanation=explanation, module=_caller_module())
    else:
        raise ValueError(f"question {name!r}: kind must be 'numeric' or 'choice', got {kind!r}")
    return _add(entry)


def discover():
    """Import every module of ``companion.exercises.bank`` (once), so that their exercises are registered.

    A module that fails to import is recorded in :func:`load_errors` instead of breaking the
    other chapters' exercises.

    Returns
    -------
    list of str
        The names of the bank modules found.
    """
    global _DISCOVERED
    from . import bank

    found = []
    for info in sorted(pkgutil.iter_modules(bank.__path__), key=lambda i: i.name):
        modname = f"{bank.__name__}.{info.name}"
        found.append(modname)
        if _DISCOVERED and modname in sys.modules:
            continue
        try:
            importlib.import_module(modname)
            _LOAD_ERRORS.pop(modname, None)
        except Exception as exc:  # a broken chapter bank must not break the others
            _LOAD_ERRORS[modname] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    _DISCOVERED = True
    return found


def _ensure_discovered():
    if not _DISCOVERED:
        discover()


def load_errors():
    """Bank modules that failed to import: ``{module name: error message}``."""
    _ensure_discovered()
    return dict(_LOAD_ERRORS)


def get(name):
    """The registered exercise or question called ``name`` (raises ``KeyError`` if there is none)."""
    _ensure_discovered()
    return _REGISTRY[name]


def names():
    """Sorted names of every registered exercise and question."""
    _ensure_discovered()
    return sorted(_REGISTRY)


def exercises():
    """Every registered entry, sorted by name: a list of :class:`CodeExercise` and :class:`Question`."""
    _ensure_discovered()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]
