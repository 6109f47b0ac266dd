"""Group normalization (Wu & He, 2018): standardize each group of channels of each sample.

The ``C`` channels of ``x`` (shape ``(N, C, *S)``) are split into ``G = num_groups`` consecutive groups
of ``C // G`` channels; each (sample, group) is standardized over its ``(C // G) * prod(S)`` values,
then every channel gets its own scale and shift:

    x viewed as (N, G, C // G, *S) -> standardize over axes 2, 3, ... -> view back as (N, C, *S)
    y[:, c] = weight[c] * xhat[:, c] + bias[c]

``G = 1`` normalizes each sample over all of its values (layer normalization with per-channel
parameters); ``G = C`` is instance normalization.  This is
``torch.nn.functional.group_norm(x, num_groups, weight, bias, eps)``.
"""
from ._standardize import normalize_backward, normalize_forward
from ._validate import check_array, check_eps, check_param, check_positive_int, check_same_shape

__all__ = ["group_norm_backward", "group_norm_forward"]


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
