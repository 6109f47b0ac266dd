"""companion.batchrenorm: parity with PyTorch autograd (r and d detached), clipping, the layer's running statistics."""
import numpy as np
import pytest
import torch

import companion as c
from companion.tools.oracle import assert_parity, to_torch, torch_devices

from _norm_helpers import DTYPES, _data, _gradcheck, _torch_grads


def _torch_batch_renorm(x, w, b, rm, rs, r_max, d_max, eps):
    """Batch renormalization written with torch ops; r and d are detached (constants for autograd)."""
    axes = [0] + list(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(dim=axes, keepdim=True)
    sigma = torch.sqrt(x.var(dim=axes, unbiased=False, keepdim=True) + eps)
    r = (sigma / rs.view(view)).clamp(1 / r_max, r_max).detach()
    d = ((mu - rm.view(view)) / rs.view(view)).clamp(-d_max, d_max).detach()
    return w.view(view) * ((x - mu) / sigma * r + d) + b.view(view)


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 5), (6, 3, 5, 4)])
def test_batch_renorm_matches_torch_autograd_with_detached_r_d(device, dtype, shape):
    x, w, b, dy = _data(shape, shape[1], dtype, seed=4)
    C = shape[1]
    # running statistics chosen so that some channels are clipped and some are not
    rm = np.linspace(-3.0, 4.0, C).astype(dtype)
    rs = np.linspace(0.4, 5.0, C).astype(dtype)
    y, cache = c.batch_renorm_forward(x, w, b, rm, rs, r_max=2.0, d_max=1.0)
    dx, dw, db = c.batch_renorm_backward(dy, cache)
    r, d = cache[2].ravel(), cache[3].ravel()
    assert np.any(np.isin(r, [0.5, 2.0])) and np.any((r > 0.5) & (r < 2.0))
    assert np.any(np.abs(d) == 1.0) and np.any(np.abs(d) < 1.0)
    rmt, rst = to_torch(rm, device), to_torch(rs, device)
    yt, dxt, dwt, dbt = _torch_grads(
        lambda xt, wt, bt: _torch_batch_renorm(xt, wt, bt, rmt, rst, 2.0, 1.0, 1e-5), x, w, b, dy, device
    )
    for ours, theirs in ((y, yt), (dx, dxt), (dw, dwt), (db, dbt)):
        assert_parity(ours, theirs, dtype)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 2)])
def test_batch_renorm_numeric_gradient_where_r_and_d_are_clipped(seed, shape):
    """Where both r and d sit on their clipping bounds they are locally constant, so the numeric
    gradient of the whole forward pass must equal the analytic one (which holds r and d fixed)."""
    x, w, b, dy = _data(shape, shape[1], seed=seed, scale=1.0, offset=0.0)
    C = shape[1]
    rm = np.where(np.arange(C) % 2 == 0, -100.0, 100.0)
    rs = np.full(C, 100.0)  # sigma_B / rs ~ 0.01: r is clipped to 1 / r_max; |d| ~ 1 > d_max: d is clipped
    fwd = lambda x, w, b: c.batch_renorm_forward(x, w, b, rm, rs, r_max=1.5, d_max=0.5)  # noqa: E731
    _, cache = fwd(x, w, b)
    np.testing.assert_array_equal(cache[2].ravel(), 1 / 1.5)
    np.testing.assert_array_equal(np.abs(cache[3].ravel()), 0.5)
    _gradcheck(fwd, c.batch_renorm_backward, x, w, b, dy)


