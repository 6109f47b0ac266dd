"""Dropout: inverted dropout (as in PyTorch) and the original formulation.

``p`` is always the probability of **dropping** a unit, as in ``torch.nn.Dropout``;
the keep probability is ``q = 1 - p``. (Srivastava et al., 2014, write ``p`` for the
*keep* probability: see the chapter on dropout.)

Inverted dropout (used by PyTorch and Keras)
    training:   y = x * mask / (1 - p),  mask ~ Bernoulli(1 - p)
    evaluation: y = x
Original dropout
    training:   y = x * mask                (no rescaling)
    evaluation: y = x * (1 - p)              (scale by the keep probability)

Both give ``E[y_train] = y_eval``.

``inplace=True`` (as in ``torch.nn.Dropout(p, inplace=True)``) overwrites the input in training and
returns it (the same array object); in evaluation the input itself is returned.  The backward pass
needs only the mask and ``p``, never the input, so overwriting it is safe.  Without ``inplace`` the
input is never modified and the result is always a new array.
"""
import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_array, check_inplace, check_mask, check_probability

__all__ = [
    "Dropout",
    "apply_mask",
    "dropout_backward",
    "dropout_forward",
    "masked_backward",
    "original_dropout_backward",
    "original_dropout_forward",
]


def keep_mask(shape, p, rng=None):
    """Sample a boolean keep-mask: each entry is True with probability ``1 - p``.

    Parameters
    ----------
    shape : tuple of int
    p : float in [0, 1]
        Drop probability.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    mask : numpy.ndarray of bool, shape ``shape``
    """
    p = check_probability(p)
    return as_generator(rng).random(shape) >= p


def apply_mask(a, mask, p, out=None):
    """``a * mask / (1 - p)``: the arithmetic of inverted dropout, forward (``a = x``) and backward (``a = dy``).

    Parameters
    ----------
    a : numpy.ndarray
        Floating-point array (validated by the caller).
    mask : numpy.ndarray of bool
        The keep-mask; its shape broadcasts against ``a`` (one entry per value, or shared along axes).
    p : float in [0, 1]
        Drop probability (validated by the caller).
    out : numpy.ndarray or None
        Where to write the result, of the shape and dtype of ``a``; ``out=a`` works in place.

    Returns
    -------
    numpy.ndarray, shape and dtype of a
        ``out`` if given. All zeros when ``p == 1`` (never ``0 / 0``).
    """
    if p == 1.0:
        if out is None:
            return np.zeros_like(a)
        out[...] = 0
        return out
    out = np.multiply(a, mask, out=out)
    out *= 1.0 / (1.0 - p)  # a Python float: applied in a's dtype
    return out


def masked_backward(dy, mask, p, mask_shape=None):
    """``dx = dy * mask / (1 - p)``: the gradient of every inverted dropout, whatever its mask's sharing.

    Element-wise dropout, spatial and locked dropout and DropPath all multiply by a keep-mask and
    scale by ``1 / (1 - p)``; they differ only in the axes their mask shares (size 1 there).  Each
    checks ``dy``'s rank and passes the mask shape it expects.

    Parameters
    ----------
    dy : numpy.ndarray
        Upstream gradient (a validated floating array).
    mask : numpy.ndarray of bool, shape ``mask_shape``
        The keep-mask returned by the forward pass.
    p : float in [0, 1]
        The drop probability of the forward pass (0 after an evaluation-mode forward).
    mask_shape : tuple of int, optional
        The shape the mask must have; ``dy.shape`` by default (one entry per value).

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        ``dy * mask / (1 - p)`` (zeros when ``p == 1``).
    """
    check_mask(mask, dy.shape if mask_shape is None else mask_shape, dy.shape)
    return apply_mask(dy, mask, check_probability(p))


def dropout_forward(x, p=0.5, training=True, rng=None, inplace=False):
    """Inverted dropout.

    Parameters
    ----------
    x : numpy.ndarray, any shape
        Floating-point input.
    p : float in [0, 1]
        Probability of dropping each entry.
    training : bool
        If False (evaluation), dropout is the identity.
    rng : None, int or numpy.random.Generator
        Source of randomness (an int is a seed).
    inplace : bool
        Overwrite ``x`` with the result and return it, as ``torch.nn.functional.dropout(..., inplace=True)``.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``x * mask / (1 - p)`` in training (all zeros when ``p == 1``), a copy of ``x`` otherwise;
        with ``inplace``, ``x`` itself (overwritten in training).
    mask : numpy.ndarray of bool, shape of x
        The keep-mask (all True in evaluation or when ``p == 0``).
    """
    check_array(x, "x")
    p = check_probability(p)
    inplace = check_inplace(inplace, x)
    if not training or p == 0.0:
        return x if inplace else x.copy(), np.ones(x.shape, dtype=bool)
    mask = keep_mask(x.shape, p, rng)
    return apply_mask(x, mask, p, out=x if inplace else None), mask


def dropout_backward(dy, mask, p):
    """Gradient of inverted dropout.

    Parameters
    ----------
    dy : numpy.ndarray
        Upstream gradient, shape of the forward input.
    mask : numpy.ndarray of bool, same shape
        The keep-mask returned by :func:`dropout_forward`.
    p : float in [0, 1]
        The drop probability used in the forward pass.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        ``dy * mask / (1 - p)`` (zeros when ``p == 1``).
    """
    check_array(dy, "dy")
    return masked_backward(dy, mask, p)


def original_dropout_forward(x, p=0.5, training=True, rng=None):
    """Dropout as first published: no rescaling in training, scale by ``1 - p`` at test time.

    Parameters and returns are as for :func:`dropout_forward`, except that training
    returns ``x * mask`` and evaluation returns ``x * (1 - p)``.
    """
    check_array(x, "x")
    p = check_probability(p)
    if not training:
        return x * (1.0 - p), np.ones(x.shape, dtype=bool)
    mask = keep_mask(x.shape, p, rng)
    return x * mask, mask


def original_dropout_backward(dy, mask):
    """Gradient of :func:`original_dropout_forward` in training: ``dy * mask``."""
    check_array(dy, "dy")
    check_mask(mask, dy.shape)
    return dy * mask


class Dropout(Layer):
    """Inverted dropout layer with the semantics of ``torch.nn.Dropout``.

    Parameters
    ----------
    p : float in [0, 1]
        Probability of dropping each entry.
    inplace : bool
        In training, overwrite the input with the output and return it (in evaluation, return the
        input itself), as ``torch.nn.Dropout(p, inplace=True)``.
    rng : None, int or numpy.random.Generator
        Source of randomness; an int seeds a new Generator owned by the layer.

    Attributes
    ----------
    training : bool
    mask : numpy.ndarray of bool or None
        The keep-mask of the last forward call.
    """

    def __init__(self, p=0.5, inplace=False, rng=None):
        self.p = check_probability(p)
        self.inplace = check_inplace(inplace)
        self.rng = as_generator(rng)
        self.training = True
        self.mask = None

    def forward(self, x):
        """Apply dropout to ``x`` (any shape); returns ``y`` of the same shape (``x`` itself with ``inplace``)."""
        y, self.mask = dropout_forward(x, self.p, self.training, self.rng, self.inplace)
        self._cache = (self.mask, self.p if self.training else 0.0)
        return y

    def backward(self, dy):
        """Gradient of the last forward call; returns ``dx`` with the shape of ``dy``."""
        mask, p_used = self._last_cache()
        return dropout_backward(dy, mask, p_used)

    def __repr__(self):
        return f"Dropout(p={self.p}, inplace={self.inplace})"
