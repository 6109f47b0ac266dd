"""Timing a piece of code the way the book reports it: the median of repeated runs after warm-up.

Timings depend on the machine and on whatever else runs on it, so cells that print them are the
only ones tagged ``nbval-ignore-output``.
"""
import time

import numpy as np

__all__ = ["median_time"]


def median_time(fn, repeats=15, warmup=3):
    """Median wall-clock time of ``fn()`` in seconds.

    Parameters
    ----------
    fn : callable
        Called with no arguments (close over what it needs); its result is discarded.
    repeats : int
        Timed calls (>= 1).
    warmup : int
        Untimed calls first (>= 0): caches, allocators and lazy imports settle.

    Returns
    -------
    float
        The median of the ``repeats`` timed calls, in seconds.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if not (isinstance(repeats, int) and repeats >= 1) or not (isinstance(warmup, int) and warmup >= 0):
        raise ValueError(f"repeats must be an int >= 1 and warmup an int >= 0, got {repeats!r} and {warmup!r}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
