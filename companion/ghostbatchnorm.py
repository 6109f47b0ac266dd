"""Ghost batch normalization (Hoffer, Hubara & Soudry, 2017): batch norm over virtual sub-batches.

A large batch of ``N`` samples is cut into consecutive *virtual* (ghost) batches of
``virtual_batch_size`` samples (the last one may be smaller), and each is normalized with its own
statistics, exactly as :func:`companion.batch_norm_forward` would normalize it alone. The gradient
of each ghost batch is that ghost batch's BN gradient; ``weight`` and ``bias`` are shared, so their
gradients are summed over the ghost batches.

This is what plain BN does under data parallelism when every device holds ``virtual_batch_size``
samples; Ghost BN reproduces that noise deliberately on one device, to regularize large-batch
training with the statistics of small batches.
"""
import numpy as np

from . import _batchnorm_fast as fast
from ._validate import check_array, check_batch_stats, check_eps, check_param, check_positive_int, check_same_shape

__all__ = ["ghost_batch_norm_backward", "ghost_batch_norm_forward", "ghost_slices"]


def ghost_slices(n, virtual_batch_size):
    """The consecutive slices of ``range(n)`` that form the ghost batches (the last one may be shorter).

    Parameters
    ----------
    n : int
        Batch size.
    virtual_batch_size : int
        Samples per ghost batch (>= 1).

    Returns
    -------
    list of slice
    """
    v = check_positive_int(virtual_batch_size, "virtual_batch_size")
    return [slice(i, min(i + v, n)) for i in range(0, n, v)]


def ghost_batch_norm_forward(x, weight, bias, virtual_batch_size, eps=1e-5):
    """Training-mode batch normalization of each ghost batch of ``x`` with its own statistics.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Floating-point input.
    weight : numpy.ndarray, shape (C,), or None
        Scale gamma shared by the ghost batches; None means 1.
    bias : numpy.ndarray, shape (C,), or None
        Shift beta; None means 0.
    virtual_batch_size : int
        Samples per ghost batch; every ghost batch needs at least two values per channel.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        ``(slices, caches)``: the ghost batches' slices and their :func:`companion.batch_norm_forward` caches.
    """
    check_array(x, "x", min_ndim=2)
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    slices = ghost_slices(x.shape[0], virtual_batch_size)
    y = np.empty_like(x)
    caches = []
    for s in slices:
        part = x[s]
        check_batch_stats(part)
        y[s], cache, _, _ = fast.train_forward(part, weight, bias, eps)
        caches.append(cache)
    return y, (slices, caches)


def ghost_batch_norm_backward(dy, cache):
    """Gradient of :func:`ghost_batch_norm_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Upstream gradient.
    cache : tuple
        The cache returned by :func:`ghost_batch_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        Each ghost batch's batch-norm gradient.
    dweight, dbias : numpy.ndarray, shape (C,)
        Sums over the ghost batches.
    """
    slices, caches = cache
    n = slices[-1].stop
    check_same_shape(dy, "dy", (n,) + caches[0][0].shape[1:])
    dx = np.empty_like(dy)
    dweight = dbias = 0.0
    for s, c in zip(slices, caches):
        dx[s], dw, db = fast.backward(dy[s], c)
        dweight, dbias = dweight + dw, dbias + db
    return dx, dweight, dbias
