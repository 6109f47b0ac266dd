"""companion.alpha_dropout: SELU constants, parity with torch given its mask, mean and variance kept."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.alpha_dropout import SELU_ALPHA, SELU_SCALE, alpha_dropout_constants
from companion.tools.oracle import assert_parity, to_numpy, to_torch, torch_devices

from _dropout_helpers import DTYPES, MaskRng, _five_sigma_keep_count, _raises


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


# ---- PyTorch's own tests (test/nn/test_dropout.py), ported, and the AlphaDropout/FeatureAlphaDropout layers ----


def _check_alpha_dropout(cls, x):
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNN._test_alpha_dropout: mean and standard
    deviation of a standardized input are kept within 0.1 for p in 0.2, 0.5, 0.8."""
    for p in (0.2, 0.5, 0.8):
        layer = cls(p, rng=int(10 * p))
        out = layer(x)
        assert abs(out.mean() - x.mean()) < 0.1
        assert abs(out.std(ddof=1) - x.std(ddof=1)) < 0.1
        assert layer.backward(x).shape == x.shape


def test_AlphaDropout():
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNN.test_AlphaDropout."""
    _check_alpha_dropout(c.AlphaDropout, np.random.default_rng(0).standard_normal(5000))


def test_FeatureAlphaDropout():
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNN.test_FeatureAlphaDropout (random sizes
    drawn from a seeded generator; its second input is smaller here, (50, 20, 16, 16), to keep the suite fast)."""
    rng = np.random.default_rng(1)
    b, w, h = (int(v) for v in rng.integers(1, 6, size=3))
    d = int(rng.integers(1, 3))
    _check_alpha_dropout(c.FeatureAlphaDropout, rng.standard_normal((1000, b, d, w, h)))
    _check_alpha_dropout(c.FeatureAlphaDropout, rng.standard_normal((50, 20, 16, 16)))


@pytest.mark.parametrize("cls, fn, shape", [
    (c.AlphaDropout, F.alpha_dropout, (32, 24)),
    (c.FeatureAlphaDropout, F.feature_alpha_dropout, (16, 12, 5)),
    (c.FeatureAlphaDropout, F.feature_alpha_dropout, (8, 6, 3, 4)),
    (c.FeatureAlphaDropout, F.feature_alpha_dropout, (32, 24)),
])
@pytest.mark.parametrize("p", [0.2, 0.6])
def test_alpha_dropout_layers_match_torch_given_its_mask_in_float64(cls, fn, shape, p):
    """torch's RNG differs from NumPy's: read torch's keep-mask (dropped entries all take one value) and let the
    layer draw the same one; forward and backward then agree to 1e-10."""
    torch.manual_seed(1)
    rng = np.random.default_rng(5)
    x, dy = rng.normal(size=shape), rng.normal(size=shape)
    xt = torch.from_numpy(x).requires_grad_()
    yt = fn(xt, p=p, training=True)
    yt.backward(torch.from_numpy(dy))
    a, b, alpha_prime = alpha_dropout_constants(p)
    keep = ~np.isclose(yt.detach().numpy(), a * alpha_prime + b, rtol=0, atol=1e-12)
    mask_shape = shape if cls is c.AlphaDropout else shape[:2] + (1,) * (len(shape) - 2)
    keep = keep.reshape(mask_shape + (-1,))[..., 0] if len(shape) > 2 and cls is not c.AlphaDropout else keep
    layer = cls(p, rng=MaskRng(keep))
    assert_parity(layer(x), yt, np.float64)
    assert_parity(layer.backward(dy), xt.grad, np.float64)
    assert layer.mask.shape == mask_shape
    np.testing.assert_array_equal(layer.eval()(x), x)
    assert repr(layer) == repr(getattr(torch.nn, cls.__name__)(p))  # "Dropout1d(p=0.2, inplace=False)"


def test_feature_alpha_dropout_p_one_and_eval():
    x = np.random.default_rng(6).normal(size=(4, 3, 2))
    y, mask = c.feature_alpha_dropout_forward(x, 1.0, rng=0)
    np.testing.assert_array_equal(y, F.feature_alpha_dropout(torch.from_numpy(x), 1.0, True).numpy())
    assert mask.shape == (4, 3, 1) and not mask.any()
    np.testing.assert_array_equal(c.feature_alpha_dropout_backward(np.ones_like(x), mask, 1.0), 0.0)
    np.testing.assert_array_equal(c.feature_alpha_dropout_forward(x, 0.5, training=False)[0], x)
