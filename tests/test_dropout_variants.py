"""Alpha dropout, spatial and locked dropout, DropConnect: masks, scaling, statistics, gradients, torch parity.

torch's random numbers differ from NumPy's, so parity tests read torch's mask back from its output
and check that our arithmetic, given that mask, reproduces torch's output and gradient.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.alpha_dropout import SELU_ALPHA, SELU_SCALE, alpha_dropout_constants
from companion.tools.oracle import assert_parity, to_numpy, to_torch, torch_devices

DTYPES = [np.float64, np.float32]



def _raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


def _five_sigma_keep_count(kept, n, p):
    q = 1 - p
    assert abs(kept - n * q) < 5 * np.sqrt(n * q * (1 - q)), (kept, n, p)


# ============================================================================ alpha dropout
def test_alpha_prime_is_selu_negative_saturation_in_torch():
    """alpha' = -scale * alpha is the value SELU tends to as x -> -inf (read from torch's SELU)."""
    saturation = F.selu(torch.tensor(-1e3, dtype=torch.float64)).item()
    assert alpha_dropout_constants(0.3)[2] == saturation == -SELU_SCALE * SELU_ALPHA


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_matches_torch_given_its_mask(device, dtype, p):
    torch.manual_seed(0)
    x = np.random.default_rng(3).normal(size=(64, 48)).astype(dtype)
    dy = np.random.default_rng(4).normal(size=x.shape).astype(dtype)
    xt = to_torch(x, device, requires_grad=True)
    yt = F.alpha_dropout(xt, p=p, training=True)
    yt.backward(to_torch(dy, device))
    y_torch = to_numpy(yt)
    # every dropped entry gets the same value; kept ones are a*x + b, all distinct
    values, counts = np.unique(y_torch, return_counts=True)
    dropped_value = values[counts.argmax()]
    mask = y_torch != dropped_value
    assert counts.max() == (~mask).sum() > 1 and np.sort(counts)[-2] == 1
    a, b, alpha_prime = alpha_dropout_constants(p)
    m = mask.astype(dtype)
    ours = x * (m * a) + ((m - 1) * (-alpha_prime * a) + b)  # the forward's arithmetic with torch's mask
    if dtype == np.float64:
        # float64 precision: a few units in the last place
        assert np.max(np.abs(ours - y_torch)) <= 4 * np.finfo(dtype).eps * np.abs(y_torch).max()
        assert abs(a * alpha_prime + b - dropped_value) <= 4 * np.finfo(dtype).eps
    assert_parity(ours, yt, dtype)
    assert_parity(c.alpha_dropout_backward(dy, mask, p), xt.grad, dtype)
    # our own forward with our own mask follows the same formula
    y, our_mask = c.alpha_dropout_forward(x, p, rng=0)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y[our_mask], (a * x + b)[our_mask], rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(y[~our_mask], a * alpha_prime + b, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.8])
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_alpha_dropout_keeps_mean_zero_and_variance_one(p, distribution):
    """Any input with mean 0 and variance 1 (normal, or uniform on [-sqrt 3, sqrt 3]) keeps them."""
    n = 400_000
    g = np.random.default_rng(11)
    x = g.normal(size=n) if distribution == "normal" else g.uniform(-np.sqrt(3), np.sqrt(3), size=n)
    y, mask = c.alpha_dropout_forward(x, p, rng=12)
    _five_sigma_keep_count(mask.sum(), n, p)
    mean, var = y.mean(), y.var()
    se_mean = np.sqrt(var / n)
    se_var = np.sqrt((np.mean((y - mean) ** 4) - var**2) / n)  # standard error of a sample variance
    assert abs(mean) < 5 * se_mean, (mean, se_mean)
    assert abs(var - 1.0) < 5 * se_var, (var, se_var)


def test_plain_dropout_would_not_keep_the_variance():
    """The contrast that motivates alpha dropout: inverted dropout inflates the variance to 1 / (1 - p)."""
    x = np.random.default_rng(13).normal(size=200_000)
    y, _ = c.dropout_forward(x, 0.5, rng=14)
    assert y.var() > 1.9


def test_alpha_dropout_identity_zeros_seed_and_gradient():
    x = np.random.default_rng(15).normal(size=(20, 30))
    for y, mask in (c.alpha_dropout_forward(x, 0.0, rng=1), c.alpha_dropout_forward(x, 0.7, training=False)):
        np.testing.assert_array_equal(y, x)
        assert mask.all() and y is not x
    np.testing.assert_array_equal(c.alpha_dropout_backward(x, np.ones(x.shape, bool), 0.0), x)
    y, mask = c.alpha_dropout_forward(x, 1.0, rng=1)
    assert np.all(y == 0) and not mask.any()
    dx = c.alpha_dropout_backward(np.ones_like(x), mask, 1.0)
    assert np.all(dx == 0) and np.all(np.isfinite(dx))
    np.testing.assert_array_equal(c.alpha_dropout_forward(x, 0.4, rng=7)[1], c.alpha_dropout_forward(x, 0.4, rng=7)[1])
    g = np.random.default_rng(7)
    m1, m2 = c.alpha_dropout_forward(x, 0.4, rng=g)[1], c.alpha_dropout_forward(x, 0.4, rng=g)[1]
    assert (m1 != m2).any()
    dy = np.random.default_rng(16).normal(size=x.shape)
    _, mask = c.alpha_dropout_forward(x, 0.4, rng=5)
    numeric = c.numerical_gradient(lambda v: c.alpha_dropout_forward(v, 0.4, rng=5)[0], x.copy(), dy, h=1e-3, order=4)
    assert c.rel_error(numeric, c.alpha_dropout_backward(dy, mask, 0.4)) < 1e-8


def test_alpha_dropout_constants_limit_and_errors():
    a, b, alpha_prime = alpha_dropout_constants(0.0)
    assert a == 1.0 and b == 0.0
    # the dropped value a * alpha' + b tends to 0 as p -> 1, which is why p == 1 outputs zeros
    a, b, alpha_prime = alpha_dropout_constants(1 - 1e-12)
    assert abs(a * alpha_prime + b) < 1e-5
    _raises(ValueError, "p must be < 1", alpha_dropout_constants, 1.0)


# ============================================================================ spatial dropout
TORCH_SPATIAL = {3: F.dropout1d, 4: F.dropout2d, 5: F.dropout3d}


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 6, 5), (6, 5, 3, 4), (6, 4, 2, 3, 2)])
@pytest.mark.parametrize("p", [0.25, 0.6])
def test_spatial_dropout_matches_torch_given_its_mask(device, dtype, shape, p):
    torch.manual_seed(1)
    x = np.random.default_rng(3).uniform(0.5, 2.0, size=shape).astype(dtype)  # no zeros: kept = (y != 0)
    dy = np.random.default_rng(4).normal(size=shape).astype(dtype)
    xt = to_torch(x, device, requires_grad=True)
    yt = TORCH_SPATIAL[len(shape)](xt, p=p, training=True)
    yt.backward(to_torch(dy, device))
    spatial = tuple(range(2, len(shape)))
    kept = to_numpy(yt) != 0
    assert np.all(kept.all(axis=spatial) | ~kept.any(axis=spatial))  # torch drops whole channels
    mask = kept.all(axis=spatial, keepdims=True)
    assert 0 < mask.sum() < mask.size
    assert_parity(x * (mask * (1.0 / (1.0 - p))).astype(dtype), yt, dtype)
    assert_parity(c.spatial_dropout_backward(dy, mask, p), xt.grad, dtype)


def test_spatial_dropout_drops_whole_channels_and_rescales():
    x = np.random.default_rng(0).normal(size=(10, 8, 4, 5))
    y, mask = c.spatial_dropout_forward(x, 0.3, rng=2)
    assert mask.shape == (10, 8, 1, 1) and mask.dtype == bool
    np.testing.assert_allclose(y, x * mask / 0.7, rtol=1e-15)
    dropped = ~mask[:, :, 0, 0]
    assert dropped.any() and not dropped.all()
    assert np.all(y[dropped] == 0) and np.all(y[~dropped] != 0)
    dy = np.random.default_rng(1).normal(size=x.shape)
    np.testing.assert_allclose(c.spatial_dropout_backward(dy, mask, 0.3), dy * mask / 0.7, rtol=1e-15)
    numeric = c.numerical_gradient(lambda v: c.spatial_dropout_forward(v, 0.3, rng=2)[0], x[:2, :3].copy(),
                                   dy[:2, :3], h=1e-3, order=4)
    _, small_mask = c.spatial_dropout_forward(x[:2, :3], 0.3, rng=2)
    assert c.rel_error(numeric, c.spatial_dropout_backward(dy[:2, :3], small_mask, 0.3)) < 1e-8


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_spatial_dropout_keep_fraction(p):
    _, mask = c.spatial_dropout_forward(np.ones((500, 200, 2)), p, rng=3)
    _five_sigma_keep_count(mask.sum(), mask.size, p)


# ============================================================================ locked dropout
def test_locked_dropout_shares_one_mask_across_time():
    T, N, D = 7, 4, 6
    x = np.random.default_rng(0).normal(size=(T, N, D))
    y, mask = c.locked_dropout_forward(x, 0.4, rng=5)
    assert mask.shape == (1, N, D)
    np.testing.assert_allclose(y, x * mask / 0.6, rtol=1e-15)
    zero = y == 0
    assert np.all(zero == zero[:1])  # the same entries are dropped at every time step
    assert zero.any() and not zero.all()
    yb, mask_b = c.locked_dropout_forward(x.transpose(1, 0, 2), 0.4, rng=5, batch_first=True)
    assert mask_b.shape == (N, 1, D)
    np.testing.assert_array_equal(mask_b[:, 0], mask[0])  # same seed: same decisions in either layout
    np.testing.assert_array_equal(yb, y.transpose(1, 0, 2))
    dy = np.random.default_rng(1).normal(size=x.shape)
    np.testing.assert_allclose(c.locked_dropout_backward(dy, mask, 0.4), dy * mask / 0.6, rtol=1e-15)
    np.testing.assert_array_equal(c.locked_dropout_backward(dy.transpose(1, 0, 2), mask_b, 0.4, batch_first=True),
                                  c.locked_dropout_backward(dy, mask, 0.4).transpose(1, 0, 2))
    numeric = c.numerical_gradient(lambda v: c.locked_dropout_forward(v, 0.4, rng=5)[0], x.copy(), dy, h=1e-3,
                                   order=4)
    assert c.rel_error(numeric, c.locked_dropout_backward(dy, mask, 0.4)) < 1e-8


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
def test_locked_dropout_is_dropout1d_over_time(device, dtype):
    """(T, N, D) viewed as (N, D, T) puts time on the spatial axis: torch's Dropout1d is the oracle."""
    torch.manual_seed(2)
    T, N, D, p = 9, 6, 8, 0.5
    x = np.random.default_rng(3).uniform(0.5, 2.0, size=(T, N, D)).astype(dtype)
    dy = np.random.default_rng(4).normal(size=x.shape).astype(dtype)
    xt = to_torch(x, device, requires_grad=True)
    yt = F.dropout1d(xt.permute(1, 2, 0), p=p, training=True).permute(2, 0, 1)
    yt.backward(to_torch(dy, device))
    mask = (to_numpy(yt) != 0)[:1]
    assert np.all((to_numpy(yt) != 0) == mask)
    assert_parity(x * (mask * (1.0 / (1.0 - p))).astype(dtype), yt, dtype)
    assert_parity(c.locked_dropout_backward(dy, mask, p), xt.grad, dtype)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_locked_dropout_keep_fraction(p):
    _, mask = c.locked_dropout_forward(np.ones((3, 400, 250)), p, rng=4)
    _five_sigma_keep_count(mask.sum(), mask.size, p)


