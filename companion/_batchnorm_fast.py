"""Private: batch normalization's fast kernel, kept apart from the readable :mod:`companion.batchnorm`.

(As CS231n keeps ``fast_layers.py`` apart from ``layers.py``.)  BN is memory-bound: each step does a
multiply or an add per value, so its time is the bytes it moves, not the arithmetic.  The readable
version makes one full pass over memory per step (``x - mean``, ``* inv_std``, ``* weight``,
``+ bias``, ...), about 22 passes of 4 bytes per value for forward + backward in float32.  This kernel
computes the same steps, in the same order and with the same roundings, but **blocked**: the input is
viewed as rows ``(N * C, M)`` (one row per sample and channel, ``M`` spatial positions, contiguous),
cut into blocks of about :data:`BLOCK` values that fit in the CPU's L2 cache, and every step of a
pass runs on one block before the next block is read.  Only the first read and the last write of a
block reach main memory:

    ==================  ==========================================  ==========================
    pass                per block (rows r0:r1)                       memory traffic
    ==================  ==========================================  ==========================
    forward 1           row sums of x                               read x
    forward 2           xc = x - mean; row sums of xc * xc           read x, write xc
    forward 3           xhat = xc * inv_std (in place); y = xhat     read and write xhat,
                        * w + b                                      write y
    backward 1          row sums of dy * xhat and of dy              read dy, xhat
    backward 2          dx = (dy - (db + xhat * dw) / m) * scale     read dy, xhat, write dx
    eval                y = (x - mean) * (inv_std * w) + b           read x, write y
    ==================  ==========================================  ==========================

That is 11 array passes for training (forward + backward) instead of about 22, and 2 for eval instead
of 8.  (Forward 2 could keep ``xc`` in a cache-sized scratch block and forward 3 recompute it from x,
which saves a write and a read of a full array but costs one more operation per value; on a machine
whose last-level cache holds the whole tensor the operation costs more than the bytes, so ``xc`` is
kept.)  Row sums run along contiguous memory (NumPy's pairwise summation, ``einsum``'s vectorized dot
product), and the ``N`` partial sums of a channel are then added in float64, exactly as before
blocking, so the results do not depend on the block size.

The tests check this kernel against the generic kernel of :mod:`companion._standardize`, against the
node-by-node :mod:`companion.batchnorm_graph` and against PyTorch.  Inputs are assumed validated.
"""
import numpy as np

from ._standardize import compute_dtype

#: Values per block: 2**16 float32 values are 256 KiB, so a block of x, one of xhat and one of y fit
#: together in a 1 MiB L2 cache.
BLOCK = 1 << 16


def as_rows(a):
    """View ``(N, C, *spatial)`` (or ``(N, C)``) as rows ``(N * C, M)``; a copy only if ``a`` is not contiguous."""
    return a.reshape(a.shape[0] * a.shape[1], -1)


