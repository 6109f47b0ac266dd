"""DropConnect (Wan et al., 2013): drop the *weights* of a linear layer instead of its activations.

For a fully connected layer ``z = x @ W.T + b`` (PyTorch's ``nn.Linear`` layout: ``W`` has shape
``(D_out, D_in)``), dropout on the inputs zeroes whole columns of the effective weight matrix for a
sample; DropConnect zeroes individual weights, with a keep mask ``M ~ Bernoulli(1 - p)`` of the shape
of ``W``.  Here, as inverted dropout:

    training:    z = x @ (W * M).T / (1 - p) + b
    evaluation:  z = x @ W.T + b            (the mean of the training output over M)

One mask is drawn per forward call and shared by the whole mini-batch (a common simplification: a
mask per sample would need one masked weight matrix per sample).  The bias is never dropped.  Wan et al.'s inference rule
(a Gaussian moment-matching approximation followed by the activation) is not implemented: evaluation
uses the mean weights, as inverted dropout does.
"""
import numpy as np

from ._validate import as_generator, check_array, check_param, check_probability

__all__ = ["dropconnect_backward", "dropconnect_forward"]


def dropconnect_forward(x, weight, bias, p=0.5, training=True, rng=None):
    """A linear layer with DropConnect on its weight matrix.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, D_in)
        Floating-point input.
    weight : numpy.ndarray, shape (D_out, D_in)
        Weight matrix ``W`` (``nn.Linear`` layout).
    bias : numpy.ndarray, shape (D_out,), or None
        Bias (never dropped); ``None`` means no bias.
    p : float in [0, 1]
        Probability of dropping each weight.
    training : bool
        If False, the plain linear layer ``x @ W.T + b``.
    rng : None, int or numpy.random.Generator
        Source of randomness (an int is a seed).

    Returns
    -------
    z : numpy.ndarray, shape (N, D_out)
        ``x @ (W * M).T / (1 - p) + b`` (``b`` alone, broadcast, when ``p == 1``).
    cache : tuple
        ``(x, w_eff, mask, p)``: the input, the effective weight ``W * M / (1 - p)`` of shape
        (D_out, D_in) (``W`` itself in evaluation), the boolean keep-mask M of shape (D_out, D_in)
        (all True in evaluation or when ``p == 0``), and the drop probability actually applied
        (0 in evaluation).
    """
    check_array(x, "x", min_ndim=2)
    check_array(weight, "weight", min_ndim=2)
    if x.ndim != 2 or weight.ndim != 2:
        raise ValueError(f"x must have shape (N, D_in) and weight (D_out, D_in), got {x.shape} and {weight.shape}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"weight must have shape (D_out, D_in) with D_in = x.shape[1] = {x.shape[1]}, got {weight.shape}"
        )
    check_param(bias, "bias", (weight.shape[0],))
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and v.dtype != x.dtype:
            raise TypeError(f"{name} must have the dtype of x ({x.dtype}), got {v.dtype}")
    p = check_probability(p)
    if not training or p == 0.0:
        p = 0.0
        mask = np.ones(weight.shape, dtype=bool)
        w_eff = weight
    else:
        mask = as_generator(rng).random(weight.shape) >= p
        w_eff = np.zeros_like(weight) if p == 1.0 else weight * (mask * (1.0 / (1.0 - p))).astype(weight.dtype)
    z = x @ w_eff.T
    if bias is not None:
        z = z + bias
    return z, (x, w_eff, mask, p)


def dropconnect_backward(dz, cache):
    """Gradient of :func:`dropconnect_forward` with respect to x, W and b (the mask is constant).

    Parameters
    ----------
    dz : numpy.ndarray, shape (N, D_out)
        Upstream gradient dL/dz.
    cache : tuple
        The cache returned by :func:`dropconnect_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape (N, D_in)
        ``dz @ (W * M) / (1 - p)``.
    dweight : numpy.ndarray, shape (D_out, D_in)
        ``(dz.T @ x) * M / (1 - p)``: dropped weights get no gradient (zeros when ``p == 1``).
    dbias : numpy.ndarray, shape (D_out,)
        ``dz.sum(axis=0)``.
    """
    x, w_eff, mask, p = cache
    check_array(dz, "dz")
    if dz.shape != (x.shape[0], w_eff.shape[0]):
        raise ValueError(f"dz must have the shape of the forward output {(x.shape[0], w_eff.shape[0])}, got {dz.shape}")
    dx = dz @ w_eff
    dweight = dz.T @ x
    if p == 1.0:
        dweight = np.zeros_like(dweight)
    elif p > 0.0:
        dweight = dweight * (mask * (1.0 / (1.0 - p))).astype(dweight.dtype)
    return dx, dweight, dz.sum(axis=0)
