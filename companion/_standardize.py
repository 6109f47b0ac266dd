"""Private kernel shared by layer, group and instance normalization and batch renormalization.

All of them *standardize* ``x`` over some axes and then apply an affine map:

    mean   = mean(x, axes)                     (keepdims)
    var    = mean((x - mean)**2, axes)         biased, two passes
    xhat   = (x - mean) / sqrt(var + eps)
    y      = weight * xhat + bias              weight, bias broadcast through ``param_view``

and they differ only in *which* axes are reduced and *how* the parameters broadcast:

    ================  =====================  ==========================  ================
    layer             x seen as              statistics over axes        parameter view
    ================  =====================  ==========================  ================
    batch norm        (N, C, *S)             (0, 2, 3, ...)              (1, C, 1, ...)
    layer norm        (N, *F)                (1, 2, ...)                 (1, *F)
    instance norm     (N, C, *S)             (2, 3, ...)                 (1, C, 1, ...)
    group norm        (N, G, C // G, *S)     (2, 3, ...)                 (1, G, C // G, 1, ...)
    ================  =====================  ==========================  ================

The backward pass is the same closed form for all of them: with ``m`` values per group and
``dxhat = dy * weight``,

    dx = inv_std * (dxhat - mean(dxhat, axes) - xhat * mean(dxhat * xhat, axes))

which is exact for any ``eps >= 0`` (the two subtracted means are the paths through the group
mean and the group variance).

Batch normalization computes the same thing (first row of the table) with its own fast ``(N, C, M)``
kernel, :mod:`companion._batchnorm_fast`; the tests check the two against each other.  The numeric
rule both follow, :func:`compute_dtype`, is defined here and nowhere else.

Numerics: float64 stays float64, float16/float32 are computed in
float32 with float64 accumulators, the variance is computed in two passes, never as
``E[x**2] - E[x]**2``.  Inputs are assumed validated by the public caller.
"""
import numpy as np

__all__ = [
    "affine",
    "channel_layout",
    "compute_dtype",
    "moments",
    "normalize_backward",
    "normalize_forward",
    "standardize",
    "standardize_backward",
]


def compute_dtype(dtype):
    """float64 stays float64; float16 and float32 are computed in float32."""
    return np.float64 if dtype == np.float64 else np.float32


def channel_layout(ndim, c):
    """Statistics axes and the broadcast view of a per-channel vector, for batch-first ``(N, C, *spatial)``.

    Returns
    -------
    axes : tuple of int
        Every axis but the channel axis 1.
    view : tuple of int
        ``(1, c, 1, ...)``: reshape a ``(C,)`` vector to it to broadcast against the input.
    """
    return (0, *range(2, ndim)), (1, c) + (1,) * (ndim - 2)


def moments(x, axes):
    """Mean and biased variance of ``x`` over ``axes``, kept as size-1 axes.

    Parameters
    ----------
    x : numpy.ndarray, any shape
    axes : tuple of int
        Axes to reduce.

    Returns
    -------
    mean, var : numpy.ndarray
        Shape of ``x`` with every axis in ``axes`` set to 1; compute dtype of ``x``.
    """
    cdt = compute_dtype(x.dtype)
    mean = x.mean(axis=axes, dtype=np.float64, keepdims=True).astype(cdt)
    xc = x.astype(cdt, copy=False) - mean
    var = np.square(xc).mean(axis=axes, dtype=np.float64, keepdims=True).astype(cdt)
    return mean, var


def standardize(x, mean, var, eps):
    """``xhat = (x - mean) / sqrt(var + eps)`` in the compute dtype.

    Parameters
    ----------
    x : numpy.ndarray, any shape
    mean, var : numpy.ndarray, broadcastable against x
    eps : float

    Returns
    -------
    xhat : numpy.ndarray, shape of x, compute dtype
    inv_std : numpy.ndarray, shape of ``var``
        ``1 / sqrt(var + eps)`` (evaluated in float64, stored in the compute dtype).
    """
    cdt = compute_dtype(x.dtype)
    inv_std = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(cdt)
    xhat = (x.astype(cdt, copy=False) - mean.astype(cdt, copy=False)) * inv_std
    return xhat, inv_std


