"""companion.groupnorm: parity with PyTorch, numeric gradients, its extremes (instance and layer norm)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, torch_devices

from _norm_helpers import DTYPES, W6, X3, _assert_same_state, _check_all, _data, _gradcheck, _raises, _torch_state


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


# ---- PyTorch's own tests, ported (source named in each docstring) and the GroupNorm layer ----


def test_GroupNorm_raises_error_if_one_value_per_group():
    """Port of pytorch/pytorch test/test_nn.py, TestNNDeviceType.test_GroupNorm_raises_error_if_one_value_per_group
    (torch: ValueError)."""
    x = np.random.default_rng(0).random(10)[None, :, None]
    with pytest.raises(ValueError, match="more than 1 value per group"):
        c.GroupNorm(10, 10)(x)


def test_one_value_per_group_in_a_batch_gives_zeros_as_in_torch():
    """torch checks N * C // G * prod(S) (torch/nn/functional.py group_norm, _verify_batch_size), not the group:
    with N > 1 a group of one value normalizes to 0 in both, without an error."""
    x = np.random.default_rng(1).normal(size=(3, 4))
    y = c.GroupNorm(4, 4)(x)
    np.testing.assert_array_equal(y, 0.0)
    np.testing.assert_array_equal(y, F.group_norm(torch.from_numpy(x), 4).numpy())


@pytest.mark.parametrize("shape, g", [((1, 2, 3, 4), 2), ((2, 3, 10), 3), ((3, 1, 1, 1, 2), 1), ((2, 6, 4, 2, 2), 3),
                                      ((1, 256, 1, 1), 32)])
def test_GroupNorm_general(shape, g):
    """Port of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_GroupNorm_general (good shapes): with eps=0
    every group has mean 0 and variance 1; then the per-channel weight and bias are applied."""
    rng = np.random.default_rng(sum(shape) + g)
    x = rng.uniform(0, 10, size=shape)
    b, ch = shape[:2]
    gn = c.GroupNorm(g, ch, eps=0)
    out = gn(x).reshape(b, g, -1)
    np.testing.assert_allclose(np.abs(out.mean(-1)).mean(), 0, atol=1e-3)
    np.testing.assert_allclose(np.abs(out.var(-1)).mean(), 1, atol=1e-3, rtol=1e-3)
    gn.backward(rng.normal(size=shape))
    scale, bias = rng.uniform(0.2, 2, size=ch), rng.uniform(0.2, 2, size=ch)
    gn.weight, gn.bias = scale, bias
    out = gn(x).reshape(b, ch, -1)
    normed = ((out - bias.reshape(ch, 1)) / scale.reshape(ch, 1)).reshape(b, g, -1)
    np.testing.assert_allclose(np.abs(normed.mean(-1)).mean(), 0, atol=1e-3)
    np.testing.assert_allclose(np.abs(normed.var(-1)).mean(), 1, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("shape, g", [((1, 2, 3, 4), 3), ((2, 3, 10), 2), ((3, 1, 1, 1, 2), 10), ((2, 6, 4, 2, 2), 4)])
def test_GroupNorm_general_bad_shapes(shape, g):
    """Port of the bad shapes of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_GroupNorm_general:
    torch.nn.GroupNorm now refuses them at construction (ValueError), and so does the companion."""
    with pytest.raises(ValueError, match="must be divisible by num_groups"):
        torch.nn.GroupNorm(g, shape[1])
    with pytest.raises(ValueError, match=f"num_channels \\({shape[1]}\\) must be divisible by num_groups \\({g}\\)"):
        c.GroupNorm(g, shape[1])


@pytest.mark.parametrize("shape, g, affine", [((4, 6), 2, True), ((3, 6, 5), 3, False), ((2, 8, 3, 4), 4, True)])
def test_GroupNorm_layer_matches_torch_in_float64(shape, g, affine):
    rng = np.random.default_rng(7)
    ref = torch.nn.GroupNorm(g, shape[1], affine=affine).double()
    if affine:
        with torch.no_grad():
            ref.weight.normal_()
            ref.bias.normal_()
    ours = c.GroupNorm(g, shape[1], affine=affine)
    ours.load_state_dict(ref.state_dict())
    x, dy = rng.normal(2, 3, size=shape), rng.normal(size=shape)
    xt = torch.from_numpy(x).requires_grad_()
    yt = ref(xt)
    yt.backward(torch.from_numpy(dy))
    for layer in (ours, ours.eval()):  # no running statistics: both modes are the same function
        assert_parity(layer(x), yt, np.float64)
        assert_parity(layer.backward(dy), xt.grad, np.float64)
        if affine:
            assert_parity(layer.dweight, ref.weight.grad, np.float64)
            assert_parity(layer.dbias, ref.bias.grad, np.float64)
    assert repr(ours) == f"GroupNorm({g}, {shape[1]}, eps=1e-05, affine={affine})"


def test_GroupNorm_state_dict_round_trips_with_torch():
    rng = np.random.default_rng(8)
    ours = c.GroupNorm(2, 4)
    ours.weight, ours.bias = rng.normal(size=4), rng.normal(size=4)
    ref = torch.nn.GroupNorm(2, 4).double()
    ref.load_state_dict(_torch_state(ours))
    _assert_same_state(ours, ref)
    back = c.GroupNorm(2, 4)
    back.load_state_dict(ref.state_dict())
    x = rng.normal(size=(3, 4, 5))
    assert_parity(back(x), ref(torch.from_numpy(x)), np.float64)
