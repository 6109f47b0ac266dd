"""Batch normalization: invariants, gradients (numeric check), numerics and layer semantics."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import companion as c

from _norm_helpers import _paired_with_torch, _step_both


def _data(seed, shape, scale=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, scale, size=shape)
    C = shape[1]
    return x, rng.normal(size=C), rng.normal(size=C), rng.normal(size=shape)


shapes = st.one_of(
    st.tuples(st.integers(2, 12), st.integers(1, 5)),
    st.tuples(st.integers(2, 5), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    st.tuples(st.integers(2, 4), st.integers(1, 3), st.integers(2, 5)),
)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-2, 1e3), offset=st.floats(-1e3, 1e3))
def test_xhat_has_zero_mean_unit_variance(shape, seed, scale, offset):
    x, _, _, _ = _data(seed, shape, scale, offset)
    axes = (0,) + tuple(range(2, x.ndim))
    y, (xhat, inv_std, _) = c.batch_norm_forward(x, None, None, eps=0.0)
    # rounding of x itself limits the accuracy to about ulp(max|x|) / std
    tol = 1e-14 * (1.0 + np.abs(x).max() / x.std(axis=axes).min())
    np.testing.assert_allclose(xhat.mean(axis=axes), 0.0, atol=tol)
    np.testing.assert_allclose(xhat.var(axis=axes), 1.0, rtol=tol)
    np.testing.assert_array_equal(y, xhat)


def test_eps_shrinks_the_variance_by_the_expected_factor():
    x, _, _, _ = _data(0, (16, 3), scale=0.01)
    eps = 1e-4
    _, (xhat, _, _) = c.batch_norm_forward(x, None, None, eps=eps)
    var = x.var(axis=0)
    np.testing.assert_allclose(xhat.var(axis=0), var / (var + eps), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_gradient_invariants(shape, seed):
    """sum(dx) = 0 and sum(dx * xhat) = 0 per channel (exact when eps = 0)."""
    x, w, b, dy = _data(seed, shape)
    axes = (0,) + tuple(range(2, x.ndim))
    _, cache = c.batch_norm_forward(x, w, b, eps=0.0)
    dx, dw, db = c.batch_norm_backward(dy, cache)
    scale = np.abs(dy).sum(axis=axes) * np.abs(w) * cache[1]
    assert np.all(np.abs(dx.sum(axis=axes)) <= 1e-12 * scale + 1e-300)
    assert np.all(np.abs((dx * cache[0]).sum(axis=axes)) <= 1e-11 * scale + 1e-300)


def test_sum_dx_xhat_with_eps_matches_its_closed_form():
    """With eps > 0, sum(dx * xhat) = weight * inv_std * dweight * eps / (var + eps), not 0."""
    x, w, b, dy = _data(3, (10, 4), scale=0.05)
    eps = 1e-3
    _, cache = c.batch_norm_forward(x, w, b, eps=eps)
    dx, dw, _ = c.batch_norm_backward(dy, cache)
    var = x.var(axis=0)
    expected = -w * cache[1] * dw * (var / (var + eps) - 1.0)
    np.testing.assert_allclose((dx * cache[0]).sum(axis=0), expected, rtol=1e-9)


@pytest.mark.parametrize("shape", [(5, 4), (7, 3), (4, 3, 3, 2), (3, 2, 4, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numeric_gradient_check(shape, seed):
    x, w, b, dy = _data(seed, shape)
    _, cache = c.batch_norm_forward(x, w, b)
    dx, dw, db = c.batch_norm_backward(dy, cache)
    fx = lambda v: c.batch_norm_forward(v, w, b)[0]  # noqa: E731
    fw = lambda v: c.batch_norm_forward(x, v, b)[0]  # noqa: E731
    fb = lambda v: c.batch_norm_forward(x, w, v)[0]  # noqa: E731
    for f, arg, analytic in ((fx, x, dx), (fw, w, dw), (fb, b, db)):
        numeric = c.numerical_gradient(f, arg.copy(), dy, h=1e-3, order=4)
        assert c.rel_error(numeric, analytic) < 1e-8


def test_numeric_gradient_check_second_order_stencil():
    """The classic (f(x+h) - f(x-h)) / 2h stencil agrees too, to its own accuracy."""
    x, w, b, dy = _data(5, (6, 3))
    _, cache = c.batch_norm_forward(x, w, b)
    dx, _, _ = c.batch_norm_backward(dy, cache)
    numeric = c.numerical_gradient(lambda v: c.batch_norm_forward(v, w, b)[0], x.copy(), dy, h=1e-5)
    assert c.rel_error(numeric, dx) < 1e-6


def test_two_samples_give_plus_minus_one_and_almost_no_gradient():
    """With two values per channel xhat is +-sqrt(var / (var + eps)) whatever the data."""
    x, w, b, dy = _data(11, (2, 5), scale=3.0)
    _, (xhat, _, _) = c.batch_norm_forward(x, None, None, eps=0.0)
    np.testing.assert_allclose(np.abs(xhat), 1.0, rtol=1e-13)
    _, cache = c.batch_norm_forward(x, w, b, eps=0.0)
    dx, _, _ = c.batch_norm_backward(dy, cache)
    np.testing.assert_allclose(dx, 0.0, atol=1e-12)


def test_catastrophic_cancellation_is_avoided_in_float32():
    rng = np.random.default_rng(1)
    x = (1e4 + rng.standard_normal((4096, 3))).astype(np.float32)
    y, _ = c.batch_norm_forward(x, None, None)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.astype(np.float64).var(axis=0), 1.0, atol=1e-3)
    np.testing.assert_allclose(y.astype(np.float64).mean(axis=0), 0.0, atol=1e-3)
    # the one-pass formula E[x^2] - E[x]^2 fails on the same data: this is what the test guards against
    naive = (x * x).mean(axis=0) - x.mean(axis=0) ** 2
    assert np.max(np.abs(naive - 1.0)) > 0.5


def test_constant_channel_gives_exactly_bias():
    x = np.random.default_rng(2).normal(size=(8, 3))
    x[:, 1] = 4.25
    w, b = np.array([2.0, 3.0, 4.0]), np.array([0.5, -1.5, 2.0])
    y, cache = c.batch_norm_forward(x, w, b)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y[:, 1], -1.5)
    dx, dw, db = c.batch_norm_backward(np.ones_like(x), cache)
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(dw))


def test_float16_input_is_normalized_in_float32():
    rng = np.random.default_rng(3)
    x = (100 + 0.5 * rng.standard_normal((512, 4))).astype(np.float16)
    y, (xhat, inv_std, _) = c.batch_norm_forward(x, None, None)
    assert y.dtype == np.float16 and xhat.dtype == np.float32 and inv_std.dtype == np.float32
    ref, _ = c.batch_norm_forward(x.astype(np.float64), None, None)
    np.testing.assert_allclose(y.astype(np.float64), ref, atol=2e-3)
    m, v = c.batch_stats(x)
    assert m.dtype == np.float32 and v.dtype == np.float32


def test_nonfinite_input_propagates_to_its_channel_only():
    x = np.random.default_rng(4).normal(size=(6, 3))
    x[2, 1] = np.nan
    y, _ = c.batch_norm_forward(x, None, None)
    assert np.all(np.isnan(y[:, 1]))
    assert np.all(np.isfinite(y[:, [0, 2]]))


def test_cache_holds_only_what_backward_needs():
    x, w, b, _ = _data(0, (4, 3, 2, 2))
    _, cache = c.batch_norm_forward(x, w, b)
    xhat, inv_std, weight = cache
    assert len(cache) == 3 and xhat.shape == x.shape and inv_std.shape == (3,) and weight is w


def test_layer_train_eval_semantics():
    bn = c.BatchNorm(3)
    assert bn.training and bn.train() is bn and bn.eval() is bn and not bn.training
    assert repr(bn) == "BatchNorm(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    rng = np.random.default_rng(5)
    bn.train()
    for _ in range(3):
        bn(rng.normal(2.0, 3.0, size=(16, 3)))
    assert bn.num_batches_tracked == 3
    bn.eval()
    x = rng.normal(size=(1, 3))
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(bn(x), expected, rtol=1e-12)
    assert bn.num_batches_tracked == 3  # eval does not update


def test_cumulative_average_with_momentum_none():
    bn = c.BatchNorm(2, momentum=None)
    rng = np.random.default_rng(6)
    batches = [rng.normal(size=(5, 2)) for _ in range(4)]
    for xb in batches:
        bn(xb)
    np.testing.assert_allclose(bn.running_mean, np.mean([xb.mean(0) for xb in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, np.mean([xb.var(0, ddof=1) for xb in batches], axis=0), rtol=1e-12)


def test_no_running_stats_uses_batch_statistics_in_eval():
    bn = c.BatchNorm(2, track_running_stats=False).eval()
    assert bn.running_mean is None and bn.running_var is None
    x = np.random.default_rng(7).normal(3.0, 2.0, size=(9, 2))
    np.testing.assert_allclose(bn(x), c.batch_norm_forward(x, bn.weight, bn.bias)[0], rtol=1e-12)


def test_affine_false_has_no_parameters_or_parameter_gradients():
    bn = c.BatchNorm(2, affine=False)
    assert bn.weight is None and bn.bias is None
    x = np.random.default_rng(8).normal(size=(5, 2))
    bn(x)
    dx = bn.backward(np.ones_like(x))
    assert dx.shape == x.shape and bn.dweight is None and bn.dbias is None


def test_eval_backward_treats_running_statistics_as_constants():
    bn = c.BatchNorm(3)
    rng = np.random.default_rng(9)
    bn(rng.normal(size=(8, 3)))
    bn.eval()
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    bn(x)
    dx = bn.backward(dy)
    numeric = c.numerical_gradient(lambda v: c.BatchNorm.forward(bn, v), x.copy(), dy, h=1e-3, order=4)
    assert c.rel_error(numeric, dx) < 1e-8


# ---- PyTorch's own tests, ported (source named in each docstring) ----


def test_batchnorm_raises_error_if_less_than_one_value_per_channel():
    """Port of pytorch/pytorch test/test_nn.py, TestNN.test_batchnorm_raises_error_if_less_than_one_value_per_channel."""
    x = np.random.default_rng(0).random(10)[None, :, None]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        c.BatchNorm(10)(x)


@pytest.mark.parametrize("name, size", [(n, s) for n in ("running_mean", "running_var", "weight", "bias") for s in (9, 11)])
def test_batchnorm_raises_error_if_state_is_not_same_size_as_input(name, size):
    """Port of pytorch/pytorch test/test_nn.py, TestNN.test_batchnorm_raises_error_if_{running_mean,running_var,weight,
    bias}_is_not_same_size_as_input (torch: RuntimeError; the companion: ValueError)."""
    bn = c.BatchNorm(10).eval()
    setattr(bn, name, np.random.default_rng(1).random(size))
    with pytest.raises(ValueError, match=f"{name} must have shape \\(10,\\)"):
        bn(np.random.default_rng(2).random((2, 10)))


def test_batchnorm_buffer_update_when_stats_are_not_tracked():
    """Port of pytorch/pytorch test/test_nn.py, TestNN.test_batchnorm_buffer_update_when_stats_are_not_tracked:
    switched off after construction, track_running_stats stops the updates."""
    bn = c.BatchNorm(4, track_running_stats=True)
    bn.track_running_stats = False
    before = (bn.num_batches_tracked, bn.running_mean.copy(), bn.running_var.copy())
    bn(np.random.default_rng(3).random((32, 4)))
    assert bn.num_batches_tracked == before[0]
    np.testing.assert_array_equal(bn.running_mean, before[1])
    np.testing.assert_array_equal(bn.running_var, before[2])


def test_batchnorm_simple_average():
    """Port of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_batchnorm_simple_average (momentum=None is
    the cumulative average; reset_running_stats restarts it)."""
    bn = c.BatchNorm(3, momentum=None)
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    rng = np.random.default_rng(4)
    data1, data2 = rng.random((4, 3)), rng.random((4, 3))
    res1 = bn(data1)
    mean1, var1 = bn.running_mean.copy(), bn.running_var.copy()
    assert np.all(mean1 != 0) and np.all(var1 != 1)
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    res2 = bn(data2)
    mean2, var2 = bn.running_mean.copy(), bn.running_var.copy()
    bn.reset_running_stats()
    bn(data1)
    bn(data2)
    np.testing.assert_allclose(bn.running_mean, (mean1 + mean2) / 2, rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, (var1 + var2) / 2, rtol=1e-14)
    assert res1.shape == res2.shape == (4, 3)


def test_batchnorm_eval():
    """Port of pytorch/pytorch test/test_nn.py, TestNNDeviceType._test_batchnorm_eval: in eval mode two passes
    give the same output and the same gradient (nothing is updated)."""
    rng = np.random.default_rng(5)
    bn = c.BatchNorm(3).eval()
    x, dy = rng.random((4, 3)), rng.random((4, 3))
    res1, grad1 = bn(x), bn.backward(dy)
    res2, grad2 = bn(x), bn.backward(dy)
    np.testing.assert_array_equal(res1, res2)
    np.testing.assert_array_equal(grad1, grad2)


def test_eps_must_be_positive_with_batch_statistics_only():
    """torch/nn/functional.py batch_norm: 'eps must be positive during training'; eps = 0 is allowed in eval mode.
    The functional batch_norm_forward keeps accepting eps = 0 (a documented difference: the chapter on numerics
    uses it to show the NaN of a constant channel)."""
    x = np.ones((4, 3))
    for bn in (c.BatchNorm(3, eps=0.0), c.BatchNorm(3, eps=0.0, track_running_stats=False).eval()):
        with pytest.raises(ValueError, match="eps must be positive"):
            bn(x)
    np.testing.assert_array_equal(c.BatchNorm(3, eps=0.0).eval()(x), 1.0)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        c.BatchNorm(3, eps=-1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.all(np.isnan(c.batch_norm_forward(x, None, None, eps=0.0)[0]))


# ---- deliberate differences from PyTorch (book/differences.md), each checked against torch ----


def test_difference_empty_batch_raises():
    """torch returns an empty output for an empty batch; the companion raises ValueError (differences page)."""
    import torch

    assert torch.nn.BatchNorm1d(3)(torch.zeros(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="must not be empty"):
        c.BatchNorm(3)(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="must not be empty"):
        c.dropout_forward(np.zeros((0, 3)), 0.5)


def test_difference_momentum_outside_zero_one_is_refused():
    """torch accepts any momentum (even -1 or 2); the companion requires [0, 1] or None (differences page)."""
    import torch

    torch.nn.BatchNorm1d(3, momentum=-1)(torch.ones(4, 3))
    for momentum in (-1, 2):
        with pytest.raises(ValueError, match="momentum must be in \\[0, 1\\]"):
            c.BatchNorm(3, momentum=momentum)


def test_difference_integer_input_is_a_type_error():
    """torch: NotImplementedError ('batch_norm' not implemented for 'Long'); the companion: TypeError naming the fix."""
    import torch

    with pytest.raises(NotImplementedError):
        torch.nn.BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="astype\\(np.float64\\)"):
        c.BatchNorm(3)(np.ones((4, 3), dtype=np.int64))


def test_difference_BatchNorm_without_suffix_takes_any_rank():
    """torch has only BatchNorm1d/2d/3d, with rank checks (the companion has them too, below); the companion's
    BatchNorm (no suffix) takes (N, C, *spatial) of any rank and computes what the torch class of that rank does."""
    import torch

    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        torch.nn.BatchNorm1d(3)(torch.ones(2, 3, 2, 2))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        c.BatchNorm1d(3)(np.ones((2, 3, 2, 2)))
    x = np.random.default_rng(0).normal(size=(2, 3, 2, 2))
    np.testing.assert_allclose(c.BatchNorm(3)(x), torch.nn.BatchNorm2d(3).double()(torch.from_numpy(x)).detach().numpy(),
                               rtol=0, atol=1e-10)


def test_difference_parameters_are_float64_by_default():
    """torch modules hold float32 parameters by default; the companion's layers float64 (dtype= changes it)."""
    import torch

    assert torch.nn.BatchNorm1d(3).weight.dtype == torch.float32
    assert c.BatchNorm(3).weight.dtype == np.float64 and c.BatchNorm(3, dtype=np.float32).weight.dtype == np.float32


