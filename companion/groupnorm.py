"""Group normalization (Wu & He, 2018): standardize each group of channels of each sample.

The ``C`` channels of ``x`` (shape ``(N, C, *S)``) are split into ``G = num_groups`` consecutive groups
of ``C // G`` channels; each (sample, group) is standardized over its ``(C // G) * prod(S)`` values,
then every channel gets its own scale and shift:

    x viewed as (N, G, C // G, *S) -> standardize over axes 2, 3, ... -> view back as (N, C, *S)
    y[:, c] = weight[c] * xhat[:, c] + bias[c]

``G = 1`` normalizes each sample over all of its values (layer normalization with per-channel
parameters); ``G = C`` is instance normalization.  This is
``torch.nn.functional.group_norm(x, num_groups, weight, bias, eps)``, and :class:`GroupNorm` is
``torch.nn.GroupNorm(num_groups, num_channels, eps, affine)``.

A group of one value standardizes to 0 (``x - mean = 0``).  PyTorch raises only when the whole
input has one value per group *across the batch* (``N * C // G * prod(S) == 1``, e.g. one sample
with ``G = C`` and no spatial axes) and returns zeros otherwise; the companion does the same.
"""
import numpy as np

from ._layer import Layer
from ._standardize import normalize_backward, normalize_forward
from ._validate import check_array, check_channels, check_eps, check_param, check_positive_int, check_same_shape

__all__ = ["GroupNorm", "group_norm_backward", "group_norm_forward"]


def _check_groups(g, c):
    if c % g:
        raise ValueError(f"num_channels ({c}) must be divisible by num_groups ({g})")


def group_norm_forward(x, num_groups, weight, bias, eps=1e-5):
    """Group normalization.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *S)
        Floating-point input.
    num_groups : int
        Number of groups G; must divide C.
    weight : numpy.ndarray, shape (C,), or None
        Per-channel scale gamma; ``None`` means 1.
    bias : numpy.ndarray, shape (C,), or None
        Per-channel shift beta; ``None`` means 0.
    eps : float, added to the variance inside the square root

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        What :func:`group_norm_backward` needs: the shape of x and the cache of the shared kernel
        (``xhat`` of shape (N, G, C // G, *S), ``1/sqrt(var + eps)`` of shape (N, G, 1, ..., 1), the weight).
    """
    check_array(x, "x", min_ndim=2)
    g = check_positive_int(num_groups, "num_groups")
    n, c = x.shape[:2]
    if c % g:
        raise ValueError(
            f"num_groups={g} must divide the number of channels C={c} (axis 1 of x, shape {x.shape})"
        )
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    spatial = x.shape[2:]
    if n * (c // g) * int(np.prod(spatial)) == 1:  # PyTorch's check (_verify_batch_size on (N * C // G, G, *S))
        raise ValueError(
            f"x: expected more than 1 value per group when training, got input of shape {x.shape} "
            f"with num_groups={g} (one value per group normalizes to 0)"
        )
    xg = x.reshape((n, g, c // g) + spatial)
    axes = tuple(range(2, xg.ndim))
    view = (1, g, c // g) + (1,) * len(spatial)
    y, cache = normalize_forward(xg, axes, weight, bias, (c,), view, eps)
    return y.reshape(x.shape), (x.shape, cache)


def group_norm_backward(dy, cache):
    """Gradient of :func:`group_norm_forward`, given the upstream gradient ``dy`` (N, C, *S) and the forward's ``cache``.

    Returns ``(dx, dweight, dbias)``: ``dx`` with the shape and dtype of ``dy``; ``dweight`` and ``dbias`` of shape (C,).
    """
    shape, inner = cache
    check_same_shape(dy, "dy", shape)
    dx, dweight, dbias = normalize_backward(dy.reshape(inner[0].shape), inner)
    return dx.reshape(shape), dweight, dbias


class GroupNorm(Layer):
    """A group normalization layer with the semantics of ``torch.nn.GroupNorm``.

    Parameters
    ----------
    num_groups : int
        Number of groups G; must divide ``num_channels`` (checked here, as torch does).
    num_channels : int
        Number of channels C (axis 1 of the input).
    eps : float
        Added to the variance inside the square root (0 is allowed, as in torch).
    affine : bool
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros) of shape (C,).
    dtype : numpy dtype
        dtype of the parameters (float64 by default).

    Training and evaluation modes compute the same function (no running statistics).
    """

    _state_names = ("weight", "bias")

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float64):
        self.num_groups = check_positive_int(num_groups, "num_groups")
        self.num_channels = check_positive_int(num_channels, "num_channels")
        _check_groups(self.num_groups, self.num_channels)
        self.eps = check_eps(eps)
        self.affine = bool(affine)
        self.dtype = np.dtype(dtype)
        self.weight = np.ones(self.num_channels, self.dtype) if self.affine else None
        self.bias = np.zeros(self.num_channels, self.dtype) if self.affine else None
        self.dweight = self.dbias = None

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C)`` or ``(N, C, *S)``; returns ``y`` of the same shape."""
        check_array(x, "x", min_ndim=2)
        check_channels(x, "x", self.num_channels)
        y, self._cache = group_norm_forward(x, self.num_groups, self.weight, self.bias, self.eps)
        return y

    def backward(self, dy):
        """Back-propagate ``dy``; returns ``dx`` and sets ``dweight``/``dbias`` (None without ``affine``)."""
        dx, dw, db = group_norm_backward(dy, self._last_cache())
        self.dweight, self.dbias = (dw, db) if self.affine else (None, None)
        return dx

    def __repr__(self):
        return f"GroupNorm({self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine})"
