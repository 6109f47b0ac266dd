"""Layer, group and instance normalization and batch renormalization.

Parity with PyTorch (float64 to 1e-10, float32 within torch.testing.assert_close's defaults, on every
device of ``torch_devices()``), numeric gradient checks, invariants, and bad-input errors.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import companion as c
from companion.tools.oracle import assert_parity, to_torch, torch_devices

DTYPES = [np.float64, np.float32]



def _data(shape, pshape, dtype=np.float64, seed=0, scale=2.0, offset=1.5):
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, scale, size=shape).astype(dtype)
    w, b = (rng.normal(size=pshape).astype(dtype) for _ in range(2))
    return x, w, b, rng.normal(size=shape).astype(dtype)


def _torch_grads(fn, x, w, b, dy, device):
    """Run ``fn(xt, wt, bt)`` in torch and return (y, dx, dw, db); w/b may be None."""
    xt = to_torch(x, device, requires_grad=True)
    wt, bt = (None if v is None else to_torch(v, device, requires_grad=True) for v in (w, b))
    yt = fn(xt, wt, bt)
    yt.backward(to_torch(dy, device))
    return yt, xt.grad, None if wt is None else wt.grad, None if bt is None else bt.grad


def _check_all(ours_fwd, ours_bwd, torch_fn, x, w, b, dy, device, dtype):
    y, cache = ours_fwd(x, w, b)
    dx, dw, db = ours_bwd(dy, cache)
    yt, dxt, dwt, dbt = _torch_grads(torch_fn, x, w, b, dy, device)
    assert_parity(y, yt, dtype)
    assert_parity(dx, dxt, dtype)
    if w is not None:
        assert_parity(dw, dwt, dtype)
        assert_parity(db, dbt, dtype)


# ----------------------------------------------------------------------------- parity with torch
@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 7), (3, 4, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(device, dtype, shape, affine):
    x, w, b, dy = _data(shape, shape[1:], dtype)
    w, b = (w, b) if affine else (None, None)
    _check_all(
        lambda x, w, b: c.layer_norm_forward(x, w, b, eps=1e-5),
        c.layer_norm_backward,
        lambda x, w, b: F.layer_norm(x, x.shape[1:], w, b, eps=1e-5),
        x, w, b, dy, device, dtype,
    )


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, groups", [((5, 6), 2), ((4, 6, 5), 1), ((4, 6, 5), 2), ((4, 6, 5), 6), ((2, 8, 3, 4), 4), ((2, 4, 2, 3, 2), 2)]
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(device, dtype, shape, groups, affine):
    x, w, b, dy = _data(shape, shape[1], dtype, seed=1)
    w, b = (w, b) if affine else (None, None)
    _check_all(
        lambda x, w, b: c.group_norm_forward(x, groups, w, b, eps=1e-5),
        c.group_norm_backward,
        lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-5),
        x, w, b, dy, device, dtype,
    )


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4, 7), (2, 3, 4, 5), (2, 2, 3, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_matches_torch(device, dtype, shape, affine):
    x, w, b, dy = _data(shape, shape[1], dtype, seed=2)
    w, b = (w, b) if affine else (None, None)
    _check_all(
        lambda x, w, b: c.instance_norm_forward(x, w, b, eps=1e-5),
        c.instance_norm_backward,
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-5),
        x, w, b, dy, device, dtype,
    )


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm_matches_the_torch_layer(device, dtype):
    shape = (3, 4, 5, 6)
    x, w, b, dy = _data(shape, shape[1], dtype, seed=3)
    layer = torch.nn.InstanceNorm2d(4, affine=True).to(device=device, dtype=getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        layer.weight.copy_(to_torch(w, device))
        layer.bias.copy_(to_torch(b, device))
    xt = to_torch(x, device, requires_grad=True)
    yt = layer(xt)
    yt.backward(to_torch(dy, device))
    y, cache = c.instance_norm_forward(x, w, b)
    dx, dw, db = c.instance_norm_backward(dy, cache)
    for ours, theirs in ((y, yt), (dx, xt.grad), (dw, layer.weight.grad), (db, layer.bias.grad)):
        assert_parity(ours, theirs, dtype)


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


# ----------------------------------------------------------------------------- numeric gradients
def _gradcheck(forward, backward, x, w, b, dy):
    _, cache = forward(x, w, b)
    dx, dw, db = backward(dy, cache)
    for i, analytic in enumerate((dx, dw, db)):
        args = [x, w, b]

        def f(v, i=i):
            a = list(args)
            a[i] = v
            return forward(*a)[0]

        numeric = c.numerical_gradient(f, args[i].copy(), dy, h=1e-3, order=4)
        assert c.rel_error(numeric, analytic) < 1e-8, (i, c.rel_error(numeric, analytic))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2)])
def test_layer_norm_numeric_gradient(seed, shape):
    x, w, b, dy = _data(shape, shape[1:], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(c.layer_norm_forward, c.layer_norm_backward, x, w, b, dy)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape, groups", [((3, 6), 2), ((2, 4, 3), 2), ((2, 4, 3), 1), ((2, 2, 2, 2), 1)])
def test_group_norm_numeric_gradient(seed, shape, groups):
    x, w, b, dy = _data(shape, shape[1], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(lambda x, w, b: c.group_norm_forward(x, groups, w, b), c.group_norm_backward, x, w, b, dy)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 2, 3)])
def test_instance_norm_numeric_gradient(seed, shape):
    x, w, b, dy = _data(shape, shape[1], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(c.instance_norm_forward, c.instance_norm_backward, x, w, b, dy)


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


# ----------------------------------------------------------------------------- invariants
def _norm_axes_and_reshape(kind, shape):
    """(forward(x, eps), how to view xhat/dx as (groups, values per group))."""
    n = shape[0]
    if kind == "layer":
        return (lambda x, eps: c.layer_norm_forward(x, None, None, eps)), lambda a: a.reshape(n, -1), c.layer_norm_backward
    if kind == "instance":
        return (lambda x, eps: c.instance_norm_forward(x, None, None, eps)), lambda a: a.reshape(n * shape[1], -1), c.instance_norm_backward
    g = 2 if shape[1] % 2 == 0 else 1
    return (lambda x, eps: c.group_norm_forward(x, g, None, None, eps)), lambda a: a.reshape(n * g, -1), c.group_norm_backward


shapes3 = st.tuples(st.integers(1, 4), st.sampled_from([1, 2, 4]), st.integers(3, 5), st.integers(1, 3))


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["layer", "group", "instance"]), shape=shapes3, seed=st.integers(0, 2**32 - 1),
       scale=st.floats(1e-2, 1e3), offset=st.floats(-1e3, 1e3))
def test_each_group_has_mean_zero_variance_one_and_dx_sums_to_zero(kind, shape, seed, scale, offset):
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, scale, size=shape)
    dy = rng.normal(size=shape)
    fwd, groups, bwd = _norm_axes_and_reshape(kind, shape)
    y, cache = fwd(x, 0.0)
    yg = groups(y)
    std = groups(x).std(axis=1)
    # rounding of x limits the accuracy to about ulp(max|x|) / std
    tol = 1e-14 * (1.0 + np.abs(x).max() / std.min())
    np.testing.assert_allclose(yg.mean(axis=1), 0.0, atol=tol)
    np.testing.assert_allclose(yg.var(axis=1), 1.0, rtol=tol)
    dx, dw, db = bwd(dy, cache)
    dxg = groups(dx)
    size = np.abs(groups(dy)).sum(axis=1) / std * (1.0 + np.abs(x).max() / std.min())
    assert np.all(np.abs(dxg.sum(axis=1)) <= 1e-12 * size)
    assert np.all(np.abs((dxg * yg).sum(axis=1)) <= 1e-11 * size)


def test_eps_shrinks_the_variance_by_the_expected_factor():
    x = np.random.default_rng(5).normal(0.0, 0.01, size=(3, 20))
    eps = 1e-4
    y, _ = c.layer_norm_forward(x, None, None, eps=eps)
    var = x.var(axis=1)
    np.testing.assert_allclose(y.var(axis=1), var / (var + eps), rtol=1e-12)


def test_group_norm_extremes_are_instance_and_layer_norm():
    x, w, b, dy = _data((3, 4, 5), 4, seed=6)
    y_g, cache_g = c.group_norm_forward(x, 4, w, b)
    y_i, cache_i = c.instance_norm_forward(x, w, b)
    np.testing.assert_allclose(y_g, y_i, rtol=1e-13, atol=1e-13)
    for a, b_ in zip(c.group_norm_backward(dy, cache_g), c.instance_norm_backward(dy, cache_i)):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-13)
    y_1, cache_1 = c.group_norm_forward(x, 1, None, None)
    y_l, cache_l = c.layer_norm_forward(x, None, None)
    np.testing.assert_allclose(y_1, y_l, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(c.group_norm_backward(dy, cache_1)[0], c.layer_norm_backward(dy, cache_l)[0],
                               rtol=1e-12, atol=1e-13)


def test_layer_norm_statistics_do_not_mix_samples():
    """A sample's output does not depend on the other samples (unlike batch norm)."""
    x, w, b, _ = _data((5, 3, 4), (3, 4), seed=7)
    y_all, _ = c.layer_norm_forward(x, w, b)
    y_one, _ = c.layer_norm_forward(x[2:3], w, b)
    np.testing.assert_array_equal(y_all[2:3], y_one)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_dtype_is_preserved(dtype):
    x, w, b, dy = _data((2, 4, 3), 4, dtype, seed=8)
    for y, cache, bwd in (
        (*c.layer_norm_forward(x, None, None), c.layer_norm_backward),
        (*c.group_norm_forward(x, 2, w, b), c.group_norm_backward),
        (*c.instance_norm_forward(x, w, b), c.instance_norm_backward),
    ):
        dx, dw, db = bwd(dy, cache)
        assert y.dtype == dx.dtype == dtype
    y, cache = c.batch_renorm_forward(x, w, b, np.zeros(4, dtype), np.ones(4, dtype))
    assert y.dtype == c.batch_renorm_backward(dy, cache)[0].dtype == dtype


