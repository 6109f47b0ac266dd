"""companion.droppath: against a reference written with torch ops (timm's drop_path, given the same uniform
draws), one decision per sample, keep fraction, identity in evaluation."""
import numpy as np
import pytest
import torch

import companion as c
from companion.tools.oracle import assert_parity, to_torch

from _dropout_helpers import _five_sigma_keep_count


def _torch_drop_path(x, u, p):
    """timm's drop_path with the random draws given: keep a sample where u >= p, scale by 1 / (1 - p)."""
    keep = 1.0 - p
    return x.div(keep) * (u >= p).to(x.dtype)


@pytest.mark.parametrize("shape", [(8, 5), (6, 3, 4), (5, 2, 3, 3)])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_drop_path_matches_torch_reference(shape, p):
    x = np.random.default_rng(0).normal(size=shape)
    dy = np.random.default_rng(1).normal(size=shape)
    y, mask = c.drop_path_forward(x, p, rng=7)
    u = np.random.default_rng(7).random((shape[0],) + (1,) * (len(shape) - 1))
    xt = to_torch(x, "cpu", requires_grad=True)
    yt = _torch_drop_path(xt, torch.from_numpy(u), p)
    yt.backward(to_torch(dy, "cpu"))
    assert_parity(y, yt, np.float64)
    assert_parity(c.drop_path_backward(dy, mask, p), xt.grad, np.float64)
    assert mask.shape == (shape[0],) + (1,) * (len(shape) - 1)
    zero = (y == 0).reshape(shape[0], -1)
    assert np.all(zero.all(axis=1) | ~zero.any(axis=1))  # whole samples are dropped


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_drop_path_keep_fraction(p):
    _, mask = c.drop_path_forward(np.ones((20000, 2)), p, rng=3)
    _five_sigma_keep_count(mask.sum(), mask.size, p)


def test_drop_path_identity_zeros_and_checks():
    x = np.random.default_rng(0).normal(size=(4, 3))
    for y, mask in (c.drop_path_forward(x, 0.0, rng=1), c.drop_path_forward(x, 0.7, training=False)):
        np.testing.assert_array_equal(y, x)
        assert mask.all()
    y, mask = c.drop_path_forward(x, 1.0, rng=1)
    assert not y.any() and not c.drop_path_backward(np.ones_like(x), mask, 1.0).any()
    with pytest.raises(ValueError, match="mask must have shape"):
        c.drop_path_backward(x, np.ones((4, 3), bool), 0.5)
    with pytest.raises(TypeError, match="boolean keep-mask"):
        c.drop_path_backward(x, np.ones((4, 1)), 0.5)
