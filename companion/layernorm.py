"""Layer normalization (Ba, Kiros & Hinton, 2016): standardize each sample over all its non-batch axes.

For a batch ``x`` of shape ``(N, *F)`` (``F``: the feature axes, e.g. ``(D,)`` or ``(C, H, W)``)

    mean_n = mean(x[n])   var_n = mean((x[n] - mean_n)**2)      over the prod(F) values of sample n
    y[n]   = weight * (x[n] - mean_n) / sqrt(var_n + eps) + bias    weight, bias: shape F

Unlike batch normalization the statistics never mix samples, so training and evaluation are the
same computation and a batch of one sample is fine.  This is ``torch.nn.functional.layer_norm(x,
x.shape[1:], weight, bias, eps)``.
"""
from ._standardize import normalize_backward, normalize_forward
from ._validate import check_array, check_eps, check_param, check_same_shape

__all__ = ["layer_norm_backward", "layer_norm_forward"]


def layer_norm_forward(x, weight, bias, eps=1e-5):
    """Layer normalization over every axis but the first.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, *F)
        Floating-point input with at least two axes; each of the N samples is normalized over
        its ``prod(F)`` values.
    weight, bias : numpy.ndarray, shape F (= x.shape[1:]), or None
        Element-wise scale gamma and shift beta; ``None`` means 1 and 0 respectively.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        What :func:`layer_norm_backward` needs: ``(xhat, inv_std, axes, weight, param_shape,
        param_view)`` with the normalized input ``xhat`` (shape of x, compute dtype),
        ``1/sqrt(var + eps)`` of shape (N, 1, ..., 1), the reduced axes ``(1, ..., x.ndim - 1)``,
        the weight (or None), ``F`` and ``(1, *F)``.
    """
    check_array(x, "x", min_ndim=2)
    features = x.shape[1:]
    check_param(weight, "weight", features)
    check_param(bias, "bias", features)
    eps = check_eps(eps)
    axes = tuple(range(1, x.ndim))
    return normalize_forward(x, axes, weight, bias, features, (1,) + features, eps)


def layer_norm_backward(dy, cache):
    """Gradient of :func:`layer_norm_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape (N, *F)
        Upstream gradient dL/dy.
    cache : tuple
        The cache returned by :func:`layer_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape (N, *F), dtype of dy
    dweight : numpy.ndarray, shape F
        ``sum over n of dy * xhat`` (also when the forward's weight was None).
    dbias : numpy.ndarray, shape F
        ``sum over n of dy``.
    """
    check_same_shape(dy, "dy", cache[0].shape)
    return normalize_backward(dy, cache)