@pytest.mark.parametrize(
    "forward, backward, x, kw",
    [
        (c.spatial_dropout_forward, c.spatial_dropout_backward, np.ones((3, 4, 5)), {}),
        (c.locked_dropout_forward, c.locked_dropout_backward, np.ones((3, 4, 5)), {}),
    ],
    ids=["spatial", "locked"],
)
def test_structured_identity_zeros_and_seeding(forward, backward, x, kw):
    x = x * np.random.default_rng(0).normal(size=x.shape)
    for y, mask in (forward(x, 0.0, rng=1), forward(x, 0.9, training=False)):
        np.testing.assert_array_equal(y, x)
        assert mask.all() and y is not x
    y, mask = forward(x, 1.0, rng=1)
    assert np.all(y == 0) and not mask.any()
    dx = backward(np.ones_like(x), mask, 1.0)
    assert np.all(dx == 0) and np.all(np.isfinite(dx))
    np.testing.assert_array_equal(forward(x, 0.5, rng=9)[1], forward(x, 0.5, rng=9)[1])
    g = np.random.default_rng(9)
    assert (forward(np.ones((8, 8, 8)), 0.5, rng=g)[1] != forward(np.ones((8, 8, 8)), 0.5, rng=g)[1]).any()
    assert forward(x.astype(np.float32), 0.5, rng=1)[0].dtype == np.float32


