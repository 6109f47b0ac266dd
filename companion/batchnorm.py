"""Batch normalization: the functional forward/backward pair and a ``BatchNorm`` layer.

Notation (per channel ``c``; ``m`` values share one channel in a mini-batch):

    mu     = mean(x)                      batch mean
    var    = mean((x - mu)**2)            biased batch variance (divides by m)
    xhat   = (x - mu) / sqrt(var + eps)   normalized input
    y      = weight * xhat + bias         scale (gamma) and shift (beta)

Inputs are batch-first: ``(N, C)`` for fully connected layers or ``(N, C, *spatial)``
for convolutional ones (statistics are then shared by every position of a channel).

Numerics: the variance is computed in two passes (mean first, then the mean squared
deviation), never as ``E[x**2] - E[x]**2``.  float16 and float32 inputs are normalized in
float32; the output has the input's dtype.  Non-finite inputs are not rejected: like PyTorch,
a NaN or inf propagates to the outputs of its channel.

This module is the readable one: each function validates its arguments and then runs the steps
named in the notation above.  The arithmetic of those steps lives in the private fast kernel
:mod:`companion._batchnorm_fast` (the same steps, blocked so that each block stays in the CPU's cache
between steps: BN is memory-bound, and this is what makes it fast); :mod:`companion.batchnorm_graph` is the same computation node by node.  The book's
chapter *PyTorch on CPU and GPU* shows the plain textbook version next to this one and checks that
they agree.
"""
import numpy as np

from . import _batchnorm_fast as fast
from ._layer import NormLayer
from ._validate import (
    check_array,
    check_batch_stats,
    check_eps,
    check_param,
    check_same_shape,
)

__all__ = ["BatchNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "batch_norm_backward", "batch_norm_forward",
           "batch_stats"]


def batch_stats(x):
    """Per-channel mean and biased variance of ``x``, computed in two passes.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Floating-point input.

    Returns
    -------
    mean : numpy.ndarray, shape (C,)
        Per-channel mean, in the compute dtype (float64 for float64 input, else float32).
    var : numpy.ndarray, shape (C,)
        Per-channel biased variance ``mean((x - mean)**2)``, same dtype as ``mean``.
    """
    check_array(x, "x", min_ndim=2)
    return fast.moments(x)  # mean first, then the mean squared deviation


def batch_norm_forward(x, weight, bias, eps=1e-5):
    """Batch normalization in training mode (normalize with the statistics of this batch).

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C) or (N, C, *spatial)
        Floating-point input; at least two values per channel.
    weight : numpy.ndarray, shape (C,), or None
        Scale gamma; ``None`` means 1.
    bias : numpy.ndarray, shape (C,), or None
        Shift beta; ``None`` means 0.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    y : numpy.ndarray, shape like x, dtype of x
        ``weight * xhat + bias``.
    cache : tuple
        ``(xhat, inv_std, weight)``: the normalized input (shape like x), ``1/sqrt(var + eps)``
        of shape (C,), and the weight (or None). Exactly what :func:`batch_norm_backward` needs.
    """
    check_array(x, "x", min_ndim=2)
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    check_batch_stats(x)
    # mu, var = mean(xc**2) with xc = x - mu; xhat = xc / sqrt(var + eps); y = weight * xhat + bias
    y, cache, _, _ = fast.train_forward(x, weight, bias, eps)
    return y, cache


def batch_norm_backward(dy, cache):
    """Gradient of training-mode batch normalization, in closed form.

    With ``m`` values per channel, ``dbias = sum(dy)``, ``dweight = sum(dy * xhat)`` and

        dx = weight / sqrt(var + eps) * (dy - (dbias + xhat * dweight) / m)

    which already contains the paths through the batch mean and variance.

    Parameters
    ----------
    dy : numpy.ndarray, shape like the forward input
        Upstream gradient dL/dy.
    cache : tuple
        The cache returned by :func:`batch_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
    dweight : numpy.ndarray, shape (C,)
        dL/dweight (also when the forward's weight was None, i.e. gamma = 1).
    dbias : numpy.ndarray, shape (C,)
        dL/dbias.
    """
    check_same_shape(dy, "dy", cache[0].shape)
    return fast.backward(dy, cache)


