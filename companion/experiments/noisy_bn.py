"""Santurkar et al.'s "noisy BatchNorm": a time-varying shift and scale injected after every BatchNorm layer.

Batch normalization makes each unit's input have a fixed mean (``bias``) and spread (``weight``)
at every training step. If that stability were what makes BN useful, destroying it should undo
the benefit. :class:`ShiftScaleNoise` destroys it on purpose: at every training-mode forward pass
it draws, for each channel, a new scale ``a ~ U(low, high)`` and a new shift ``b ~ U(-max_shift,
max_shift)`` and returns ``a * x + b``, so the distribution that the next layer sees has a
non-zero mean and a non-unit variance that change at every step :cite:p:`santurkar2018how`.
In evaluation mode the module is the identity.
"""
import numbers

import torch
from torch import nn

__all__ = ["ShiftScaleNoise", "add_noise_after_batchnorm"]


def _check_nonnegative(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 <= value < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_scale_range(scale_range):
    try:
        low, high = scale_range
    except (TypeError, ValueError):
        raise ValueError(f"scale_range must be a pair (low, high), got {scale_range!r}") from None
    low = _check_nonnegative(low, "scale_range[0]")
    high = _check_nonnegative(high, "scale_range[1]")
    if not 0 < low <= high:
        raise ValueError(f"scale_range must satisfy 0 < low <= high, got {scale_range!r}")
    return low, high


class ShiftScaleNoise(nn.Module):
    """Multiply each channel by a random scale and add a random shift, redrawn at every training step.

    Parameters
    ----------
    num_features : int
        Number of channels ``C`` (the input has shape ``(N, C)``).
    max_shift : float
        Shifts are drawn from ``U(-max_shift, max_shift)`` (0 disables the shift).
    scale_range : (float, float)
        Scales are drawn from ``U(low, high)`` with ``0 < low <= high`` (``(1, 1)`` disables the scale).
    seed : int
        Seed of the module's own ``torch.Generator`` (the global torch RNG is not touched).

    Attributes
    ----------
    last_scale, last_shift : torch.Tensor, shape (C,), or None
        The noise drawn by the latest training-mode forward pass.

    Notes
    -----
    One scale and one shift per channel are shared by every sample of a batch, so within a batch
    the unit's values keep their shape but the batch as a whole is moved and stretched: exactly a
    change of the distribution seen by the next layer. Gradients flow through ``a * x + b`` with
    ``a`` and ``b`` treated as constants.
    """

    def __init__(self, num_features, max_shift=2.0, scale_range=(0.25, 3.0), seed=0):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) or num_features < 1:
            raise ValueError(f"num_features must be an integer >= 1, got {num_features!r}")
        self.num_features = int(num_features)
        self.max_shift = _check_nonnegative(max_shift, "max_shift")
        self.scale_range = _check_scale_range(scale_range)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.last_scale = self.last_shift = None

    def forward(self, x):
        """``a * x + b`` with fresh per-channel ``a``, ``b`` in training mode; ``x`` itself in eval mode.

        Parameters
        ----------
        x : torch.Tensor, shape (N, C)

        Returns
        -------
        torch.Tensor, shape (N, C)
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"x must have shape (N, {self.num_features}), got {tuple(x.shape)}")
        if not self.training:
            return x
        c = self.num_features
        low, high = self.scale_range
        u_scale = torch.rand(c, generator=self.generator, dtype=torch.float64)
        u_shift = torch.rand(c, generator=self.generator, dtype=torch.float64)
        self.last_scale = (low + (high - low) * u_scale).to(x.dtype)
        self.last_shift = (self.max_shift * (2 * u_shift - 1)).to(x.dtype)
        return x * self.last_scale + self.last_shift

    def extra_repr(self):
        return f"{self.num_features}, max_shift={self.max_shift}, scale_range={self.scale_range}"


def add_noise_after_batchnorm(model, max_shift=2.0, scale_range=(0.25, 3.0), seed=0):
    """A copy of a sequential model with a :class:`ShiftScaleNoise` after every ``BatchNorm1d``.

    Parameters
    ----------
    model : torch.nn.Sequential
        E.g. from :func:`companion.experiments.training.make_mlp` with ``norm="batch"``. Its modules are
        shared with (not copied from) the returned model.
    max_shift, scale_range
        Passed to every :class:`ShiftScaleNoise`.
    seed : int
        The k-th noise module (k = 0, 1, ...) gets the seed ``seed + k``.

    Returns
    -------
    torch.nn.Sequential
        The same layers, in the same order, with the noise modules inserted.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    layers, k = [], 0
    for layer in model:
        layers.append(layer)
        if isinstance(layer, nn.BatchNorm1d):
            layers.append(ShiftScaleNoise(layer.num_features, max_shift, scale_range, seed=seed + k))
            k += 1
    if k == 0:
        raise ValueError("model has no BatchNorm1d layer to put noise after")
    out = nn.Sequential(*layers)
    out.train(model.training)
    return out
