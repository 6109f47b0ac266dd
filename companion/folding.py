"""Folding an evaluation-mode batch normalization into the layer before it.

In evaluation mode BN is a fixed per-channel affine map,

    bn(z) = s * (z - running_mean) + beta,    s = gamma / sqrt(running_var + eps),

so a linear or convolutional layer ``z = W x + b`` followed by BN equals one layer with

    W' = s * W    (row / output channel k of W scaled by s[k])
    b' = s * (b - running_mean) + beta

At inference the BN layer then costs nothing: no extra pass over the activations.
The argument order follows ``torch.nn.utils.fusion.fuse_conv_bn_weights``.
"""
import numpy as np

from ._validate import check_array, check_eps, check_param

__all__ = ["fold_bn_weights"]


def fold_bn_weights(weight, bias, running_mean, running_var, eps, bn_weight=None, bn_bias=None):
    """Weights of a linear/convolutional layer with the following eval-mode BN folded in.

    Parameters
    ----------
    weight : numpy.ndarray, shape (C_out, ...)
        The preceding layer's weight, output channels first: ``(C_out, C_in)`` for a linear
        layer (``y = x @ weight.T + bias``), ``(C_out, C_in, kH, kW)`` for a convolution.
    bias : numpy.ndarray, shape (C_out,), or None
        The preceding layer's bias (``None``: no bias, i.e. 0).
    running_mean, running_var : numpy.ndarray, shape (C_out,)
        The BN layer's running statistics.
    eps : float
        The BN layer's eps.
    bn_weight, bn_bias : numpy.ndarray, shape (C_out,), or None
        The BN layer's gamma and beta (``None``: 1 and 0, as with ``affine=False``).

    Returns
    -------
    folded_weight : numpy.ndarray, shape and dtype of ``weight``
    folded_bias : numpy.ndarray, shape (C_out,), dtype of ``weight``
        The folded layer always has a bias, even if the original one had none.
    """
    check_array(weight, "weight", min_ndim=2)
    c = (weight.shape[0],)
    check_param(bias, "bias", c)
    for value, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if value is None:
            raise TypeError(f"{name} must be a numpy.ndarray of shape {c}, got None (BN without running statistics "
                            "normalizes with batch statistics and cannot be folded)")
        check_param(value, name, c)
    check_param(bn_weight, "bn_weight", c)
    check_param(bn_bias, "bn_bias", c)
    eps = check_eps(eps)
    if np.any(running_var + eps <= 0):
        raise ValueError("running_var + eps must be > 0 for every channel")
    scale = 1.0 / np.sqrt(running_var.astype(np.float64) + eps)
    if bn_weight is not None:
        scale = scale * bn_weight
    shift = -running_mean.astype(np.float64) if bias is None else bias - running_mean.astype(np.float64)
    folded_bias = scale * shift + (0.0 if bn_bias is None else bn_bias)
    folded_weight = weight * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    return folded_weight.astype(weight.dtype), folded_bias.astype(weight.dtype)
