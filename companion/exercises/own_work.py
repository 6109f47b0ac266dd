"""Is it the reader's own work? Find the companion's implementation of an exercise inside a submission.

The companion holds the book's reference implementations, and an exercise's reference calls them.
A submission that merely calls the same function would pass every hidden case without the reader
writing anything, so the checker refuses it. :func:`implementations` lists the companion functions
and classes an exercise's reference relies on; :func:`borrowed` finds which of them a submission
reaches through its code: the names its code (and the code of its nested functions) looks up in
its globals or closure, attributes of a companion module it uses (``companion.batch_norm_forward``),
and, recursively, the reader's own helper functions it calls.

The search is static (the code is not run) and stops at the companion's own code, so a wrapper
that the check cell applies to the reader's function (``finetune_probe(pitfall_freeze_bn)``) is
looked through: only what the reader's function itself reaches counts.
"""
import functools
import inspect
import types

__all__ = ["borrowed", "implementations"]

#: Companion modules that are tools around the exercises, never an exercise's answer.
_ALLOWED_PREFIXES = ("companion.exercises", "companion.notebook", "companion.tools")
_MAX_FUNCTIONS = 200


def _module_of(obj):
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(obj, "__module__", None) or ""


def _is_companion(obj):
    module = _module_of(obj)
    return (module == "companion" or module.startswith("companion.")) and not module.startswith(_ALLOWED_PREFIXES)


def _code_objects(code):
    """``code`` and every code object nested in it (inner functions, lambdas, comprehensions)."""
    stack, seen = [code], []
    while stack:
        c = stack.pop()
        seen.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return seen


def _referenced(fn):
    """Objects that ``fn``'s code names: its globals and builtins by name, its closure cells, and the
    attributes of referenced modules that its code names (``module.attr``)."""
    fn = inspect.unwrap(fn) if callable(fn) else fn
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    names = {n for c in _code_objects(code) for n in c.co_names}
    namespace = getattr(fn, "__globals__", {}) or {}
    found = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    found += [namespace[name] for name in names if name in namespace]
    modules = [obj for obj in found if isinstance(obj, types.ModuleType)]
    for module in modules:
        for name in names:
            attr = getattr(module, name, None)
            if attr is not None and not isinstance(attr, types.ModuleType):
                found.append(attr)
    return found


def implementations(reference):
    """The companion functions and classes that an exercise's reference relies on.

    Parameters
    ----------
    reference : callable
        The exercise's reference implementation (a function of the bank, or the companion's own).

    Returns
    -------
    set of int
        ``id()`` of each such object (functions and classes of the companion's subject modules, the
        experiments included; the exercise, notebook and tool helpers are not counted). The reference
        itself is not counted: the checker accepts it (tests submit it).
    """
    objects = _referenced(reference)
    return {id(obj) for obj in objects if callable(obj) and not isinstance(obj, types.ModuleType)
            and _is_companion(obj)}


def borrowed(submission, forbidden):
    """The qualified name of the first forbidden companion object a submission reaches, or ``None``.

    Parameters
    ----------
    submission : callable
        The reader's function, possibly wrapped by a companion helper (the wrapper is looked through).
    forbidden : set of int
        ``id()`` of the objects that count as the exercise's answer (:func:`implementations`).

    Returns
    -------
    str or None
        E.g. ``"companion.batchnorm.batch_norm_forward"``.
    """
    if not forbidden:
        return None
    if id(submission) in forbidden:
        return _qualified(submission)
    stack, seen = [submission], set()
    while stack and len(seen) < _MAX_FUNCTIONS:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if _module_of(fn).startswith("companion.exercises"):
            continue  # the checker's own code (e.g. an exercise's reference, which tests submit)
        if _is_companion(fn):  # a wrapper from the companion: follow only what it wraps
            for inner in _wrapped(fn):
                if id(inner) in forbidden:
                    return _qualified(inner)
                stack.append(inner)
            continue
        for obj in _referenced(fn):
            if id(obj) in forbidden:
                return _qualified(obj)
            if isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
                stack.append(obj)
    return None


def _qualified(obj):
    return f"{getattr(obj, '__module__', 'companion')}.{getattr(obj, '__qualname__', repr(obj))}"


def _wrapped(fn):
    """The functions a companion wrapper holds in its closure (or a ``functools.partial``'s ``func``)."""
    if isinstance(fn, functools.partial):
        return [fn.func]
    out = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if callable(value) and not isinstance(value, type):
            out.append(value)
    return out
