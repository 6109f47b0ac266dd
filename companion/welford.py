"""Computing a mean and a variance without cancellation: Welford's update and Chan's merge.

The variance is the mean squared deviation ``mean((x - mean(x))**2)``. Three ways to compute it:

* **one pass, textbook formula** ``mean(x**2) - mean(x)**2`` (:func:`one_pass_stats`). Both terms are
  about ``mean**2`` and their difference is the small ``var``: when ``|mean| / std`` is large, the
  rounding errors of the two terms, relative to ``mean**2``, swamp it (catastrophic cancellation).
  The result can be wrong in every digit, zero, or negative :cite:p:`chan1983algorithms,higham2002accuracy`.
* **two passes** (the definition): first the mean, then the mean squared deviation. Accurate, but it
  reads the data twice. :func:`companion.batchnorm.batch_stats` does this, with float64 accumulators.
* **one pass, Welford's update** (:func:`welford_stats`): keep the running mean ``M`` and the running
  sum of squared deviations ``S`` and update them with each new value :cite:p:`welford1962note`.
  It never forms ``mean**2``, so it avoids the cancellation while reading the data once.

:func:`merge_moments` combines the ``(count, mean, S)`` of two disjoint parts exactly
:cite:p:`chan1983algorithms`: the way to pool statistics computed in parallel (e.g. per device).

Every function computes in the dtype of its input (float32 input: float32 arithmetic), so that the
differences between the methods show at the precision the data is stored in.
"""
import numbers

import numpy as np

from ._validate import check_array

__all__ = ["merge_moments", "one_pass_stats", "welford_stats"]


def _check_samples(x):
    check_array(x, "x", min_ndim=1)
    if x.shape[0] < 1:
        raise ValueError(f"x must have at least one sample along axis 0, got shape {x.shape}")
    return x


def one_pass_stats(x):
    """Mean and biased variance over axis 0 by the textbook formula ``E[x**2] - E[x]**2`` (unstable).

    Kept for demonstrations of catastrophic cancellation; never use it for real work.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, *rest)
        Floating-point samples along axis 0.

    Returns
    -------
    mean : numpy.ndarray, shape rest, dtype of x
    var : numpy.ndarray, shape rest, dtype of x
        ``mean(x**2) - mean(x)**2``, accumulated in x's dtype; it can come out negative.
    """
    _check_samples(x)
    mean = x.mean(axis=0, dtype=x.dtype)
    mean_sq = np.square(x).mean(axis=0, dtype=x.dtype)
    return mean, mean_sq - np.square(mean)


def welford_stats(x):
    """Mean and biased variance over axis 0 in one pass with Welford's update, in x's dtype.

    For ``k = 1, ..., N``::

        delta = x[k] - M
        M     = M + delta / k
        S     = S + delta * (x[k] - M)      # uses the updated M

    and finally ``var = S / N``. Each step adds a non-negative amount to ``S`` (up to rounding), so
    the variance cannot come out negative.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, *rest)
        Floating-point samples along axis 0 (every other axis is an independent channel).

    Returns
    -------
    mean : numpy.ndarray, shape rest, dtype of x
    var : numpy.ndarray, shape rest, dtype of x
    """
    _check_samples(x)
    dt = x.dtype.type
    mean = np.zeros(x.shape[1:], dtype=x.dtype)
    s = np.zeros(x.shape[1:], dtype=x.dtype)
    for k, row in enumerate(x, start=1):
        delta = row - mean
        mean += delta / dt(k)
        s += delta * (row - mean)
    return mean, s / dt(len(x))


def _check_count(n, name):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    return int(n)


def merge_moments(a, b):
    """Combine the statistics of two disjoint parts of a data set (Chan, Golub and LeVeque).

    With ``delta = mean_b - mean_a`` and ``n = n_a + n_b``::

        mean = mean_a + delta * n_b / n
        S    = S_a + S_b + delta**2 * n_a * n_b / n

    Parameters
    ----------
    a, b : tuple (n, mean, S)
        ``n``: number of samples (int >= 1); ``mean``: their mean; ``S``: their sum of squared
        deviations from that mean (``n * biased variance``). ``mean`` and ``S`` are floats or arrays of
        one shape (independent channels).

    Returns
    -------
    tuple (n, mean, S)
        The statistics of the union; the biased variance is ``S / n``.
    """
    try:
        (n_a, mean_a, s_a), (n_b, mean_b, s_b) = a, b
    except (TypeError, ValueError):
        raise ValueError("a and b must each be a tuple (n, mean, S)") from None
    n_a, n_b = _check_count(n_a, "n of a"), _check_count(n_b, "n of b")
    mean_a, mean_b, s_a, s_b = (np.asarray(v) for v in (mean_a, mean_b, s_a, s_b))
    shapes = {v.shape for v in (mean_a, mean_b, s_a, s_b)}
    if len(shapes) != 1:
        raise ValueError(f"mean and S of a and b must all have one shape, got shapes {sorted(shapes)}")
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * (n_b / n), s_a + s_b + np.square(delta) * (n_a * n_b / n)
