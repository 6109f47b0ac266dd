"""Instance normalization (Ulyanov, Vedaldi & Lempitsky, 2016): standardize each channel of each sample.

For ``x`` of shape ``(N, C, *S)`` (``S``: one or more spatial axes)

    mean_nc = mean(x[n, c])   var_nc = mean((x[n, c] - mean_nc)**2)      over the prod(S) positions
    y[n, c] = weight[c] * (x[n, c] - mean_nc) / sqrt(var_nc + eps) + bias[c]

It is group normalization with one channel per group, and it is
``torch.nn.functional.instance_norm(x, weight=weight, bias=bias, eps=eps)`` (``nn.InstanceNorm1d/2d/3d``
without running statistics, PyTorch's default; training and evaluation are then the same).

:class:`InstanceNorm` is ``torch.nn.InstanceNorm1d/2d/3d`` with its arguments, running statistics
included: with ``track_running_stats`` every training batch moves ``running_mean`` and
``running_var`` towards the average over the batch of the per-instance mean and unbiased variance,
and evaluation mode normalizes every instance with them (as batch normalization's eval mode does).
:class:`InstanceNorm1d`, :class:`InstanceNorm2d` and :class:`InstanceNorm3d` add PyTorch's rank check
and, as PyTorch does, also take one sample without its batch axis (``(C, L)``, ``(C, H, W)``, ``(C, D, H, W)``).
"""
import numpy as np

from ._layer import Layer
from ._standardize import affine, channel_layout, compute_dtype, moments, normalize_backward, normalize_forward
from ._validate import (
    check_array,
    check_channels,
    check_eps,
    check_momentum,
    check_param,
    check_positive_int,
    check_same_shape,
)

__all__ = ["InstanceNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "instance_norm_backward",
           "instance_norm_forward"]


def instance_norm_forward(x, weight=None, bias=None, eps=1e-5):
    """Instance normalization: every (sample, channel) pair is standardized over its spatial positions.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C, *S)
        Floating-point input with at least one spatial axis and at least two spatial positions
        (``prod(S) >= 2``).
    weight, bias : numpy.ndarray, shape (C,), or None
        Per-channel scale gamma and shift beta; ``None`` means 1 and 0 respectively.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    y, cache
        ``y`` has the shape and dtype of x; ``cache`` is what :func:`instance_norm_backward` needs: ``(xhat, inv_std, axes, weight, param_shape,
        param_view)`` with ``xhat`` (shape of x, compute dtype), ``1/sqrt(var + eps)`` of shape
        (N, C, 1, ..., 1), the spatial axes, the weight (or None), ``(C,)`` and ``(1, C, 1, ..., 1)``.
    """
    check_array(x, "x", min_ndim=3)
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    if x[0, 0].size < 2:
        raise ValueError(
            f"x: expected more than 1 spatial position per channel, got input of shape {x.shape} "
            "(a single value has no variance to normalize by)"
        )
    axes = tuple(range(2, x.ndim))
    return normalize_forward(x, axes, weight, bias, (c,), (1, c) + (1,) * (x.ndim - 2), eps)


def instance_norm_backward(dy, cache):
    """Gradient of :func:`instance_norm_forward`, given the upstream gradient ``dy`` (N, C, *S) and the forward's ``cache``.

    Returns ``(dx, dweight, dbias)``: ``dx`` with the shape and dtype of ``dy``; ``dweight`` and ``dbias`` of shape (C,).
    """
    check_same_shape(dy, "dy", cache[0].shape)
    return normalize_backward(dy, cache)


