"""Numerical gradient checking (centred differences) and the relative-error metric."""
import numpy as np

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(f, x, df=None, h=1e-5, order=2):
    """Centred-difference gradient of ``f`` at ``x``.

    If ``df`` is None, ``f(x)`` must return a scalar and the result is ``d f / d x``.
    Otherwise ``f(x)`` returns an array of the shape of ``df`` and the result is the
    gradient of ``sum(f(x) * df)``, i.e. the vector-Jacobian product a backward pass computes.

    Parameters
    ----------
    f : callable
        Function of ``x`` alone (close over the other arguments).
    x : numpy.ndarray of float64
        Point of evaluation; it is perturbed in place, one entry at a time, and restored.
    df : numpy.ndarray or None
        Upstream gradient.
    h : float
        Step size.
    order : {2, 4}
        2: the classic ``(f(x + h) - f(x - h)) / (2 h)``, error O(h**2).
        4: the five-point centred stencil
        ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / (12 h)``, error O(h**4), which allows a
        larger ``h`` (1e-3) and so loses less to rounding; use it to verify gradients to ~1e-10.

    Returns
    -------
    grad : numpy.ndarray, shape of x
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("x must be a float64 numpy.ndarray (finite differences need double precision)")
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")

    def value_at(i, step):
        old = x[i]
        x[i] = old + step
        try:
            out = np.asarray(f(x), dtype=np.float64).copy()
        finally:
            x[i] = old
        return out if df is None else np.sum(out * df)

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d1 = value_at(i, h) - value_at(i, -h)
        if order == 2:
            grad[i] = d1 / (2 * h)
        else:
            d2 = value_at(i, 2 * h) - value_at(i, -2 * h)
            grad[i] = (8 * d1 - d2) / (12 * h)
    return grad


def rel_error(a, b):
    """Largest element-wise relative error ``|a - b| / max(1e-8, |a| + |b|)``.

    Parameters
    ----------
    a, b : array_like of the same shape

    Returns
    -------
    float
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
