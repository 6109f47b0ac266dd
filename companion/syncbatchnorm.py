"""Synchronized batch normalization: one set of batch statistics shared by every process of a group.

Under data parallelism each process (device) holds a shard of the batch. Plain batch normalization
normalizes every shard with its own statistics, so the batch that BN sees is the per-process batch.
Synchronized BN makes every process normalize with the statistics of the *whole* batch, the
concatenation of all shards, so that the result equals :func:`companion.batch_norm_forward` on that
batch, whatever the shard sizes:

forward
    each process computes, per channel, its count ``n_k``, mean ``mean_k`` and sum of squared
    deviations ``S_k = n_k * var_k`` (two passes, locally); one **all-gather** gives every process the
    ``(n_k, mean_k, S_k)`` of every shard, and every process merges them in rank order with Chan's
    formula (:func:`companion.welford.merge_moments`), never through ``E[x**2] - E[x]**2``.
    Every process therefore holds bit-identical global statistics.
backward
    the closed form ``dx = weight * inv_std * (dy - (dbias + xhat * dweight) / m)`` needs the global
    sums ``dbias = sum(dy)`` and ``dweight = sum(dy * xhat)`` over all ``m`` values of a channel: one
    **all-reduce** (sum) of the per-process partial sums.

This is the communication pattern of ``torch.nn.SyncBatchNorm`` (an all-gather of the statistics in
the forward pass, an all-reduce of two per-channel sums in the backward pass), which only runs on
CUDA tensors; here it runs on CPU with any ``torch.distributed`` backend (the book uses gloo).
:func:`sync_batch_norm_comm_bytes` counts the bytes. The messages are float64 whatever the input's
dtype. Without an initialized process group the functions behave like a group of one process.
"""
import numpy as np

from . import _batchnorm_fast as fast
from ._standardize import compute_dtype
from ._validate import check_array, check_eps, check_param, check_same_shape
from .batchnorm import BatchNorm
from .welford import merge_moments

__all__ = ["SyncBatchNorm", "sync_batch_norm_backward", "sync_batch_norm_comm_bytes", "sync_batch_norm_forward"]


def _world(group):
    """``(torch.distributed, world size)``, or ``(None, 1)`` without an initialized process group."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return None, 1
    return dist, dist.get_world_size(group)


def _all_gather(vec, group):
    """Every process's float64 vector ``vec`` (all of one length), in rank order: shape (world, len(vec))."""
    dist, world = _world(group)
    if dist is None:
        return vec[None, :]
    import torch

    mine = torch.from_numpy(np.ascontiguousarray(vec, dtype=np.float64))
    out = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(out, mine, group=group)
    return torch.stack(out).numpy()


def _all_reduce_sum(vec, group):
    """The sum over the processes of the float64 vector ``vec`` (the same result on every process)."""
    dist, _ = _world(group)
    if dist is None:
        return vec
    import torch

    t = torch.from_numpy(np.array(vec, dtype=np.float64))
    dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
    return t.numpy()


def global_moments(x, group=None):
    """Per-channel count, mean and biased variance of the union of every process's ``x``.

    Parameters
    ----------
    x : numpy.ndarray, shape (N_k, C) or (N_k, C, *spatial)
        This process's shard (``N_k >= 1``; the shards may differ in ``N_k``, not in the other axes).
    group : torch.distributed process group or None
        None: the default group (or no communication without an initialized group).

    Returns
    -------
    m : int
        Number of values per channel in the whole batch.
    mean, var : numpy.ndarray, shape (C,), float64
        Mean and biased variance of the whole batch, from Chan's merge of the shards' ``(n, mean, S)``
        in rank order; identical on every process.
    """
    mean_k, var_k = fast.moments(x)
    n_k = x.size // x.shape[1]
    mine = np.concatenate([[n_k], mean_k.astype(np.float64), var_k.astype(np.float64) * n_k])
    rows = _all_gather(mine, group)
    c = x.shape[1]
    stats = None
    for row in rows:
        part = (int(row[0]), row[1:1 + c], row[1 + c:])
        stats = part if stats is None else merge_moments(stats, part)
    m, mean, s = stats
    return m, mean, s / m


def sync_batch_norm_forward(x, weight, bias, eps=1e-5, group=None):
    """Training-mode batch normalization with the statistics of the batch of all processes.

    Every process of the group calls it on its own shard; the result on each shard equals
    :func:`companion.batch_norm_forward` of the concatenated batch, restricted to that shard.

    Parameters
    ----------
    x : numpy.ndarray, shape (N_k, C) or (N_k, C, *spatial)
        This process's shard, at least one sample; every process has the same ``C`` and spatial shape.
    weight : numpy.ndarray, shape (C,), or None
        Scale gamma (the same on every process); None means 1.
    bias : numpy.ndarray, shape (C,), or None
        Shift beta; None means 0.
    eps : float
        Added to the variance inside the square root.
    group : torch.distributed process group or None
        The processes that share statistics (None: the default group).

    Returns
    -------
    y : numpy.ndarray, shape and dtype of x
    cache : tuple
        ``(xhat, inv_std, weight, m, group)``: the normalized shard, ``1/sqrt(var + eps)`` (C,), the
        weight, the number of values per channel in the whole batch and the group.
    """
    y, cache, _, _ = _forward(x, weight, bias, eps, group)
    return y, cache


