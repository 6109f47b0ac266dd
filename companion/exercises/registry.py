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
import math
import numbers
import pkgutil
import sys
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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
_INDEX = None


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
    usage: str = None
    may_use: tuple = ()
    module: str = ""
    kind: str = field(default="code", init=False)

    @property
    def forbidden(self):
        """``id()`` of the companion objects the reference relies on (a submission may not call them)."""
        cached = self.__dict__.get("_forbidden")
        if cached is None:
            from .own_work import implementations

            cached = implementations(self.reference) - {id(fn) for fn in self.may_use}
            self.__dict__["_forbidden"] = cached
        return cached

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

    def tolerance(self, target):
        """The largest accepted distance from ``target`` (``atol + rtol * |target|``; 0 for a count)."""
        return 0.0 if self.kind == "count" else self.atol + self.rtol * abs(target)

    @property
    def digits(self):
        """Significant digits that always meet the relative precision (``None`` without one)."""
        if self.kind != "numeric" or self.rtol <= 0:
            return None
        return max(1, math.ceil(math.log10(5.0 / self.rtol) - 1e-9))

    @property
    def expected(self):
        """What kind of answer is expected, in words, e.g. ``"a number, to 4 significant digits"``."""
        if self.kind == "choice":
            return "the letter of your choice, as a string such as \"a\""
        if self.kind == "count":
            return "a whole number"
        if self.rtol > 0 and self.atol == 0:
            return (f"a number, within {_percent(self.rtol)} of the right value "
                    f"(give at least {self.digits} significant digits)")
        if self.rtol == 0:
            return f"a number, within {self.atol:g} of the right value"
        return (f"a number, within {_percent(self.rtol)} of the right value or {self.atol:g}, whichever is "
                f"larger (give at least {self.digits} significant digits)")


def _percent(rtol):
    return f"{rtol * 100:g} %"


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
                  grader=None, explanation="", time_limit=None, usage=None, may_use=()):
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
    usage : str, optional
        The check call of the chapter when it does not pass the reader's function directly, e.g.
        ``'check("pitfall_freeze_bn", finetune_probe(pitfall_freeze_bn))'``: a submission that cannot
        be called with ``signature`` is then told to run that check cell unchanged, not to change
        its parameters.
    may_use : sequence of callable, optional
        Companion functions that the reference uses and a submission may use too (building blocks the
        statement allows, e.g. ``batch_stats``). Every other companion function the reference relies on
        counts as the exercise's answer: a submission that calls it is told to write it itself
        (:mod:`companion.exercises.own_work`).

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
                         explanation=explanation, time_limit=time_limit, usage=usage, may_use=tuple(may_use), module=_caller_module())
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
    answer : float, int or str
        The right answer: a number for ``kind="numeric"``, an integer for ``kind="count"``, a letter (a key of ``choices``) for
        ``kind="choice"``.
    kind : {"numeric", "count", "choice"}
        ``"count"``: a whole number, compared exactly (a fractional answer is told so).
    rtol, atol : float
        Numeric questions: an answer ``a`` is right when ``abs(a - answer) <= atol + rtol * abs(answer)``.
        Known wrong answers are matched with the same tolerance. An answer of 0 needs ``atol > 0``.
        The verdict of an unanswered check states the precision (:attr:`Question.expected`), and an
        answer within ten times the tolerance is told to give more digits.
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
    if kind == "count":
        if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
            raise TypeError(f"question {name!r}: a count's answer must be an integer, got {answer!r}")
        for value in wrong:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value == answer:
                raise ValueError(f"question {name!r}: a count's wrong answers must be other integers, got {value!r}")
        entry = Question(name=name, answer=int(answer), kind=kind, rtol=0.0, atol=0.0,
                         wrong={int(k): v for k, v in wrong.items()}, explanation=explanation,
                         module=_caller_module())
    elif kind == "numeric":
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
            raise TypeError(f"question {name!r}: a numeric answer must be a finite number, got {answer!r}")
        for tol_name, tol in (("rtol", rtol), ("atol", atol)):
            if not isinstance(tol, numbers.Real) or not tol >= 0:
                raise ValueError(f"question {name!r}: {tol_name} must be a number >= 0, got {tol!r}")
        if answer == 0 and not atol > 0:
            raise ValueError(f"question {name!r}: the answer is 0, so a relative tolerance accepts nothing but "
                             "an exact 0; state an absolute tolerance (atol > 0)")
        if not rtol > 0 and not atol > 0:
            raise ValueError(f"question {name!r}: give a tolerance (rtol or atol > 0), or use kind='count' "
                             "for a whole number")
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
        raise ValueError(f"question {name!r}: kind must be 'numeric', 'count' or 'choice', got {kind!r}")
    return _add(entry)


def _bank_index():
    """``{exercise name: bank module name}``, read from the bank's sources without importing them.

    Every ``register_code("<name>", ...)`` or ``register_question("<name>", ...)`` call whose first
    argument is a string literal is indexed, so that :func:`get` imports only the one module that
    defines the exercise (a check in a fresh kernel then loads one chapter's bank, not all of them,
    and not PyTorch unless that chapter needs it). The index is built once and cached.
    """
    global _INDEX
    if _INDEX is None:
        from . import bank

        index = {}
        for info in pkgutil.iter_modules(bank.__path__):
            path = Path(bank.__path__[0]) / f"{info.name}.py"
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                continue  # discover() records the error when it imports the module
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in ("register_code", "register_question") and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    index.setdefault(node.args[0].value, f"{bank.__name__}.{info.name}")
        _INDEX = index
    return _INDEX


def _import_bank_module(modname):
    """Import one bank module, recording a failure in :func:`load_errors` instead of raising."""
    try:
        importlib.import_module(modname)
        _LOAD_ERRORS.pop(modname, None)
    except Exception as exc:  # a broken chapter bank must not break the others
        _LOAD_ERRORS[modname] = "".join(traceback.format_exception_only(type(exc), exc)).strip()


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
        _import_bank_module(modname)
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
    """The registered exercise or question called ``name`` (raises ``KeyError`` if there is none).

    Imports only the bank module that registers ``name`` (see :func:`_bank_index`); every module
    when the name is not in the index (e.g. an exercise registered under a computed name).
    """
    if name not in _REGISTRY:
        modname = _bank_index().get(name)
        if modname is not None and modname not in sys.modules:
            _import_bank_module(modname)
        if name not in _REGISTRY:
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
