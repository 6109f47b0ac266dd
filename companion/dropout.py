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
"""
import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_array, check_mask, check_probability

__all__ = [
    "Dropout",
    "dropout_backward",
    "dropout_forward",
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


def dropout_forward(x, p=0.5, training=True, rng=None):
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

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``x * mask / (1 - p)`` in training (all zeros when ``p == 1``), a copy of ``x`` otherwise.
    mask : numpy.ndarray of bool, shape of x
        The keep-mask (all True in evaluation or when ``p == 0``).
    """
    check_array(x, "x")
    p = check_probability(p)
    if not training or p == 0.0:
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = keep_mask(x.shape, p, rng)
    if p == 1.0:
        return np.zeros_like(x), mask
    return x * mask * (1.0 / (1.0 - p)), mask


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
    check_mask(mask, dy.shape)
    p = check_probability(p)
    if p == 1.0:
        return np.zeros_like(dy)
    return dy * mask * (1.0 / (1.0 - p))


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
    rng : None, int or numpy.random.Generator
        Source of randomness; an int seeds a new Generator owned by the layer.

    Attributes
    ----------
    training : bool
    mask : numpy.ndarray of bool or None
        The keep-mask of the last forward call.
    """

    def __init__(self, p=0.5, rng=None):
        self.p = check_probability(p)
        self.rng = as_generator(rng)
        self.training = True
        self.mask = None

    def forward(self, x):
        """Apply dropout to ``x`` (any shape); returns ``y`` of the same shape."""
        y, self.mask = dropout_forward(x, self.p, self.training, self.rng)
        self._cache = (self.mask, self.p if self.training else 0.0)
        return y

    def backward(self, dy):
        """Gradient of the last forward call; returns ``dx`` with the shape of ``dy``."""
        mask, p_used = self._last_cache()
        return dropout_backward(dy, mask, p_used)

    def __repr__(self):
        return f"Dropout(p={self.p})"
