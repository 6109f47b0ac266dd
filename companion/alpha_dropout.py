"""Alpha dropout (Klambauer et al., 2017): dropout that keeps SELU activations standardized.

Ordinary dropout sets units to 0 and rescales the rest by ``1 / (1 - p)``: it keeps the mean but
inflates the variance.  For self-normalizing networks (SELU activations, inputs with mean 0 and
variance 1) a dropped unit is instead set to SELU's negative saturation value
``alpha' = -scale * alpha`` (about -1.758), and an affine map ``a * (.) + b`` restores mean 0 and
variance 1.  With keep mask ``mask ~ Bernoulli(q)``, ``q = 1 - p``:

    y = a * (x * mask + alpha' * (1 - mask)) + b
    a = (q * (1 + p * alpha'**2)) ** -0.5        b = -a * alpha' * p

If ``x`` has mean 0 and variance 1, so has ``y`` (for any distribution of ``x``).  The constants and
the arithmetic are those of ``torch.nn.functional.alpha_dropout``: in training mode PyTorch computes
``x * (a * mask) + ((mask - 1) * (-alpha' * a) + (-alpha' * a) * p)``, which is the formula above.
In evaluation mode, or with ``p == 0``, alpha dropout is the identity; with ``p == 1`` the output is
all zeros (the limit of the formula as ``p -> 1``, and PyTorch's result).  With ``inplace=True`` the
input is overwritten in training and returned (as ``torch.nn.functional.alpha_dropout(..., inplace=True)``);
the backward pass needs only the mask.

Feature alpha dropout (``torch.nn.FeatureAlphaDropout``) draws one decision per (sample, channel),
mask shape ``(N, C, 1, ..., 1)``, and drops whole channels to the same value.  :class:`AlphaDropout`
and :class:`FeatureAlphaDropout` are the layers.
"""
import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_array, check_inplace, check_mask, check_probability

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "alpha_dropout_backward",
    "alpha_dropout_constants",
    "alpha_dropout_forward",
    "feature_alpha_dropout_backward",
    "feature_alpha_dropout_forward",
]

#: SELU's ``alpha`` and ``scale`` (Klambauer et al., 2017), as in ``torch.nn.SELU``.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def alpha_dropout_constants(p):
    """The affine correction ``(a, b)`` and the dropped value ``alpha'`` for drop probability ``p``.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability.

    Returns
    -------
    a, b, alpha_prime : float
        ``y = a * (x * mask + alpha_prime * (1 - mask)) + b``; ``alpha_prime = -SELU_SCALE * SELU_ALPHA``.
    """
    p = check_probability(p)
    if p == 1.0:
        raise ValueError("p must be < 1 for the alpha dropout constants (a is infinite at p = 1)")
    alpha = SELU_SCALE * SELU_ALPHA
    a = 1.0 / np.sqrt((alpha * alpha * p + 1.0) * (1.0 - p))
    return float(a), float(alpha * a * p), -alpha


def alpha_dropout_forward(x, p, training=True, rng=None, inplace=False):
    """Alpha dropout.

    Parameters
    ----------
    x : numpy.ndarray, any shape
        Floating-point input (meant to have mean 0 and variance 1, e.g. SELU activations).
    p : float in [0, 1]
        Probability of dropping each entry.
    training : bool
        If False, alpha dropout is the identity.
    rng : None, int or numpy.random.Generator
        Source of randomness (an int is a seed).
    inplace : bool
        Overwrite ``x`` with the result and return it (``x`` itself in evaluation).

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``a * x + b`` where kept, ``a * alpha' + b`` where dropped; a copy of x in evaluation or when
        ``p == 0``; zeros when ``p == 1``; x itself with ``inplace``.
    mask : numpy.ndarray of bool, shape of x
        The keep-mask (all True in evaluation or when ``p == 0``, all False when ``p == 1``).
    """
    check_array(x, "x")
    return _alpha_forward(x, check_probability(p), x.shape, training, rng, check_inplace(inplace, x))


def _alpha_forward(x, p, mask_shape, training, rng, inplace):
    """Alpha dropout of a validated ``x`` with a keep-mask of ``mask_shape`` (broadcast against x)."""
    if not training or p == 0.0:
        return x if inplace else x.copy(), np.ones(mask_shape, dtype=bool)
    mask = as_generator(rng).random(mask_shape) >= p
    out = x if inplace else None
    if p == 1.0:
        if out is None:
            return np.zeros_like(x), mask
        out[...] = 0
        return out, mask
    a, b, alpha_prime = alpha_dropout_constants(p)
    # PyTorch's order of operations: noise = a * mask; b_tensor = (mask - 1) * (-alpha' a) + (-alpha' a) p
    m = mask.astype(x.dtype)
    shift = (m - 1) * (-alpha_prime * a) + b
    out = np.multiply(x, m * a, out=out)
    out += shift
    return out, mask


