"""Batch normalization: the functional forward/backward pair and a ``BatchNorm`` layer.

Notation (per channel ``c``; ``m`` values share one channel in a mini-batch):

    mu     = mean(x)                      batch mean
    var    = mean((x - mu)**2)            biased batch variance (divides by m)
    xhat   = (x - mu) / sqrt(var + eps)   normalized input
    y      = weight * xhat + bias         scale (gamma) and shift (beta)

Inputs are batch-first: ``(N, C)`` for fully connected layers or ``(N, C, *spatial)``
for convolutional ones (statistics are then shared by every position of a channel).

Numerics: the variance is computed in two passes (mean first, then the mean squared
deviation), never as ``E[x**2] - E[x]**2``.  float16 and float32 inputs are normalized in
float32; the output has the input's dtype.  Non-finite inputs are not rejected: like PyTorch,
a NaN or inf propagates to the outputs of its channel.

Speed: the input is viewed as ``(N, C, M)`` with ``M`` the number of spatial positions, so
that every per-channel reduction first runs along contiguous memory (NumPy's pairwise
summation for sums, ``einsum``'s vectorized loop for dot products; both fast and accurate in
float32), and only the ``N`` partial results of a channel are then added in float64. The
forward pass allocates one full-size array (``x - mean``, scaled in place into ``xhat``) plus
the output; the backward pass allocates only ``dx``. The book's chapter *PyTorch on CPU and
GPU* shows the plain textbook version next to this one and checks that they agree.
"""
import numpy as np

from ._layer import NormLayer
from ._validate import (
    check_array,
    compute_dtype,
    check_channels,
    check_eps,
    check_momentum,
    check_param,
    check_same_shape,
)

__all__ = ["batch_stats", "batch_norm_forward", "batch_norm_backward", "BatchNorm"]