class InstanceNorm(Layer):
    """An instance normalization layer with the semantics of ``torch.nn.InstanceNorm1d/2d/3d``.

    One class serves every number of spatial axes: the input is ``(N, C, *S)`` with ``S`` non-empty.
    :class:`InstanceNorm1d`, :class:`InstanceNorm2d` and :class:`InstanceNorm3d` are the same layer with
    PyTorch's rank check, and they also accept a sample without its batch axis.

    Parameters
    ----------
    num_features : int
        Number of channels C (axis 1 of the input).
    eps : float
        Added to the variance inside the square root.
    momentum : float in [0, 1] or None
        Weight of the new batch in the running statistics.  ``None`` means 0 here (the running
        statistics never move), which is what ``torch.nn.InstanceNorm`` does with ``momentum=None``.
    affine : bool
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros). False by default, as in torch.
    track_running_stats : bool
        Keep ``running_mean`` (zeros) and ``running_var`` (ones) and use them in eval mode. False by
        default, as in torch: then training and evaluation both use the instance statistics.
    dtype : numpy dtype
        dtype of the parameters and running statistics (float64 by default).

    Notes
    -----
    As in torch, the running statistics are updated by every forward pass that uses the instance
    statistics while the buffers exist, and ``num_batches_tracked`` exists (in ``state_dict``) but stays 0.
    """

    _state_names = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 dtype=np.float64):
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.dtype = np.dtype(dtype)
        c = self.num_features
        self.weight = np.ones(c, self.dtype) if self.affine else None
        self.bias = np.zeros(c, self.dtype) if self.affine else None
        if self.track_running_stats:
            self.running_mean, self.running_var = np.zeros(c, self.dtype), np.ones(c, self.dtype)
            self.num_batches_tracked = 0
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self.dweight = self.dbias = None

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C, *S)``; returns ``y`` of the same shape."""
        check_array(x, "x", min_ndim=3)
        check_channels(x, "x", self.num_features)
        c = self.num_features
        for name in ("weight", "bias") if self.affine else ():
            check_param(getattr(self, name), name, (c,))
        for name in ("running_mean", "running_var"):
            check_param(getattr(self, name), name, (c,))
        eps = check_eps(self.eps)
        use_input_stats = self.training or not self.track_running_stats
        if use_input_stats:
            y, cache = instance_norm_forward(x, self.weight, self.bias, eps)
            if self.running_mean is not None and self.running_var is not None:
                f = 0.0 if self.momentum is None else check_momentum(self.momentum)
                axes = tuple(range(2, x.ndim))
                mean, var = (v.reshape(x.shape[:2]).astype(np.float64) for v in moments(x, axes))
                m = x[0, 0].size
                self.running_mean = ((1 - f) * self.running_mean + f * mean.mean(axis=0)).astype(self.dtype)
                self.running_var = ((1 - f) * self.running_var + f * (var * (m / (m - 1))).mean(axis=0)).astype(
                    self.dtype
                )
        else:
            _, view = channel_layout(x.ndim, c)
            cdt = compute_dtype(x.dtype)
            inv_std = (1.0 / np.sqrt(self.running_var.astype(np.float64) + eps)).astype(cdt).reshape(view)
            xhat = (x.astype(cdt, copy=False) - self.running_mean.astype(cdt).reshape(view)) * inv_std
            y = affine(xhat, self.weight, self.bias, view, x.dtype)
            cache = (xhat, inv_std, None, self.weight)
        self._cache = cache
        return y

    def backward(self, dy):
        """Back-propagate ``dy``; returns ``dx`` and sets ``dweight``/``dbias`` (None without ``affine``).

        After an eval-mode forward with running statistics these are constants:
        ``dx = dy * weight / sqrt(running_var + eps)``.
        """
        cache = self._last_cache()
        if len(cache) == 4:  # eval mode with running statistics
            xhat, inv_std, _, weight = cache
            check_same_shape(dy, "dy", xhat.shape)
            axes, view = channel_layout(xhat.ndim, self.num_features)
            g = dy.astype(xhat.dtype, copy=False)
            scale = inv_std if weight is None else inv_std * weight.astype(xhat.dtype).reshape(view)
            dx = (g * scale).astype(dy.dtype, copy=False)
            dw = (g * xhat).sum(axis=axes, dtype=np.float64).astype(self.dtype)
            db = g.sum(axis=axes, dtype=np.float64).astype(self.dtype)
        else:
            dx, dw, db = instance_norm_backward(dy, cache)
        self.dweight, self.dbias = (dw, db) if self.affine else (None, None)
        return dx

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats})"
        )


class _InstanceNormNd(InstanceNorm):
    """``torch.nn.InstanceNorm{k}d``: :class:`InstanceNorm` for inputs with ``spatial`` spatial axes.

    ``(N, C, *S)`` as :class:`InstanceNorm`, or one sample ``(C, *S)`` without its batch axis (normalized
    as a batch of one, as PyTorch's ``_handle_no_batch_input`` does); any other rank raises ``ValueError``
    with PyTorch's message ("expected 2D or 3D input (got 4D input)" for ``InstanceNorm1d``).
    """

    spatial = 0
    _batchless = False  # whether the last forward's input had no batch axis

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C, *S)`` or ``(C, *S)``; returns ``y`` of the same shape."""
        check_array(x, "x")
        k = self.spatial
        if x.ndim not in (k + 1, k + 2):
            axes = ("L",) if k == 1 else ("H", "W") if k == 2 else ("D", "H", "W")
            layout = ", ".join(("C",) + axes)
            raise ValueError(
                f"x: expected {k + 1}D or {k + 2}D input (got {x.ndim}D input): {type(self).__name__} takes "
                f"(N, {layout}) or ({layout}), got shape {x.shape}"
            )
        self._batchless = x.ndim == k + 1
        if self._batchless and x.shape[0] != self.num_features:
            raise ValueError(
                f"x has {x.shape[0]} channels on axis 0 (shape {x.shape}, one sample without its batch axis), "
                f"expected num_features={self.num_features}"
            )
        if not self._batchless:
            return super().forward(x)
        return super().forward(x[None])[0]  # one sample: a batch of one, as torch's _handle_no_batch_input

    def backward(self, dy):
        """Back-propagate ``dy`` (the shape of the last forward's input); returns ``dx`` of that shape."""
        self._last_cache()
        if self._batchless:
            check_array(dy, "dy")
            return super().backward(dy[None])[0]
        return super().backward(dy)


class InstanceNorm1d(_InstanceNormNd):
    """``torch.nn.InstanceNorm1d``: inputs ``(N, C, L)`` or ``(C, L)``. Parameters as :class:`InstanceNorm`."""

    spatial = 1


class InstanceNorm2d(_InstanceNormNd):
    """``torch.nn.InstanceNorm2d``: inputs ``(N, C, H, W)`` or ``(C, H, W)``. Parameters as :class:`InstanceNorm`."""

    spatial = 2


class InstanceNorm3d(_InstanceNormNd):
    """``torch.nn.InstanceNorm3d``: inputs ``(N, C, D, H, W)`` or ``(C, D, H, W)``. Parameters as
    :class:`InstanceNorm`."""

    spatial = 3
