"""Parity with PyTorch (the oracle): F.batch_norm, nn.BatchNorm1d/2d and nn.Dropout.

float64 must agree to 1e-10; float32 within torch.testing.assert_close's default tolerances.
Runs on the CPU, and on CUDA too when a GPU is available.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_numpy, to_torch, torch_devices

DTYPES = [np.float64, np.float32]
SHAPES = [(16, 5), (8, 4, 6), (6, 3, 5, 4)]



def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = rng.normal(1.5, 2.0, size=shape).astype(dtype)
    return x, rng.normal(size=C).astype(dtype), rng.normal(size=C).astype(dtype), rng.normal(size=shape).astype(dtype)


def _torch_layer(shape, **kwargs):
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}[len(shape)]
    return cls(shape[1], **kwargs)


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_functional_forward_backward(device, dtype, shape):
    x, w, b, dy = _data(shape, dtype)
    y, cache = c.batch_norm_forward(x, w, b, eps=1e-5)
    dx, dw, db = c.batch_norm_backward(dy, cache)
    xt, wt, bt = (to_torch(v, device, requires_grad=True) for v in (x, w, b))
    yt = F.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
    yt.backward(to_torch(dy, device))
    for ours, theirs in ((y, yt), (dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        assert_parity(ours, theirs, dtype)


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 5), (6, 3, 5, 4)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_layer_running_statistics_train_and_eval(device, dtype, shape, momentum):
    torch_dtype = getattr(torch, np.dtype(dtype).name)
    ours = c.BatchNorm(shape[1], momentum=momentum, dtype=dtype)
    ref = _torch_layer(shape, momentum=momentum).to(device=device, dtype=torch_dtype)
    rng = np.random.default_rng(1)
    with torch.no_grad():
        ref.weight.copy_(to_torch(rng.normal(size=shape[1]).astype(dtype)))
        ref.bias.copy_(to_torch(rng.normal(size=shape[1]).astype(dtype)))
    ours.weight, ours.bias = to_numpy(ref.weight), to_numpy(ref.bias)
    for step in range(25):
        x = (rng.normal(size=shape) * (1 + step % 3) + step).astype(dtype)
        dy = rng.normal(size=shape).astype(dtype)
        xt = to_torch(x, device, requires_grad=True)
        ref.zero_grad()
        yt = ref(xt)
        yt.backward(to_torch(dy, device))
        y = ours(x)
        dx = ours.backward(dy)
        for a, b in ((y, yt), (dx, xt.grad), (ours.dweight, ref.weight.grad), (ours.dbias, ref.bias.grad)):
            assert_parity(a, b, dtype)
    assert ours.num_batches_tracked == int(ref.num_batches_tracked) == 25
    assert_parity(ours.running_mean, ref.running_mean, dtype)
    assert_parity(ours.running_var, ref.running_var, dtype)
    ours.eval()
    ref.eval()
    x = rng.normal(size=(1,) + shape[1:]).astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    xt = to_torch(x, device, requires_grad=True)
    ref.zero_grad()
    yt = ref(xt)
    yt.backward(to_torch(dy, device))
    assert_parity(ours(x), yt, dtype)
    assert_parity(ours.backward(dy), xt.grad, dtype)
    assert_parity(ours.dweight, ref.weight.grad, dtype)


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_without_running_stats(device, dtype):
    shape = (12, 4, 3, 3)
    ours = c.BatchNorm(4, track_running_stats=False, affine=False, dtype=dtype).eval()
    ref = torch.nn.BatchNorm2d(4, track_running_stats=False, affine=False).to(device).eval()
    x, _, _, dy = _data(shape, dtype, seed=2)
    xt = to_torch(x, device, requires_grad=True)
    yt = ref(xt)
    yt.backward(to_torch(dy, device))
    assert_parity(ours(x), yt, dtype)
    assert_parity(ours.backward(dy), xt.grad, dtype)
    assert ref.running_mean is None and ours.running_mean is None


@pytest.mark.parametrize("device", torch_devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_matches_torch_given_its_mask(device, dtype, p):
    """torch's RNG differs from NumPy's, so we read torch's keep-mask and check the arithmetic."""
    torch.manual_seed(0)
    x = np.random.default_rng(3).uniform(0.5, 2.0, size=(64, 32)).astype(dtype)  # no zeros: mask = y != 0
    xt = to_torch(x, device, requires_grad=True)
    yt = F.dropout(xt, p=p, training=True)
    dy = np.random.default_rng(4).normal(size=x.shape).astype(dtype)
    yt.backward(to_torch(dy, device))
    mask = to_numpy(yt) != 0
    y = x * mask / np.asarray(1 - p, dtype)
    ours_y, ours_mask = c.dropout_forward(x, p, rng=0)
    assert ours_y.dtype == x.dtype
    assert_parity(y, yt, dtype)
    assert_parity(c.dropout_backward(dy, mask, p), xt.grad, dtype)
    np.testing.assert_array_equal(to_numpy(F.dropout(xt, p=p, training=False)), c.dropout_forward(x, p, False)[0])
    np.testing.assert_array_equal(F.dropout(xt, p=1.0).detach().cpu().numpy(), c.dropout_forward(x, 1.0)[0])