# ============================================================================ DropConnect
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


# ============================================================================ bad input
X = np.random.default_rng(0).normal(size=(3, 4, 5))


@pytest.mark.parametrize(
    "fn",
    [c.alpha_dropout_forward, c.spatial_dropout_forward, c.locked_dropout_forward],
    ids=["alpha", "spatial", "locked"],
)
def test_dropout_variant_input_checks(fn):
    _raises(ValueError, "p must be in [0, 1]", fn, X, 1.5)
    _raises(ValueError, "p must be in [0, 1]", fn, X, -0.1)
    _raises(TypeError, "p must be a real number", fn, X, "0.5")
    _raises(TypeError, "floating dtype", fn, np.ones((3, 4, 5), int), 0.5)
    _raises(TypeError, "x must be a numpy.ndarray", fn, [[[1.0]]], 0.5)
    _raises(TypeError, ".numpy()", fn, torch.zeros(3, 4, 5), 0.5)
    _raises(TypeError, "rng must be None, an int seed or a numpy.random.Generator", fn, X, 0.5, True, "seed")


def test_dropout_variant_shape_and_mask_checks():
    _raises(ValueError, "x must have at least 3 dimensions", c.spatial_dropout_forward, np.ones((4, 3)), 0.5)
    _raises(ValueError, "x must be a sequence batch of shape (T, N, D)", c.locked_dropout_forward,
            np.ones((2, 3, 4, 5)), 0.5)
    _raises(TypeError, "batch_first must be True or False", c.locked_dropout_forward, X, 0.5, True, 0, "yes")
    _, mask = c.spatial_dropout_forward(X, 0.5, rng=0)
    _raises(ValueError, "mask must have shape (3, 4, 1) for dy of shape (3, 4, 6)", c.spatial_dropout_backward,
            np.ones((3, 4, 6)), np.ones((3, 5, 1), bool), 0.5)
    _raises(TypeError, "mask must be the boolean keep-mask", c.spatial_dropout_backward, X, mask.astype(float), 0.5)
    _, mask = c.locked_dropout_forward(X, 0.5, rng=0)
    _raises(ValueError, "mask must have shape (3, 1, 5)", c.locked_dropout_backward, X, mask, 0.5, batch_first=True)
    _raises(ValueError, "p must be in [0, 1]", c.locked_dropout_backward, X, mask, 2.0)
    _, mask = c.alpha_dropout_forward(X, 0.5, rng=0)
    _raises(ValueError, "mask must have the shape of dy (1, 4, 5), got (3, 4, 5)", c.alpha_dropout_backward, X[:1], mask, 0.5)
    _raises(TypeError, "mask must be the boolean keep-mask", c.alpha_dropout_backward, X, mask.astype(int), 0.5)
    _raises(TypeError, "dy must have a floating dtype", c.alpha_dropout_backward, X.astype(int), mask, 0.5)


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
