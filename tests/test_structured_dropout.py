"""companion.structured_dropout: spatial and locked dropout (whole channels, one mask over time), and the
input checks the dropout variants share."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_numpy, to_torch, torch_devices

from _dropout_helpers import DTYPES, MaskRng, _five_sigma_keep_count, _raises

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


# ---- PyTorch's own tests (test/nn/test_dropout.py), ported, and the Dropout1d/2d/3d layers ----


def test_invalid_dropout_p():
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNN.test_invalid_dropout_p."""
    for cls in (c.Dropout, c.Dropout1d, c.Dropout2d, c.Dropout3d, c.AlphaDropout, c.FeatureAlphaDropout):
        for p in (-0.1, 1.1):
            with pytest.raises(ValueError, match="p must be in \\[0, 1\\]"):
                cls(p)
    for p in (-0.1, 1.1):
        with pytest.raises(ValueError):
            c.dropout_forward(np.ones(1), p)


def _check_dropout(cls, x):
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNNDeviceType._test_dropout: input filled with
    1 - p keeps its mean within 0.05, so does the gradient; eval mode is the identity."""
    p = 0.2
    x = np.full(x.shape, 1 - p)
    layer = cls(p, rng=0)
    out = layer(x)
    assert abs(out.mean() - (1 - p)) < 0.05
    assert abs(layer.backward(x).mean() - (1 - p)) < 0.05
    np.testing.assert_array_equal(cls(p).eval()(x), x)
    assert repr(layer) == repr(getattr(torch.nn, cls.__name__)(p))  # "Dropout1d(p=0.2, inplace=False)"


def _check_channel_zero(layer, x):
    """Port of TestDropoutNNDeviceType._test_dropoutNd_channel_zero: each channel is kept or dropped whole."""
    out = layer(x)
    per_channel = np.count_nonzero(out.reshape(x.shape[0], x.shape[1], -1), axis=2)
    assert set(np.unique(per_channel)) <= {0, int(np.prod(x.shape[2:]))}


def _check_no_batch(cls, x):
    """Port of TestDropoutNNDeviceType._test_dropoutNd_no_batch: an input without its batch axis is dropped as
    a batch of one (same random numbers, same result)."""
    np.testing.assert_array_equal(cls(0.5, rng=3)(x), cls(0.5, rng=3)(x[None])[0])


def test_Dropout1d():
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNNDeviceType.test_Dropout1d
    (torch raises RuntimeError for a wrong rank; the companion ValueError, with torch's message)."""
    rng = np.random.default_rng(0)
    n, ch, length = (int(v) for v in rng.integers(10, 16, size=3))
    _check_dropout(c.Dropout1d, np.empty((n, ch, length)))
    with pytest.raises(ValueError, match="Expected 2D or 3D input, but received a 4D input"):
        c.Dropout1d(p=0.5)(rng.random((1, 2, 2, 2)))
    with pytest.raises(ValueError, match="Expected 2D or 3D input, but received a 1D input"):
        c.Dropout1d(p=0.5)(rng.random((2, 1))[:, 0])
    _check_no_batch(c.Dropout1d, rng.random((50, 2)))
    _check_channel_zero(c.Dropout1d(p=0.5, rng=1), np.ones((10, 4, 2)))


def test_Dropout2d():
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNNDeviceType.test_Dropout2d (warnings for 5-D,
    2-D and 3-D inputs, whole channels dropped)."""
    rng = np.random.default_rng(1)
    b, w, h = (int(v) for v in rng.integers(1, 6, size=3))
    _check_dropout(c.Dropout2d, np.empty((1000, b, w, h)))
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        c.Dropout2d(p=0.5)(rng.random((1, 2, 2, 2, 2)))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        c.Dropout2d(p=0.5)(rng.random((1, 2)))
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout behavior is desired"):
        c.Dropout2d(p=0.5)(rng.random((1, 2, 2)))
    _check_channel_zero(c.Dropout2d(p=0.5, rng=2), np.ones((10, 4, 2, 2)))


def test_Dropout3d():
    """Port of pytorch/pytorch test/nn/test_dropout.py, TestDropoutNNDeviceType.test_Dropout3d."""
    rng = np.random.default_rng(2)
    b, w, h = (int(v) for v in rng.integers(1, 6, size=3))
    d = int(rng.integers(1, 3))
    _check_dropout(c.Dropout3d, np.empty((1000, b, d, w, h)))
    with pytest.warns(UserWarning, match="Received a 6-D input to dropout3d"):
        c.Dropout3d(p=0.5)(rng.random((1, 2, 2, 2, 2, 2)))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        c.Dropout3d(p=0.5)(rng.random((1, 2, 2)))
    _check_no_batch(c.Dropout3d, rng.random((50, 2, 2, 2)))
    _check_channel_zero(c.Dropout3d(p=0.5, rng=3), np.ones((10, 4, 2, 2, 2)))


@pytest.mark.parametrize("cls, torch_cls, shape", [
    (c.Dropout1d, torch.nn.Dropout1d, (16, 8, 5)),
    (c.Dropout1d, torch.nn.Dropout1d, (8, 5)),
    (c.Dropout2d, torch.nn.Dropout2d, (16, 8, 3, 4)),
    (c.Dropout3d, torch.nn.Dropout3d, (8, 6, 2, 3, 2)),
    (c.Dropout3d, torch.nn.Dropout3d, (6, 2, 3, 2)),
])
@pytest.mark.parametrize("p", [0.3, 0.7])
def test_channel_dropout_layers_match_torch_given_its_mask(cls, torch_cls, shape, p):
    """torch's RNG differs from NumPy's: read torch's per-channel keep-mask and let the layer draw the same one."""
    torch.manual_seed(0)
    rng = np.random.default_rng(4)
    x, dy = rng.uniform(0.5, 2.0, size=shape), rng.normal(size=shape)  # x has no zeros: kept = y != 0
    xt = torch.from_numpy(x).requires_grad_()
    yt = torch_cls(p)(xt)
    yt.backward(torch.from_numpy(dy))
    batched = len(shape) == {c.Dropout1d: 3, c.Dropout2d: 4, c.Dropout3d: 5}[cls]
    lead = 2 if batched else 1
    keep = (yt.detach().numpy() != 0).reshape(shape[:lead] + (-1,))[..., 0]
    layer = cls(p, rng=MaskRng(keep))
    assert_parity(layer(x), yt, np.float64)
    assert_parity(layer.backward(dy), xt.grad, np.float64)
    assert layer.mask.shape == shape[:lead] + (1,) * (len(shape) - lead)
    np.testing.assert_array_equal(layer.eval()(x), x)