def test_batch_renorm_with_r_max_1_d_max_0_is_batch_norm():
    x, w, b, dy = _data((6, 3, 4, 2), 3, seed=10)
    rm, rs = np.array([5.0, -2.0, 0.3]), np.array([0.1, 7.0, 1.0])  # far from the batch statistics
    y, cache = c.batch_renorm_forward(x, w, b, rm, rs, r_max=1.0, d_max=0.0)
    y_bn, cache_bn = c.batch_norm_forward(x, w, b)
    np.testing.assert_allclose(y, y_bn, rtol=1e-13, atol=1e-13)
    for ours, bn in zip(c.batch_renorm_backward(dy, cache), c.batch_norm_backward(dy, cache_bn)):
        np.testing.assert_allclose(ours, bn, rtol=1e-12, atol=1e-13)
    layer, bn_layer = c.BatchRenorm(3, r_max=1.0, d_max=0.0), c.BatchNorm(3)
    layer.weight, layer.bias = w.copy(), b.copy()
    bn_layer.weight, bn_layer.bias = w.copy(), b.copy()
    for step in range(3):
        xs = x * (step + 1) + step
        np.testing.assert_allclose(layer(xs), bn_layer(xs), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(layer.backward(dy), bn_layer.backward(dy), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.dweight, bn_layer.dweight, rtol=1e-12)
        np.testing.assert_allclose(layer.dbias, bn_layer.dbias, rtol=1e-12)


def test_batch_renorm_without_clipping_computes_the_inference_function():
    """With unbounded r and d, xhat = (x - running_mean) / running_std exactly."""
    x, w, b, _ = _data((8, 3, 5), 3, seed=11)
    rm, rs = np.array([1.0, -2.0, 0.5]), np.array([0.5, 3.0, 1.2])
    y, cache = c.batch_renorm_forward(x, w, b, rm, rs, r_max=np.inf, d_max=np.inf)
    expected = w[:, None] * (x - rm[:, None]) / rs[:, None] + b[:, None]
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    layer = c.BatchRenorm(3, r_max=np.inf, d_max=np.inf)
    layer.weight, layer.bias, layer.running_mean, layer.running_std = w, b, rm.copy(), rs.copy()
    y_eval = layer.eval()(x)
    np.testing.assert_allclose(y, y_eval, rtol=1e-12, atol=1e-12)


def test_batch_renorm_r_and_d_are_the_clipped_ratios():
    x, _, _, _ = _data((50, 4), 4, seed=12)
    rm, rs = np.array([0.0, 10.0, -10.0, 1.5]), np.array([1.0, 0.01, 100.0, 2.0])
    _, (z, inv_std, r, d, _) = c.batch_renorm_forward(x, None, None, rm, rs, r_max=3.0, d_max=5.0)
    sigma, mu = np.sqrt(x.var(axis=0) + 1e-5), x.mean(axis=0)
    np.testing.assert_allclose(r.ravel(), np.clip(sigma / rs, 1 / 3, 3), rtol=1e-14)
    np.testing.assert_allclose(d.ravel(), np.clip((mu - rm) / rs, -5, 5), rtol=1e-13)
    assert r.ravel()[1] == 3.0 and r.ravel()[2] == 1 / 3 and d.ravel()[1] == -5.0


def test_batch_renorm_layer_running_statistics_and_eval():
    rng = np.random.default_rng(13)
    layer = c.BatchRenorm(3, momentum=0.2, r_max=2.0, d_max=1.0)
    rm, rs = np.zeros(3), np.ones(3)
    for step in range(6):
        x = rng.normal(step, 1 + step, size=(10, 3, 2))
        y = layer(x)
        mu, sigma = x.mean(axis=(0, 2)), np.sqrt(x.var(axis=(0, 2)) + layer.eps)
        np.testing.assert_allclose(layer.r, np.clip(sigma / rs, 0.5, 2.0), rtol=1e-14)
        np.testing.assert_allclose(layer.d, np.clip((mu - rm) / rs, -1.0, 1.0), rtol=1e-13, atol=1e-15)
        z = (x - mu[:, None]) / sigma[:, None]
        np.testing.assert_allclose(y, z * layer.r[:, None] + layer.d[:, None], rtol=1e-12, atol=1e-12)
        rm, rs = 0.8 * rm + 0.2 * mu, 0.8 * rs + 0.2 * sigma
        np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-14)
        np.testing.assert_allclose(layer.running_std, rs, rtol=1e-14)
    assert layer.num_batches_tracked == 6
    layer.eval()
    x = rng.normal(size=(1, 3, 2))  # one sample is fine at inference
    layer.weight = np.array([2.0, -1.0, 0.5])
    dy = rng.normal(size=x.shape)
    np.testing.assert_allclose(layer(x), layer.weight[:, None] * (x - rm[:, None]) / rs[:, None], rtol=1e-13)
    np.testing.assert_allclose(layer.backward(dy), dy * layer.weight[:, None] / rs[:, None], rtol=1e-13)
    np.testing.assert_allclose(layer.dweight, (dy * (x - rm[:, None]) / rs[:, None]).sum(axis=(0, 2)), rtol=1e-13)
    np.testing.assert_allclose(layer.dbias, dy.sum(axis=(0, 2)), rtol=1e-13)
    assert layer.train() is layer and layer.training


def test_batch_renorm_cumulative_average_and_repr():
    layer = c.BatchRenorm(2, momentum=None, affine=False)
    rng = np.random.default_rng(14)
    batches = [rng.normal(i, 1.0, size=(8, 2)) for i in range(4)]
    for x in batches:
        layer(x)
    np.testing.assert_allclose(layer.running_mean, np.mean([x.mean(axis=0) for x in batches], axis=0), rtol=1e-13)
    np.testing.assert_allclose(layer.running_std, np.mean([np.sqrt(x.var(axis=0) + 1e-5) for x in batches], axis=0),
                               rtol=1e-13)
    assert layer.weight is None and layer.backward(np.ones((8, 2))).shape == (8, 2) and layer.dweight is None
    assert repr(layer) == "BatchRenorm(2, eps=1e-05, momentum=None, r_max=3.0, d_max=5.0, affine=False)"
