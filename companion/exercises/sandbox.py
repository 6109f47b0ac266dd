"""Run a reader's function on hidden cases in a separate, time-limited process.

On Linux the submission runs in a forked child (so a function defined in a notebook cell needs no
pickling): all cases run in one child, which sends back a plain description of every returned value
through a pipe. The parent kills the child when the time limit passes, so a check always returns
promptly. Where ``fork`` is unavailable the cases run in a daemon thread instead (a runaway function
is then reported as too slow but keeps running in the background).

Whatever the submission does (raise, print, loop forever, modify its inputs, return odd objects,
end the process) becomes data in a :class:`RunReport`; nothing is raised to the caller.
"""
import copy
import faulthandler
import io
import os
import pickle
import re
import select
import signal
import sys
import sysconfig
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "OUTPUT_LIMIT",
    "TIME_LIMIT",
    "USE_FORK",
    "CaseOutcome",
    "Described",
    "ErrorInfo",
    "RunReport",
    "describe",
    "run_cases",
    "run_inline",
]

#: Seconds allowed for all the cases of one check together.
TIME_LIMIT = 3.0
#: Characters of printed output kept (the rest is counted, not stored).
OUTPUT_LIMIT = 2000
#: Run submissions in a forked child process (Linux); False runs them in a thread.
USE_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")

_NUMERIC_KINDS = "biufc"
_EXCLUDED_DIRS = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # the companion package itself
        os.path.dirname(np.__file__),
        *(sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
    if p
)
_CELL_FILE = re.compile(r"ipykernel_\d+[/\\]\d+\.py$")


# ------------------------------------------------------------------ plain descriptions of returned values
@dataclass(frozen=True)
class Described:
    """A plain, picklable description of a returned value: its ``kind`` and what matters for that kind.

    ``kind`` is ``"none"``, ``"array"`` (``data``: a plain copy, ``None`` for a non-numeric dtype; ``dtype``
    as text; ``shape``), ``"sequence"`` (a tuple or list at the top level: ``items``, each described),
    ``"scalar"`` (``value``: a float for real numbers, else ``None``) or ``"other"``. ``type_name`` is the
    name of the value's type (qualified for non-builtin ``other`` values).
    """

    kind: str
    type_name: str
    data: object = None
    dtype: str = None
    shape: tuple = None
    items: list = None
    value: object = None


@dataclass(frozen=True)
class ErrorInfo:
    """An exception raised by the submission: type, message, the reader's own frames (at most 8)."""

    type: str
    message: str
    frames: list
    not_implemented: bool


@dataclass(frozen=True)
class CaseOutcome:
    """One case: ``value`` and the array arguments ``modified`` in place, or the ``error`` it raised."""

    value: object = None
    modified: tuple = ()
    error: ErrorInfo = None

    @property
    def ok(self):
        return self.error is None


@dataclass
class RunReport:
    """What happened when the submission ran.

    Attributes
    ----------
    status : {"done", "timeout", "crashed"}
        ``done``: every case ran or one raised (see ``outcomes``); ``timeout``: stopped at the time
        limit; ``crashed``: the process ended without reporting (e.g. ``os._exit`` or a segfault).
    outcomes : list of CaseOutcome
        One per case that ran; running stops at the first error.
    output : str
        Printed output (stdout and stderr, including warnings), at most :data:`OUTPUT_LIMIT` characters.
    output_total : int
        Characters printed in all.
    detail : str
        For ``crashed``: how the process ended.
    """

    status: str
    outcomes: list = field(default_factory=list)
    output: str = ""
    output_total: int = 0
    detail: str = ""


