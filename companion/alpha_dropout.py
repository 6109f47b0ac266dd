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
all zeros (the limit of the formula as ``p -> 1``, and PyTorch's result).
"""
import numpy as np

from ._validate import as_generator, check_array, check_mask, check_probability

__all__ = ["SELU_ALPHA", "SELU_SCALE", "alpha_dropout_backward", "alpha_dropout_constants", "alpha_dropout_forward"]

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


def alpha_dropout_forward(x, p, training=True, rng=None):
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

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``a * x + b`` where kept, ``a * alpha' + b`` where dropped; a copy of x in evaluation or when
        ``p == 0``; zeros when ``p == 1``.
    mask : numpy.ndarray of bool, shape of x
        The keep-mask (all True in evaluation or when ``p == 0``, all False when ``p == 1``).
    """
    check_array(x, "x")
    p = check_probability(p)
    if not training or p == 0.0:
        return x.copy(), np.ones(x.shape, dtype=bool)
    mask = as_generator(rng).random(x.shape) >= p
    if p == 1.0:
        return np.zeros_like(x), mask
    a, b, alpha_prime = alpha_dropout_constants(p)
    # PyTorch's order of operations: noise = a * mask; b_tensor = (mask - 1) * (-alpha' a) + (-alpha' a) p
    m = mask.astype(x.dtype)
    shift = (m - 1) * (-alpha_prime * a) + b
    return x * (m * a) + shift, mask


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
