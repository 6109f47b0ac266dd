"""companion._batchnorm_fast: BN's (N, C, M) kernel agrees with the generic kernel of companion._standardize.

(Both are also checked against PyTorch: tests/test_parity_torch.py and tests/test_batchrenorm.py.)
"""
import numpy as np
import pytest

from companion import _batchnorm_fast as fast
from companion import _standardize as std


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_fast_kernel_equals_the_generic_kernel(shape, dtype, tol):
    rng = np.random.default_rng(0)
    c = shape[1]
    x = rng.normal(2.0, 3.0, size=shape).astype(dtype)
    w, b = rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype)
    dy = rng.normal(size=shape).astype(dtype)
    axes, view = std.channel_layout(x.ndim, c)
    y_ref, cache_ref = std.normalize_forward(x, axes, w, b, (c,), view, 1e-5)
    y, cache, mean, var = fast.train_forward(x, w, b, 1e-5)
    ref_mean, ref_var = std.moments(x, axes)
    np.testing.assert_allclose(mean, ref_mean.reshape(c), rtol=tol, atol=tol)
    np.testing.assert_allclose(var, ref_var.reshape(c), rtol=tol, atol=tol)
    assert y.dtype == y_ref.dtype == dtype
    np.testing.assert_allclose(y, y_ref, rtol=tol, atol=tol)
    for g, g_ref in zip(fast.backward(dy, cache), std.normalize_backward(dy, cache_ref), strict=True):
        assert g.dtype == g_ref.dtype
        np.testing.assert_allclose(g, g_ref, rtol=10 * tol, atol=10 * tol)


def test_eval_backward_is_dy_times_the_scale():
    rng = np.random.default_rng(1)
    x, dy = rng.normal(size=(5, 3, 2)), rng.normal(size=(5, 3, 2))
    mean, var, w = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
    _, cache = fast.eval_forward(x, mean, var, w, None, 0.0)
    dx, dw, db = fast.eval_backward(dy, cache, np.float64)
    np.testing.assert_allclose(dx, dy * (w / np.sqrt(var)).reshape(1, 3, 1))
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2)))
    np.testing.assert_allclose(dw, (dy * (x - mean.reshape(1, 3, 1)) / np.sqrt(var).reshape(1, 3, 1)).sum(axis=(0, 2)))


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 16])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("shape", [(9, 3), (5, 3, 7), (4, 3, 5, 6), (1, 3, 5, 6)])
def test_results_do_not_depend_on_the_block_size(monkeypatch, block, dtype, shape):
    """Blocking changes which values are in cache together, not the arithmetic: same bits for every block size
    (blocks of whole samples or of channel groups, with per-channel planes or with (C, 1) columns)."""
    rng = np.random.default_rng(2)
    c = shape[1]
    x, dy = rng.normal(2.0, 3.0, size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)
    w, b = rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype)
    rm, rv = rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)

    def run():
        y, cache, mean, var = fast.train_forward(x, w, b, 1e-5)
        ye, cache_e = fast.eval_forward(x, rm, rv, w, b, 1e-5)
        return (y, mean, var, *fast.backward(dy, cache), ye, *fast.eval_backward(dy, cache_e, np.float64),
                fast.train_forward(x, None, None, 1e-5)[0])

    reference = run()
    monkeypatch.setattr(fast, "BLOCK", block)
    for a, b_ in zip(run(), reference, strict=True):
        assert a.dtype == b_.dtype
        np.testing.assert_array_equal(a, b_)