# ---- BatchNorm1d/2d/3d: torch.nn's classes with their rank checks ----

_ND = {"BatchNorm1d": [(6, 3), (4, 3, 5)], "BatchNorm2d": [(4, 3, 2, 3)], "BatchNorm3d": [(3, 3, 2, 2, 3)]}


@pytest.mark.parametrize("name", sorted(_ND))
@pytest.mark.parametrize("ndim", [1, 2, 3, 4, 5, 6])
def test_BatchNorm_nd_rank_check_as_torch(name, ndim):
    """torch/nn/modules/batchnorm.py BatchNorm{1,2,3}d._check_input_dim: the same ranks are accepted, and a wrong
    rank raises ValueError whose message contains torch's ("expected 2D or 3D input (got 4D input)")."""
    import torch

    x = np.random.default_rng(ndim).normal(size=(2,) + (3,) * (ndim - 1))
    ours, ref = getattr(c, name)(x.shape[1] if ndim > 1 else 3), getattr(torch.nn, name)(3).double()
    try:
        ref(torch.from_numpy(x))
    except ValueError as exc:
        with pytest.raises(ValueError) as info:
            ours(x)
        assert str(exc) in str(info.value) and f"{name} takes" in str(info.value), str(info.value)
    else:
        assert ours(x).shape == x.shape


