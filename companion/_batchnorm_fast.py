"""Private: batch normalization's fast kernel, kept apart from the readable :mod:`companion.batchnorm`.

(As CS231n keeps ``fast_layers.py`` apart from ``layers.py``.)  BN is memory-bound: each step does a
multiply or an add per value, so its time is the bytes it moves, not the arithmetic.  The readable
version makes one full pass over memory per step (``x - mean``, ``* inv_std``, ``* weight``,
``+ bias``, ...), about 22 passes of 4 bytes per value for forward + backward in float32.  This kernel
computes the same steps, in the same order and with the same roundings, but **blocked**: the input is
viewed as ``(N, C, M)`` (``M`` spatial positions, contiguous), cut into blocks of a few samples (or,
for large samples, of a few channels of one sample) of about :data:`BLOCK` values that fit in the
CPU's L2 cache, and every step of a pass runs on one block before the next block is read.  Only the first read and the last write of a
block reach main memory:

    ==================  ==========================================  ==========================
    pass                per block                                    memory traffic
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
of 8.  Inside a block, every per-channel operand (``mean``, ``inv_std``, ``w``, ``b``, ...) is a
block-sized plane rather than a broadcast ``(C, 1)`` column (see :func:`_tiles`): NumPy's loops over two
contiguous operands are several times faster than its broadcasting loops, and with them the operations
on a cached block cost less than the block's trip to and from memory, which is what blocking is for.  (Forward 2 could keep ``xc`` in a cache-sized scratch block and forward 3 recompute it from x,
which saves a write and a read of a full array but costs one more operation per value; on a machine
whose last-level cache holds the whole tensor the operation costs more than the bytes, so ``xc`` is
kept.)  Sums over ``M`` run along contiguous memory (NumPy's pairwise summation, ``einsum``'s vectorized dot
product), and the ``N`` partial sums of a channel are then added in float64, exactly as before
blocking, so the results do not depend on the block size.

The tests check this kernel against the generic kernel of :mod:`companion._standardize`, against the
node-by-node :mod:`companion.batchnorm_graph` and against PyTorch.  Inputs are assumed validated.
"""
import numpy as np

from ._standardize import compute_dtype

#: Values per block: 2**16 float32 values are 256 KiB.  A pass touches at most six block-sized arrays
#: together (three blocks of data and three per-channel planes, see :func:`_tiles`), 1.5 MiB, which
#: fits in a 2 MiB L2 cache (half the block size was measured no faster on such a machine).
BLOCK = 1 << 16


