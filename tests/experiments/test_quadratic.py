"""Gradient descent on quadratics: paths, the stability limit 2/lam_max, step counts, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.experiments.quadratic import best_lr, gradient_descent, max_stable_lr, quadratic_loss, steps_to_converge


def _spd(seed, d, kappa):
    """A random rotation of diag(1 .. kappa): symmetric positive definite with known eigenvalues."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = np.geomspace(1.0, kappa, d)
    return (q * lam) @ q.T, q, lam


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 5), kappa=st.floats(1.0, 100.0), frac=st.floats(0.05, 1.9))
def test_path_matches_the_eigenbasis_closed_form(seed, d, kappa, frac):
    A, q, lam = _spd(seed, d, kappa)
    rng = np.random.default_rng(seed + 1)
    w0, w_star = rng.normal(size=d), rng.normal(size=d)
    lr = frac / lam.max()
    path = gradient_descent(A, w0, lr, 25, w_star=w_star)
    k = np.arange(26)[:, None]
    expected = w_star + ((1 - lr * lam) ** k * ((w0 - w_star) @ q)) @ q.T
    np.testing.assert_allclose(path, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_stability_limit_is_two_over_the_largest_eigenvalue(seed):
    A, _, lam = _spd(seed, 3, 30.0)
    assert max_stable_lr(A) == pytest.approx(2.0 / lam.max(), rel=1e-12)
    w0 = np.random.default_rng(seed).normal(size=3)
    lr_max = max_stable_lr(A)
    assert steps_to_converge(A, w0, 0.99 * lr_max, max_steps=100_000) is not None
    assert steps_to_converge(A, w0, 1.01 * lr_max, max_steps=100_000) is None
    far = gradient_descent(A, w0, 1.01 * lr_max, 2000)[-1]
    assert np.linalg.norm(far) > 1e3 * np.linalg.norm(w0)


@pytest.mark.parametrize("lam,lr,tol", [(1.0, 0.1, 1e-6), (25.0, 0.075, 1e-3), (4.0, 0.4, 1e-8), (3.0, 0.6, 1e-4)])
def test_step_count_along_one_eigenvector(lam, lr, tol):
    """Along an eigenvector the error is multiplied by |1 - lr lam| each step."""
    A = np.diag([lam, 100.0 * lam])
    w0 = np.array([2.0, 0.0])
    expected = math.ceil(math.log(tol) / math.log(abs(1 - lr * lam)) - 1e-9)
    assert steps_to_converge(A, w0, lr, tol=tol) == expected


def test_step_count_agrees_with_the_path():
    A, _, _ = _spd(7, 4, 50.0)
    w0 = np.ones(4)
    lr, tol = 0.8 * max_stable_lr(A), 1e-5
    k = steps_to_converge(A, w0, lr, tol=tol)
    dist = np.linalg.norm(gradient_descent(A, w0, lr, k + 1), axis=1)
    assert dist[k] <= tol * dist[0] < dist[k - 1]


def test_identity_hessian_converges_in_one_step_at_lr_one():
    assert best_lr(np.eye(3)) == 1.0
    assert steps_to_converge(np.eye(3), np.array([3.0, -1.0, 2.0]), 1.0) == 1


def test_best_lr_minimises_the_worst_case_contraction():
    """The spectral radius of I - lr A is smallest at best_lr, where it equals (kappa - 1) / (kappa + 1)."""
    A, _, lam = _spd(11, 3, 25.0)
    radius = lambda lr: np.abs(np.linalg.eigvalsh(np.eye(3) - lr * A)).max()  # noqa: E731
    assert best_lr(A) == pytest.approx(2.0 / 26.0, rel=1e-12)
    assert radius(best_lr(A)) == pytest.approx(24.0 / 26.0, rel=1e-12)
    for lr in np.linspace(0.005, 0.079, 60):
        assert radius(float(lr)) >= radius(best_lr(A)) - 1e-15


def test_ill_conditioning_needs_many_more_steps():
    """With the best learning rate the step count grows like kappa."""
    counts = [steps_to_converge(np.diag([1.0, k]), np.ones(2), best_lr(np.diag([1.0, k]))) for k in (10, 100, 1000)]
    assert counts[0] < counts[1] < counts[2]
    assert 8 < counts[2] / counts[1] < 12 and 8 < counts[1] / counts[0] < 12


def test_start_at_the_minimum_needs_no_step():
    assert steps_to_converge(np.eye(2), np.array([1.0, 2.0]), 0.5, w_star=np.array([1.0, 2.0])) == 0


def test_loss_values_on_a_grid():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    w_star = np.array([1.0, -1.0])
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 4)), axis=-1)
    f = quadratic_loss(grid, A, w_star)
    assert f.shape == (4, 5)
    i, j = 2, 3
    e = grid[i, j] - w_star
    assert f[i, j] == pytest.approx(0.5 * e @ A @ e, rel=1e-14)
    assert quadratic_loss(w_star, A, w_star) == 0.0
    assert np.all(f >= 0)


def test_descent_decreases_the_loss_when_stable():
    A, _, _ = _spd(3, 3, 10.0)
    path = gradient_descent(A, np.array([1.0, -2.0, 0.5]), 0.9 * max_stable_lr(A), 50)
    f = quadratic_loss(path, A)
    assert np.all(np.diff(f) < 0)


def _raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


def test_bad_input_gets_clear_errors():
    A, w0 = np.diag([1.0, 2.0]), np.ones(2)
    _raises(ValueError, "A must be a square matrix", max_stable_lr, np.ones((2, 3)))
    _raises(ValueError, "A must be symmetric", max_stable_lr, np.array([[1.0, 2.0], [0.0, 1.0]]))
    _raises(ValueError, "positive definite", max_stable_lr, np.diag([1.0, -1.0]))
    _raises(ValueError, "positive definite", best_lr, np.zeros((2, 2)))
    _raises(ValueError, "finite", max_stable_lr, np.diag([1.0, np.nan]))
    _raises(TypeError, "A must have a floating dtype", max_stable_lr, np.eye(2, dtype=int))
    _raises(TypeError, "A must be a numpy.ndarray", max_stable_lr, [[1.0, 0.0], [0.0, 1.0]])
    _raises(ValueError, "w0 must have shape (2,)", gradient_descent, A, np.ones(3), 0.1, 5)
    _raises(ValueError, "w_star must have shape (2,)", steps_to_converge, A, w0, 0.1, w_star=np.ones((2, 1)))
    _raises(ValueError, "lr must be a finite number > 0", gradient_descent, A, w0, 0.0, 5)
    _raises(TypeError, "lr must be a positive real number", gradient_descent, A, w0, "0.1", 5)
    _raises(ValueError, "steps must be >= 1", gradient_descent, A, w0, 0.1, 0)
    _raises(TypeError, "steps must be an integer", gradient_descent, A, w0, 0.1, 2.5)
    _raises(ValueError, "tol must be a real number in (0, 1)", steps_to_converge, A, w0, 0.1, tol=0.0)
    _raises(ValueError, "w must have last axis of length 2", quadratic_loss, np.ones((4, 3)), A)
