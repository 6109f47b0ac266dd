"""Batch normalization as a computational graph: one small node per step.

This is the teaching version of :func:`companion.batch_norm_forward` /
:func:`companion.batch_norm_backward`. The forward pass is split into nine elementary
nodes and the backward pass visits them in reverse, applying the chain rule to each.
It computes in float64, keeps every intermediate (so it uses more memory) and is
slower than the closed form; the tests check that both give the same gradients.

    step 1  mu      = mean(x)
    step 2  xmu     = x - mu
    step 3  sq      = xmu ** 2
    step 4  var     = mean(sq)
    step 5  std     = sqrt(var + eps)
    step 6  istd    = 1 / std
    step 7  xhat    = xmu * istd
    step 8  gx      = weight * xhat
    step 9  y       = gx + bias
"""
import numpy as np

from ._standardize import channel_layout
from ._validate import check_array, check_batch_stats, check_eps, check_param, check_same_shape

__all__ = ["batch_norm_backward_graph", "batch_norm_forward_graph"]


def batch_norm_forward_graph(x, weight, bias, eps=1e-5):
    """Training-mode batch normalization, node by node.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
    weight, bias : numpy.ndarray, shape (C,)
    eps : float

    Returns
    -------
    y : numpy.ndarray, float64, shape like x
    cache : tuple
        ``(xhat, xmu, istd, std, weight)``: the intermediates the backward pass needs.
    """
    check_array(x, "x", min_ndim=2)
    check_param(weight, "weight", (x.shape[1],))
    check_param(bias, "bias", (x.shape[1],))
    eps = check_eps(eps)
    check_batch_stats(x)
    axes, view = channel_layout(x.ndim, x.shape[1])
    x = x.astype(np.float64)
    mu = x.mean(axis=axes, keepdims=True)  # step 1
    xmu = x - mu  # step 2
    sq = xmu**2  # step 3
    var = sq.mean(axis=axes, keepdims=True)  # step 4
    std = np.sqrt(var + eps)  # step 5
    istd = 1.0 / std  # step 6
    xhat = xmu * istd  # step 7
    gx = weight.reshape(view) * xhat  # step 8
    y = gx + bias.reshape(view)  # step 9
    return y, (xhat, xmu, istd, std, weight)


def batch_norm_backward_graph(dy, cache):
    """Backward pass through the nine nodes, in reverse order.

    Parameters
    ----------
    dy : numpy.ndarray, shape like the forward input
    cache : tuple from :func:`batch_norm_forward_graph`

    Returns
    -------
    dx : numpy.ndarray, float64, shape like dy
    dweight, dbias : numpy.ndarray, shape (C,)
    """
    xhat, xmu, istd, std, weight = cache
    check_same_shape(dy, "dy", xhat.shape)
    axes, view = channel_layout(xhat.ndim, xhat.shape[1])
    m = xhat.size // xhat.shape[1]
    dy = dy.astype(np.float64)
    dbias = dy.sum(axis=axes)  # step 9: y = gx + bias
    dgx = dy
    dweight = (dgx * xhat).sum(axis=axes)  # step 8: gx = weight * xhat
    dxhat = dgx * weight.reshape(view)
    distd = (dxhat * xmu).sum(axis=axes, keepdims=True)  # step 7: xhat = xmu * istd
    dxmu1 = dxhat * istd
    dstd = -distd / std**2  # step 6: istd = 1 / std
    dvar = 0.5 * dstd / std  # step 5: std = sqrt(var + eps)
    dsq = np.broadcast_to(dvar / m, xhat.shape)  # step 4: var = mean(sq)
    dxmu2 = 2.0 * xmu * dsq  # step 3: sq = xmu ** 2
    dxmu = dxmu1 + dxmu2
    dmu = -dxmu.sum(axis=axes, keepdims=True)  # step 2: xmu = x - mu
    dx = dxmu + dmu / m  # step 1: mu = mean(x)
    return dx, dweight, dbias
