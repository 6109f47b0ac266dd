"""Run a function on N real processes joined in a ``torch.distributed`` group, from a notebook or a test.

:func:`run_processes` starts ``world_size`` fresh Python processes, forked from a clean server process
that has imported torch once (multiprocessing's ``forkserver``, so a run costs one import of torch,
not one per process). Nothing is inherited from the caller's state, so the function must be
importable (defined in a module, not in a notebook cell). It joins them in one process group (gloo
by default) that talks over 127.0.0.1 only, calls ``fn(rank, world_size, *args)`` in each and returns
the results in rank order. The rendezvous
store is opened by the caller on a port the operating system picks at run time; every wait is
bounded, and the processes end (or are ended) before the call returns.

Each process runs with one thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``), so that
``world_size`` processes share a small machine without oversubscribing it and compute the same
numbers on any machine.
"""
import datetime
import os
import queue as queue_module
import traceback

__all__ = ["ProcessGroupError", "run_processes"]

_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}


class ProcessGroupError(RuntimeError):
    """A process of :func:`run_processes` failed or did not finish in time; the message carries its traceback."""


def _worker(rank, world_size, host, port, backend, timeout, fn, args, kwargs, results):
    try:
        import torch
        import torch.distributed as dist

        torch.set_num_threads(1)
        store = dist.TCPStore(host, port, world_size, is_master=False,
                              timeout=datetime.timedelta(seconds=timeout))
        dist.init_process_group(backend, store=store, rank=rank, world_size=world_size,
                                timeout=datetime.timedelta(seconds=timeout))
        try:
            out = fn(rank, world_size, *args, **kwargs)
        finally:
            dist.destroy_process_group()
        results.put((rank, True, out))
    except BaseException:
        results.put((rank, False, traceback.format_exc()))


def run_processes(fn, world_size, args=(), kwargs=None, backend="gloo", timeout=60.0):
    """Call ``fn(rank, world_size, *args, **kwargs)`` on ``world_size`` processes of one process group.

    Parameters
    ----------
    fn : callable
        An importable function (defined at the top level of a module); inside it,
        ``torch.distributed`` is initialized with ``rank`` and ``world_size``. Its return value must
        be picklable (NumPy arrays, numbers, dicts of them).
    world_size : int
        Number of processes (>= 1).
    args : tuple
        Extra positional arguments, passed to every process (picklable).
    kwargs : dict, optional
        Keyword arguments, passed to every process (picklable).
    backend : str
        The ``torch.distributed`` backend, ``"gloo"`` on CPU.
    timeout : float
        Seconds allowed for the whole run (and for every collective operation).

    Returns
    -------
    list
        ``fn``'s return values, indexed by rank.

    Raises
    ------
    ProcessGroupError
        If a process raised (its traceback is in the message) or the run took longer than ``timeout``.
    """
    import multiprocessing as mp

    import torch.distributed as dist

    world_size = int(world_size)
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    host = "127.0.0.1"
    store = dist.TCPStore(host, 0, world_size, is_master=True, wait_for_workers=False,
                          timeout=datetime.timedelta(seconds=timeout))  # port 0: the OS picks a free one
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["torch.distributed", "companion"])  # imported once, in the server
    results = ctx.Queue()
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)  # spawned children inherit the environment at start
    procs = []
    try:
        for rank in range(world_size):
            p = ctx.Process(target=_worker, daemon=True,
                            args=(rank, world_size, host, store.port, backend, timeout, fn, tuple(args),
                                  dict(kwargs or {}), results))
            p.start()
            procs.append(p)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out, failures = {}, []
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=timeout)
    try:
        while len(out) + len(failures) < world_size:
            left = (deadline - datetime.datetime.now()).total_seconds()
            if left <= 0:
                raise ProcessGroupError(f"{world_size - len(out) - len(failures)} of {world_size} processes did "
                                        f"not finish within {timeout:g} s")
            try:
                rank, ok, value = results.get(timeout=min(left, 0.2))
            except queue_module.Empty:
                dead = [r for r, p in enumerate(procs) if p.exitcode not in (None, 0) and r not in out]
                if dead and results.empty():
                    raise ProcessGroupError(f"processes {dead} exited with codes "
                                            f"{[procs[r].exitcode for r in dead]} before reporting") from None
                continue
            if ok:
                out[rank] = value
            else:
                failures.append(f"rank {rank}:\n{value}")
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        del store
    if failures:
        raise ProcessGroupError("a process failed:\n" + "\n".join(failures))
    return [out[r] for r in range(world_size)]