def test_outputs_do_not_alias_the_cache():
    x = np.random.default_rng(9).normal(size=(3, 5))
    y, cache = c.layer_norm_forward(x, None, None)
    y[:] = 0.0
    assert np.any(cache[0] != 0)


# ----------------------------------------------------------------------------- batch renormalization
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


# ----------------------------------------------------------------------------- bad input
def _raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


X3 = np.random.default_rng(0).normal(size=(2, 6, 4))
W6 = np.ones(6)


def test_group_norm_num_groups_must_divide_channels():
    _raises(ValueError, "num_groups=4 must divide the number of channels C=6", c.group_norm_forward, X3, 4, W6, W6)
    _raises(ValueError, "num_groups must be >= 1", c.group_norm_forward, X3, 0, W6, W6)
    _raises(TypeError, "num_groups must be an integer", c.group_norm_forward, X3, 2.0, W6, W6)


def test_parameter_shapes():
    _raises(ValueError, "weight must have shape (6, 4)", c.layer_norm_forward, X3, W6, None)
    _raises(ValueError, "bias must have shape (6, 4)", c.layer_norm_forward, X3, None, np.zeros(24))
    _raises(ValueError, "weight must have shape (6,)", c.group_norm_forward, X3, 2, np.ones(3), None)
    _raises(ValueError, "bias must have shape (6,)", c.instance_norm_forward, X3, None, np.ones((6, 1)))
    _raises(ValueError, "running_std must have shape (6,)", c.batch_renorm_forward, X3, None, None, np.zeros(6),
            np.ones(5))


