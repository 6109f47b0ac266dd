"""companion._standardize, the kernel shared by layer, group and instance norm and batch renorm: invariants
(mean 0, variance 1, gradients that sum to zero), dtypes, aliasing, and the input checks common to the layers."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import companion as c

from _norm_helpers import W6, X3, _data, _raises


def _norm_axes_and_reshape(kind, shape):
    """(forward(x, eps), how to view xhat/dx as (groups, values per group))."""
    n = shape[0]
    if kind == "layer":
        return (lambda x, eps: c.layer_norm_forward(x, None, None, eps)), lambda a: a.reshape(n, -1), c.layer_norm_backward
    if kind == "instance":
        return (lambda x, eps: c.instance_norm_forward(x, None, None, eps)), lambda a: a.reshape(n * shape[1], -1), c.instance_norm_backward
    g = 2 if shape[1] % 2 == 0 else 1
    return (lambda x, eps: c.group_norm_forward(x, g, None, None, eps)), lambda a: a.reshape(n * g, -1), c.group_norm_backward


shapes3 = st.tuples(st.integers(1, 4), st.sampled_from([1, 2, 4]), st.integers(3, 5), st.integers(1, 3))


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["layer", "group", "instance"]), shape=shapes3, seed=st.integers(0, 2**32 - 1),
       scale=st.floats(1e-2, 1e3), offset=st.floats(-1e3, 1e3))
def test_each_group_has_mean_zero_variance_one_and_dx_sums_to_zero(kind, shape, seed, scale, offset):
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, scale, size=shape)
    dy = rng.normal(size=shape)
    fwd, groups, bwd = _norm_axes_and_reshape(kind, shape)
    y, cache = fwd(x, 0.0)
    yg = groups(y)
    std = groups(x).std(axis=1)
    # rounding of x limits the accuracy to about ulp(max|x|) / std
    tol = 1e-14 * (1.0 + np.abs(x).max() / std.min())
    np.testing.assert_allclose(yg.mean(axis=1), 0.0, atol=tol)
    np.testing.assert_allclose(yg.var(axis=1), 1.0, rtol=tol)
    dx, dw, db = bwd(dy, cache)
    dxg = groups(dx)
    size = np.abs(groups(dy)).sum(axis=1) / std * (1.0 + np.abs(x).max() / std.min())
    assert np.all(np.abs(dxg.sum(axis=1)) <= 1e-12 * size)
    assert np.all(np.abs((dxg * yg).sum(axis=1)) <= 1e-11 * size)


def test_eps_shrinks_the_variance_by_the_expected_factor():
    x = np.random.default_rng(5).normal(0.0, 0.01, size=(3, 20))
    eps = 1e-4
    y, _ = c.layer_norm_forward(x, None, None, eps=eps)
    var = x.var(axis=1)
    np.testing.assert_allclose(y.var(axis=1), var / (var + eps), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_dtype_is_preserved(dtype):
    x, w, b, dy = _data((2, 4, 3), 4, dtype, seed=8)
    for y, cache, bwd in (
        (*c.layer_norm_forward(x, None, None), c.layer_norm_backward),
        (*c.group_norm_forward(x, 2, w, b), c.group_norm_backward),
        (*c.instance_norm_forward(x, w, b), c.instance_norm_backward),
    ):
        dx, dw, db = bwd(dy, cache)
        assert y.dtype == dx.dtype == dtype
    y, cache = c.batch_renorm_forward(x, w, b, np.zeros(4, dtype), np.ones(4, dtype))
    assert y.dtype == c.batch_renorm_backward(dy, cache)[0].dtype == dtype


def test_outputs_do_not_alias_the_cache():
    x = np.random.default_rng(9).normal(size=(3, 5))
    y, cache = c.layer_norm_forward(x, None, None)
    y[:] = 0.0
    assert np.any(cache[0] != 0)


def test_parameter_shapes():
    _raises(ValueError, "weight must have shape (6, 4)", c.layer_norm_forward, X3, W6, None)
    _raises(ValueError, "bias must have shape (6, 4)", c.layer_norm_forward, X3, None, np.zeros(24))
    _raises(ValueError, "weight must have shape (6,)", c.group_norm_forward, X3, 2, np.ones(3), None)
    _raises(ValueError, "bias must have shape (6,)", c.instance_norm_forward, X3, None, np.ones((6, 1)))
    _raises(ValueError, "running_std must have shape (6,)", c.batch_renorm_forward, X3, None, None, np.zeros(6),
            np.ones(5))


def test_too_few_dimensions_and_positions():
    _raises(ValueError, "x must have at least 2 dimensions", c.layer_norm_forward, np.ones(3), None, None)
    _raises(ValueError, "x must have at least 2 dimensions", c.group_norm_forward, np.ones(3), 1, None, None)
    _raises(ValueError, "x must have at least 3 dimensions", c.instance_norm_forward, np.ones((4, 3)))
    _raises(ValueError, "more than 1 spatial position", c.instance_norm_forward, np.ones((4, 3, 1)))
    _raises(ValueError, "more than 1 value per channel", c.batch_renorm_forward, np.ones((1, 3)), None, None,
            np.zeros(3), np.ones(3))
    _raises(ValueError, "more than 1 value per channel", c.BatchRenorm(3), np.ones((1, 3)))
    _raises(ValueError, "x must not be empty", c.layer_norm_forward, np.ones((0, 3)), None, None)


@pytest.mark.parametrize("bad", [np.ones((2, 6, 4), dtype=int), np.ones((2, 6, 4), dtype=bool)])
def test_integer_and_bool_input(bad):
    _raises(TypeError, "floating dtype", c.layer_norm_forward, bad, None, None)
    _raises(TypeError, "floating dtype", c.group_norm_forward, bad, 2, None, None)
    _raises(TypeError, "floating dtype", c.instance_norm_forward, bad)
    _raises(TypeError, "floating dtype", c.BatchRenorm(6), bad)
    _raises(TypeError, "weight must have a floating dtype", c.group_norm_forward, X3, 2, np.ones(6, int), None)


def test_non_array_and_torch_input():
    _raises(TypeError, "x must be a numpy.ndarray", c.layer_norm_forward, [[1.0, 2.0]], None, None)
    _raises(TypeError, ".numpy()", c.group_norm_forward, torch.zeros(2, 6, 4), 2, None, None)


def test_eps_and_renorm_limits():
    _raises(ValueError, "eps must be a finite number >= 0", c.layer_norm_forward, X3, None, None, eps=-1.0)
    _raises(ValueError, "eps must be a finite number >= 0", c.group_norm_forward, X3, 3, None, None, eps=np.nan)
    _raises(ValueError, "r_max must be >= 1", c.BatchRenorm, 3, r_max=0.5)
    _raises(ValueError, "d_max must be >= 0", c.BatchRenorm, 3, d_max=-1.0)
    _raises(ValueError, "r_max must be >= 1", c.batch_renorm_forward, X3, None, None, np.zeros(6), np.ones(6),
            r_max=np.nan)
    _raises(TypeError, "d_max must be a real number", c.BatchRenorm, 3, d_max="5")
    _raises(ValueError, "running_std must be > 0", c.batch_renorm_forward, X3, None, None, np.zeros(6), np.zeros(6))
    _raises(TypeError, "running_mean and running_std must be numpy.ndarrays", c.batch_renorm_forward, X3, None,
            None, None, np.ones(6))
    layer = c.BatchRenorm(6)
    layer.r_max = 0.9  # changed between steps to an invalid value
    _raises(ValueError, "r_max must be >= 1", layer, X3)
    _raises(ValueError, "momentum must be in [0, 1]", c.BatchRenorm, 3, momentum=2.0)


def test_dy_shape_and_call_order():
    _, cache = c.layer_norm_forward(X3, None, None)
    _raises(ValueError, "dy must have the shape of the forward input (2, 6, 4)", c.layer_norm_backward,
            np.ones((2, 6)), cache)
    _, cache = c.group_norm_forward(X3, 3, None, None)
    _raises(ValueError, "dy must have the shape of the forward input (2, 6, 4)", c.group_norm_backward,
            np.ones((2, 3, 8)), cache)
    _, cache = c.instance_norm_forward(X3)
    _raises(TypeError, "dy must have a floating dtype", c.instance_norm_backward, np.ones(X3.shape, int), cache)
    _raises(c.CallOrderError, "backward() called before forward()", c.BatchRenorm(6).backward, X3)
    layer = c.BatchRenorm(6)
    layer(X3)
    _raises(ValueError, "dy must have the shape of the forward input", layer.backward, np.ones((2, 6, 3)))
    _raises(ValueError, "x has 6 channels on axis 1", c.BatchRenorm(4), X3)