class _Capture(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written and counts the rest."""

    def __init__(self, limit):
        super().__init__()
        self.limit, self.parts, self.kept, self.total = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = s if isinstance(s, str) else str(s)
        self.total += len(s)
        if self.kept < self.limit:
            piece = s[: self.limit - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(s)

    def getvalue(self):
        return "".join(self.parts)


def describe(value, top=True):
    """A plain, picklable description of a returned value (no reader-defined objects survive).

    Parameters
    ----------
    value : object
        What the submission returned (or one item of a returned tuple).
    top : bool
        Describe the items of a tuple or list (only at the top level).

    Returns
    -------
    Described
        An array's ``data`` is a plain ndarray copy (``None`` for non-numeric dtypes) taken through
        ``numpy.ndarray.view``, so that a subclass cannot change what is compared.
    """
    if value is None:
        return Described("none", "NoneType")
    if isinstance(value, np.ndarray):
        base = np.ndarray.view(value, np.ndarray)
        data = np.array(base, copy=True) if base.dtype.kind in _NUMERIC_KINDS else None
        return Described("array", type(value).__name__, data=data, dtype=str(base.dtype), shape=tuple(base.shape))
    if top and isinstance(value, (tuple, list)):
        return Described("sequence", type(value).__name__, items=[describe(v, top=False) for v in value])
    if isinstance(value, (bool, int, float, complex, np.generic)):
        real = isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating))
        return Described("scalar", type(value).__name__, value=float(value) if real else None)
    module = type(value).__module__
    return Described("other", type(value).__qualname__ if module == "builtins" else f"{module}.{type(value).__qualname__}")


def _is_reader_frame(filename):
    path = os.path.normcase(os.path.realpath(filename)) if not filename.startswith("<") else filename
    return not path.startswith(_EXCLUDED_DIRS)


def _short_filename(filename):
    if _CELL_FILE.search(filename):
        return "notebook cell"
    return os.path.basename(filename) if not filename.startswith("<") else filename


def _safe_str(obj, limit=500):
    try:
        text = str(obj)
    except BaseException:  # a hostile __str__
        text = "<message could not be shown>"
    return text if len(text) <= limit else text[:limit] + " ..."


def _exception_info(exc):
    frames = []
    try:
        for fr in traceback.extract_tb(exc.__traceback__):
            if _is_reader_frame(fr.filename):
                frames.append((_short_filename(fr.filename), fr.lineno, fr.name, (fr.line or "").strip()[:200]))
    except BaseException:  # pragma: no cover - a traceback that cannot be read
        frames = []
    return ErrorInfo(type(exc).__name__, _safe_str(exc), frames[-8:], isinstance(exc, NotImplementedError))


def _unchanged(before, after):
    return (
        isinstance(after, np.ndarray)
        and before.shape == after.shape
        and before.dtype == after.dtype
        and np.array_equal(before, np.ndarray.view(after, np.ndarray), equal_nan=before.dtype.kind in "fc")
    )


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning without machine paths: ``RuntimeWarning: ... (notebook cell, line 3)``."""
    where = f" ({_short_filename(filename)}, line {lineno})" if _is_reader_frame(filename) else ""
    sys.stderr.write(f"{category.__name__}: {_safe_str(message)}{where}\n")


def run_inline(fn, cases):
    """Call ``fn`` positionally on every case in this process, without a time limit; stop at the first exception.

    For trusted code (an exercise's reference and mutants); a reader's submission goes through
    :func:`run_cases`. Returns a list of :class:`CaseOutcome`.
    """
    outcomes = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        for case in cases:
            before = {k: v.copy() for k, v in case.items() if isinstance(v, np.ndarray)}
            try:
                value = fn(*case.values())
                described = describe(value)
            except BaseException as exc:  # everything the submission can raise, SystemExit included
                outcomes.append(CaseOutcome(error=_exception_info(exc)))
                break
            modified = tuple(k for k, b in before.items() if not _unchanged(b, case[k]))
            outcomes.append(CaseOutcome(described, modified))
    return outcomes


def _single_threaded_torch():
    """After a fork, PyTorch's OpenMP pool belongs to the parent: a parallel op in the child would hang.

    With one thread PyTorch runs its operations inline, so a submission that uses torch still works.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            torch.set_num_threads(1)
        except Exception:  # pragma: no cover - a broken torch install: the time limit still applies
            pass


def _child(fn, cases, write_fd):
    """Body of the forked child: run, capture, send one pickle, never return."""
    capture = _Capture(OUTPUT_LIMIT)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = capture
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        faulthandler.disable()  # a crash is reported in the verdict, not dumped on the parent's stderr
        _single_threaded_torch()
        outcomes = run_inline(fn, cases)
        try:
            payload = pickle.dumps(("done", outcomes, capture.getvalue(), capture.total), protocol=4)
        except BaseException as exc:  # pragma: no cover - describe() returns only plain data
            payload = pickle.dumps(("crashed", [], capture.getvalue(), capture.total, f"unpicklable result: {exc}"))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def _read_until(fd, deadline):
    """Read ``fd`` to EOF; returns ``(bytes, timed_out)``."""
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return b"".join(chunks), True
        data = os.read(fd, 1 << 20)
        if not data:
            return b"".join(chunks), False
        chunks.append(data)


def _exit_detail(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"the process running it was killed by signal {name}"
    return f"the process running it exited with status {os.WEXITSTATUS(status)} before reporting"


def _run_forked(fn, cases, time_limit):
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "use of fork() may lead to deadlocks" (multi-threaded kernels)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        _child(fn, cases, write_fd)
    os.close(write_fd)
    done = False
    try:
        data, timed_out = _read_until(read_fd, time.monotonic() + time_limit)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        done = True
    finally:
        os.close(read_fd)
        if not done:  # interrupted (KeyboardInterrupt): never leave the child behind
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
    if timed_out:
        return RunReport("timeout")
    try:
        message = pickle.loads(data)
    except Exception:
        return RunReport("crashed", detail=_exit_detail(status))
    if message[0] == "done":
        return RunReport("done", message[1], message[2], message[3])
    return RunReport("crashed", message[1], message[2], message[3], message[4])  # pragma: no cover


def _run_threaded(fn, cases, time_limit):
    box = {}
    capture = _Capture(OUTPUT_LIMIT)

    def target():
        box["outcomes"] = run_inline(fn, cases)

    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = capture
    try:
        worker = threading.Thread(target=target, daemon=True, name="companion-exercise")
        worker.start()
        worker.join(time_limit)
    finally:
        sys.stdout, sys.stderr = old
    if worker.is_alive() or "outcomes" not in box:
        return RunReport("timeout", output=capture.getvalue(), output_total=capture.total)
    return RunReport("done", box["outcomes"], capture.getvalue(), capture.total)


def run_cases(fn, cases, time_limit=None):
    """Run ``fn`` on every case in isolation and describe what happened.

    Parameters
    ----------
    fn : callable
        The reader's function; called positionally as ``fn(*case.values())``.
    cases : list of dict
        The hidden cases (deep-copied first, so the caller's arrays are never touched).
    time_limit : float, optional
        Seconds for all cases together (default :data:`TIME_LIMIT`).

    Returns
    -------
    RunReport
    """
    time_limit = TIME_LIMIT if time_limit is None else float(time_limit)
    cases = copy.deepcopy(cases)
    if USE_FORK:
        return _run_forked(fn, cases, time_limit)
    return _run_threaded(fn, cases, time_limit)