def test_too_few_dimensions_and_positions():
    _raises(ValueError, "x must have at least 2 dimensions", c.layer_norm_forward, np.ones(3), None, None)
    _raises(ValueError, "x must have at least 2 dimensions", c.group_norm_forward, np.ones(3), 1, None, None)
    _raises(ValueError, "x must have at least 3 dimensions", c.instance_norm_forward, np.ones((4, 3)))
    _raises(ValueError, "more than 1 spatial position", c.instance_norm_forward, np.ones((4, 3, 1)))
    _raises(ValueError, "more than 1 value per channel", c.batch_renorm_forward, np.ones((1, 3)), None, None,
            np.zeros(3), np.ones(3))
    _raises(ValueError, "more than 1 value per channel", c.BatchRenorm(3), np.ones((1, 3)))
    _raises(ValueError, "x must not be empty", c.layer_norm_forward, np.ones((0, 3)), None, None)


@pytest.mark.parametrize("bad", [np.ones((2, 6, 4), dtype=int), np.ones((2, 6, 4), dtype=bool)])
def test_integer_and_bool_input(bad):
    _raises(TypeError, "floating dtype", c.layer_norm_forward, bad, None, None)
    _raises(TypeError, "floating dtype", c.group_norm_forward, bad, 2, None, None)
    _raises(TypeError, "floating dtype", c.instance_norm_forward, bad)
    _raises(TypeError, "floating dtype", c.BatchRenorm(6), bad)
    _raises(TypeError, "weight must have a floating dtype", c.group_norm_forward, X3, 2, np.ones(6, int), None)


