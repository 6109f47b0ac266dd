"""companion.layernorm: parity with PyTorch, numeric gradients, statistics per sample."""
import numpy as np
import pytest
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import torch_devices

from _norm_helpers import DTYPES, _check_all, _data, _gradcheck


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


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2)])
def test_layer_norm_numeric_gradient(seed, shape):
    x, w, b, dy = _data(shape, shape[1:], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(c.layer_norm_forward, c.layer_norm_backward, x, w, b, dy)


def test_layer_norm_statistics_do_not_mix_samples():
    """A sample's output does not depend on the other samples (unlike batch norm)."""
    x, w, b, _ = _data((5, 3, 4), (3, 4), seed=7)
    y_all, _ = c.layer_norm_forward(x, w, b)
    y_one, _ = c.layer_norm_forward(x[2:3], w, b)
    np.testing.assert_array_equal(y_all[2:3], y_one)
