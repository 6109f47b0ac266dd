"""Experiments of the chapter *BN across devices*: plain BN under data parallelism, and synchronized BN on
real processes.

- :class:`PerDeviceBatchNorm` and :func:`per_device_batch_norm` make a one-process model behave as plain BN
  under data-parallel training (``DistributedDataParallel`` with ``broadcast_buffers=True``): each
  consecutive chunk of ``per_device`` samples (one device's shard) is normalized with its own statistics, the
  running statistics follow the first shard (rank 0's buffers, which DDP broadcasts), and the gradients of
  the shared weight and bias add up over the shards, as DDP's all-reduce adds them.
- :func:`sync_bn_demo` is what each process runs in the chapter (through
  :func:`companion.experiments.distributed.run_processes`): PyTorch's ``SyncBatchNorm`` on CPU tensors,
  :func:`companion.sync_batch_norm_forward`/``backward`` against batch norm of the whole batch on a
  two-process subgroup and on all processes, the bytes of every collective call, and a timing.
"""
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PerDeviceBatchNorm", "count_collective_bytes", "per_device_batch_norm", "shard_bounds", "sync_bn_demo"]


class PerDeviceBatchNorm(nn.Module):
    """Plain BN under data parallelism, on one process: per-shard statistics in training mode.

    Parameters
    ----------
    bn : torch.nn.BatchNorm1d or BatchNorm2d
        The wrapped layer (its weight, bias and running statistics are used).
    per_device : int
        Samples per device; the batch is cut into consecutive shards of this size (the last may be
        smaller, but must hold at least two samples).
    """

    def __init__(self, bn, per_device):
        super().__init__()
        self.bn, self.per_device = bn, int(per_device)

    def forward(self, x):
        if not self.training:
            return self.bn(x)
        shards = x.split(self.per_device)
        rest = [F.batch_norm(s, None, None, self.bn.weight, self.bn.bias, True, 0.0, self.bn.eps)
                for s in shards[1:]]  # the other devices: their own statistics, buffers untouched
        return torch.cat([self.bn(shards[0])] + rest)  # rank 0 updates the running statistics


def per_device_batch_norm(model, per_device):
    """Replace every ``BatchNorm1d``/``BatchNorm2d`` of ``model`` (in place) by a :class:`PerDeviceBatchNorm`.

    Parameters
    ----------
    model : torch.nn.Module
    per_device : int
        Samples per simulated device.

    Returns
    -------
    torch.nn.Module
        ``model`` itself.
    """
    for name, child in model.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            setattr(model, name, PerDeviceBatchNorm(child, per_device))
        else:
            per_device_batch_norm(child, per_device)
    return model


def shard_bounds(sizes, rank):
    """``(start, stop)`` of shard ``rank`` when consecutive shards have the given ``sizes``."""
    start = int(sum(sizes[:rank]))
    return start, start + int(sizes[rank])


class count_collective_bytes:
    """Context manager that counts the payload bytes of ``torch.distributed.all_gather``/``all_reduce``.

    Inside it, every call is recorded as ``(operation, bytes this process contributes, bytes it
    receives)`` in :attr:`calls`.
    """

    def __init__(self):
        self.calls = []

    def __enter__(self):
        import torch.distributed as dist

        self._dist, self._saved = dist, (dist.all_gather, dist.all_reduce)
        gather, reduce = self._saved

        def all_gather(tensor_list, tensor, *args, **kwargs):
            self.calls.append(("all_gather", tensor.nbytes, sum(t.nbytes for t in tensor_list)))
            return gather(tensor_list, tensor, *args, **kwargs)

        def all_reduce(tensor, *args, **kwargs):
            self.calls.append(("all_reduce", tensor.nbytes, tensor.nbytes))
            return reduce(tensor, *args, **kwargs)

        dist.all_gather, dist.all_reduce = all_gather, all_reduce
        return self

    def __exit__(self, *exc):
        self._dist.all_gather, self._dist.all_reduce = self._saved
        return False


