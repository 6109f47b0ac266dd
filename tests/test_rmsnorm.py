"""companion.rmsnorm: parity with torch.nn.functional.rms_norm and torch.nn.RMSNorm, numeric gradients,
invariance to scaling (not to shifting)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_numpy, to_torch, torch_devices

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, nshape", [((4, 7), (7,)), ((2, 5, 8), (8,)), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_matches_torch(device, dtype, shape, nshape, affine, eps):
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 2.0, size=shape).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    w = rng.normal(size=nshape).astype(dtype) if affine else None
    y, cache = c.rms_norm_forward(x, nshape, w, eps)
    dx, dw = c.rms_norm_backward(dy, cache)
    xt = to_torch(x, device, requires_grad=True)
    wt = None if w is None else to_torch(w, device, requires_grad=True)
    yt = F.rms_norm(xt, nshape, wt, eps)
    yt.backward(to_torch(dy, device))
    assert_parity(y, yt, dtype)
    assert_parity(dx, xt.grad, dtype)
    if affine:
        assert_parity(dw, wt.grad, dtype)


def test_rms_norm_layer_matches_torch_module():
    rng = np.random.default_rng(1)
    x, dy = rng.normal(size=(3, 4, 6)), rng.normal(size=(3, 4, 6))
    ours = c.RMSNorm(6, eps=1e-5)
    ours.weight = rng.normal(size=6)
    theirs = torch.nn.RMSNorm(6, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight))
    xt = to_torch(x, "cpu", requires_grad=True)
    yt = theirs(xt)
    yt.backward(to_torch(dy, "cpu"))
    assert_parity(ours(x), yt, np.float64)
    assert_parity(ours.backward(dy), xt.grad, np.float64)
    assert_parity(ours.dweight, theirs.weight.grad, np.float64)
    assert repr(ours) == "RMSNorm((6,), eps=1e-05, elementwise_affine=True)"
    plain = c.RMSNorm((4, 6), elementwise_affine=False)
    plain(x)
    plain.backward(dy)
    assert plain.weight is None and plain.dweight is None
    np.testing.assert_allclose(plain(x), to_numpy(F.rms_norm(torch.from_numpy(x), (4, 6))), rtol=0, atol=1e-12)


def test_rms_norm_numeric_gradient():
    rng = np.random.default_rng(2)
    x, dy, w = rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), rng.normal(size=5)
    _, cache = c.rms_norm_forward(x, 5, w, 1e-5)
    dx, dw = c.rms_norm_backward(dy, cache)
    nx = c.numerical_gradient(lambda v: c.rms_norm_forward(v, 5, w, 1e-5)[0], x.copy(), dy, h=1e-3, order=4)
    nw = c.numerical_gradient(lambda v: c.rms_norm_forward(x, 5, v, 1e-5)[0], w.copy(), dy, h=1e-3, order=4)
    assert c.rel_error(nx, dx) < 1e-8 and c.rel_error(nw, dw) < 1e-8


def test_rms_norm_is_scale_invariant_but_not_shift_invariant():
    x = np.random.default_rng(3).normal(size=(4, 8))
    y = c.rms_norm_forward(x, 8, eps=0.0)[0]
    np.testing.assert_allclose(c.rms_norm_forward(7.5 * x, 8, eps=0.0)[0], y, rtol=1e-13)
    assert np.abs(c.rms_norm_forward(x + 3.0, 8, eps=0.0)[0] - y).max() > 0.1


def test_rms_norm_checks():
    with pytest.raises(ValueError, match="does not end with normalized_shape"):
        c.rms_norm_forward(np.ones((3, 4)), 5)
    with pytest.raises(ValueError, match="normalized_shape"):
        c.rms_norm_forward(np.ones((3, 4)), ())
    with pytest.raises(ValueError, match="weight"):
        c.rms_norm_forward(np.ones((3, 4)), 4, np.ones(3))
