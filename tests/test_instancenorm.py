"""companion.instancenorm: parity with PyTorch (functional and layer) and numeric gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_torch, torch_devices

from _norm_helpers import (
    DTYPES,
    _assert_same_state,
    _check_all,
    _data,
    _gradcheck,
    _paired_with_torch,
    _step_both,
    _torch_state,
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


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 2, 3)])
def test_instance_norm_numeric_gradient(seed, shape):
    x, w, b, dy = _data(shape, shape[1], seed=seed, scale=1.0, offset=0.0)
    _gradcheck(c.instance_norm_forward, c.instance_norm_backward, x, w, b, dy)


# ---- PyTorch's own tests, ported (source named in each docstring), and the InstanceNorm layer ----

_TORCH_IN = {3: torch.nn.InstanceNorm1d, 4: torch.nn.InstanceNorm2d, 5: torch.nn.InstanceNorm3d}


@pytest.mark.parametrize("shape", [(3, 4, 5), (3, 4, 5, 6), (2, 3, 4, 3, 5)])
def test_InstanceNorm_general(shape):
    """Port of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_InstanceNorm_general (called by
    test_InstanceNorm1d/2d/3d_general)."""
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(0, 10, size=shape)
    b, ch = shape[:2]
    # default case track_running_stats=False: every instance has mean 0 and variance 1 (eps=0)
    inorm = c.InstanceNorm(ch, eps=0)
    out = inorm(x)
    flat = out.reshape(b * ch, -1)
    np.testing.assert_allclose(np.abs(flat.mean(1)).mean(), 0, atol=1e-5)
    np.testing.assert_allclose(np.abs(flat.var(1)).mean(), 1, atol=1e-5)
    # eval mode does not change the behaviour
    dy = rng.normal(size=shape)
    grad1 = inorm.backward(dy)
    inorm.eval()
    np.testing.assert_array_equal(inorm(x), out)
    np.testing.assert_array_equal(inorm.backward(dy), grad1)
    # track_running_stats=True, momentum=1: the running statistics are the batch's (unbiased variance)
    inorm = c.InstanceNorm(ch, momentum=1, eps=0, track_running_stats=True)
    inorm(x)
    xc = np.moveaxis(x, 1, 0).reshape(ch, b, -1)
    np.testing.assert_allclose(xc.reshape(ch, -1).mean(1), inorm.running_mean, atol=1e-5)
    np.testing.assert_allclose(xc.var(2, ddof=1).mean(1), inorm.running_var, atol=1e-5)
    # in eval mode, adding X * std to a channel makes that channel's output mean X
    inorm.eval()
    delta = (np.sqrt(inorm.running_var) * np.arange(ch)).reshape((-1,) + (1,) * (x.ndim - 2))
    out = inorm(x + delta)
    np.testing.assert_allclose(np.moveaxis(out, 1, 0).reshape(ch, -1).mean(1), np.arange(ch), atol=1e-10)


@pytest.mark.parametrize("shape", [(4, 3, 5), (3, 2, 4, 3)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_InstanceNorm_layer_with_running_stats_matches_torch_in_float64(shape, affine, momentum):
    rng = np.random.default_rng(11)
    ours, ref = _paired_with_torch(
        c.InstanceNorm(shape[1], affine=affine, track_running_stats=True, momentum=momentum),
        _TORCH_IN[len(shape)](shape[1], affine=affine, track_running_stats=True, momentum=momentum))
    for step in range(6):
        x, dy = rng.normal(step, 1 + step, size=shape), rng.normal(size=shape)
        for mode in (True, False):
            ours.train(mode)
            ref.train(mode)
            _step_both(ours, ref, x, dy)
    _assert_same_state(ours, ref)  # running statistics; num_batches_tracked stays 0 in both
    assert int(ref.num_batches_tracked) == ours.num_batches_tracked == 0


def test_InstanceNorm_without_running_stats_has_torch_state_keys():
    ours, ref = c.InstanceNorm(3, affine=True), torch.nn.InstanceNorm1d(3, affine=True).double()
    _assert_same_state(ours, ref)
    assert ours.running_mean is None and list(c.InstanceNorm(3).state_dict()) == []
    assert repr(ours) == "InstanceNorm(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=False)"


def test_InstanceNorm_state_dict_round_trips_with_torch():
    """A trained torch InstanceNorm loads into the companion with the same eval outputs, and back."""
    rng = np.random.default_rng(12)
    ref = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True).double()
    for _ in range(3):
        ref(torch.from_numpy(rng.normal(2, 3, size=(4, 3, 5, 5))))
    ref.eval()
    ours = c.InstanceNorm(3, affine=True, track_running_stats=True).eval()
    ours.load_state_dict(ref.state_dict())
    x = rng.normal(size=(2, 3, 5, 5))
    assert_parity(ours(x), ref(torch.from_numpy(x)), np.float64)
    again = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True).double().eval()
    again.load_state_dict(_torch_state(ours))
    assert_parity(ours(x), again(torch.from_numpy(x)), np.float64)


def test_InstanceNorm_one_spatial_position_raises_in_training_only():
    """As torch (torch/nn/functional.py instance_norm, _verify_spatial_size): one position has no variance."""
    x = np.random.default_rng(13).normal(size=(2, 3, 1))
    with pytest.raises(ValueError):
        torch.nn.InstanceNorm1d(3)(torch.from_numpy(x))
    with pytest.raises(ValueError, match="more than 1 spatial position"):
        c.InstanceNorm(3)(x)
    inorm = c.InstanceNorm(3, track_running_stats=True).eval()
    ref = torch.nn.InstanceNorm1d(3, track_running_stats=True).double().eval()
    assert_parity(inorm(x), ref(torch.from_numpy(x)), np.float64)


def test_difference_wrong_channel_count_raises_without_affine():
    """torch's InstanceNorm without affine only warns when C != num_features; the companion raises (differences page)."""
    x = np.random.default_rng(14).normal(size=(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        torch.nn.InstanceNorm1d(3)(torch.from_numpy(x))
    with pytest.raises(ValueError, match="expected num_features=3"):
        c.InstanceNorm(3)(x)


def test_difference_InstanceNorm_without_suffix_needs_the_batch_axis():
    """torch.nn.InstanceNorm1d takes (C, L) without a batch axis, and so does the companion's InstanceNorm1d; its
    InstanceNorm (no suffix, any number of spatial axes) wants (N, C, *S): (C, L) would be read as (N, C)."""
    x = np.random.default_rng(15).normal(size=(3, 5))
    assert torch.nn.InstanceNorm1d(3)(torch.from_numpy(x)).shape == (3, 5)
    assert c.InstanceNorm1d(3)(x).shape == (3, 5)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        c.InstanceNorm(3)(x)
    with pytest.raises(ValueError, match=r"3 channels on axis 0 \(shape \(3, 5\), one sample without its batch axis\)"):
        c.InstanceNorm1d(4)(x)


# ---- InstanceNorm1d/2d/3d: torch.nn's classes with their rank checks and batch-less input ----

_IN_ND = {"InstanceNorm1d": 1, "InstanceNorm2d": 2, "InstanceNorm3d": 3}


@pytest.mark.parametrize("name", sorted(_IN_ND))
@pytest.mark.parametrize("ndim", [1, 2, 3, 4, 5, 6])
def test_InstanceNorm_nd_rank_check_as_torch(name, ndim):
    """torch/nn/modules/instancenorm.py InstanceNorm{1,2,3}d._check_input_dim: the same ranks are accepted (with
    or without the batch axis), and a wrong rank raises ValueError whose message contains torch's."""
    x = np.random.default_rng(ndim).normal(size=(3,) * ndim)
    ours, ref = getattr(c, name)(3), getattr(torch.nn, name)(3).double()
    try:
        expected = ref(torch.from_numpy(x))
    except ValueError as exc:
        with pytest.raises(ValueError) as info:
            ours(x)
        assert str(exc) in str(info.value) and f"{name} takes" in str(info.value), str(info.value)
    else:
        assert_parity(ours(x), expected, np.float64)


@pytest.mark.parametrize("name, k", sorted(_IN_ND.items()))
@pytest.mark.parametrize("batched", [True, False])
def test_InstanceNorm_nd_matches_torch_with_running_stats(name, k, batched):
    """Each of InstanceNorm1d/2d/3d (affine, running statistics) against its torch.nn class in float64, on a batch
    and on one sample without its batch axis (torch's _handle_no_batch_input): outputs, gradients, running
    statistics and eval outputs, and the state_dict both ways."""
    rng = np.random.default_rng(30 + k)
    shape = ((2,) if batched else ()) + (3,) + (4, 3, 2)[:k]
    ours, ref = _paired_with_torch(getattr(c, name)(3, affine=True, track_running_stats=True, momentum=0.3),
                                   getattr(torch.nn, name)(3, affine=True, track_running_stats=True, momentum=0.3))
    assert isinstance(ours, c.InstanceNorm) and repr(ours).startswith(f"{name}(3, eps=1e-05, momentum=0.3")
    for _ in range(2):
        _step_both(ours, ref, rng.normal(1.0, 2.0, size=shape), rng.normal(size=shape))
    _assert_same_state(ours, ref)
    ref.eval(), ours.eval()
    x, dy = rng.normal(size=shape), rng.normal(size=shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = ref(xt)
    yt.backward(torch.from_numpy(dy))
    assert_parity(ours(x), yt, np.float64)
    assert_parity(ours.backward(dy), xt.grad, np.float64)
    back = getattr(torch.nn, name)(3, affine=True, track_running_stats=True).double().eval()
    back.load_state_dict(_torch_state(ours))
    assert_parity(ours(x), back(torch.from_numpy(x)), np.float64)
