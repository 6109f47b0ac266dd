"""Private: batch normalization's fast ``(N, C, M)`` kernel, kept apart from the readable :mod:`companion.batchnorm`.

(As CS231n keeps ``fast_layers.py`` apart from ``layers.py``.)  The input is viewed as ``(N, C, M)``
with ``M`` the number of spatial positions, so that every per-channel reduction first runs along
contiguous memory (NumPy's pairwise summation for sums, ``einsum``'s vectorized loop for dot
products; both fast and accurate in float32), and only the ``N`` partial results of a channel are
then added in float64.  The forward pass allocates one full-size array (``x - mean``, scaled in
place into ``xhat``) plus the output; the backward pass allocates only ``dx``.

The tests check this kernel against the generic kernel of :mod:`companion._standardize`, against the
node-by-node :mod:`companion.batchnorm_graph` and against PyTorch.  Inputs are assumed validated.
"""
import numpy as np

from ._standardize import compute_dtype


def as_ncm(x):
    """View ``(N, C, *spatial)`` (or ``(N, C)``) as ``(N, C, M)``; a copy only if ``x`` is not contiguous."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def col(v, dtype):
    """A ``(C,)`` vector as a ``(C, 1)`` column of ``dtype``: it broadcasts against ``(N, C, M)``."""
    return np.asarray(v, dtype=dtype).reshape(-1, 1)


def channel_sum(a, dtype=None):
    """Per-channel sum of an ``(N, C, M)`` array, as float64 of shape ``(C,)``.

    The sums over ``M`` run along contiguous memory in ``dtype`` (default: ``a``'s dtype) with
    pairwise summation; the ``N`` partial sums of each channel are added in float64.
    """
    return a.sum(axis=2, dtype=dtype).sum(axis=0, dtype=np.float64)


def channel_dot(a, b):
    """Per-channel ``sum(a * b)`` of two ``(N, C, M)`` arrays, float64 ``(C,)``, without a temporary product."""
    return np.einsum("ncm,ncm->nc", a, b).sum(axis=0, dtype=np.float64)


def centered_moments(x):
    """Two-pass batch statistics that also return the centred input for reuse.

    Returns
    -------
    xc : numpy.ndarray, shape (N, C, M), compute dtype
        A new array ``x - mean`` (the caller may overwrite it).
    mean, var : numpy.ndarray, shape (C,), compute dtype
        Per-channel mean and biased variance ``mean(xc**2)``.
    """
    cdt = compute_dtype(x.dtype)
    x3 = as_ncm(x)
    m = x3.shape[0] * x3.shape[2]
    mean = (channel_sum(x3, cdt) / m).astype(cdt)  # pass 1
    xc = np.subtract(x3, col(mean, cdt), dtype=cdt)  # pass 2: centre ...
    var = (channel_dot(xc, xc) / m).astype(cdt)  # ... then the mean squared deviation
    return xc, mean, var


def centered(x, mean):
    """``x - mean`` as a new ``(N, C, M)`` array in the compute dtype (eval mode: ``mean`` is the running mean)."""
    cdt = compute_dtype(x.dtype)
    return np.subtract(as_ncm(x), col(mean, cdt), dtype=cdt)


def normalize(xc, var, weight, bias, eps, shape, dtype):
    """Scale the centred ``xc`` (N, C, M) in place into ``xhat``, then apply the affine map.

    ``xc`` must be a fresh array owned by the caller. Returns ``(y, cache)`` with ``y`` of
    ``shape`` and ``dtype`` and ``cache = (xhat, inv_std, weight)``.
    """
    cdt = xc.dtype
    inv_std = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(cdt)
    xhat = xc
    xhat *= col(inv_std, cdt)  # in place: xc is not needed any more
    y = xhat * col(weight, cdt) if weight is not None else xhat.copy()
    if bias is not None:
        y += col(bias, cdt)
    return y.reshape(shape).astype(dtype, copy=False), (xhat.reshape(shape), inv_std, weight)


def param_grads(dy3, xhat3):
    """``(sum(dy * xhat), sum(dy))`` per channel of two ``(N, C, M)`` arrays, as float64."""
    return channel_dot(dy3, xhat3), channel_sum(dy3)


def backward(dy, cache):
    """Closed-form training-mode backward: ``dx = scale * (dy - (dbias + xhat * dweight) / m)``, one buffer.

    Returns ``(dx, dweight, dbias)``; ``dx`` has the shape and dtype of ``dy``.
    """
    xhat, inv_std, weight = cache
    cdt = xhat.dtype
    xhat3, g = as_ncm(xhat), as_ncm(dy).astype(cdt, copy=False)
    m = xhat3.shape[0] * xhat3.shape[2]
    dweight, dbias = param_grads(g, xhat3)
    scale = inv_std if weight is None else inv_std * weight.astype(cdt)
    dx = xhat3 * col(dweight / m, cdt)
    dx += col(dbias / m, cdt)
    np.subtract(g, dx, out=dx)
    dx *= col(scale, cdt)
    pdt = cdt if weight is None else weight.dtype
    return dx.reshape(dy.shape).astype(dy.dtype, copy=False), dweight.astype(pdt), dbias.astype(pdt)


def eval_backward(dy, cache, param_dtype):
    """Backward after an eval-mode forward: the running statistics are constants, ``dx = dy * scale``.

    Returns ``(dx, dweight, dbias)``; the parameter gradients in ``param_dtype``.
    """
    xhat, inv_std, weight = cache
    cdt = xhat.dtype
    g = as_ncm(dy).astype(cdt, copy=False)
    scale = inv_std if weight is None else inv_std * weight.astype(cdt)
    dx = (g * col(scale, cdt)).reshape(dy.shape).astype(dy.dtype, copy=False)
    dw, db = (v.astype(param_dtype) for v in param_grads(g, as_ncm(xhat)))
    return dx, dw, db
