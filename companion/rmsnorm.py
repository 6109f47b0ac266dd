"""RMS normalization (Zhang & Sennrich, 2019): rescale by the root mean square, without centring.

Over the trailing ``normalized_shape`` axes of ``x`` (the features of each token in a Transformer)

    rms    = sqrt(mean(x**2) + eps)
    xhat   = x / rms
    y      = weight * xhat                   (no bias)

Compared with layer normalization it drops the mean subtraction and the bias: the output is invariant
to a rescaling of ``x`` but not to a shift. The backward pass, with ``g = dy * weight``::

    dx = (g - xhat * mean(g * xhat)) / rms

This is ``torch.nn.functional.rms_norm(x, normalized_shape, weight, eps)`` and ``torch.nn.RMSNorm``;
as there, ``eps=None`` means the machine epsilon of x's dtype (``torch.finfo(dtype).eps``).
"""
import numpy as np

from ._layer import Layer
from ._standardize import compute_dtype
from ._validate import check_array, check_eps, check_param, check_same_shape

__all__ = ["RMSNorm", "rms_norm_backward", "rms_norm_forward"]


def _shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    shape = tuple(int(s) for s in normalized_shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"normalized_shape must be a positive int or a non-empty tuple of them, got {normalized_shape!r}")
    return shape


def rms_norm_forward(x, normalized_shape, weight=None, eps=None):
    """RMS normalization over the trailing ``normalized_shape`` axes.

    Parameters
    ----------
    x : numpy.ndarray, shape (*B, *normalized_shape)
        Floating-point input; ``B`` are any leading (batch, time) axes.
    normalized_shape : int or tuple of int
        The trailing shape to normalize over, e.g. ``D`` for ``(N, T, D)`` tokens.
    weight : numpy.ndarray, shape normalized_shape, or None
        Element-wise scale; None means 1.
    eps : float or None
        Added to the mean square; None means ``np.finfo(x.dtype).eps`` (as in PyTorch).

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        ``(xhat, inv_rms, axes, weight)``: the normalized input (compute dtype), ``1 / rms`` with
        size-1 normalized axes, the normalized axes and the weight (or None).
    """
    check_array(x, "x", min_ndim=1)
    shape = _shape(normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise ValueError(f"x of shape {x.shape} does not end with normalized_shape {shape}")
    check_param(weight, "weight", shape)
    eps = float(np.finfo(x.dtype).eps) if eps is None else check_eps(eps)
    cdt = compute_dtype(x.dtype)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    xc = x.astype(cdt, copy=False)
    ms = np.square(xc).mean(axis=axes, dtype=np.float64, keepdims=True)
    inv_rms = (1.0 / np.sqrt(ms + eps)).astype(cdt)
    xhat = xc * inv_rms
    y = xhat if weight is None else xhat * weight.astype(cdt, copy=False)
    return y.astype(x.dtype), (xhat, inv_rms, axes, weight)


def rms_norm_backward(dy, cache):
    """Gradient of :func:`rms_norm_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape of the forward input
        Upstream gradient.
    cache : tuple
        The cache returned by :func:`rms_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
    dweight : numpy.ndarray, shape normalized_shape
        ``sum over the leading axes of dy * xhat`` (also when the forward's weight was None).
    """
    xhat, inv_rms, axes, weight = cache
    check_same_shape(dy, "dy", xhat.shape)
    cdt = xhat.dtype
    g = dy.astype(cdt, copy=False)
    lead = tuple(range(xhat.ndim - len(axes)))
    dweight = (g * xhat).sum(axis=lead, dtype=np.float64)
    if weight is not None:
        g = g * weight.astype(cdt, copy=False)
    mean_gx = (g * xhat).mean(axis=axes, dtype=np.float64, keepdims=True).astype(cdt)
    dx = (g - xhat * mean_gx) * inv_rms
    pdt = cdt if weight is None else weight.dtype
    return dx.astype(dy.dtype, copy=False), dweight.astype(pdt)


class RMSNorm(Layer):
    """An RMS normalization layer with the semantics of ``torch.nn.RMSNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        Trailing shape normalized over.
    eps : float or None
        Added to the mean square; None: the machine epsilon of the input's dtype.
    elementwise_affine : bool
        Learn ``weight`` (initialised to ones); else ``weight`` is None.
    dtype : numpy dtype
        dtype of the weight.

    Attributes
    ----------
    weight : numpy.ndarray, shape normalized_shape, or None
    dweight : numpy.ndarray or None
        Set by :meth:`backward`.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=np.float64):
        self.normalized_shape = _shape(normalized_shape)
        self.eps = None if eps is None else check_eps(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = np.ones(self.normalized_shape, dtype) if self.elementwise_affine else None
        self.dweight = None
        self._cache = None

    def forward(self, x):
        """Normalize ``x`` of shape ``(*B, *normalized_shape)``; the same in training and evaluation."""
        y, self._cache = rms_norm_forward(x, self.normalized_shape, self.weight, self.eps)
        return y

    def backward(self, dy):
        """Back-propagate ``dy`` through the last forward call; returns ``dx`` and sets ``dweight``."""
        dx, dw = rms_norm_backward(dy, self._last_cache())
        self.dweight = dw if self.elementwise_affine else None
        return dx

    def __repr__(self):
        return f"RMSNorm({self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine})"
