"""Layer normalization (Ba, Kiros & Hinton, 2016): standardize each sample over its last axes.

For a batch ``x`` of shape ``(*B, *F)`` (``F = normalized_shape``, the feature axes, e.g. ``(D,)`` or
``(C, H, W)``; ``B`` the leading axes, usually ``(N,)`` or ``(N, T)``)

    mean_b = mean(x[b])   var_b = mean((x[b] - mean_b)**2)      over the prod(F) values of x[b]
    y[b]   = weight * (x[b] - mean_b) / sqrt(var_b + eps) + bias    weight, bias: shape F

Unlike batch normalization the statistics never mix samples, so training and evaluation are the
same computation and a batch of one sample is fine.  :func:`layer_norm_forward` is
``torch.nn.functional.layer_norm(x, normalized_shape, weight, bias, eps)`` (``normalized_shape``
defaults to ``x.shape[1:]``: every axis but the first), and :class:`LayerNorm` is
``torch.nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)``.
"""
import numbers

import numpy as np

from ._layer import Layer
from ._standardize import normalize_backward, normalize_forward
from ._validate import check_array, check_eps, check_param, check_positive_int, check_same_shape

__all__ = ["LayerNorm", "layer_norm_backward", "layer_norm_forward"]


def _as_shape(normalized_shape):
    """``normalized_shape`` as a tuple of positive ints (an int ``D`` means ``(D,)``, as in torch)."""
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, (bool, np.bool_)):
        normalized_shape = (normalized_shape,)
    try:
        shape = tuple(normalized_shape)
    except TypeError:
        raise TypeError(f"normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}") from None
    if not shape:
        raise ValueError("normalized_shape must have at least one axis, got ()")
    return tuple(check_positive_int(s, "normalized_shape") for s in shape)


def layer_norm_forward(x, weight, bias, eps=1e-5, normalized_shape=None):
    """Layer normalization over the last ``len(normalized_shape)`` axes.

    Parameters
    ----------
    x : numpy.ndarray, shape (*B, *F)
        Floating-point input; each of the ``prod(B)`` slices ``x[b]`` is normalized over its
        ``prod(F)`` values.
    weight, bias : numpy.ndarray, shape F, or None
        Element-wise scale gamma and shift beta; ``None`` means 1 and 0 respectively.
    eps : float
        Added to the variance inside the square root.
    normalized_shape : int, tuple of int, or None
        ``F``, the trailing shape to normalize over (torch's argument); ``None`` means ``x.shape[1:]``
        (then x needs at least two axes).

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        What :func:`layer_norm_backward` needs: ``(xhat, inv_std, axes, weight, param_shape,
        param_view)`` with the normalized input ``xhat`` (shape of x, compute dtype),
        ``1/sqrt(var + eps)`` of shape ``(*B, 1, ..., 1)``, the reduced (last) axes,
        the weight (or None), ``F`` and ``(1, ..., 1, *F)``.
    """
    if normalized_shape is None:
        check_array(x, "x", min_ndim=2)
        features = x.shape[1:]
    else:
        features = _as_shape(normalized_shape)
        check_array(x, "x")
        if x.ndim < len(features) or x.shape[x.ndim - len(features):] != features:
            raise ValueError(
                f"Given normalized_shape={features}, expected x of shape (*, {', '.join(map(str, features))}), "
                f"got shape {x.shape}"
            )
    check_param(weight, "weight", features)
    check_param(bias, "bias", features)
    eps = check_eps(eps)
    lead = x.ndim - len(features)
    axes = tuple(range(lead, x.ndim))
    return normalize_forward(x, axes, weight, bias, features, (1,) * lead + features, eps)


def layer_norm_backward(dy, cache):
    """Gradient of :func:`layer_norm_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape (*B, *F)
        Upstream gradient dL/dy.
    cache : tuple
        The cache returned by :func:`layer_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape (*B, *F), dtype of dy
    dweight : numpy.ndarray, shape F
        ``sum over b of dy * xhat`` (also when the forward's weight was None).
    dbias : numpy.ndarray, shape F
        ``sum over b of dy``.
    """
    check_same_shape(dy, "dy", cache[0].shape)
    return normalize_backward(dy, cache)


class LayerNorm(Layer):
    """A layer normalization layer with the semantics of ``torch.nn.LayerNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        ``F``: the input's trailing shape, normalized over.
    eps : float
        Added to the variance inside the square root.
    elementwise_affine : bool
        Learn ``weight`` (ones, shape F) and, if ``bias``, ``bias`` (zeros, shape F).
    bias : bool
        With ``elementwise_affine``, learn a bias too (torch's ``bias`` argument).
    dtype : numpy dtype
        dtype of the parameters (float64 by default).

    Training and evaluation modes compute the same function.
    """

    _state_names = ("weight", "bias")

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float64):
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = check_eps(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.dtype = np.dtype(dtype)
        shape = self.normalized_shape
        self.weight = np.ones(shape, self.dtype) if self.elementwise_affine else None
        self.bias = np.zeros(shape, self.dtype) if self.elementwise_affine and bias else None
        self.dweight = self.dbias = None

    def forward(self, x):
        """Normalize ``x`` of shape ``(*B, *normalized_shape)``; returns ``y`` of the same shape."""
        y, self._cache = layer_norm_forward(x, self.weight, self.bias, self.eps, self.normalized_shape)
        return y

    def backward(self, dy):
        """Back-propagate ``dy``; returns ``dx`` and sets ``dweight``/``dbias`` (None for absent parameters)."""
        dx, dw, db = layer_norm_backward(dy, self._last_cache())
        self.dweight = dw if self.weight is not None else None
        self.dbias = db if self.bias is not None else None
        return dx

    def __repr__(self):
        return (
            f"LayerNorm({self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None})"
        )