def _blocks(rows):
    """Slices of about :data:`BLOCK` values over the rows of a ``(R, M)`` array."""
    r, m = rows.shape
    step = max(1, BLOCK // m)
    return [slice(i, min(i + step, r)) for i in range(0, r, step)]


def _row_col(v, n, dtype):
    """A per-channel ``(C,)`` vector repeated for the ``N`` samples, as a ``(N * C, 1)`` column of ``dtype``."""
    return np.tile(np.asarray(v, dtype=dtype), n).reshape(-1, 1)


def _channel_total(partial, n):
    """Add the ``N`` per-row partial sums ``(N * C,)`` of each channel in float64; returns ``(C,)``."""
    return partial.reshape(n, -1).sum(axis=0, dtype=np.float64)


def _in_cdt(block, cdt, scratch):
    """``block`` in the compute dtype: itself, or converted into ``scratch`` (float16 input)."""
    if block.dtype == cdt:
        return block
    out = scratch[: block.shape[0]]
    out[...] = block
    return out


def moments(x, xc_rows=None):
    """Per-channel mean and biased variance of ``x``, in two passes.

    ``x - mean`` goes into a cache-sized scratch block (no full-size temporary), or, if ``xc_rows`` (an
    ``(N * C, M)`` array of the compute dtype) is given, into it, for the caller to reuse.

    Returns
    -------
    mean, var : numpy.ndarray, shape (C,), compute dtype
    """
    cdt = compute_dtype(x.dtype)
    n, c = x.shape[:2]
    rows = as_rows(x)
    m = n * rows.shape[1]
    blocks = _blocks(rows)
    scratch = np.empty((blocks[0].stop - blocks[0].start, rows.shape[1]), cdt)
    sums = np.empty(rows.shape[0], cdt)
    for b in blocks:  # pass 1: the mean
        np.sum(_in_cdt(rows[b], cdt, scratch), axis=1, dtype=cdt, out=sums[b])
    mean = (_channel_total(sums, n) / m).astype(cdt)
    mean_col = _row_col(mean, n, cdt)
    for b in blocks:  # pass 2: the mean squared deviation
        xc = scratch[: b.stop - b.start] if xc_rows is None else xc_rows[b]
        np.subtract(rows[b], mean_col[b], out=xc, dtype=cdt)
        sums[b] = np.einsum("rm,rm->r", xc, xc)
    var = (_channel_total(sums, n) / m).astype(cdt)
    return mean, var


def inv_std(var, eps, cdt):
    """``1 / sqrt(var + eps)`` evaluated in float64, returned in the compute dtype."""
    return (1.0 / np.sqrt(np.asarray(var).astype(np.float64) + eps)).astype(cdt)


def _normalize(x, mean, istd, weight, bias, xhat_rows):
    """``y = (x - mean) * istd * weight + bias``, blocked.

    With ``xhat_rows`` (training: backward needs xhat), which must already hold ``x - mean``, it scales
    them in place into ``xhat = (x - mean) * istd`` and computes ``y = xhat * weight + bias``.  Without
    (eval) it folds ``istd * weight`` into one per-channel scale,
    ``y = (x - mean) * scale + bias``: three operations per value instead of four, and still centred
    first (never ``x * scale + (bias - mean * scale)``, which cancels catastrophically when the mean is
    large against the standard deviation).
    """
    cdt = istd.dtype
    n = x.shape[0]
    rows = as_rows(x)
    y = np.empty(x.shape, x.dtype)
    y_rows = as_rows(y)
    if xhat_rows is None and weight is not None:
        istd, weight = istd * np.asarray(weight).astype(cdt), None
    mean_col, istd_col = _row_col(mean, n, cdt), _row_col(istd, n, cdt)
    w_col = None if weight is None else _row_col(weight, n, cdt)
    b_col = None if bias is None else _row_col(bias, n, cdt)
    blocks = _blocks(rows)
    direct = y.dtype == cdt  # else (float16) y is computed in a scratch block and converted
    scratch = np.empty((blocks[0].stop - blocks[0].start, rows.shape[1]), cdt)
    for b in blocks:
        out = y_rows[b] if direct else scratch[: b.stop - b.start]
        if xhat_rows is None:
            h = out
            np.subtract(rows[b], mean_col[b], out=h, dtype=cdt)
        else:
            h = xhat_rows[b]  # already x - mean
        h *= istd_col[b]  # xhat (training), or (x - mean) * scale (eval)
        if w_col is not None:
            np.multiply(h, w_col[b], out=out)
        elif out is not h:
            out[...] = h
        if b_col is not None:
            out += b_col[b]
        if not direct:
            y_rows[b] = out
    return y


def train_forward(x, weight, bias, eps):
    """Training-mode forward: batch statistics, normalization and the affine map.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        ``(xhat, inv_std, weight)``: xhat of the shape of x in the compute dtype, inv_std of shape (C,).
    mean, var : numpy.ndarray, shape (C,), compute dtype
        The batch statistics (for the running averages).
    """
    cdt = compute_dtype(x.dtype)
    xhat = np.empty(x.shape, cdt)
    mean, var = moments(x, as_rows(xhat))  # xhat holds x - mean after this
    istd = inv_std(var, eps, cdt)
    y = _normalize(x, mean, istd, weight, bias, as_rows(xhat))
    return y, (xhat, istd, weight), mean, var


def normalize_with(x, mean, var, weight, bias, eps):
    """Training-mode normalization of ``x`` with statistics computed elsewhere (e.g. pooled over processes).

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
    mean, var : array_like, shape (C,)
        The statistics to normalize with (biased variance).
    weight, bias : numpy.ndarray of shape (C,), or None
    eps : float

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        ``(xhat, inv_std, weight)``, as :func:`train_forward`'s.
    """
    cdt = compute_dtype(x.dtype)
    mean = np.asarray(mean).astype(cdt)
    xhat = np.empty(x.shape, cdt)
    xhat_rows = as_rows(xhat)
    np.subtract(as_rows(x), _row_col(mean, x.shape[0], cdt), out=xhat_rows, dtype=cdt)
    istd = inv_std(var, eps, cdt)
    return _normalize(x, mean, istd, weight, bias, xhat_rows), (xhat, istd, weight)


def eval_forward(x, mean, var, weight, bias, eps):
    """Eval-mode forward with the running statistics ``mean``, ``var``: one read of x, one write of y.

    Returns ``(y, cache)`` with ``cache = (x, mean, inv_std, weight)``: :func:`eval_backward` recomputes
    ``xhat`` from x only if a gradient is asked for.
    """
    cdt = compute_dtype(x.dtype)
    istd = inv_std(var, eps, cdt)
    mean = np.asarray(mean).astype(cdt)
    return _normalize(x, mean, istd, weight, bias, None), (x, mean, istd, weight)


def _param_sums(g_rows, xhat_rows, n, cdt):
    """Per-channel ``(sum(dy * xhat), sum(dy))`` in float64, one blocked pass over dy and xhat."""
    r, m = g_rows.shape
    dots, sums = np.empty(r, cdt), np.empty(r, cdt)
    blocks = _blocks(g_rows)
    scratch = np.empty((blocks[0].stop - blocks[0].start, m), cdt)
    for b in blocks:
        g = _in_cdt(g_rows[b], cdt, scratch)
        dots[b] = np.einsum("rm,rm->r", g, xhat_rows[b])
        np.sum(g, axis=1, dtype=cdt, out=sums[b])
    return _channel_total(dots, n), _channel_total(sums, n)


def param_sums(dy, xhat):
    """Per-channel ``(sum(dy * xhat), sum(dy))`` in float64 (the unscaled ``dweight``, ``dbias``).

    ``xhat`` is the cache's array (compute dtype); ``dy`` has its shape.
    """
    return _param_sums(as_rows(dy), as_rows(xhat), xhat.shape[0], xhat.dtype)


def input_grad(dy, cache, dweight, dbias, m):
    """``dx = scale * (dy - (dbias + xhat * dweight) / m)`` for statistics taken over ``m`` values per channel.

    Parameters
    ----------
    dy : numpy.ndarray, shape of the cache's xhat
    cache : tuple
        ``(xhat, inv_std, weight)`` from :func:`train_forward` or :func:`normalize_with`.
    dweight, dbias : numpy.ndarray, shape (C,), float64
        Parameter gradients over all the values the statistics were taken over.
    m : int
        Number of values per channel the statistics were taken over (this batch, or all processes').

    Returns
    -------
    numpy.ndarray, shape and dtype of dy
    """
    xhat, istd, weight = cache
    cdt = xhat.dtype
    n = xhat.shape[0]
    xhat_rows, g_rows = as_rows(xhat), as_rows(dy)
    scale = istd if weight is None else istd * weight.astype(cdt)
    k_w, k_b, k_s = (_row_col(v, n, cdt) for v in (dweight / m, dbias / m, scale))
    dx = np.empty(dy.shape, cdt)
    dx_rows = as_rows(dx)
    blocks = _blocks(xhat_rows)
    scratch = np.empty((blocks[0].stop - blocks[0].start, xhat_rows.shape[1]), cdt)
    for b in blocks:
        d = dx_rows[b]
        np.multiply(xhat_rows[b], k_w[b], out=d)
        d += k_b[b]
        np.subtract(_in_cdt(g_rows[b], cdt, scratch), d, out=d)
        d *= k_s[b]
    return dx.astype(dy.dtype, copy=False)


def backward(dy, cache):
    """Closed-form training-mode backward: ``dx = scale * (dy - (dbias + xhat * dweight) / m)``, blocked.

    Returns ``(dx, dweight, dbias)``; ``dx`` has the shape and dtype of ``dy``.
    """
    xhat, _, weight = cache
    dweight, dbias = param_sums(dy, xhat)
    dx = input_grad(dy, cache, dweight, dbias, xhat.size // xhat.shape[1])
    pdt = xhat.dtype if weight is None else weight.dtype
    return dx, dweight.astype(pdt), dbias.astype(pdt)


def eval_backward(dy, cache, param_dtype):
    """Backward after an eval-mode forward: the running statistics are constants, ``dx = dy * scale``.

    Returns ``(dx, dweight, dbias)``; the parameter gradients in ``param_dtype``.
    """
    x, mean, istd, weight = cache
    cdt = istd.dtype
    n = x.shape[0]
    xhat = np.subtract(as_rows(x), _row_col(mean, n, cdt), dtype=cdt)
    xhat *= _row_col(istd, n, cdt)
    g = as_rows(dy).astype(cdt, copy=False)
    scale = istd if weight is None else istd * weight.astype(cdt)
    dx = (g * _row_col(scale, n, cdt)).reshape(dy.shape).astype(dy.dtype, copy=False)
    dw, db = (v.astype(param_dtype) for v in _param_sums(g, xhat, n, cdt))
    return dx, dw, db