def _errors_against_full_batch(rank, sizes, group, shape, seed):
    """Sync BN of this rank's shard against batch norm of the concatenated batch: max |difference|."""
    import companion as c

    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, size=(sum(sizes),) + shape)
    dy = rng.normal(size=x.shape)
    w, b = rng.normal(size=shape[0]), rng.normal(size=shape[0])
    lo, hi = shard_bounds(sizes, rank)
    y, cache = c.sync_batch_norm_forward(x[lo:hi], w, b, group=group)
    dx, dw, db = c.sync_batch_norm_backward(dy[lo:hi], cache)
    y_full, cache_full = c.batch_norm_forward(x, w, b)
    dx_full, dw_full, db_full = c.batch_norm_backward(dy, cache_full)
    return {"y": float(np.abs(y - y_full[lo:hi]).max()), "dx": float(np.abs(dx - dx_full[lo:hi]).max()),
            "dweight": float(np.abs(dw - dw_full).max()), "dbias": float(np.abs(db - db_full).max()),
            "dweight_bits": dw.tobytes(), "dbias_bits": db.tobytes()}


def sync_bn_demo(rank, world_size, sizes_pair, sizes_all, shape=(6, 4, 4), seed=0, timing_shape=(16, 64, 8, 8),
                 repeats=20):
    """What every process of the chapter's run computes (call through ``run_processes``).

    Parameters
    ----------
    rank, world_size : int
        Given by :func:`companion.experiments.distributed.run_processes`.
    sizes_pair : list of 2 int
        Shard sizes of ranks 0 and 1 in a two-process subgroup.
    sizes_all : list of int, length world_size
        Shard sizes of every rank in the whole group.
    shape : tuple of int
        ``(C, *spatial)`` of the comparison's input, float64.
    seed : int
        Seed of the (shared) full batch.
    timing_shape : tuple of int
        ``(N_k, C, H, W)`` of each process's input for the byte count and the timing.
    repeats : int
        Forward + backward passes timed (the median is returned).

    Returns
    -------
    dict
        ``torch_error`` (PyTorch's SyncBatchNorm on CPU: exception type and message, or None),
        ``pair`` (None on ranks outside the pair) and ``all``: errors against the full batch (see
        :func:`_errors_against_full_batch`), ``calls``: the collective calls of one forward and backward
        pass as ``(operation, bytes contributed, bytes received)``, ``activation_bytes`` of this process's
        input, ``time_sync`` and ``time_local``: median seconds of a forward + backward pass with
        synchronized and with plain (per-process) batch norm.
    """
    import torch.distributed as dist

    import companion as c

    out = {}
    try:  # PyTorch's own layer, on CPU tensors, inside an initialized process group
        torch.nn.SyncBatchNorm(shape[0])(torch.zeros((2,) + shape))
        out["torch_error"] = None
    except ValueError as e:
        out["torch_error"] = (type(e).__name__, str(e))
    pair = dist.new_group([0, 1])  # every process must take part in creating a group
    out["pair"] = _errors_against_full_batch(rank, sizes_pair, pair, shape, seed) if rank < 2 else None
    out["all"] = _errors_against_full_batch(rank, sizes_all, None, shape, seed + 1)

    rng = np.random.default_rng(seed + 2 + rank)
    x = rng.normal(size=timing_shape)
    dy = rng.normal(size=timing_shape)
    w, b = np.ones(timing_shape[1]), np.zeros(timing_shape[1])
    with count_collective_bytes() as counter:
        _, cache = c.sync_batch_norm_forward(x, w, b)
        c.sync_batch_norm_backward(dy, cache)
    out["calls"] = counter.calls
    out["activation_bytes"] = int(x.nbytes)

    def median_seconds(step):
        times = []
        for _ in range(repeats):
            dist.barrier()
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    out["time_sync"] = median_seconds(lambda: c.sync_batch_norm_backward(dy, c.sync_batch_norm_forward(x, w, b)[1]))
    out["time_local"] = median_seconds(lambda: c.batch_norm_backward(dy, c.batch_norm_forward(x, w, b)[1]))
    return out