def alpha_dropout_backward(dy, mask, p):
    """Gradient of training-mode :func:`alpha_dropout_forward`.

    Parameters
    ----------
    dy : numpy.ndarray
        Upstream gradient, shape of the forward input.
    mask : numpy.ndarray of bool, shape of dy
        The keep-mask returned by the forward pass.
    p : float in [0, 1]
        The drop probability used in the forward pass (pass 0 after an evaluation-mode forward).

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        ``a * dy`` where kept, 0 where dropped (``dy`` itself when ``p == 0``, zeros when ``p == 1``).
    """
    check_array(dy, "dy")
    check_mask(mask, dy.shape)
    p = check_probability(p)
    if p == 0.0:
        return dy.copy()
    if p == 1.0:
        return np.zeros_like(dy)
    a = alpha_dropout_constants(p)[0]
    return dy * (mask.astype(dy.dtype) * a)


def _feature_mask_shape(shape):
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def feature_alpha_dropout_forward(x, p, training=True, rng=None, inplace=False):
    """Feature alpha dropout: one keep decision per (sample, channel), as ``torch.nn.functional.feature_alpha_dropout``.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C, *S)
        Floating-point input with at least two axes (with two, every value is its own channel).
    p, training, rng, inplace
        As in :func:`alpha_dropout_forward`.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    mask : numpy.ndarray of bool, shape (N, C, 1, ..., 1)
        One keep decision per (sample, channel), broadcast over the other axes.
    """
    check_array(x, "x", min_ndim=2)
    return _alpha_forward(x, check_probability(p), _feature_mask_shape(x.shape), training, rng,
                          check_inplace(inplace, x))


def feature_alpha_dropout_backward(dy, mask, p):
    """Gradient of :func:`feature_alpha_dropout_forward`: ``a * dy`` in kept channels, 0 in dropped ones.

    ``mask`` has shape (N, C, 1, ..., 1); ``p`` is the forward's drop probability (0 after evaluation mode).
    """
    check_array(dy, "dy", min_ndim=2)
    check_mask(mask, _feature_mask_shape(dy.shape), dy.shape)
    p = check_probability(p)
    if p == 0.0:
        return dy.copy()
    if p == 1.0:
        return np.zeros_like(dy)
    return dy * (mask.astype(dy.dtype) * alpha_dropout_constants(p)[0])


class AlphaDropout(Layer):
    """Alpha dropout layer with the semantics of ``torch.nn.AlphaDropout`` (identity in eval mode).

    Parameters
    ----------
    p : float in [0, 1]
        Probability of dropping each entry.
    inplace : bool
        In training, overwrite the input with the output and return it (in evaluation, return the input
        itself), as ``torch.nn.functional.alpha_dropout(..., inplace=True)`` does.  (``torch.nn.AlphaDropout``
        accepts ``inplace=True`` but its forward does not pass it on, so it never works in place.)
    rng : None, int or numpy.random.Generator
        Source of randomness; an int seeds a new Generator owned by the layer.
    """

    _forward = staticmethod(alpha_dropout_forward)
    _backward = staticmethod(alpha_dropout_backward)

    def __init__(self, p=0.5, inplace=False, rng=None):
        self.p = check_probability(p)
        self.inplace = check_inplace(inplace)
        self.rng = as_generator(rng)
        self.mask = None

    def forward(self, x):
        """Apply alpha dropout to ``x``; returns ``y`` of the same shape (the keep-mask is in ``self.mask``;
        ``y`` is ``x`` itself, overwritten in training, with ``inplace``)."""
        y, self.mask = self._forward(x, self.p, self.training, self.rng, self.inplace)
        self._cache = (self.mask, self.p if self.training else 0.0)
        return y

    def backward(self, dy):
        """Gradient of the last forward call; returns ``dx`` with the shape of ``dy``."""
        mask, p_used = self._last_cache()
        return self._backward(dy, mask, p_used)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p}, inplace={self.inplace})"


class FeatureAlphaDropout(AlphaDropout):
    """Feature alpha dropout layer with the semantics of ``torch.nn.FeatureAlphaDropout``: whole channels
    of ``x`` (shape ``(N, C, *S)``) are dropped to the same value (mask shape ``(N, C, 1, ..., 1)``)."""

    _forward = staticmethod(feature_alpha_dropout_forward)
    _backward = staticmethod(feature_alpha_dropout_backward)