# ---- track_running_stats switched after construction (PyTorch's rule), state_dict round trips ----


@pytest.mark.parametrize("tracked_at_construction", [True, False])
def test_track_running_stats_switched_after_construction_matches_torch(tracked_at_construction):
    """torch/nn/modules/batchnorm.py _BatchNorm.forward: eval mode uses the running buffers whenever they exist;
    they are updated only in training with track_running_stats; without buffers both modes use batch statistics."""
    rng = np.random.default_rng(20)
    ours = c.BatchNorm(3, track_running_stats=tracked_at_construction)
    ref = torch.nn.BatchNorm1d(3, track_running_stats=tracked_at_construction).double()
    for layer in (ours, ref):
        layer.track_running_stats = not tracked_at_construction
    for mode in (True, False, True, False):
        ours.train(mode)
        ref.train(mode)
        x = rng.normal(3, 2, size=(8, 3))
        assert_parity(ours(x), ref(torch.from_numpy(x)), np.float64)
    if tracked_at_construction:  # buffers kept, never updated after the switch
        np.testing.assert_array_equal(ours.running_mean, 0)
        assert_parity(ours.running_var, ref.running_var, np.float64)
        assert ours.num_batches_tracked == int(ref.num_batches_tracked) == 0
    else:
        assert ours.running_mean is None and ref.running_mean is None
        assert ours.num_batches_tracked is None and ref.num_batches_tracked is None


@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False)])
def test_batchnorm_state_dict_round_trips_with_torch(affine, track):
    """A trained torch BatchNorm loads into the companion and gives the same eval outputs, and the reverse."""
    rng = np.random.default_rng(21)
    ref = torch.nn.BatchNorm2d(4, affine=affine, track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            ref.weight.normal_()
            ref.bias.normal_()
    for _ in range(3):
        ref(torch.from_numpy(rng.normal(1, 2, size=(6, 4, 3, 3))))
    ref.eval()
    ours = c.BatchNorm(4, affine=affine, track_running_stats=track).eval()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict())
    x = rng.normal(size=(2, 4, 3, 3))
    assert_parity(ours(x), ref(torch.from_numpy(x)), np.float64)
    # and back: a companion layer trained in NumPy loads into a fresh torch module
    ours.train()
    for _ in range(2):
        ours(rng.normal(-1, 3, size=(6, 4, 3, 3)))
    ours.eval()
    back = torch.nn.BatchNorm2d(4, affine=affine, track_running_stats=track).double().eval()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert_parity(ours(x), back(torch.from_numpy(x)), np.float64)
    if track:
        assert int(back.num_batches_tracked) == ours.num_batches_tracked == 5


def test_float32_torch_state_loads_into_float64_layer():
    ref = torch.nn.BatchNorm1d(3)
    ref(torch.randn(8, 3, generator=torch.Generator().manual_seed(0)))
    ours = c.BatchNorm(3)
    ours.load_state_dict(ref.state_dict())
    assert ours.running_mean.dtype == np.float64
    np.testing.assert_array_equal(ours.running_mean, ref.running_mean.numpy().astype(np.float64))
