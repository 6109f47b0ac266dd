"""companion.instancenorm: parity with PyTorch (functional and layer) and numeric gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_torch, torch_devices

from _norm_helpers import DTYPES, _check_all, _data, _gradcheck


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


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 2, 3)])
def test_instance_norm_numeric_gradient(seed, shape):
    x, w, b, dy = _data(shape, shape[1], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(c.instance_norm_forward, c.instance_norm_backward, x, w, b, dy)
