"""Summaries of chaotic experiments that read the same on every machine.

A training run with a tiny batch or a large learning rate is chaotic: a difference in the
last bit of one sum (another CPU instruction set, another thread count) grows into a
different result. Such an experiment is repeated over seeds, and the page shows only what
all machines agree on: a count of seeds on one side of a threshold that no seed comes
near, or a median on a coarse grid that sits well inside its grid cell. Each function
raises :class:`NotRobust` when that margin is missing, so a summary that could read
differently on a reader's machine never reaches the page.
"""
import numpy as np

__all__ = ["NotRobust", "coarse_median", "count_above", "over_seeds"]


class NotRobust(ValueError):
    """A summary whose printed value could differ between machines (a value too near an edge)."""


def over_seeds(run, seeds):
    """Call ``run(seed)`` for every seed and stack the results.

    Parameters
    ----------
    run : callable
        ``run(seed) -> float`` or a tuple of floats.
    seeds : sequence of int

    Returns
    -------
    numpy.ndarray
        Shape ``(len(seeds),)`` for scalar results, ``(len(seeds), k)`` for tuples of ``k``.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("over_seeds needs at least one seed")
    return np.array([run(s) for s in seeds], dtype=np.float64)


def count_above(values, threshold, margin):
    """How many values exceed ``threshold``, provided none lies within ``margin`` of it.

    Parameters
    ----------
    values : array_like, shape (n,)
        One result per seed (NaN counts as not above, e.g. a diverged run's accuracy).
    threshold, margin : float
        ``margin`` > 0 is how far every finite value must stay from ``threshold``.

    Returns
    -------
    int

    Raises
    ------
    NotRobust
        If a finite value lies within ``margin`` of ``threshold``.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    finite = v[np.isfinite(v)]
    near = finite[np.abs(finite - threshold) < margin]
    if near.size:
        raise NotRobust(f"{near.size} value(s) within {margin} of the threshold {threshold} "
                        f"(e.g. {near[0]:.4g}): the count could differ on another machine; "
                        "choose a threshold away from the data")
    return int(np.sum(finite > threshold))


def coarse_median(values, step):
    """The median of ``values`` rounded to a multiple of ``step``, when it sits well inside that cell.

    Parameters
    ----------
    values : array_like, shape (n,)
        One finite result per seed.
    step : float
        Grid spacing, e.g. ``0.05`` for an accuracy or ``10.0`` for a step count.

    Returns
    -------
    float
        The rounded median (rounded again to 12 digits, so ``0.15`` prints as ``0.15``).

    Raises
    ------
    NotRobust
        If the median lies in the outer quarter of its cell on either side (within ``step / 4``
        of a rounding edge), where another machine's runs could round it the other way.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError("coarse_median needs one or more finite values")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    med = float(np.median(v))
    cells = med / step
    if abs(cells - np.floor(cells) - 0.5) < 0.25:
        raise NotRobust(f"median {med:.4g} is within {step / 4:g} of a rounding edge of the {step:g} grid; "
                        "use a coarser step or more seeds")
    return round(float(np.round(cells) * step), 12)
