"""Benchmark batch normalization and dropout: the companion (NumPy) against PyTorch.

    nd-benchmark                      # full sweep (about a minute on 2 CPU cores)
    nd-benchmark --quick              # a few seconds
    nd-benchmark --json results.json  # also write every record as JSON
    nd-benchmark --shapes 32x64x32x32,64x64x32x32 --ops batch_norm_train

Ops (each one iteration of what a training or inference step does):

    batch_norm_train   forward with batch statistics + backward (dx, dweight, dbias)
    batch_norm_eval    forward with running statistics (no gradient)
    dropout_train      forward (drop probability p = 0.5, a new mask each call) + backward

Implementations: ``numpy`` (the companion, on the CPU) and ``torch``, on ``cpu`` and on
``cuda`` when a GPU is available; float32, plus float16 on CUDA.

Method: for every (device, dtype, shape) the inputs are built once; every (op, impl) and a
plain copy of one input tensor are warmed up, then timed in interleaved rounds (so that a
burst of load from other processes hits all of them alike); the median over the rounds is
reported. Effective bandwidth is ``bytes_moved(op, shape, dtype) / median time`` under the
bytes-per-element model :data:`BYTES_MODEL`, and ``copy_gbps`` is the bandwidth of the copy
measured in the same rounds: the speed the device itself reaches on data of that size.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from .machine import cpu_name

__all__ = [
    "BYTES_MODEL",
    "DEFAULT_SHAPES",
    "IMPLS",
    "OPS",
    "QUICK_SHAPES",
    "RECORD_KEYS",
    "bytes_moved",
    "loglog_slope",
    "main",
    "ratio",
    "run",
    "summary",
]

OPS = ("batch_norm_train", "batch_norm_eval", "dropout_train")
IMPLS = ("numpy", "torch")
P_DROP = 0.5

#: Bytes-per-element model: ``(full-size tensors read or written, extra bytes per element)``.
#: Each tensor of the input's shape that an op must read or write at least once counts once,
#: at the input's element size; per-channel vectors (C values) are negligible and not counted.
#: This is the traffic of an ideal implementation that never re-reads anything; real ones make
#: more passes, so the effective bandwidth is a lower bound on the traffic they really move.
BYTES_MODEL = {
    # forward reads x, writes y; backward reads dy and the saved x (or xhat), writes dx
    "batch_norm_train": (5, 0),
    # reads x, writes y
    "batch_norm_eval": (2, 0),
    # forward reads x, writes y and a 1-byte keep-mask; backward reads dy and the mask, writes dx
    "dropout_train": (4, 2),
}
#: A copy reads one tensor and writes one.
COPY_TENSORS = 2

DEFAULT_SHAPES = [(n, 64, 32, 32) for n in (4, 8, 16, 32, 64, 128)]
QUICK_SHAPES = [(n, 64, 32, 32) for n in (8, 16, 32, 64)]

RECORD_KEYS = ("op", "impl", "device", "shape", "dtype", "median_ms", "gbps", "copy_gbps",
               "threads", "torch_version", "device_name")


def bytes_moved(op, shape, dtype):
    """Bytes an ideal implementation of ``op`` must move for an input of ``shape`` and ``dtype``.

    Parameters
    ----------
    op : str
        One of :data:`OPS`, or ``"copy"``.
    shape : tuple of int
    dtype : numpy dtype or str

    Returns
    -------
    int
        ``numel * (tensors * itemsize + extra)`` with ``(tensors, extra)`` from :data:`BYTES_MODEL`.
    """
    tensors, extra = (COPY_TENSORS, 0) if op == "copy" else BYTES_MODEL[op]
    return int(np.prod(shape)) * (tensors * np.dtype(dtype).itemsize + extra)


def _inputs(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = (1.0 + 2.0 * rng.standard_normal(shape, dtype=np.float32)).astype(dtype)
    dy = rng.standard_normal(shape, dtype=np.float32).astype(dtype)
    weight, bias = (1.0 + 0.1 * rng.standard_normal(c)).astype(dtype), (0.1 * rng.standard_normal(c)).astype(dtype)
    return x, dy, weight, bias


def _numpy_cases(x, dy, weight, bias, ops, seed):
    """One zero-argument callable per op, running the companion once."""
    from ..batchnorm import BatchNorm, batch_norm_backward, batch_norm_forward
    from ..dropout import dropout_backward, dropout_forward

    def batch_norm_train():
        _, cache = batch_norm_forward(x, weight, bias)
        batch_norm_backward(dy, cache)

    bn = BatchNorm(x.shape[1], dtype=x.dtype).eval()
    bn.weight, bn.bias = weight, bias
    bn.running_mean, bn.running_var = (0.5 * weight).astype(x.dtype), (1.0 + bias**2).astype(x.dtype)

    def batch_norm_eval():
        bn(x)

    gen = np.random.default_rng(seed)

    def dropout_train():
        _, mask = dropout_forward(x, P_DROP, rng=gen)
        dropout_backward(dy, mask, P_DROP)

    cases = {"batch_norm_train": batch_norm_train, "batch_norm_eval": batch_norm_eval, "dropout_train": dropout_train}
    return {op: cases[op] for op in ops}


def _torch_cases(x, dy, weight, bias, ops, device):
    """One zero-argument callable per op running PyTorch once, and the copy of one input tensor."""
    import torch
    import torch.nn.functional as F

    def put(a, grad=False):
        return torch.from_numpy(a).to(device).requires_grad_(grad)

    xt, dyt = put(x), put(dy)
    xg, wt, bt = put(x, True), put(weight, True), put(bias, True)
    rm, rv = put(0.5 * weight), put(1.0 + bias**2)

    def batch_norm_train():
        F.batch_norm(xg, None, None, wt, bt, training=True).backward(dyt)
        xg.grad = wt.grad = bt.grad = None

    def batch_norm_eval():
        with torch.no_grad():
            F.batch_norm(xt, rm, rv, wt.detach(), bt.detach(), training=False)

    def dropout_train():
        F.dropout(xg, P_DROP, training=True).backward(dyt)
        xg.grad = None

    dst = torch.empty_like(xt)

    def copy():
        dst.copy_(xt)

    cases = {"batch_norm_train": batch_norm_train, "batch_norm_eval": batch_norm_eval, "dropout_train": dropout_train}
    return {op: cases[op] for op in ops}, copy


def _time_rounds(cases, repeats, warmup, sync):
    """Warm up every case, then time them in interleaved rounds; returns name -> list of seconds."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    sync()
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return times


