"""DropPath (stochastic depth; Huang et al., 2016): drop a whole residual branch, per sample.

In a residual block ``out = x + f(x)``, DropPath replaces ``f(x)`` by ``f(x) * mask / (1 - p)`` with
one keep decision per *sample* (mask shape ``(N, 1, ..., 1)``): for a dropped sample the block is the
identity, so each sample trains a network of random depth. Huang et al. scaled at test time; like
inverted dropout, the form used today (``timm``'s ``drop_path``) divides by ``1 - p`` in training and
is the identity in evaluation. ``p`` is the drop probability, as everywhere in this book.
"""
import numpy as np

from ._validate import as_generator, check_array, check_probability
from .dropout import apply_mask, masked_backward

__all__ = ["drop_path_backward", "drop_path_forward"]


def drop_path_forward(x, p=0.1, training=True, rng=None):
    """Drop the residual-branch output ``x`` of whole samples, scaling the kept ones by ``1 / (1 - p)``.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, *F)
        Output of a residual branch for N samples.
    p : float in [0, 1]
        Probability of dropping the branch for each sample.
    training : bool
        If False, the identity.
    rng : None, int or numpy.random.Generator
        Source of randomness (an int is a seed); the mask is ``rng.random((N, 1, ..., 1)) >= p``.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``x * mask / (1 - p)`` (zeros when ``p == 1``; a copy of x in evaluation or with ``p == 0``).
    mask : numpy.ndarray of bool, shape (N, 1, ..., 1)
        One keep decision per sample.
    """
    check_array(x, "x", min_ndim=1)
    p = check_probability(p)
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    if not training or p == 0.0:
        return x.copy(), np.ones(shape, dtype=bool)
    mask = as_generator(rng).random(shape) >= p
    return apply_mask(x, mask, p), mask


def drop_path_backward(dy, mask, p):
    """Gradient of :func:`drop_path_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape (N, *F)
        Upstream gradient.
    mask : numpy.ndarray of bool, shape (N, 1, ..., 1)
        The mask returned by the forward pass.
    p : float in [0, 1]
        The drop probability of the forward pass (0 after an evaluation-mode forward).

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        ``dy * mask / (1 - p)`` (zeros when ``p == 1``).
    """
    check_array(dy, "dy", min_ndim=1)
    return masked_backward(dy, mask, p, (dy.shape[0],) + (1,) * (dy.ndim - 1))
