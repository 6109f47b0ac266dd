"""Structured dropout: one keep/drop decision shared by a whole slice of the input.

Ordinary dropout draws a mask entry per value.  When neighbouring values are strongly correlated
(adjacent pixels of a feature map, the same feature at successive time steps) dropping single
values removes little information.  The variants here draw one decision per *slice* and broadcast it:

spatial dropout (Tompson et al., 2015; ``torch.nn.Dropout1d/2d/3d``)
    ``x`` of shape ``(N, C, *S)``: one decision per (sample, channel), shared by every spatial
    position, so whole feature maps are dropped.  Mask shape ``(N, C, 1, ..., 1)``.
locked (variational) dropout (Gal & Ghahramani, 2016; Merity et al., 2018)
    a sequence ``x`` of shape ``(T, N, D)`` (time first, PyTorch's RNN default) or ``(N, T, D)``
    (``batch_first=True``): one decision per (sequence, feature), shared by all ``T`` time steps.
    Mask shape ``(1, N, D)``, or ``(N, 1, D)`` batch-first.

Both are inverted dropout (``p`` is the drop probability, kept values are scaled by ``1 / (1 - p)``),
the identity in evaluation mode or with ``p == 0``, and all zeros with ``p == 1``.  The returned mask
keeps the shared axes with size 1, so ``x * mask`` broadcasts and the sharing is visible in its shape.

The layers :class:`Dropout1d`, :class:`Dropout2d` and :class:`Dropout3d` are ``torch.nn.Dropout1d/2d/3d``,
with PyTorch's rank rules: ``Dropout1d`` takes ``(N, C, L)`` or ``(C, L)`` and raises for any other
rank; ``Dropout2d`` takes ``(N, C, H, W)`` and ``Dropout3d`` ``(N, C, D, H, W)`` or ``(C, D, H, W)``,
and both warn (with PyTorch's warning) and drop channels of axis 1 for other ranks.
"""
import warnings

import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_array, check_inplace, check_probability
from .dropout import apply_mask, masked_backward

__all__ = [
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "locked_dropout_backward",
    "locked_dropout_forward",
    "spatial_dropout_backward",
    "spatial_dropout_forward",
]


def _mask_shape(shape, shared_axes):
    return tuple(1 if i in shared_axes else s for i, s in enumerate(shape))


def _shared_forward(x, p, shared_axes, training, rng, inplace=False):
    """Inverted dropout with one mask entry per slice along ``shared_axes`` (validated ``x``, ``p``, ``inplace``)."""
    shape = _mask_shape(x.shape, shared_axes)
    if not training or p == 0.0:
        return x if inplace else x.copy(), np.ones(shape, dtype=bool)
    mask = as_generator(rng).random(shape) >= p
    return apply_mask(x, mask, p, out=x if inplace else None), mask


def _shared_backward(dy, mask, p, shared_axes):
    return masked_backward(dy, mask, p, _mask_shape(dy.shape, shared_axes))


def spatial_dropout_forward(x, p=0.5, training=True, rng=None, inplace=False):
    """Spatial (channel) dropout: drop whole channels, as ``torch.nn.Dropout1d/2d/3d``.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C, *S)
        Floating-point input with at least one spatial axis.
    p : float in [0, 1]
        Probability of dropping each channel of each sample.
    training : bool
        If False, the identity.
    rng : None, int or numpy.random.Generator
        Source of randomness (an int is a seed).
    inplace : bool
        Overwrite ``x`` with the result and return it (``x`` itself in evaluation), as
        ``torch.nn.functional.dropout2d(..., inplace=True)``.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``x * mask / (1 - p)`` (zeros when ``p == 1``; a copy of x in evaluation; x itself with ``inplace``).
    mask : numpy.ndarray of bool, shape (N, C, 1, ..., 1)
        One keep decision per (sample, channel), broadcast over the spatial axes.
    """
    check_array(x, "x", min_ndim=3)
    p = check_probability(p)
    return _shared_forward(x, p, tuple(range(2, x.ndim)), training, rng, check_inplace(inplace, x))


def spatial_dropout_backward(dy, mask, p):
    """Gradient of :func:`spatial_dropout_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape (N, C, *S)
        Upstream gradient.
    mask : numpy.ndarray of bool, shape (N, C, 1, ..., 1)
        The mask returned by the forward pass.
    p : float in [0, 1]
        The drop probability of the forward pass (0 after an evaluation-mode forward).

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        ``dy * mask / (1 - p)`` (zeros when ``p == 1``).
    """
    check_array(dy, "dy", min_ndim=3)
    return _shared_backward(dy, mask, p, tuple(range(2, dy.ndim)))


def _time_axis(batch_first):
    if not isinstance(batch_first, (bool, np.bool_)):
        raise TypeError(f"batch_first must be True or False, got {batch_first!r}")
    return 1 if batch_first else 0


def _check_sequence(x, name):
    check_array(x, name, min_ndim=3)
    if x.ndim != 3:
        raise ValueError(f"{name} must be a sequence batch of shape (T, N, D) or (N, T, D), got shape {x.shape}")