def _rel_iqr(seconds):
    q1, _, q3 = statistics.quantiles(seconds, n=4)
    return (q3 - q1) / statistics.median(seconds)


def run(shapes=None, ops=OPS, impls=IMPLS, devices=None, dtypes=None, repeats=21, warmup=3, seed=0,
        progress=True, noise=None):
    """Run the benchmark and return its records.

    Parameters
    ----------
    shapes : list of tuple of int, optional
        Input shapes ``(N, C, *spatial)``; default :data:`DEFAULT_SHAPES`.
    ops : sequence of str
        Subset of :data:`OPS`.
    impls : sequence of str
        Subset of :data:`IMPLS`. ``numpy`` runs on the CPU only.
    devices : sequence of str, optional
        Default ``["cpu"]`` plus ``"cuda"`` when available.
    dtypes : dict or None
        Device -> list of dtype names; default float32 on the CPU, float32 and float16 on CUDA.
    repeats, warmup : int
        Timed rounds (the median is reported) and untimed calls before them.
    seed : int
        Seed of the inputs and of the companion's dropout masks.
    progress : bool or file-like
        Print one line per (device, dtype, shape) as it finishes: True for standard error,
        or a file-like object; False or None for silence.
    noise : list or None
        If a list, one relative interquartile range ``(q3 - q1) / median`` per timed case is appended.

    Returns
    -------
    list of dict
        One record per (op, impl, device, dtype, shape) with the keys :data:`RECORD_KEYS`:
        ``shape`` is a list, ``dtype`` a string, ``median_ms`` the median time of one call,
        ``gbps`` the effective bandwidth, ``copy_gbps`` the copy bandwidth measured alongside.
    """
    import torch

    if progress is True:
        progress = sys.stderr
    shapes = [tuple(int(n) for n in s) for s in (shapes or DEFAULT_SHAPES)]
    for s in shapes:
        if len(s) < 2 or min(s) < 1 or int(np.prod(s)) // s[1] < 2:
            raise ValueError(f"shapes: each shape must be (N, C, ...) with at least 2 values per channel, got {s}")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    unknown = sorted(set(ops) - set(OPS)) + sorted(set(impls) - set(IMPLS))
    if unknown:
        raise ValueError(f"unknown op or impl {unknown}; ops are {OPS}, impls are {IMPLS}")
    devices = list(devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    dtypes = dtypes or {"cpu": ["float32"], "cuda": ["float32", "float16"]}
    groups = [(d, t, s) for d in devices for t in dtypes.get(d, ["float32"]) for s in shapes]
    records = []
    for k, (device, dtype, shape) in enumerate(groups, 1):
        on_cuda = device.startswith("cuda")
        sync = torch.cuda.synchronize if on_cuda else (lambda: None)
        name = torch.cuda.get_device_name(device) if on_cuda else cpu_name()
        x, dy, weight, bias = _inputs(shape, np.dtype(dtype), seed)
        torch_ops, copy = _torch_cases(x, dy, weight, bias, ops, device)
        cases = {("copy", "torch"): copy}
        if "torch" in impls:
            cases.update({(op, "torch"): fn for op, fn in torch_ops.items()})
        if "numpy" in impls and device == "cpu":
            cases.update({(op, "numpy"): fn for op, fn in _numpy_cases(x, dy, weight, bias, ops, seed).items()})
        times = _time_rounds(cases, repeats, warmup, sync)
        if noise is not None and repeats >= 2:
            noise.extend(_rel_iqr(t) for t in times.values())
        copy_s = statistics.median(times.pop(("copy", "torch")))
        copy_gbps = bytes_moved("copy", shape, dtype) / copy_s / 1e9
        line = []
        for op in ops:
            for impl in impls:
                if (op, impl) not in times:
                    continue
                seconds = statistics.median(times[(op, impl)])
                records.append({
                    "op": op, "impl": impl, "device": device, "shape": list(shape), "dtype": dtype,
                    "median_ms": seconds * 1e3, "gbps": bytes_moved(op, shape, dtype) / seconds / 1e9,
                    "copy_gbps": copy_gbps, "threads": 1 if impl == "numpy" else torch.get_num_threads(),
                    "torch_version": torch.__version__, "device_name": name,
                })
                line.append(f"{op} {impl} {seconds * 1e3:.2f} ms")
        if progress:
            print(f"[{k}/{len(groups)}] {device} {dtype} {shape}: " + ", ".join(line) + f"; copy {copy_gbps:.1f} GB/s",
                  file=progress, flush=True)
    return records


def _select(records, **where):
    return [r for r in records if all(r[k] == v for k, v in where.items())]


def loglog_slope(records, op, impl, device="cpu", dtype="float32", sizes=None):
    """Slope of log(time) against log(batch size N), fitted by least squares.

    Uses the records of one (op, impl, device, dtype) whose shapes differ only in N (only the
    batch sizes in ``sizes``, if given). A slope of 1 means that the cost grows linearly with the
    batch size.

    Returns
    -------
    slope : float
    sizes : list of int
        The batch sizes used (the fit needs at least 2; the book reports it over at least 4).
    """
    rows = _select(records, op=op, impl=impl, device=device, dtype=dtype)
    if sizes is not None:
        rows = [r for r in rows if r["shape"][0] in set(sizes)]
    tails = {tuple(r["shape"][1:]) for r in rows}
    if len(tails) != 1 or len(rows) < 2:
        raise ValueError(f"records: need >= 2 shapes of {op}/{impl}/{device}/{dtype} differing only in N, "
                         f"got {[r['shape'] for r in rows]}")
    rows = sorted(rows, key=lambda r: r["shape"][0])
    n = np.array([r["shape"][0] for r in rows], dtype=float)
    t = np.array([r["median_ms"] for r in rows])
    slope = np.polyfit(np.log(n), np.log(t), 1)[0]
    return float(slope), [int(v) for v in n]


def ratio(records, op, shape, device="cpu", dtype="float32"):
    """``median_ms`` of the companion (numpy) divided by torch's, for one op and shape."""
    times = {r["impl"]: r["median_ms"] for r in _select(records, op=op, device=device, dtype=dtype, shape=list(shape))}
    return times["numpy"] / times["torch"]


def summary(records):
    """A plain-text report: a table of every record, numpy/torch ratios and log-log slopes."""
    lines = [f"{'op':<17} {'impl':<6} {'device':<6} {'dtype':<8} {'shape':<18} {'ms':>9} {'GB/s':>7} "
             f"{'copy GB/s':>9} {'% copy':>6}"]
    for r in records:
        lines.append(f"{r['op']:<17} {r['impl']:<6} {r['device']:<6} {r['dtype']:<8} {tuple(r['shape'])!s:<18} "
                     f"{r['median_ms']:9.3f} {r['gbps']:7.1f} {r['copy_gbps']:9.1f} "
                     f"{100 * r['gbps'] / r['copy_gbps']:6.0f}")
    keys = sorted({(r["op"], r["device"], r["dtype"], tuple(r["shape"])) for r in records})
    ratios = []
    for op, device, dtype, shape in keys:
        if {"numpy", "torch"} <= {r["impl"] for r in _select(records, op=op, device=device, dtype=dtype,
                                                               shape=list(shape))}:
            ratios.append(f"  {op:<17} {device} {dtype} {shape}: {ratio(records, op, shape, device, dtype):.2f}x")
    if ratios:
        lines += ["", "numpy / torch time ratio:"] + ratios
    slopes = []
    for op, impl, device, dtype in sorted({(r["op"], r["impl"], r["device"], r["dtype"]) for r in records}):
        try:
            slope, sizes = loglog_slope(records, op, impl, device, dtype)
        except ValueError:
            continue
        slopes.append(f"  {op:<17} {impl:<6} {device} {dtype}: slope {slope:.2f} over N = {sizes}")
    if slopes:
        lines += ["", "log-log slope of time against batch size N (1 = linear):"] + slopes
    return "\n".join(lines)


def _parse_shapes(text):
    try:
        shapes = [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shapes: expected e.g. 64x64x32x32,32x64x32x32, got {text!r}") from None
    if not shapes:
        raise argparse.ArgumentTypeError("--shapes: give at least one shape")
    return shapes


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="nd-benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sweep and few rounds (a few seconds)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the records to FILE as a JSON list")
    parser.add_argument("--shapes", type=_parse_shapes, help="comma-separated NxCxHxW shapes (overrides the sweep)")
    parser.add_argument("--ops", default=",".join(OPS), help=f"comma-separated subset of {','.join(OPS)}")
    parser.add_argument("--impls", default=",".join(IMPLS), help="comma-separated subset of numpy,torch")
    parser.add_argument("--devices", help="comma-separated devices (default: cpu, plus cuda when available)")
    parser.add_argument("--repeats", type=int, help="timed rounds (default 21, 5 with --quick)")
    parser.add_argument("--warmup", type=int, help="untimed calls per case first (default 3, 1 with --quick)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    import torch

    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    shapes = args.shapes or (QUICK_SHAPES if args.quick else DEFAULT_SHAPES)
    repeats = args.repeats if args.repeats is not None else (5 if args.quick else 21)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    noise = []
    start = time.perf_counter()
    try:
        records = run(shapes, ops=args.ops.split(","), impls=args.impls.split(","),
                      devices=args.devices.split(",") if args.devices else None,
                      repeats=repeats, warmup=warmup, noise=noise)
    except ValueError as exc:
        parser.error(str(exc))
    print(summary(records))
    if noise:
        print(f"\nnoise: median relative interquartile range of the timed rounds {100 * statistics.median(noise):.1f}%"
              f" (worst case {100 * max(noise):.1f}%); {repeats} rounds, {warmup} warm-up calls; "
              f"{time.perf_counter() - start:.1f} s in all")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(records, indent=1) + "\n")
        print(f"wrote {len(records)} records to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