def test_non_array_and_torch_input():
    _raises(TypeError, "x must be a numpy.ndarray", c.layer_norm_forward, [[1.0, 2.0]], None, None)
    _raises(TypeError, ".numpy()", c.group_norm_forward, torch.zeros(2, 6, 4), 2, None, None)


def test_eps_and_renorm_limits():
    _raises(ValueError, "eps must be a finite number >= 0", c.layer_norm_forward, X3, None, None, eps=-1.0)
    _raises(ValueError, "eps must be a finite number >= 0", c.group_norm_forward, X3, 3, None, None, eps=np.nan)
    _raises(ValueError, "r_max must be >= 1", c.BatchRenorm, 3, r_max=0.5)
    _raises(ValueError, "d_max must be >= 0", c.BatchRenorm, 3, d_max=-1.0)
    _raises(ValueError, "r_max must be >= 1", c.batch_renorm_forward, X3, None, None, np.zeros(6), np.ones(6),
            r_max=np.nan)
    _raises(TypeError, "d_max must be a real number", c.BatchRenorm, 3, d_max="5")
    _raises(ValueError, "running_std must be > 0", c.batch_renorm_forward, X3, None, None, np.zeros(6), np.zeros(6))
    _raises(TypeError, "running_mean and running_std must be numpy.ndarrays", c.batch_renorm_forward, X3, None,
            None, None, np.ones(6))
    layer = c.BatchRenorm(6)
    layer.r_max = 0.9  # changed between steps to an invalid value
    _raises(ValueError, "r_max must be >= 1", layer, X3)
    _raises(ValueError, "momentum must be in [0, 1]", c.BatchRenorm, 3, momentum=2.0)


def test_dy_shape_and_call_order():
    _, cache = c.layer_norm_forward(X3, None, None)
    _raises(ValueError, "dy must have the shape of the forward input (2, 6, 4)", c.layer_norm_backward,
            np.ones((2, 6)), cache)
    _, cache = c.group_norm_forward(X3, 3, None, None)
    _raises(ValueError, "dy must have the shape of the forward input (2, 6, 4)", c.group_norm_backward,
            np.ones((2, 3, 8)), cache)
    _, cache = c.instance_norm_forward(X3)
    _raises(TypeError, "dy must have a floating dtype", c.instance_norm_backward, np.ones(X3.shape, int), cache)
    _raises(c.CallOrderError, "backward() called before forward()", c.BatchRenorm(6).backward, X3)
    layer = c.BatchRenorm(6)
    layer(X3)
    _raises(ValueError, "dy must have the shape of the forward input", layer.backward, np.ones((2, 6, 3)))
    _raises(ValueError, "x has 6 channels on axis 1", c.BatchRenorm(4), X3)
