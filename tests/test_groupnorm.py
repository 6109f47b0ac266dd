"""companion.groupnorm: parity with PyTorch, numeric gradients, its extremes (instance and layer norm)."""
import numpy as np
import pytest
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import torch_devices

from _norm_helpers import DTYPES, W6, X3, _check_all, _data, _gradcheck, _raises


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


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape, groups", [((3, 6), 2), ((2, 4, 3), 2), ((2, 4, 3), 1), ((2, 2, 2, 2), 1)])
def test_group_norm_numeric_gradient(seed, shape, groups):
    x, w, b, dy = _data(shape, shape[1], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(lambda x, w, b: c.group_norm_forward(x, groups, w, b), c.group_norm_backward, x, w, b, dy)


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


def test_group_norm_num_groups_must_divide_channels():
    _raises(ValueError, "num_groups=4 must divide the number of channels C=6", c.group_norm_forward, X3, 4, W6, W6)
    _raises(ValueError, "num_groups must be >= 1", c.group_norm_forward, X3, 0, W6, W6)
    _raises(TypeError, "num_groups must be an integer", c.group_norm_forward, X3, 2.0, W6, W6)
