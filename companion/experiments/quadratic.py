"""Gradient descent on a quadratic: the model problem behind "normalize your inputs".

The loss of linear least squares, and the loss of any smooth model near a minimum, is a quadratic

    f(w) = 1/2 (w - w_star)^T A (w - w_star)          gradient  A (w - w_star)

with ``A`` symmetric positive definite (the Hessian). One gradient-descent step with learning
rate ``lr`` multiplies the error along the eigenvector of eigenvalue ``lam`` by ``1 - lr * lam``,
so descent converges for every starting point exactly when ``lr < 2 / lam_max``, and the
slowest direction (``lam_min``) sets the number of steps. Badly scaled inputs make
``lam_max / lam_min`` (the condition number) large :cite:p:`lecun1998efficient`.
"""
import numbers

import numpy as np

from .._validate import check_array, check_positive_int

__all__ = ["best_lr", "gradient_descent", "max_stable_lr", "quadratic_loss", "steps_to_converge"]


def _check_hessian(A):
    """``A`` must be a square, symmetric, positive-definite float matrix; returns its eigenvalues (ascending)."""
    check_array(A, "A", min_ndim=2)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix of shape (d, d), got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("A must contain only finite values")
    if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * np.abs(A).max()):  # rounding of a rotated matrix
        raise ValueError("A must be symmetric (A == A.T)")
    lam = np.linalg.eigvalsh(A.astype(np.float64))
    if lam[0] <= 0:
        raise ValueError(f"A must be positive definite, got smallest eigenvalue {lam[0]:.3g}")
    return lam


def _check_point(w, name, d):
    """A point ``w`` of shape (d,)."""
    check_array(w, name)
    if w.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) to match A, got {w.shape}")
    return w


def _check_lr(lr):
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a positive real number, got {lr!r}")
    lr = float(lr)
    if not (lr > 0 and np.isfinite(lr)):
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    return lr


def _minimum(w_star, d):
    return np.zeros(d) if w_star is None else _check_point(w_star, "w_star", d).astype(np.float64)


def quadratic_loss(w, A, w_star=None):
    """Value of ``f(w) = 1/2 (w - w_star)^T A (w - w_star)`` at one or many points.

    Parameters
    ----------
    w : numpy.ndarray, shape (..., d)
        Points (any leading shape, e.g. a grid of shape (ny, nx, d) for a contour plot).
    A : numpy.ndarray, shape (d, d)
        Symmetric positive-definite Hessian.
    w_star : numpy.ndarray, shape (d,), optional
        The minimum (default: the origin).

    Returns
    -------
    numpy.ndarray, shape (...)
        ``f`` at each point (a 0-d array for a single point), float64.
    """
    _check_hessian(A)
    d = A.shape[0]
    check_array(w, "w")
    if w.shape[-1] != d:
        raise ValueError(f"w must have last axis of length {d} to match A, got shape {w.shape}")
    e = w.astype(np.float64) - _minimum(w_star, d)
    return 0.5 * np.einsum("...i,ij,...j->...", e, A.astype(np.float64), e)


def gradient_descent(A, w0, lr, steps, w_star=None):
    """Run plain gradient descent ``w <- w - lr * A (w - w_star)`` and return the whole path.

    Parameters
    ----------
    A : numpy.ndarray, shape (d, d)
        Symmetric positive-definite Hessian.
    w0 : numpy.ndarray, shape (d,)
        Starting point.
    lr : float
        Learning rate (> 0).
    steps : int
        Number of steps (>= 1).
    w_star : numpy.ndarray, shape (d,), optional
        The minimum (default: the origin).

    Returns
    -------
    path : numpy.ndarray, shape (steps + 1, d)
        ``path[0] = w0`` and ``path[k]`` is the point after ``k`` steps (float64). A diverging run
        is not stopped: its values grow (and may overflow to inf).
    """
    _check_hessian(A)
    d = A.shape[0]
    _check_point(w0, "w0", d)
    lr = _check_lr(lr)
    steps = check_positive_int(steps, "steps")
    ws = _minimum(w_star, d)
    step_matrix = np.eye(d) - lr * A.astype(np.float64)  # e_{k+1} = (I - lr A) e_k
    path = np.empty((steps + 1, d))
    e = w0.astype(np.float64) - ws
    path[0] = e
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            e = step_matrix @ e
            path[k + 1] = e
    return path + ws


def max_stable_lr(A):
    """The learning rate above which gradient descent diverges: ``2 / lam_max(A)``.

    Descent converges from every start for ``0 < lr < 2 / lam_max``; at ``lr = 2 / lam_max`` the
    steepest direction oscillates with constant amplitude, and above it the error grows.

    Parameters
    ----------
    A : numpy.ndarray, shape (d, d)
        Symmetric positive-definite Hessian.

    Returns
    -------
    float
    """
    return float(2.0 / _check_hessian(A)[-1])


def best_lr(A):
    """The learning rate with the fastest worst-case convergence: ``2 / (lam_min + lam_max)``.

    With it the error shrinks at least by ``(kappa - 1) / (kappa + 1)`` per step, where
    ``kappa = lam_max / lam_min`` is the condition number.

    Parameters
    ----------
    A : numpy.ndarray, shape (d, d), symmetric positive-definite (the Hessian)

    Returns
    -------
    float
    """
    lam = _check_hessian(A)
    return float(2.0 / (lam[0] + lam[-1]))


def steps_to_converge(A, w0, lr, tol=1e-6, max_steps=100_000, w_star=None):
    """Number of gradient-descent steps until ``|w - w_star| <= tol * |w0 - w_star|``.

    Parameters
    ----------
    A, w0, lr
        As in :func:`gradient_descent`: the Hessian (d, d), the starting point (d,), the learning rate (> 0).
    tol : float
        Relative distance to the minimum that counts as converged, in (0, 1).
    max_steps : int
        Give up after this many steps.
    w_star : numpy.ndarray, shape (d,), optional
        The minimum (default: the origin).

    Returns
    -------
    int or None
        The first ``k`` that meets the tolerance (0 if ``w0`` already does), or ``None`` if descent
        diverges or has not converged after ``max_steps`` steps.
    """
    _check_hessian(A)
    d = A.shape[0]
    _check_point(w0, "w0", d)
    lr = _check_lr(lr)
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"tol must be a real number in (0, 1), got {tol!r}")
    max_steps = check_positive_int(max_steps, "max_steps")
    e = w0.astype(np.float64) - _minimum(w_star, d)
    start = np.linalg.norm(e)
    if start == 0:
        return 0
    step_matrix = np.eye(d) - lr * A.astype(np.float64)
    target = tol * start
    for k in range(1, max_steps + 1):
        e = step_matrix @ e
        dist = np.linalg.norm(e)
        if dist <= target:
            return k
        if not np.isfinite(dist) or dist > 1e12 * start:
            return None
    return None
