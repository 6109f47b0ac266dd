"""Instance normalization (Ulyanov, Vedaldi & Lempitsky, 2016): standardize each channel of each sample.

For ``x`` of shape ``(N, C, *S)`` (``S``: one or more spatial axes)

    mean_nc = mean(x[n, c])   var_nc = mean((x[n, c] - mean_nc)**2)      over the prod(S) positions
    y[n, c] = weight[c] * (x[n, c] - mean_nc) / sqrt(var_nc + eps) + bias[c]

It is group normalization with one channel per group, and it is
``torch.nn.functional.instance_norm(x, weight=weight, bias=bias, eps=eps)`` (``nn.InstanceNorm1d/2d/3d``
without running statistics, PyTorch's default; training and evaluation are then the same).
"""
from ._standardize import normalize_backward, normalize_forward
from ._validate import check_array, check_eps, check_param, check_same_shape

__all__ = ["instance_norm_backward", "instance_norm_forward"]


def instance_norm_forward(x, weight=None, bias=None, eps=1e-5):
    """Instance normalization: every (sample, channel) pair is standardized over its spatial positions.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C, *S)
        Floating-point input with at least one spatial axis and at least two spatial positions
        (``prod(S) >= 2``).
    weight, bias : numpy.ndarray, shape (C,), or None
        Per-channel scale gamma and shift beta; ``None`` means 1 and 0 respectively.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    y, cache
        ``y`` has the shape and dtype of x; ``cache`` is what :func:`instance_norm_backward` needs: ``(xhat, inv_std, axes, weight, param_shape,
        param_view)`` with ``xhat`` (shape of x, compute dtype), ``1/sqrt(var + eps)`` of shape
        (N, C, 1, ..., 1), the spatial axes, the weight (or None), ``(C,)`` and ``(1, C, 1, ..., 1)``.
    """
    check_array(x, "x", min_ndim=3)
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    if x[0, 0].size < 2:
        raise ValueError(
            f"x: expected more than 1 spatial position per channel, got input of shape {x.shape} "
            "(a single value has no variance to normalize by)"
        )
    axes = tuple(range(2, x.ndim))
    return normalize_forward(x, axes, weight, bias, (c,), (1, c) + (1,) * (x.ndim - 2), eps)


def instance_norm_backward(dy, cache):
    """Gradient of :func:`instance_norm_forward`, given the upstream gradient ``dy`` (N, C, *S) and the forward's ``cache``.

    Returns ``(dx, dweight, dbias)``: ``dx`` with the shape and dtype of ``dy``; ``dweight`` and ``dbias`` of shape (C,).
    """
    check_same_shape(dy, "dy", cache[0].shape)
    return normalize_backward(dy, cache)
