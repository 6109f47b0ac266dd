"""DropBlock (Ghiasi, Lin & Le, 2018): drop contiguous square blocks of a feature map.

Neighbouring positions of a convolutional feature map carry nearly the same information, so
dropping single positions (ordinary dropout) removes little: the next layer reads the dropped value
from its neighbours. DropBlock drops ``block_size x block_size`` squares instead. For ``x`` of shape
``(N, C, H, W)`` and ``b = block_size``:

1. block corners are drawn independently on the ``(H - b + 1) x (W - b + 1)`` positions where a block
   fits, each with probability ``gamma = p * H * W / (b**2 * (H - b + 1) * (W - b + 1))``, so that
   about a fraction ``p`` of the positions is dropped (overlapping blocks make it a little less);
2. every position covered by a block starting at a drawn corner is dropped (rows ``i .. i + b - 1``,
   columns ``j .. j + b - 1``), in each (sample, channel) independently;
3. the kept values are scaled by ``count(mask) / count_ones(mask)`` over the whole tensor, so that
   the output's total equals the input's on average (the paper's normalization).

``b = 1`` is ordinary dropout with a batch-wise rescaling. ``p`` is the drop probability. The scale is a
constant of the forward pass: the backward pass is ``dx = dy * mask * scale``.
"""
import numpy as np

from ._validate import as_generator, check_array, check_positive_int, check_probability, check_same_shape

__all__ = ["drop_block_backward", "drop_block_forward", "drop_block_gamma"]


def drop_block_gamma(p, block_size, height, width):
    """Probability of a block corner, ``p * H * W / (b**2 * (H - b + 1) * (W - b + 1))`` (Ghiasi et al., eq. 1)."""
    b = block_size
    return p * height * width / (b * b * (height - b + 1) * (width - b + 1))


def drop_block_forward(x, p=0.1, block_size=3, training=True, rng=None):
    """DropBlock on a batch of feature maps.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C, H, W)
        Feature maps, with ``block_size <= min(H, W)``.
    p : float in [0, 1)
        Target fraction of dropped positions.
    block_size : int
        Side ``b`` of the dropped squares.
    training : bool
        If False, the identity.
    rng : None, int or numpy.random.Generator
        Source of randomness; the corners are ``rng.random((N, C, H - b + 1, W - b + 1)) < gamma``.

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
        ``x * mask * scale`` (a copy of x in evaluation or with ``p == 0``).
    cache : tuple
        ``(mask, scale)``: the keep mask (bool, shape of x) and the scale
        ``mask.size / mask.sum()`` (0.0 if everything was dropped).
    """
    check_array(x, "x", min_ndim=4)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {x.shape}")
    p = check_probability(p)
    if p == 1.0:
        raise ValueError("p must be < 1 for DropBlock (gamma would exceed 1)")
    b = check_positive_int(block_size, "block_size")
    n, c, h, w = x.shape
    if b > min(h, w):
        raise ValueError(f"block_size {b} does not fit feature maps of size {h} x {w}")
    if not training or p == 0.0:
        return x.copy(), (np.ones(x.shape, dtype=bool), 1.0)
    gamma = drop_block_gamma(p, b, h, w)
    corners = as_generator(rng).random((n, c, h - b + 1, w - b + 1)) < gamma
    dropped = np.zeros(x.shape, dtype=bool)
    for di in range(b):
        for dj in range(b):
            dropped[:, :, di:di + h - b + 1, dj:dj + w - b + 1] |= corners
    mask = ~dropped
    kept = int(mask.sum())
    scale = mask.size / kept if kept else 0.0
    return x * (mask * scale).astype(x.dtype), (mask, scale)


def drop_block_backward(dy, cache):
    """Gradient of :func:`drop_block_forward`: ``dy * mask * scale``.

    Parameters
    ----------
    dy : numpy.ndarray, shape (N, C, H, W)
        Upstream gradient.
    cache : tuple
        ``(mask, scale)`` returned by the forward pass.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
    """
    mask, scale = cache
    check_array(dy, "dy", min_ndim=4)
    check_same_shape(dy, "dy", mask.shape)
    return dy * (mask * scale).astype(dy.dtype)
