"""companion.ghostbatchnorm: each ghost batch is batch-normalized alone (checked against BN per sub-batch and
against torch's batch_norm per chunk), numeric gradients, shared parameters' gradients summed."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_torch, torch_devices


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, size=(n, 4, 3))
    return x, rng.normal(size=x.shape), rng.normal(size=4), rng.normal(size=4)


@pytest.mark.parametrize("n, v", [(12, 4), (10, 4), (8, 8)])
def test_ghost_batch_norm_is_batch_norm_per_sub_batch(n, v):
    x, dy, w, b = _data(n)
    y, cache = c.ghost_batch_norm_forward(x, w, b, v)
    dx, dw, db = c.ghost_batch_norm_backward(dy, cache)
    dw_sum = db_sum = 0.0
    for s in c.ghostbatchnorm.ghost_slices(n, v):
        ys, cs = c.batch_norm_forward(x[s], w, b)
        dxs, dws, dbs = c.batch_norm_backward(dy[s], cs)
        np.testing.assert_allclose(y[s], ys, rtol=0, atol=1e-12)
        np.testing.assert_allclose(dx[s], dxs, rtol=0, atol=1e-12)
        dw_sum, db_sum = dw_sum + dws, db_sum + dbs
    np.testing.assert_allclose(dw, dw_sum, rtol=0, atol=1e-12)
    np.testing.assert_allclose(db, db_sum, rtol=0, atol=1e-12)


@pytest.mark.parametrize("device", torch_devices())
def test_ghost_batch_norm_matches_torch_chunks(device):
    x, dy, w, b = _data(12, seed=1)
    y, cache = c.ghost_batch_norm_forward(x, w, b, 3)
    dx, dw, db = c.ghost_batch_norm_backward(dy, cache)
    xt, wt, bt = (to_torch(v, device, requires_grad=True) for v in (x, w, b))
    yt = torch.cat([F.batch_norm(chunk, None, None, wt, bt, training=True, eps=1e-5) for chunk in xt.split(3)])
    yt.backward(to_torch(dy, device))
    for ours, theirs in ((y, yt), (dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        assert_parity(ours, theirs, np.float64)


def test_ghost_batch_norm_numeric_gradient():
    x, dy, w, b = _data(6, seed=2)
    _, cache = c.ghost_batch_norm_forward(x, w, b, 4)
    analytic = c.ghost_batch_norm_backward(dy, cache)
    for i in range(3):
        args = [x, w, b]

        def f(v, i=i, args=args):
            a = list(args)
            a[i] = v
            return c.ghost_batch_norm_forward(*a, 4)[0]

        numeric = c.numerical_gradient(f, args[i].copy(), dy, h=1e-3, order=4)
        assert c.rel_error(numeric, analytic[i]) < 1e-8


def test_ghost_batch_norm_checks():
    x = np.ones((5, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        c.ghost_batch_norm_forward(x, None, None, 2)  # the last ghost batch has one sample
    with pytest.raises(ValueError, match="virtual_batch_size"):
        c.ghost_batch_norm_forward(x, None, None, 0)
