"""Everything about exercises and grading: ``check(name, submission)`` returns a verdict that names the
likely misconception; :mod:`.grade_notebooks` (console script ``nd-grade-notebooks``) grades readers'
completed notebooks for instructors.

Readers use one function::

    from companion.exercises import check
    check("bn_forward", bn_forward)          # a code exercise: pass your function
    check("bn_two_samples_xhat", 1.0)        # a question: pass your answer (None = not attempted)

Authors register exercises in ``companion/exercises/bank/<chapter>.py`` (one file per chapter,
named after it; ids start with the chapter's prefix) with
:func:`~companion.exercises.registry.register_code` and
:func:`~companion.exercises.registry.register_question`; see ``CONTRIBUTING.md``.
"""
from .grading import check
from .registry import Mutant, get, names, register_code, register_question
from .results import Result

__all__ = ["Mutant", "Result", "check", "get", "names", "register_code", "register_question"]