def locked_dropout_forward(x, p=0.5, training=True, rng=None, batch_first=False):
    """Locked (variational) dropout: one mask per sequence, shared by every time step.

    Parameters
    ----------
    x : numpy.ndarray, shape (T, N, D), or (N, T, D) if ``batch_first``
        A batch of N sequences of T steps with D features.
    p : float in [0, 1]
        Probability of dropping each feature of each sequence.
    training, rng
        As in :func:`spatial_dropout_forward` (``training=False`` is the identity; ``rng`` a seed or Generator).
    batch_first : bool
        Layout of x, as the ``batch_first`` argument of ``torch.nn.LSTM``: time first (default) or batch first.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``x * mask / (1 - p)`` (zeros when ``p == 1``; a copy of x in evaluation).
    mask : numpy.ndarray of bool, shape (1, N, D), or (N, 1, D) if ``batch_first``
        One keep decision per (sequence, feature), broadcast over the time axis.
    """
    _check_sequence(x, "x")
    p = check_probability(p)
    return _shared_forward(x, p, (_time_axis(batch_first),), training, rng)


def locked_dropout_backward(dy, mask, p, batch_first=False):
    """Gradient of :func:`locked_dropout_forward`.

    Parameters
    ----------
    dy : numpy.ndarray, shape (T, N, D), or (N, T, D) if ``batch_first``
        Upstream gradient.
    mask : numpy.ndarray of bool, shape (1, N, D), or (N, 1, D) if ``batch_first``
        The mask returned by the forward pass.
    p : float in [0, 1]
        The drop probability of the forward pass (0 after an evaluation-mode forward).
    batch_first : bool
        The layout used in the forward pass.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        ``dy * mask / (1 - p)`` (zeros when ``p == 1``).
    """
    _check_sequence(dy, "dy")
    return _shared_backward(dy, mask, p, (_time_axis(batch_first),))


class _ChannelDropout(Layer):
    """Shared code of ``Dropout1d/2d/3d``: spatial dropout with PyTorch's rank rules for ``spatial`` axes."""

    spatial = 0

    def __init__(self, p=0.5, inplace=False, rng=None):
        self.p = check_probability(p)
        self.inplace = check_inplace(inplace)
        self.rng = as_generator(rng)
        self.mask = None

    def _batched(self, x):
        """Whether axis 0 of ``x`` is the batch axis (False: one sample without its batch axis)."""
        k, name = self.spatial, f"dropout{self.spatial}d"
        if x.ndim == k + 2:
            return True
        if x.ndim == k + 1 and k != 2:
            return False
        if k == 1 or x.ndim < 2:
            if k != 1:
                raise ValueError(f"{name}: Expected an input with a channel axis (at least 2D), got shape {x.shape}")
            raise ValueError(
                f"{name}: Expected 2D or 3D input, but received a {x.ndim}D input. Note that dropout1d exists to "
                "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an "
                "optional batch dimension (i.e. 2D or 3D inputs)."
            )
        if k == 2 and x.ndim == 3:
            warnings.warn(
                "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. Use Dropout1d "
                "for this (as PyTorch's warning says).", UserWarning, stacklevel=3)
        else:
            warnings.warn(
                f"{name}: Received a {x.ndim}-D input to {name}, which is deprecated in PyTorch; whole channels "
                "of axis 1 are dropped (use Dropout for element-wise dropout).", UserWarning, stacklevel=3)
        return True

    def _shared_axes(self, ndim, batched):
        return tuple(range(2 if batched else 1, ndim))

    def forward(self, x):
        """Drop whole channels of ``x``; returns ``y`` of the same shape (the keep-mask is in ``self.mask``;
        ``y`` is ``x`` itself, overwritten in training, with ``inplace``)."""
        check_array(x, "x")
        axes = self._shared_axes(x.ndim, self._batched(x))
        p = check_probability(self.p)
        y, self.mask = _shared_forward(x, p, axes, self.training, self.rng, check_inplace(self.inplace, x))
        self._cache = (self.mask, p if self.training else 0.0, axes)
        return y

    def backward(self, dy):
        """Gradient of the last forward call; returns ``dx`` with the shape of ``dy``."""
        mask, p_used, axes = self._last_cache()
        check_array(dy, "dy")
        return _shared_backward(dy, mask, p_used, axes)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p}, inplace={self.inplace})"


class Dropout1d(_ChannelDropout):
    """``torch.nn.Dropout1d``: drop whole channels of ``(N, C, L)`` (or ``(C, L)``) inputs with probability ``p``.

    Parameters
    ----------
    p : float in [0, 1]
        Probability of dropping each channel of each sample.
    inplace : bool
        In training, overwrite the input with the output and return it (in evaluation, return the input
        itself), as PyTorch's ``inplace=True``.
    rng : None, int or numpy.random.Generator
        Source of randomness; an int seeds a new Generator owned by the layer.
    """

    spatial = 1


class Dropout2d(_ChannelDropout):
    """``torch.nn.Dropout2d``: drop whole channels of ``(N, C, H, W)`` inputs (parameters as :class:`Dropout1d`)."""

    spatial = 2


class Dropout3d(_ChannelDropout):
    """``torch.nn.Dropout3d``: drop whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) inputs
    (parameters as :class:`Dropout1d`)."""

    spatial = 3
