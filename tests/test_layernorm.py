"""companion.layernorm: parity with PyTorch, numeric gradients, statistics per sample."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, torch_devices

from _norm_helpers import DTYPES, _assert_same_state, _check_all, _data, _gradcheck, _torch_state


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


# ---- PyTorch's own tests, ported (source named in each docstring), normalized_shape and the LayerNorm layer ----


@pytest.mark.parametrize("ndim", [2, 3, 4, 5])
def test_LayerNorm_general(ndim):
    """Port of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_LayerNorm_general: over the trailing
    normalized_shape, eps=0 gives mean 0 and variance 1, then weight and bias are applied."""
    rng = np.random.default_rng(ndim)
    shape = tuple(int(s) for s in rng.integers(3, 6, size=ndim))
    x = rng.uniform(0, 10, size=shape)
    k = int(rng.integers(1, ndim))  # normalized axes, 1 .. ndim - 1
    normalized, lead = shape[-k:], shape[:-k]
    ln = c.LayerNorm(normalized, eps=0)
    out = ln(x).reshape(lead + (-1,))
    np.testing.assert_allclose(np.abs(out.mean(-1)).mean(), 0, atol=1e-5)
    np.testing.assert_allclose(np.abs(out.var(-1)).mean(), 1, atol=1e-5)
    scale, bias = rng.uniform(0.2, 2, size=2)
    ln.weight[...], ln.bias[...] = scale, bias
    out = ln(x).reshape(lead + (-1,))
    np.testing.assert_allclose(np.abs(out.mean(-1)).mean(), bias, atol=1e-5)
    np.testing.assert_allclose(np.abs(out.var(-1)).mean(), scale**2, atol=1e-5)


@pytest.mark.parametrize("norm_shape, input_shape", [((2, 3), (3,)), ((2,), (1, 2, 3)), ((10,), (2, 3)), (10, (2, 3))])
def test_LayerNorm_general_bad_shapes(norm_shape, input_shape):
    """Port of the bad shapes of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_LayerNorm_general
    (torch: RuntimeError; the companion: ValueError, see the differences page). torch's first case,
    normalized_shape=(), is refused at construction here (test below)."""
    with pytest.raises(RuntimeError):
        torch.nn.LayerNorm(norm_shape)(torch.zeros(input_shape))
    with pytest.raises(ValueError, match="normalized_shape"):
        c.LayerNorm(norm_shape)(np.zeros(input_shape))


def test_empty_normalized_shape_is_refused_at_construction():
    with pytest.raises(ValueError, match="at least one axis"):
        c.LayerNorm(())


@pytest.mark.parametrize("shape, k", [((4, 5), 1), ((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4, 5), 2), ((6,), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_functional_normalized_shape_matches_torch(shape, k, affine):
    x, w, b, dy = _data(shape, shape[-k:], seed=k)
    w, b = (w, b) if affine else (None, None)
    ns = shape[-k:]
    _check_all(
        lambda x, w, b: c.layer_norm_forward(x, w, b, eps=1e-5, normalized_shape=ns),
        c.layer_norm_backward,
        lambda x, w, b: F.layer_norm(x, ns, w, b, eps=1e-5),
        x, w, b, dy, "cpu", np.float64,
    )


@pytest.mark.parametrize("elementwise_affine, bias", [(True, True), (True, False), (False, True)])
def test_LayerNorm_layer_matches_torch_in_float64(elementwise_affine, bias):
    rng = np.random.default_rng(9)
    ref = torch.nn.LayerNorm((3, 4), elementwise_affine=elementwise_affine, bias=bias).double()
    with torch.no_grad():
        for prm in ref.parameters():
            prm.normal_()
    ours = c.LayerNorm((3, 4), elementwise_affine=elementwise_affine, bias=bias)
    ours.load_state_dict(ref.state_dict())
    _assert_same_state(ours, ref)
    x, dy = rng.normal(1, 2, size=(5, 3, 4)), rng.normal(size=(5, 3, 4))
    xt = torch.from_numpy(x).requires_grad_()
    yt = ref(xt)
    yt.backward(torch.from_numpy(dy))
    assert_parity(ours(x), yt, np.float64)
    assert_parity(ours.backward(dy), xt.grad, np.float64)
    assert (ours.dweight is None) == (ref.weight is None) and (ours.dbias is None) == (ref.bias is None)
    if ref.weight is not None:
        assert_parity(ours.dweight, ref.weight.grad, np.float64)
    if ref.bias is not None:
        assert_parity(ours.dbias, ref.bias.grad, np.float64)
    back = torch.nn.LayerNorm((3, 4), elementwise_affine=elementwise_affine, bias=bias).double()
    back.load_state_dict(_torch_state(ours))
    assert_parity(ours(x), back(torch.from_numpy(x)), np.float64)


def test_LayerNorm_int_shape_and_repr():
    ln = c.LayerNorm(4)
    assert ln.normalized_shape == (4,) and ln.weight.shape == (4,)
    assert repr(ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    x = np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(ln(x), F.layer_norm(torch.from_numpy(x), (4,)).numpy(), rtol=0, atol=1e-10)