def standardize_backward(dxhat, xhat, inv_std, axes):
    """Gradient through :func:`standardize` with statistics of ``x`` itself over ``axes``.

    Parameters
    ----------
    dxhat : numpy.ndarray, shape of xhat
        dL/dxhat, in the compute dtype.
    xhat : numpy.ndarray
        Standardized input.
    inv_std : numpy.ndarray, broadcastable against xhat (size 1 on ``axes``)
    axes : tuple of int
        The axes the statistics were taken over.

    Returns
    -------
    dx : numpy.ndarray, shape of xhat, compute dtype
    """
    cdt = xhat.dtype
    mean_g = dxhat.mean(axis=axes, dtype=np.float64, keepdims=True).astype(cdt)
    mean_gx = (dxhat * xhat).mean(axis=axes, dtype=np.float64, keepdims=True).astype(cdt)
    dx = dxhat - mean_g - xhat * mean_gx
    dx *= inv_std
    return dx


def affine(xhat, weight, bias, param_view, dtype):
    """``weight * xhat + bias`` with the parameters reshaped to ``param_view``, returned as ``dtype``.

    Parameters
    ----------
    xhat : numpy.ndarray, any shape, compute dtype
    weight, bias : numpy.ndarray or None (meaning 1 and 0)
    param_view : tuple of int
        Shape the parameters are reshaped to (broadcastable against xhat).
    dtype : numpy dtype
        dtype of the result.

    Returns
    -------
    y : numpy.ndarray, shape of xhat, dtype ``dtype``; never a view of xhat.
    """
    cdt = xhat.dtype
    y = xhat
    if weight is not None:
        y = y * weight.astype(cdt, copy=False).reshape(param_view)
    if bias is not None:
        y = y + bias.astype(cdt, copy=False).reshape(param_view)
    return y.astype(dtype, copy=y is xhat)


def _param_axes(view, ndim):
    """The axes a parameter of broadcast shape ``view`` is summed over in the backward pass."""
    return tuple(i for i in range(ndim) if view[i] == 1)


def normalize_forward(x, axes, weight, bias, param_shape, param_view, eps):
    """Standardize ``x`` over ``axes`` and apply ``weight * xhat + bias``.

    Parameters
    ----------
    x : numpy.ndarray, any shape (validated by the caller)
    axes : tuple of int
        Axes the statistics are taken over.
    weight, bias : numpy.ndarray of shape ``param_shape``, or None (meaning 1 and 0)
    param_shape : tuple of int
        The parameters' own shape (also the shape of the gradients the backward returns).
    param_view : tuple of int
        Shape (``x.ndim`` axes) the parameters are reshaped to so that they broadcast against x.
    eps : float

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        ``(xhat, inv_std, axes, weight, param_shape, param_view)``, for :func:`normalize_backward`.
    """
    mean, var = moments(x, axes)
    xhat, inv_std = standardize(x, mean, var, eps)
    y = affine(xhat, weight, bias, param_view, x.dtype)
    return y, (xhat, inv_std, tuple(axes), weight, tuple(param_shape), tuple(param_view))


def normalize_backward(dy, cache):
    """Gradient of :func:`normalize_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape of the forward input (validated by the caller)
    cache : tuple from :func:`normalize_forward`

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
    dweight, dbias : numpy.ndarray, shape ``param_shape``
        In the weight's dtype (the compute dtype when the weight was None).
    """
    xhat, inv_std, axes, weight, param_shape, param_view = cache
    cdt = xhat.dtype
    g = dy.astype(cdt, copy=False)
    paxes = _param_axes(param_view, xhat.ndim)
    dweight = (g * xhat).sum(axis=paxes, dtype=np.float64).reshape(param_shape)
    dbias = g.sum(axis=paxes, dtype=np.float64).reshape(param_shape)
    dxhat = g if weight is None else g * weight.astype(cdt, copy=False).reshape(param_view)
    dx = standardize_backward(dxhat, xhat, inv_std, axes)
    pdt = cdt if weight is None else weight.dtype
    return dx.astype(dy.dtype, copy=False), dweight.astype(pdt), dbias.astype(pdt)
