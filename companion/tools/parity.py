"""Parity of the companion with PyTorch: the largest errors, per device and dtype.

    nd-parity-table                  # print the table (cpu, plus cuda when available)
    nd-parity-table --json FILE      # also write it as JSON (to record a GPU run)

For each device and dtype, the same inputs go through the companion and through PyTorch and
every output is compared: batch normalization's forward ``y``, backward ``dx``, ``dweight``
and ``dbias``, the running statistics after several training steps, and dropout's forward and
backward given PyTorch's own keep-mask (the two libraries draw different random numbers).
The companion runs on the CPU; float16 is compared on CUDA only (PyTorch's reference for it).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .oracle import TOLERANCES, within_tolerance

__all__ = ["QUANTITIES", "TOLERANCES", "error_bound", "main", "parity_table"]

QUANTITIES = (
    "bn forward y",
    "bn backward dx",
    "bn backward dweight",
    "bn backward dbias",
    "bn running_mean",
    "bn running_var",
    "dropout forward y",
    "dropout backward dx",
)



def _errors(ours, theirs):
    """``(max |ours - theirs|, max |ours - theirs| / max |theirs|)``, computed in float64."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    diff = float(np.max(np.abs(a - b)))
    scale = float(np.max(np.abs(b)))
    return diff, diff / scale if scale > 0 else diff


def _compare(device, dtype, shape, steps, seed):
    """Rows ``(quantity, ours, theirs)`` for one device and dtype."""
    import torch
    import torch.nn.functional as F

    from ..batchnorm import BatchNorm, batch_norm_backward, batch_norm_forward
    from ..dropout import dropout_backward
    from .oracle import to_numpy, to_torch

    rng = np.random.default_rng(seed)
    c = shape[1]

    def sample(*size, loc=0.0, scale=1.0):
        return (loc + scale * rng.standard_normal(size)).astype(dtype)

    out = []
    # functional forward and backward with batch statistics
    x, dy, w, b = sample(*shape, loc=1.5, scale=2.0), sample(*shape), sample(c, loc=1.0), sample(c)
    y, cache = batch_norm_forward(x, w, b)
    dx, dw, db = batch_norm_backward(dy, cache)
    xt, wt, bt = (to_torch(v, device, requires_grad=True) for v in (x, w, b))
    yt = F.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
    yt.backward(to_torch(dy, device))
    out += [("bn forward y", y, to_numpy(yt)), ("bn backward dx", dx, to_numpy(xt.grad)),
            ("bn backward dweight", dw, to_numpy(wt.grad)), ("bn backward dbias", db, to_numpy(bt.grad))]
    # running statistics after several training steps (the layers' default momentum 0.1)
    ours = BatchNorm(c, dtype=dtype)
    ref = torch.nn.BatchNorm2d(c).to(device=device, dtype=getattr(torch, dtype))
    for step in range(steps):
        xb = sample(*shape, loc=float(step), scale=1.0 + step % 3)
        ours(xb)
        with torch.no_grad():
            ref(to_torch(xb, device))
    out += [("bn running_mean", ours.running_mean, to_numpy(ref.running_mean)),
            ("bn running_var", ours.running_var, to_numpy(ref.running_var))]
    # dropout given torch's keep-mask (inputs kept away from 0, so that mask = y != 0)
    p = 0.3
    torch.manual_seed(seed)
    xd = (0.5 + rng.uniform(size=shape)).astype(dtype)
    xdt = to_torch(xd, device, requires_grad=True)
    ydt = F.dropout(xdt, p=p, training=True)
    ydt.backward(to_torch(dy, device))
    mask = to_numpy(ydt) != 0
    y_ours = xd * mask / np.asarray(1 - p, dtype)  # the forward's arithmetic with torch's mask
    out += [("dropout forward y", y_ours, to_numpy(ydt)),
            ("dropout backward dx", dropout_backward(dy, mask, p), to_numpy(xdt.grad))]
    return out


def parity_table(devices=None, dtypes=None, shape=(16, 8, 12, 12), steps=10, seed=0):
    """Compare the companion with PyTorch on every device and dtype.

    Parameters
    ----------
    devices : sequence of str, optional
        Default ``["cpu"]``, plus ``"cuda"`` when available.
    dtypes : dict, optional
        Device -> list of dtype names; default float64 and float32 on the CPU, and float16 as
        well on CUDA.
    shape : tuple of int
        Input shape ``(N, C, H, W)`` (batch normalization and dropout).
    steps : int
        Training steps before the running statistics are compared.
    seed : int

    Returns
    -------
    list of dict
        One row per (device, dtype, quantity of :data:`QUANTITIES`) with keys ``device``,
        ``dtype``, ``quantity``, ``max_abs`` (largest absolute difference), ``max_rel`` (that
        difference divided by the largest magnitude of PyTorch's result) and ``within_tol``
        (every element within :data:`TOLERANCES` of that dtype, as the parity tests require).
    """
    from .oracle import torch_devices

    devices = list(devices or torch_devices())
    dtypes = dtypes or {"cpu": ["float64", "float32"], "cuda": ["float64", "float32", "float16"]}
    rows = []
    for device in devices:
        for dtype in dtypes.get(device.split(":")[0], ["float64", "float32"]):
            if dtype not in TOLERANCES:
                raise ValueError(f"dtypes: expected float64, float32 or float16, got {dtype!r}")
            for quantity, ours, theirs in _compare(device, dtype, tuple(shape), steps, seed):
                max_abs, max_rel = _errors(ours, theirs)
                rows.append({"device": device, "dtype": dtype, "quantity": quantity, "max_abs": max_abs,
                             "max_rel": max_rel, "within_tol": within_tolerance(ours, theirs, dtype)})
    return rows


def error_bound(err):
    """The smallest power of ten at or above ``err``, as text (``"<= 1e-07"``); ``"0"`` for an exact match.

    The chapter prints errors this way: the exact last digits of a float32 error depend on how
    a library splits its sums between threads, the order of magnitude does not.
    """
    if err == 0:
        return "0"
    return f"<= {10.0 ** int(np.ceil(np.log10(err))):.0e}"


def main(argv=None):
    """Command-line entry point; returns the exit status (1 if any error is outside tolerance)."""
    parser = argparse.ArgumentParser(prog="nd-parity-table", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the rows to FILE as a JSON list")
    parser.add_argument("--devices", help="comma-separated devices (default: cpu, plus cuda when available)")
    args = parser.parse_args(argv)
    rows = parity_table(devices=args.devices.split(",") if args.devices else None)
    print(f"{'device':<6} {'dtype':<8} {'quantity':<20} {'max abs':>10} {'max rel':>10}  within tolerance")
    for r in rows:
        print(f"{r['device']:<6} {r['dtype']:<8} {r['quantity']:<20} {r['max_abs']:10.2e} {r['max_rel']:10.2e}  "
              f"{r['within_tol']}")
    if args.json:
        import torch

        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {"torch_version": torch.__version__}
        args.json.write_text(json.dumps([dict(r, **meta) for r in rows], indent=1) + "\n")
        print(f"wrote {len(rows)} rows to {args.json}")
    return 0 if all(r["within_tol"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