def as_ncm(a):
    """View ``(N, C, *spatial)`` (or ``(N, C)``) as ``(N, C, M)``; a copy only if ``a`` is not contiguous."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _blocks(shape):
    """``(samples, channels)`` slice pairs of about :data:`BLOCK` values over an ``(N, C, M)`` array."""
    n, c, m = shape
    if c * m <= BLOCK:  # whole samples
        step = BLOCK // (c * m)
        return [(slice(i, min(i + step, n)), slice(None)) for i in range(0, n, step)]
    step = max(1, BLOCK // m)  # a few channels of one sample
    return [(slice(i, i + 1), slice(j, min(j + step, c))) for i in range(n) for j in range(0, c, step)]


def _tiles(shape, vectors, cdt):
    """The blocks of :func:`_blocks`, each with per-channel ``vectors`` laid out in the block's own shape.

    Yields ``(ns, cs, planes)``: the block is ``a[ns, cs]`` of an ``(N, C, M)`` array ``a``, and
    ``planes[i]`` broadcasts against it and holds ``vectors[i][c]`` at every value of channel ``c``.
    NumPy runs ``block * plane`` on two contiguous operands of one shape at full vector speed, while
    ``block * column``, which broadcasts a ``(C, 1)`` column along the rows, was measured two to three
    times slower per value (and far slower when rows are short).  So when a layout is used by more than
    one block the vectors are expanded once into block-sized planes, which stay in cache with the block;
    a single block gets the ``(C, 1)`` columns.  Blocks of whole samples share one layout; blocks of a
    few channels of one sample share it along the batch, so they come channel group by channel group.
    The arithmetic is the same either way, so the results are too.
    """
    n, c, m = shape
    cols = [_col(v, cdt) for v in vectors]
    if c * m <= BLOCK:  # whole samples
        step = BLOCK // (c * m)
        if n <= step:
            yield slice(None), slice(None), cols
            return
        planes = [np.empty((step, c, m), cdt) for _ in cols]
        for plane, col in zip(planes, cols):
            plane[...] = col
        for i in range(0, n, step):
            k = min(step, n - i)
            yield slice(i, i + k), slice(None), [plane[:k] for plane in planes]
        return
    step = max(1, BLOCK // m)  # a few channels of one sample
    buffers = [np.empty((1, min(step, c), m), cdt) for _ in cols] if n > 1 else None
    for j in range(0, c, step):
        cs = slice(j, min(j + step, c))
        planes = [col[cs] for col in cols]
        if buffers is not None:
            planes = [buf[:, : cs.stop - j] for buf in buffers]
            for plane, col in zip(planes, cols):
                plane[...] = col[cs]
        for i in range(n):
            yield slice(i, i + 1), cs, planes


def _scratch(blocks, shape, cdt):
    """A buffer of the compute dtype as large as the first (largest) block of an ``(N, C, M)`` array."""
    ns, cs = blocks[0]
    return np.empty((ns.stop - ns.start, len(range(shape[1])[cs]), shape[2]), cdt)


def _col(v, dtype):
    """A ``(C,)`` vector as a ``(C, 1)`` column of ``dtype``: it broadcasts against ``(N, C, M)``."""
    return np.asarray(v).astype(dtype, copy=False).reshape(-1, 1)


def _in_cdt(block, cdt, scratch):
    """``block`` in the compute dtype: itself, or converted into ``scratch`` (float16 input)."""
    if block.dtype == cdt:
        return block
    out = scratch[: block.shape[0], : block.shape[1]]
    out[...] = block
    return out


def moments(x, xc=None):
    """Per-channel mean and biased variance of ``x``, in two passes.

    ``x - mean`` goes into a cache-sized scratch block (no full-size temporary), or, if ``xc`` (an
    ``(N, C, M)`` array of the compute dtype) is given, into it, for the caller to reuse.

    Returns
    -------
    mean, var : numpy.ndarray, shape (C,), compute dtype
    """
    cdt = compute_dtype(x.dtype)
    x3 = as_ncm(x)
    n, c, m_pos = x3.shape
    m = n * m_pos
    blocks = _blocks(x3.shape)
    scratch = _scratch(blocks, x3.shape, cdt) if xc is None or x3.dtype != cdt else None
    sums = np.empty((n, c), cdt)
    for ns, cs in blocks:  # pass 1: the mean
        np.sum(_in_cdt(x3[ns, cs], cdt, scratch), axis=2, dtype=cdt, out=sums[ns, cs])
    mean = (sums.sum(axis=0, dtype=np.float64) / m).astype(cdt)
    for ns, cs, (mean_p,) in _tiles(x3.shape, [mean], cdt):  # pass 2: the mean squared deviation
        blk = x3[ns, cs]
        d = xc[ns, cs] if xc is not None else scratch[: blk.shape[0], : blk.shape[1]]
        np.subtract(blk, mean_p, out=d, dtype=cdt)
        sums[ns, cs] = np.einsum("ncm,ncm->nc", d, d)
    var = (sums.sum(axis=0, dtype=np.float64) / m).astype(cdt)
    return mean, var


def inv_std(var, eps, cdt):
    """``1 / sqrt(var + eps)`` evaluated in float64, returned in the compute dtype."""
    return (1.0 / np.sqrt(np.asarray(var).astype(np.float64) + eps)).astype(cdt)


def _normalize(x, mean, istd, weight, bias, xhat):
    """``y = (x - mean) * istd * weight + bias``, blocked.

    With ``xhat`` (training: backward needs it), an ``(N, C, M)`` array that must already hold
    ``x - mean``, it scales it in place into ``xhat = (x - mean) * istd`` and computes
    ``y = xhat * weight + bias``.  Without (eval) it folds ``istd * weight`` into one per-channel scale,
    ``y = (x - mean) * scale + bias``: three operations per value instead of four, and still centred
    first (never ``x * scale + (bias - mean * scale)``, which cancels catastrophically when the mean is
    large against the standard deviation).
    """
    cdt = istd.dtype
    x3 = as_ncm(x)
    y = np.empty(x.shape, x.dtype)
    y3 = as_ncm(y)
    if xhat is None and weight is not None:
        istd, weight = istd * np.asarray(weight).astype(cdt), None
    vectors = ([mean] if xhat is None else []) + [istd] + [v for v in (weight, bias) if v is not None]
    direct = y.dtype == cdt  # else (float16) y is computed in a scratch block and converted
    scratch = None if direct else _scratch(_blocks(x3.shape), x3.shape, cdt)
    for ns, cs, planes in _tiles(x3.shape, vectors, cdt):
        planes = iter(planes)
        blk = y3[ns, cs]
        out = blk if direct else scratch[: blk.shape[0], : blk.shape[1]]
        if xhat is None:
            h = out
            np.subtract(x3[ns, cs], next(planes), out=h, dtype=cdt)
        else:
            h = xhat[ns, cs]  # already x - mean
        h *= next(planes)  # xhat (training), or (x - mean) * scale (eval)
        if weight is not None:
            np.multiply(h, next(planes), out=out)
        elif out is not h:
            out[...] = h
        if bias is not None:
            out += next(planes)
        if not direct:
            blk[...] = out
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
    mean, var = moments(x, as_ncm(xhat))  # xhat holds x - mean after this
    istd = inv_std(var, eps, cdt)
    y = _normalize(x, mean, istd, weight, bias, as_ncm(xhat))
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
    x3, xhat3 = as_ncm(x), as_ncm(xhat)
    for ns, cs, (mean_p,) in _tiles(x3.shape, [mean], cdt):
        np.subtract(x3[ns, cs], mean_p, out=xhat3[ns, cs], dtype=cdt)
    istd = inv_std(var, eps, cdt)
    return _normalize(x, mean, istd, weight, bias, as_ncm(xhat)), (xhat, istd, weight)


def eval_forward(x, mean, var, weight, bias, eps):
    """Eval-mode forward with the running statistics ``mean``, ``var``: one read of x, one write of y.

    Returns ``(y, cache)`` with ``cache = (x, mean, inv_std, weight)``: :func:`eval_backward` recomputes
    ``xhat`` from x only if a gradient is asked for.
    """
    cdt = compute_dtype(x.dtype)
    istd = inv_std(var, eps, cdt)
    mean = np.asarray(mean).astype(cdt)
    return _normalize(x, mean, istd, weight, bias, None), (x, mean, istd, weight)


def _param_sums(g3, xhat3, cdt):
    """Per-channel ``(sum(dy * xhat), sum(dy))`` in float64, one blocked pass over dy and xhat."""
    n, c, m = g3.shape
    dots, sums = np.empty((n, c), cdt), np.empty((n, c), cdt)
    blocks = _blocks(g3.shape)
    scratch = None if g3.dtype == cdt else _scratch(blocks, g3.shape, cdt)
    for ns, cs in blocks:
        g = _in_cdt(g3[ns, cs], cdt, scratch)
        dots[ns, cs] = np.einsum("ncm,ncm->nc", g, xhat3[ns, cs])
        np.sum(g, axis=2, dtype=cdt, out=sums[ns, cs])
    return dots.sum(axis=0, dtype=np.float64), sums.sum(axis=0, dtype=np.float64)


def param_sums(dy, xhat):
    """Per-channel ``(sum(dy * xhat), sum(dy))`` in float64: the unscaled ``dweight`` and ``dbias``.

    ``xhat`` is the cache's array (compute dtype); ``dy`` has its shape.
    """
    return _param_sums(as_ncm(dy), as_ncm(xhat), xhat.dtype)


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
        Number of values per channel the statistics were taken over (this batch, or every process's).

    Returns
    -------
    numpy.ndarray, shape and dtype of dy
    """
    xhat, istd, weight = cache
    cdt = xhat.dtype
    xhat3, g3 = as_ncm(xhat), as_ncm(dy)
    scale = istd if weight is None else istd * weight.astype(cdt)
    dx = np.empty(dy.shape, cdt)
    dx3 = as_ncm(dx)
    scratch = None if g3.dtype == cdt else _scratch(_blocks(xhat3.shape), xhat3.shape, cdt)
    for ns, cs, (k_w, k_b, k_s) in _tiles(xhat3.shape, [dweight / m, dbias / m, scale], cdt):
        d = dx3[ns, cs]
        np.multiply(xhat3[ns, cs], k_w, out=d)
        d += k_b
        np.subtract(_in_cdt(g3[ns, cs], cdt, scratch), d, out=d)
        d *= k_s
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
    xhat = np.subtract(as_ncm(x), _col(mean, cdt), dtype=cdt)
    xhat *= _col(istd, cdt)
    g = as_ncm(dy).astype(cdt, copy=False)
    scale = istd if weight is None else istd * weight.astype(cdt)
    dx = (g * _col(scale, cdt)).reshape(dy.shape).astype(dy.dtype, copy=False)
    dw, db = (v.astype(param_dtype) for v in _param_sums(g, xhat, cdt))
    return dx, dw, db