def _forward(x, weight, bias, eps, group):
    """:func:`sync_batch_norm_forward`, also returning the global mean and biased variance (C,)."""
    check_array(x, "x", min_ndim=2)
    if x.shape[0] < 1:
        raise ValueError(f"x: every process needs at least one sample, got shape {x.shape}")
    c = x.shape[1]
    check_param(weight, "weight", (c,))
    check_param(bias, "bias", (c,))
    eps = check_eps(eps)
    m, mean, var = global_moments(x, group)
    if m < 2:
        raise ValueError(f"x: expected more than 1 value per channel in the whole batch, got {m}")
    cdt = compute_dtype(x.dtype)
    y, (xhat, inv_std, w) = fast.normalize_with(x, mean.astype(cdt), var.astype(cdt), weight, bias, eps)
    return y, (xhat, inv_std, w, m, group), mean, var


def sync_batch_norm_backward(dy, cache):
    """Gradient of :func:`sync_batch_norm_forward`: every process calls it with its shard's ``dy``.

    Parameters
    ----------
    dy : numpy.ndarray, shape of this process's forward input
        Upstream gradient for this shard.
    cache : tuple
        The cache returned by :func:`sync_batch_norm_forward` on this process.

    Returns
    -------
    dx : numpy.ndarray, shape and dtype of dy
        The gradient for this shard (equal to the full-batch gradient restricted to the shard).
    dweight, dbias : numpy.ndarray, shape (C,)
        Gradients of the whole batch, identical on every process (they come from one all-reduce).
    """
    xhat, inv_std, weight, m, group = cache
    check_same_shape(dy, "dy", xhat.shape)
    dw_k, db_k = fast.param_sums(dy, xhat)
    c = xhat.shape[1]
    sums = _all_reduce_sum(np.concatenate([dw_k, db_k]), group)
    dweight, dbias = sums[:c], sums[c:]
    dx = fast.input_grad(dy, (xhat, inv_std, weight), dweight, dbias, m)
    pdt = xhat.dtype if weight is None else weight.dtype
    return dx, dweight.astype(pdt), dbias.astype(pdt)


def sync_batch_norm_comm_bytes(num_features, world_size):
    """Bytes that synchronized BN sends and receives per process for one layer and one step.

    Parameters
    ----------
    num_features : int
        Channels ``C`` of the layer.
    world_size : int
        Number of processes ``P``.

    Returns
    -------
    dict
        ``forward_sent``: one all-gather contribution, ``(2C + 1)`` float64 values (count, C means,
        C sums of squares); ``forward_received``: the ``P`` contributions, ``P (2C + 1)`` values;
        ``backward_reduced``: the all-reduced vector, ``2C`` values (``sum(dy * xhat)`` and
        ``sum(dy)``). None of them depends on the batch size or the spatial size.
    """
    c, p = int(num_features), int(world_size)
    return {"forward_sent": 8 * (2 * c + 1), "forward_received": 8 * p * (2 * c + 1), "backward_reduced": 8 * 2 * c}


class SyncBatchNorm(BatchNorm):
    """A batch normalization layer whose training-mode statistics are those of all processes' batch.

    The counterpart of ``torch.nn.SyncBatchNorm`` on NumPy arrays and any ``torch.distributed``
    backend. In training mode it calls :func:`sync_batch_norm_forward`/:func:`sync_batch_norm_backward`;
    the running statistics are updated with the global mean and the unbiased global variance, so
    they equal those of a :class:`companion.BatchNorm` that saw the concatenated batch, on every
    process. Eval mode uses the running statistics and needs no communication.

    Parameters
    ----------
    num_features, eps, momentum, affine, track_running_stats, dtype
        As :class:`companion.BatchNorm`.
    group : torch.distributed process group or None
        The processes that share statistics (None: the default group).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=np.float64, group=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)
        self.group = group

    def forward(self, x):
        """Normalize this process's shard ``x`` of shape ``(N_k, C, ...)``; returns ``y`` of the same shape."""
        use_batch = self.training or not self.track_running_stats
        if not use_batch:
            return super().forward(x)
        self._check_state(x)
        y, cache, mean, var = _forward(x, self.weight, self.bias, self.eps, self.group)
        if self.training and self.track_running_stats:
            m = cache[3]
            self.num_batches_tracked += 1
            f = self._momentum_factor()
            unbiased = var * (m / (m - 1))
            self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(self.dtype)
            self.running_var = ((1 - f) * self.running_var + f * unbiased).astype(self.dtype)
        self._cache, self._batch_mode = cache, True
        return y

    def backward(self, dy):
        """Back-propagate this shard's ``dy``; returns ``dx`` and sets ``dweight``/``dbias`` (global sums)."""
        if not self._batch_mode:
            return super().backward(dy)
        dx, dw, db = sync_batch_norm_backward(dy, self._last_cache())
        self._keep_param_grads(dw, db)
        return dx