def _reduce_axes(ndim):
    """Every axis except the channel axis 1."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(v, ndim):
    """Reshape a ``(C,)`` vector so that it broadcasts against ``(N, C, *spatial)``."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _as_ncm(x):
    """View ``(N, C, *spatial)`` (or ``(N, C)``) as ``(N, C, M)``; a copy only if ``x`` is not contiguous."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _col(v, dtype):
    """A ``(C,)`` vector as a ``(C, 1)`` column of ``dtype``: it broadcasts against ``(N, C, M)``."""
    return np.asarray(v, dtype=dtype).reshape(-1, 1)


def _channel_sum(a, dtype=None):
    """Per-channel sum of an ``(N, C, M)`` array, as float64 of shape ``(C,)``.

    The sums over ``M`` run along contiguous memory in ``dtype`` (default: ``a``'s dtype) with
    pairwise summation; the ``N`` partial sums of each channel are added in float64.
    """
    return a.sum(axis=2, dtype=dtype).sum(axis=0, dtype=np.float64)


def _channel_dot(a, b):
    """Per-channel ``sum(a * b)`` of two ``(N, C, M)`` arrays, float64 ``(C,)``, without a temporary product."""
    return np.einsum("ncm,ncm->nc", a, b).sum(axis=0, dtype=np.float64)


def _check_batch(x):
    """Batch statistics need at least two values per channel (as in PyTorch)."""
    m = x.size // x.shape[1]
    if m < 2:
        raise ValueError(
            f"x: expected more than 1 value per channel when using batch statistics, got input of shape {x.shape} "
            "(a batch of one sample has no batch variance; call .eval() to use the running statistics)"
        )
    return m


def _centered_moments(x):
    """Two-pass batch statistics that also return the centred input for reuse.

    Returns
    -------
    xc : numpy.ndarray, shape (N, C, M), compute dtype
        A new array ``x - mean`` (the caller may overwrite it).
    mean, var : numpy.ndarray, shape (C,), compute dtype
        Per-channel mean and biased variance ``mean(xc**2)``.
    """
    cdt = compute_dtype(x.dtype)
    x3 = _as_ncm(x)
    m = x3.shape[0] * x3.shape[2]
    mean = (_channel_sum(x3, cdt) / m).astype(cdt)  # pass 1
    xc = np.subtract(x3, _col(mean, cdt), dtype=cdt)  # pass 2: centre ...
    var = (_channel_dot(xc, xc) / m).astype(cdt)  # ... then the mean squared deviation
    return xc, mean, var


def batch_stats(x):
    """Per-channel mean and biased variance of ``x``, computed in two passes.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Floating-point input.

    Returns
    -------
    mean : numpy.ndarray, shape (C,)
        Per-channel mean, in the compute dtype (float64 for float64 input, else float32).
    var : numpy.ndarray, shape (C,)
        Per-channel biased variance ``mean((x - mean)**2)``, same dtype as ``mean``.
    """
    check_array(x, "x", min_ndim=2)
    _, mean, var = _centered_moments(x)
    return mean, var


def _normalize(xc, var, weight, bias, eps, shape, dtype):
    """Shared forward arithmetic: scale the centred ``xc`` (N, C, M) in place into ``xhat``.

    ``xc`` must be a fresh array owned by the caller. Returns ``(y, cache)`` with ``y`` of
    ``shape`` and ``dtype``.
    """
    cdt = xc.dtype
    inv_std = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(cdt)
    xhat = xc
    xhat *= _col(inv_std, cdt)  # in place: xc is not needed any more
    y = xhat * _col(weight, cdt) if weight is not None else xhat.copy()
    if bias is not None:
        y += _col(bias, cdt)
    return y.reshape(shape).astype(dtype, copy=False), (xhat.reshape(shape), inv_std, weight)


def batch_norm_forward(x, weight, bias, eps=1e-5):
    """Batch normalization in training mode (normalize with the statistics of this batch).

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Floating-point input; at least two values per channel.
    weight : numpy.ndarray, shape (C,), or None
        Scale gamma; ``None`` means 1.
    bias : numpy.ndarray, shape (C,), or None
        Shift beta; ``None`` means 0.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    y : numpy.ndarray, shape like x, dtype of x
        ``weight * xhat + bias``.
    cache : tuple
        ``(xhat, inv_std, weight)``: the normalized input (shape like x), ``1/sqrt(var + eps)``
        of shape (C,), and the weight (or None). Exactly what :func:`batch_norm_backward` needs.
    """
    check_array(x, "x", min_ndim=2)
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    _check_batch(x)
    xc, _, var = _centered_moments(x)
    return _normalize(xc, var, weight, bias, eps, x.shape, x.dtype)


def _param_grads(dy3, xhat3):
    """``(sum(dy * xhat), sum(dy))`` per channel of two ``(N, C, M)`` arrays, as float64."""
    return _channel_dot(dy3, xhat3), _channel_sum(dy3)


def batch_norm_backward(dy, cache):
    """Gradient of training-mode batch normalization, in closed form.

    With ``m`` values per channel, ``dbias = sum(dy)``, ``dweight = sum(dy * xhat)`` and

        dx = weight / sqrt(var + eps) * (dy - (dbias + xhat * dweight) / m)

    which already contains the paths through the batch mean and variance.

    Parameters
    ----------
    dy : numpy.ndarray, shape like the forward input
        Upstream gradient dL/dy.
    cache : tuple
        The cache returned by :func:`batch_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
    dweight : numpy.ndarray, shape (C,)
        dL/dweight (also when the forward's weight was None, i.e. gamma = 1).
    dbias : numpy.ndarray, shape (C,)
        dL/dbias.
    """
    xhat, inv_std, weight = cache
    check_same_shape(dy, "dy", xhat.shape)
    cdt = xhat.dtype
    xhat3, g = _as_ncm(xhat), _as_ncm(dy).astype(cdt, copy=False)
    m = xhat3.shape[0] * xhat3.shape[2]
    dweight, dbias = _param_grads(g, xhat3)
    scale = inv_std if weight is None else inv_std * weight.astype(cdt)
    # dx = scale * (dy - (dbias + xhat * dweight) / m), built in one buffer
    dx = xhat3 * _col(dweight / m, cdt)
    dx += _col(dbias / m, cdt)
    np.subtract(g, dx, out=dx)
    dx *= _col(scale, cdt)
    pdt = cdt if weight is None else weight.dtype
    return dx.reshape(dy.shape).astype(dy.dtype, copy=False), dweight.astype(pdt), dbias.astype(pdt)


class BatchNorm(NormLayer):
    """A batch normalization layer with the semantics of ``torch.nn.BatchNorm1d/2d/3d``.

    Parameters
    ----------
    num_features : int
        Number of channels ``C`` (axis 1 of the input).
    eps : float
        Added to the variance inside the square root.
    momentum : float in [0, 1] or None
        Running statistics follow ``running = (1 - momentum) * running + momentum * batch``
        (PyTorch's convention; Keras's ``momentum=0.99`` corresponds to ``momentum=0.01`` here).
        ``None`` gives the cumulative average over all batches seen.
    affine : bool
        Learn ``weight`` (gamma, initialised to 1) and ``bias`` (beta, initialised to 0).
    track_running_stats : bool
        Keep ``running_mean``/``running_var`` (unbiased) for eval mode. If False, batch statistics
        are used in both modes and the running attributes are None.
    dtype : numpy dtype
        dtype of the parameters and running statistics (float64 by default).

    Attributes
    ----------
    weight, bias : numpy.ndarray, shape (C,), or None
    running_mean, running_var : numpy.ndarray, shape (C,), or None
    num_batches_tracked : int
    training : bool
    dweight, dbias : numpy.ndarray, shape (C,), or None
        Set by :meth:`backward`.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=np.float64):
        self._init_norm(num_features, eps, momentum, affine, dtype)
        self.track_running_stats = bool(track_running_stats)
        self.running_mean = self.running_var = None
        if self.track_running_stats:
            self.reset_running_stats()

    def reset_running_stats(self):
        """Running mean 0, running variance 1, zero batches tracked."""
        self.running_mean = np.zeros(self.num_features, self.dtype)
        self.running_var = np.ones(self.num_features, self.dtype)
        self.num_batches_tracked = 0

    def _check_state(self):
        c = (self.num_features,)
        if self.affine:
            check_param(self.weight, "weight", c)
            check_param(self.bias, "bias", c)
        if self.track_running_stats:
            check_param(self.running_mean, "running_mean", c)
            check_param(self.running_var, "running_var", c)
        check_momentum(self.momentum)
        check_eps(self.eps)

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C)`` or ``(N, C, *spatial)``; returns ``y`` of the same shape."""
        check_array(x, "x", min_ndim=2)
        check_channels(x, "x", self.num_features)
        self._check_state()
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            m = _check_batch(x)
            xc, mean, var = _centered_moments(x)
            if self.training and self.track_running_stats:
                self.num_batches_tracked += 1
                f = self._momentum_factor()
                unbiased = var.astype(np.float64) * (m / (m - 1))
                self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(self.dtype)
                self.running_var = ((1 - f) * self.running_var + f * unbiased).astype(self.dtype)
        else:
            cdt = compute_dtype(x.dtype)
            xc, var = np.subtract(_as_ncm(x), _col(self.running_mean, cdt), dtype=cdt), self.running_var
        y, self._cache = _normalize(xc, var, self.weight, self.bias, self.eps, x.shape, x.dtype)
        self._batch_mode = use_batch
        return y

    def backward(self, dy):
        """Back-propagate ``dy`` through the last forward call; returns ``dx`` and sets ``dweight``/``dbias``.

        After a training-mode forward the gradient flows through the batch statistics; after an
        eval-mode forward the running statistics are constants and ``dx = dy * weight / sqrt(running_var + eps)``.
        """
        xhat, inv_std, weight = self._last_cache()
        check_same_shape(dy, "dy", xhat.shape)
        if self._batch_mode:
            dx, dw, db = batch_norm_backward(dy, self._cache)
        else:
            cdt = xhat.dtype
            g = _as_ncm(dy).astype(cdt, copy=False)
            scale = inv_std if weight is None else inv_std * weight.astype(cdt)
            dx = (g * _col(scale, cdt)).reshape(dy.shape).astype(dy.dtype, copy=False)
            dw, db = (v.astype(self.dtype) for v in _param_grads(g, _as_ncm(xhat)))
        self.dweight, self.dbias = (dw, db) if self.affine else (None, None)
        return dx

    def __repr__(self):
        return (
            f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats})"
        )