@pytest.mark.parametrize("name, shape", [(n, s) for n, shapes in _ND.items() for s in shapes])
def test_BatchNorm_nd_matches_torch_train_eval_and_state_dict(name, shape):
    """Each of BatchNorm1d/2d/3d against its torch.nn class in float64: outputs and gradients in training, running
    statistics, eval outputs, and the state_dict both ways."""
    import torch

    from companion.tools.oracle import assert_parity

    rng = np.random.default_rng(len(shape))
    ours, ref = _paired_with_torch(getattr(c, name)(shape[1], momentum=0.2),
                                   getattr(torch.nn, name)(shape[1], momentum=0.2))
    assert isinstance(ours, c.BatchNorm) and repr(ours).startswith(f"{name}({shape[1]}, eps=1e-05, momentum=0.2")
    for _ in range(3):
        _step_both(ours, ref, rng.normal(1.0, 2.0, size=shape), rng.normal(size=shape))
    ref.eval(), ours.eval()
    x = rng.normal(size=shape)
    assert_parity(ours(x), ref(torch.from_numpy(x)), np.float64)
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=0, atol=1e-12, err_msg=k)
    back = getattr(torch.nn, name)(shape[1]).double().eval()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert_parity(ours(x), back(torch.from_numpy(x)), np.float64)
