"""companion.dropconnect: parity with a torch linear layer on a masked weight, gradients, one mask per call."""
import numpy as np
import pytest
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_torch, torch_devices

from _dropout_helpers import DTYPES, _five_sigma_keep_count, _raises


def _linear_data(dtype=np.float64, seed=0, n=5, d_in=4, d_out=3):
    rng = np.random.default_rng(seed)
    return tuple(rng.normal(size=s).astype(dtype) for s in ((n, d_in), (d_out, d_in), (d_out,), (n, d_out)))


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.3, 0.7])
def test_dropconnect_matches_torch_linear_with_masked_weight(device, dtype, p):
    x, w, b, dz = _linear_data(dtype, n=16, d_in=12, d_out=7)
    z, cache = c.dropconnect_forward(x, w, b, p, rng=3)
    dx, dw, db = c.dropconnect_backward(dz, cache)
    mask = cache[2]
    assert mask.shape == w.shape and 0 < mask.sum() < mask.size
    xt, wt, bt = (to_torch(v, device, requires_grad=True) for v in (x, w, b))
    scale = to_torch((mask / (1 - p)).astype(dtype), device)
    zt = F.linear(xt, wt * scale, bt)
    zt.backward(to_torch(dz, device))
    for ours, theirs in ((z, zt), (dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        assert_parity(ours, theirs, dtype)
    assert np.all(dw[~mask] == 0)  # dropped weights get no gradient


@pytest.mark.parametrize("p", [0.0, 0.4])
@pytest.mark.parametrize("with_bias", [True, False])
def test_dropconnect_numeric_gradient(p, with_bias):
    x, w, b, dz = _linear_data(seed=1)
    b = b if with_bias else None
    z, cache = c.dropconnect_forward(x, w, b, p, rng=4)
    dx, dw, db = c.dropconnect_backward(dz, cache)
    fwd = [lambda v: c.dropconnect_forward(v, w, b, p, rng=4)[0], lambda v: c.dropconnect_forward(x, v, b, p, rng=4)[0]]
    pairs = [(fwd[0], x, dx), (fwd[1], w, dw)]
    if with_bias:
        pairs.append((lambda v: c.dropconnect_forward(x, w, v, p, rng=4)[0], b, db))
    for f, arg, analytic in pairs:
        numeric = c.numerical_gradient(f, arg.copy(), dz, h=1e-3, order=4)
        assert c.rel_error(numeric, analytic) < 1e-8


def test_dropconnect_one_mask_per_call_and_eval_mean():
    x, w, b, _ = _linear_data(seed=2, n=6, d_in=5, d_out=4)
    p = 0.5
    z, (_, _, mask, _) = c.dropconnect_forward(x, w, b, p, rng=6)
    for i in range(x.shape[0]):  # every sample sees the same dropped weights
        np.testing.assert_allclose(z[i], (w * mask) @ x[i] / (1 - p) + b, rtol=1e-13)
    z_eval, (_, _, mask_eval, p_used) = c.dropconnect_forward(x, w, b, p, training=False)
    np.testing.assert_allclose(z_eval, x @ w.T + b, rtol=1e-14)
    assert mask_eval.all() and p_used == 0.0
    # the eval output is the mean of the training output over masks (5 standard errors)
    g = np.random.default_rng(7)
    draws = np.array([c.dropconnect_forward(x, w, b, p, rng=g)[0] for _ in range(4000)])
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - z_eval) < 5 * se)


def test_dropconnect_p_one_keep_fraction_and_seed():
    x, w, b, dz = _linear_data(seed=3)
    z, cache = c.dropconnect_forward(x, w, b, 1.0, rng=0)
    np.testing.assert_array_equal(z, np.broadcast_to(b, z.shape))
    dx, dw, db = c.dropconnect_backward(dz, cache)
    assert np.all(dx == 0) and np.all(dw == 0) and np.all(np.isfinite(dx)) and np.all(np.isfinite(dw))
    np.testing.assert_array_equal(db, dz.sum(axis=0))
    _, w_big, _, _ = _linear_data(seed=4, d_in=400, d_out=500)
    for p in (0.1, 0.5, 0.8):
        mask = c.dropconnect_forward(np.ones((2, 400)), w_big, None, p, rng=5)[1][2]
        _five_sigma_keep_count(mask.sum(), mask.size, p)
    m1 = c.dropconnect_forward(x, w, b, 0.5, rng=8)[1][2]
    np.testing.assert_array_equal(m1, c.dropconnect_forward(x, w, b, 0.5, rng=8)[1][2])
    x32, w32, b32, _ = _linear_data(np.float32)
    assert c.dropconnect_forward(x32, w32, b32, 0.5, rng=1)[0].dtype == np.float32


def test_dropconnect_input_checks():
    x, w, b, dz = _linear_data()
    _raises(ValueError, "weight must have shape (D_out, D_in) with D_in = x.shape[1] = 4",
            c.dropconnect_forward, x, w[:, :3], b)
    _raises(ValueError, "bias must have shape (3,)", c.dropconnect_forward, x, w, b[:2])
    _raises(ValueError, "x must have shape (N, D_in)", c.dropconnect_forward, x[None], w, b)
    _raises(ValueError, "x must have at least 2 dimensions", c.dropconnect_forward, x[0], w, b)
    _raises(TypeError, "weight must have the dtype of x (float64), got float32", c.dropconnect_forward, x,
            w.astype(np.float32), b)
    _raises(TypeError, "weight must have a floating dtype", c.dropconnect_forward, x, w.astype(int), b)
    _raises(ValueError, "p must be in [0, 1]", c.dropconnect_forward, x, w, b, 1.01)
    _, cache = c.dropconnect_forward(x, w, b, 0.5, rng=0)
    _raises(ValueError, "dz must have the shape of the forward output (5, 3)", c.dropconnect_backward, dz.T, cache)
