"""companion.batchnorm_graph: the node-by-node version agrees with the closed form and with finite differences."""
import numpy as np
import pytest

import companion as c


def _data(seed, shape):
    rng = np.random.default_rng(seed)
    C = shape[1]
    return rng.normal(size=shape), rng.normal(size=C), rng.normal(size=C), rng.normal(size=shape)


@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 5, 2), (3, 2, 4)])
def test_graph_version_equals_closed_form(shape):
    x, w, b, dy = _data(7, shape)
    y1, cache1 = c.batch_norm_forward(x, w, b)
    y2, cache2 = c.batch_norm_forward_graph(x, w, b)
    np.testing.assert_allclose(y1, y2, rtol=1e-13, atol=1e-13)
    for g1, g2 in zip(c.batch_norm_backward(dy, cache1), c.batch_norm_backward_graph(dy, cache2), strict=True):
        np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4)])
def test_graph_backward_matches_finite_differences(shape):
    x, w, b, dy = _data(3, shape)
    _, cache = c.batch_norm_forward_graph(x, w, b)
    dx, dw, db = c.batch_norm_backward_graph(dy, cache)
    for arg, analytic, f in (
        (x, dx, lambda v: c.batch_norm_forward_graph(v, w, b)[0]),
        (w, dw, lambda v: c.batch_norm_forward_graph(x, v, b)[0]),
        (b, db, lambda v: c.batch_norm_forward_graph(x, w, v)[0]),
    ):
        numeric = c.numerical_gradient(f, arg.copy(), dy, h=1e-4, order=4)
        assert c.rel_error(numeric, analytic) < 1e-8


def test_graph_computes_in_float64_and_keeps_its_intermediates():
    x, w, b, dy = _data(1, (4, 3))
    y, (xhat, xmu, istd, std, weight) = c.batch_norm_forward_graph(x.astype(np.float32), w, b)
    assert y.dtype == np.float64 and xhat.shape == xmu.shape == x.shape and weight is w
    np.testing.assert_allclose(istd * std, 1.0)


def test_graph_checks_its_input_like_the_closed_form():
    x, w, b, dy = _data(0, (4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        c.batch_norm_forward_graph(x[:1], w, b)
    with pytest.raises(ValueError, match="weight must have shape"):
        c.batch_norm_forward_graph(x, w[:2], b)
    _, cache = c.batch_norm_forward_graph(x, w, b)
    with pytest.raises(ValueError, match="dy must have the shape"):
        c.batch_norm_backward_graph(dy[:2], cache)
