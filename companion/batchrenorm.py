"""Batch renormalization (Ioffe, 2017): batch normalization that agrees with its own inference mode.

Batch normalization normalizes with the statistics of the mini-batch in training but with running
averages at inference, so the two modes compute different functions.  Batch renormalization keeps
the batch statistics (and their gradient paths) but corrects them towards the running ones.  Per
channel, with ``m`` values per channel in the batch:

    mu_B    = mean(x)          sigma_B = sqrt(mean((x - mu_B)**2) + eps)
    r       = clip(sigma_B / running_std,            1 / r_max, r_max)     constant: no gradient
    d       = clip((mu_B - running_mean) / running_std,  -d_max, d_max)    constant: no gradient
    xhat    = (x - mu_B) / sigma_B * r + d
    y       = weight * xhat + bias
    running_mean += momentum * (mu_B - running_mean)
    running_std  += momentum * (sigma_B - running_std)

At inference ``y = weight * (x - running_mean) / running_std + bias``.  Without clipping,
``xhat = (x - running_mean) / running_std`` exactly: training computes the inference function.
With ``r_max = 1`` and ``d_max = 0``, ``r = 1`` and ``d = 0``: plain batch normalization.  The paper
starts training there and relaxes ``r_max`` and ``d_max`` step by step; the layer's ``r_max`` and
``d_max`` attributes can be changed between steps for that.

Inputs are batch-first, ``(N, C)`` or ``(N, C, *spatial)``; ``momentum`` follows PyTorch's
convention (the weight of the new batch).  The standardization is the shared kernel of
:mod:`companion._standardize`.
"""
import numbers

import numpy as np

from ._layer import NormLayer
from ._standardize import affine, channel_layout, compute_dtype, moments, normalize_backward, standardize
from ._validate import (
    check_array,
    check_batch_stats,
    check_eps,
    check_param,
    check_same_shape,
)

__all__ = ["BatchRenorm", "batch_renorm_backward", "batch_renorm_forward"]


