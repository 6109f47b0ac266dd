"""companion.gradcheck: finite-difference gradients and the relative error the book reports."""
import numpy as np
import pytest

import companion as c


@pytest.mark.parametrize("order, h, tol", [(2, 1e-5, 1e-7), (4, 1e-3, 1e-10)])
def test_numerical_gradient_of_known_functions(order, h, tol):
    x = np.random.default_rng(0).normal(size=(3, 4))
    g = c.numerical_gradient(lambda v: (v**3).sum(), x.copy(), h=h, order=order)
    assert c.rel_error(g, 3 * x**2) < tol
    dy = np.random.default_rng(1).normal(size=(3, 4))  # vector-valued f: the gradient of sum(f(x) * dy)
    g = c.numerical_gradient(np.sin, x.copy(), dy, h=h, order=order)
    assert c.rel_error(g, np.cos(x) * dy) < tol


def test_numerical_gradient_leaves_x_unchanged():
    x = np.linspace(-1, 1, 5)
    before = x.copy()
    c.numerical_gradient(lambda v: (v**2).sum(), x)
    np.testing.assert_array_equal(x, before)


def test_rel_error_is_relative_symmetric_and_zero_for_equal_arrays():
    a = np.array([1.0, -2.0, 3.0])
    assert c.rel_error(a, a) == 0.0
    assert c.rel_error(a, a * (1 + 1e-6)) == pytest.approx(c.rel_error(a * (1 + 1e-6), a))
    assert 1e-7 < c.rel_error(a, a * (1 + 1e-6)) < 1e-6
    assert c.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_gradcheck_helpers_validate():
    with pytest.raises(TypeError, match="x must be a float64"):
        c.numerical_gradient(lambda v: v.sum(), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="same shape"):
        c.rel_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="order must be 2 or 4"):
        c.numerical_gradient(lambda v: v.sum(), np.ones(3), order=3)