class BatchNorm(NormLayer):
    """A batch normalization layer with the semantics of ``torch.nn.BatchNorm1d/2d/3d``, for any rank.

    ``BatchNorm`` takes ``(N, C)`` or ``(N, C, *spatial)`` with any number of spatial axes (the
    statistics do not depend on it); :class:`BatchNorm1d`, :class:`BatchNorm2d` and
    :class:`BatchNorm3d` are the same layer with PyTorch's check of the input's rank.

    Parameters
    ----------
    num_features : int
        Number of channels ``C`` (axis 1 of the input).
    eps : float
        Added to the variance inside the square root.
    momentum : float in [0, 1] or None
        Running statistics follow ``running = (1 - momentum) * running + momentum * batch``
        (PyTorch's convention; Keras's ``momentum=0.99`` corresponds to ``momentum=0.01`` here).
        ``None`` gives the cumulative average over all batches seen.
    affine : bool
        Learn ``weight`` (gamma, initialised to 1) and ``bias`` (beta, initialised to 0).
    track_running_stats : bool
        Keep ``running_mean``/``running_var`` (unbiased) for eval mode. If False at construction,
        the running attributes (and ``num_batches_tracked``) are None and batch statistics are used
        in both modes.  Switched off later, the existing running statistics are no longer updated
        but eval mode still uses them (PyTorch's rule).
    dtype : numpy dtype
        dtype of the parameters and running statistics (float64 by default).

    Attributes
    ----------
    weight, bias : numpy.ndarray, shape (C,), or None
    running_mean, running_var : numpy.ndarray, shape (C,), or None
    num_batches_tracked : int or None
    training : bool
    dweight, dbias : numpy.ndarray, shape (C,), or None
        Set by :meth:`backward`.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=np.float64):
        super().__init__(num_features, eps, momentum, affine, dtype)
        self.track_running_stats = bool(track_running_stats)
        self.running_mean = self.running_var = None
        if self.track_running_stats:
            self.reset_running_stats()
        else:
            self.num_batches_tracked = None  # as torch: no counter without running statistics

    def reset_running_stats(self):
        """Running mean 0, running variance 1, zero batches tracked."""
        self.running_mean = np.zeros(self.num_features, self.dtype)
        self.running_var = np.ones(self.num_features, self.dtype)
        self.num_batches_tracked = 0

    def _check_state(self, x):
        self._check_call(x)
        check_param(self.running_mean, "running_mean", (self.num_features,))
        check_param(self.running_var, "running_var", (self.num_features,))

    #: The input ranks the layer accepts (None: any rank >= 2); set by BatchNorm1d/2d/3d.
    _ranks = None

    def _check_input_dim(self, x):
        """PyTorch's rank check of ``BatchNorm1d/2d/3d`` (``_BatchNorm._check_input_dim``), with its message."""
        if self._ranks is None:
            return
        check_array(x, "x")
        if x.ndim not in self._ranks:
            expected = " or ".join(f"{r}D" for r in self._ranks)
            layouts = {2: "(N, C)", 3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}
            raise ValueError(
                f"x: expected {expected} input (got {x.ndim}D input): {type(self).__name__} takes "
                + " or ".join(layouts[r] for r in self._ranks) + f", got shape {x.shape}"
            )

    def forward(self, x):
        """Normalize ``x`` of shape ``(N, C)`` or ``(N, C, *spatial)``; returns ``y`` of the same shape.

        As in ``torch.nn.BatchNorm``: training mode uses the batch statistics (and updates the running
        ones when ``track_running_stats``); evaluation mode uses the running statistics whenever the
        layer has them, even if ``track_running_stats`` was switched off after construction, and the
        batch statistics only when it has none.  With batch statistics ``eps`` must be > 0.
        """
        self._check_input_dim(x)
        self._check_state(x)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        if use_batch:
            if not self.eps > 0:
                raise ValueError(
                    f"eps must be positive when the layer uses batch statistics (training), got {self.eps} "
                    "(as in PyTorch; eps = 0 is allowed in eval mode, and batch_norm_forward accepts it)"
                )
            m = check_batch_stats(x)
            y, self._cache, mean, var = fast.train_forward(x, self.weight, self.bias, self.eps)
            if self.training and self.track_running_stats and self.running_mean is not None:
                if self.num_batches_tracked is not None:
                    self.num_batches_tracked += 1
                f = self._momentum_factor()
                unbiased = var.astype(np.float64) * (m / (m - 1))
                self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(self.dtype)
                self.running_var = ((1 - f) * self.running_var + f * unbiased).astype(self.dtype)
        else:
            y, self._cache = fast.eval_forward(x, self.running_mean, self.running_var, self.weight, self.bias, self.eps)
        self._batch_mode = use_batch
        return y

    def backward(self, dy):
        """Back-propagate ``dy`` through the last forward call; returns ``dx`` and sets ``dweight``/``dbias``.

        After a training-mode forward the gradient flows through the batch statistics; after an
        eval-mode forward the running statistics are constants and ``dx = dy * weight / sqrt(running_var + eps)``.
        """
        cache = self._last_cache()
        check_same_shape(dy, "dy", cache[0].shape)  # xhat (training) or x (eval) has the input's shape
        if self._batch_mode:
            dx, dw, db = fast.backward(dy, cache)
        else:
            dx, dw, db = fast.eval_backward(dy, cache, self.dtype)
        self._keep_param_grads(dw, db)
        return dx

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats})"
        )


class BatchNorm1d(BatchNorm):
    """``torch.nn.BatchNorm1d``: :class:`BatchNorm` for ``(N, C)`` or ``(N, C, L)`` inputs (other ranks raise
    ``ValueError``, with PyTorch's message "expected 2D or 3D input (got 4D input)"). Parameters as :class:`BatchNorm`."""

    _ranks = (2, 3)


class BatchNorm2d(BatchNorm):
    """``torch.nn.BatchNorm2d``: :class:`BatchNorm` for ``(N, C, H, W)`` inputs only ("expected 4D input").
    Parameters as :class:`BatchNorm`."""

    _ranks = (4,)


class BatchNorm3d(BatchNorm):
    """``torch.nn.BatchNorm3d``: :class:`BatchNorm` for ``(N, C, D, H, W)`` inputs only ("expected 5D input").
    Parameters as :class:`BatchNorm`."""

    _ranks = (5,)