def _check_limit(value, name, lowest):
    """``r_max`` (>= 1) and ``d_max`` (>= 0) are real numbers; ``inf`` means no clipping."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= {lowest:g}, got {value!r}")
    value = float(value)
    if not value >= lowest:  # also rejects NaN
        raise ValueError(f"{name} must be >= {lowest:g} (inf for no clipping), got {value}")
    return value


def _check_running(running_mean, running_std, c):
    check_param(running_mean, "running_mean", (c,))
    check_param(running_std, "running_std", (c,))
    if running_mean is None or running_std is None:
        raise TypeError("running_mean and running_std must be numpy.ndarrays of shape (C,), got None")
    if not np.all(running_std > 0):
        raise ValueError(f"running_std must be > 0 in every channel, got min {running_std.min()}")


def _renorm_forward(x, weight, bias, running_mean, running_std, r_max, d_max, eps):
    """Validated forward; also returns the batch mean and std (shape (C,), float64) for the running update."""
    c = x.shape[1]
    axes, view = channel_layout(x.ndim, c)
    cdt = compute_dtype(x.dtype)
    mean, var = moments(x, axes)
    z, inv_std = standardize(x, mean, var, eps)
    std_b = np.sqrt(var.astype(np.float64) + eps)
    rs = running_std.astype(np.float64).reshape(view)
    rm = running_mean.astype(np.float64).reshape(view)
    r = np.clip(std_b / rs, 1.0 / r_max, r_max).astype(cdt)
    d = np.clip((mean.astype(np.float64) - rm) / rs, -d_max, d_max).astype(cdt)
    y = affine(z * r + d, weight, bias, view, x.dtype)
    cache = (z, inv_std, r, d, weight)
    return y, cache, mean.reshape(c).astype(np.float64), std_b.reshape(c)


def batch_renorm_forward(x, weight, bias, running_mean, running_std, r_max=3.0, d_max=5.0, eps=1e-5):
    """Batch renormalization in training mode (the running statistics are read, not updated).

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Floating-point input; at least two values per channel.
    weight, bias : numpy.ndarray, shape (C,), or None
        Scale gamma and shift beta; ``None`` means 1 and 0 respectively.
    running_mean : numpy.ndarray, shape (C,)
        Running mean ``mu`` used for the correction ``d``.
    running_std : numpy.ndarray, shape (C,), all > 0
        Running standard deviation ``sigma`` used for ``r`` and ``d``.
    r_max : float >= 1
        ``r`` is clipped to ``[1 / r_max, r_max]``.
    d_max : float >= 0
        ``d`` is clipped to ``[-d_max, d_max]``.
    eps : float
        Added to the batch variance inside the square root.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``weight * ((x - mu_B) / sigma_B * r + d) + bias``.
    cache : tuple
        ``(z, inv_std, r, d, weight)``: ``z = (x - mu_B) / sigma_B`` (shape of x, compute dtype),
        ``1 / sigma_B``, ``r`` and ``d`` (each of shape (1, C, 1, ..., 1)), and the weight.
        ``r`` and ``d`` can be read from it; :func:`batch_renorm_backward` treats them as constants.
    """
    check_array(x, "x", min_ndim=2)
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    _check_running(running_mean, running_std, c)
    r_max = _check_limit(r_max, "r_max", 1.0)
    d_max = _check_limit(d_max, "d_max", 0.0)
    eps = check_eps(eps)
    check_batch_stats(x)
    y, cache, _, _ = _renorm_forward(x, weight, bias, running_mean, running_std, r_max, d_max, eps)
    return y, cache


def batch_renorm_backward(dy, cache):
    """Gradient of :func:`batch_renorm_forward`, with ``r`` and ``d`` held constant.

    Since ``y = (weight * r) * z + (weight * d + bias)``, the gradient with respect to x is the batch
    normalization gradient with the effective scale ``weight * r``:

        dx      = weight * r / sigma_B * (dy - mean(dy) - z * mean(dy * z))
        dweight = sum(dy * xhat) = r * sum(dy * z) + d * sum(dy)
        dbias   = sum(dy)

    ``dy`` is the upstream gradient dL/dy, of the forward input's shape (N, C, *spatial), and ``cache`` the
    forward's cache. Returns ``(dx, dweight, dbias)``: ``dx`` with the shape and dtype of ``dy``, the
    parameter gradients of shape (C,).
    """
    z, inv_std, r, d, weight = cache
    check_same_shape(dy, "dy", z.shape)
    c = z.shape[1]
    axes, view = channel_layout(z.ndim, c)
    r_c, d_c = r.reshape(c), d.reshape(c)
    w_eff = r_c if weight is None else weight.astype(z.dtype) * r_c
    dx, dw_z, dbias = normalize_backward(dy, (z, inv_std, axes, w_eff, (c,), view))
    dweight = r_c.astype(np.float64) * dw_z + d_c.astype(np.float64) * dbias
    pdt = z.dtype if weight is None else weight.dtype
    return dx, dweight.astype(pdt), dbias.astype(pdt)


class BatchRenorm(NormLayer):
    """A batch renormalization layer, in the style of :class:`companion.BatchNorm`.

    Parameters
    ----------
    num_features, eps
        Number of channels ``C`` (axis 1 of the input); ``eps`` is added to the batch variance inside the
        square root.
    momentum : float in [0, 1] or None
        ``running = (1 - momentum) * running + momentum * batch`` (PyTorch's convention), for the
        running mean and the running standard deviation; ``None`` is the cumulative average.
    r_max : float >= 1
        Clipping bound of ``r`` (``r_max = 1`` with ``d_max = 0`` is batch normalization).
    d_max : float >= 0
        Clipping bound of ``d``.
    affine : bool
        Learn ``weight`` (initialised to 1) and ``bias`` (initialised to 0).
    dtype : numpy dtype
        dtype of the parameters and running statistics (float64 by default).

    Attributes
    ----------
    weight, bias : numpy.ndarray, shape (C,), or None
    running_mean : numpy.ndarray, shape (C,)
        Starts at 0.
    running_std : numpy.ndarray, shape (C,)
        Running average of ``sigma_B = sqrt(var_B + eps)``; starts at 1.
    r, d : numpy.ndarray, shape (C,), or None
        The corrections used by the last training-mode forward call.
    num_batches_tracked : int
    training : bool
    dweight, dbias : numpy.ndarray, shape (C,), or None
        Set by :meth:`backward`.
    """

    _state_names = ("weight", "bias", "running_mean", "running_std", "num_batches_tracked")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, r_max=3.0, d_max=5.0, affine=True, dtype=np.float64):
        super().__init__(num_features, eps, momentum, affine, dtype)
        self.r_max = _check_limit(r_max, "r_max", 1.0)
        self.d_max = _check_limit(d_max, "d_max", 0.0)
        self.reset_running_stats()
        self.r = self.d = None

    def reset_running_stats(self):
        """Running mean 0, running standard deviation 1, zero batches tracked."""
        self.running_mean = np.zeros(self.num_features, self.dtype)
        self.running_std = np.ones(self.num_features, self.dtype)
        self.num_batches_tracked = 0

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C)`` or ``(N, C, *spatial)``; returns ``y`` of the same shape."""
        eps = self._check_call(x)
        c = self.num_features
        _check_running(self.running_mean, self.running_std, c)
        r_max = _check_limit(self.r_max, "r_max", 1.0)
        d_max = _check_limit(self.d_max, "d_max", 0.0)
        if self.training:
            check_batch_stats(x)
            y, cache, mean, std = _renorm_forward(
                x, self.weight, self.bias, self.running_mean, self.running_std, r_max, d_max, eps
            )
            self.r, self.d = (v.reshape(c).astype(np.float64) for v in cache[2:4])
            self.num_batches_tracked += 1
            f = self._momentum_factor()
            self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(self.dtype)
            self.running_std = ((1 - f) * self.running_std + f * std).astype(self.dtype)
        else:
            # y = weight * (x - running_mean) / running_std + bias
            axes, view = channel_layout(x.ndim, c)
            cdt = compute_dtype(x.dtype)
            inv_std = (1.0 / self.running_std.astype(np.float64)).astype(cdt).reshape(view)
            z = (x.astype(cdt, copy=False) - self.running_mean.astype(cdt).reshape(view)) * inv_std
            y = affine(z, self.weight, self.bias, view, x.dtype)
            cache = (z, inv_std, None, None, self.weight)
        self._cache = cache
        return y

    def backward(self, dy):
        """Back-propagate ``dy`` through the last forward call; returns ``dx`` and sets ``dweight``/``dbias``.

        After a training-mode forward the gradient flows through the batch statistics (not through
        ``r`` and ``d``); after an eval-mode forward ``dx = dy * weight / running_std``.
        """
        z, inv_std, r, _, weight = self._last_cache()
        check_same_shape(dy, "dy", z.shape)
        if r is not None:
            dx, dw, db = batch_renorm_backward(dy, self._cache)
        else:
            axes, view = channel_layout(z.ndim, self.num_features)
            g = dy.astype(z.dtype, copy=False)
            scale = inv_std if weight is None else inv_std * weight.astype(z.dtype).reshape(view)
            dx = (g * scale).astype(dy.dtype, copy=False)
            dw = (g * z).sum(axis=axes, dtype=np.float64).astype(self.dtype)
            db = g.sum(axis=axes, dtype=np.float64).astype(self.dtype)
        self._keep_param_grads(dw, db)
        return dx

    def __repr__(self):
        return (
            f"BatchRenorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"r_max={self.r_max}, d_max={self.d_max}, affine={self.affine})"
        )
