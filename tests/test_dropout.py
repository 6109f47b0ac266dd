"""Dropout: identities, keep fraction, scaling, gradients, seeding and the original formulation."""
import numpy as np
import pytest

import companion as c


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(200, 50))


def test_p_zero_and_eval_are_the_identity(x):
    for y, mask in (c.dropout_forward(x, p=0.0, rng=1), c.dropout_forward(x, p=0.7, training=False, rng=1)):
        np.testing.assert_array_equal(y, x)
        assert mask.dtype == bool and mask.all()
        assert y is not x


def test_p_one_gives_zeros_not_nan(x):
    y, mask = c.dropout_forward(x, p=1.0, rng=1)
    assert np.all(y == 0) and not mask.any()
    dx = c.dropout_backward(np.ones_like(x), mask, 1.0)
    assert np.all(dx == 0) and np.all(np.isfinite(dx))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_keep_fraction_is_binomial(p):
    n = 100_000
    _, mask = c.dropout_forward(np.ones(n), p=p, rng=123)
    q = 1 - p
    sigma = np.sqrt(n * q * (1 - q))
    assert abs(mask.sum() - n * q) < 5 * sigma


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_output_is_masked_and_rescaled(x, p):
    y, mask = c.dropout_forward(x, p=p, rng=7)
    np.testing.assert_allclose(y, x * mask / (1 - p), rtol=1e-15)
    dy = np.random.default_rng(1).normal(size=x.shape)
    dx = c.dropout_backward(dy, mask, p)
    np.testing.assert_allclose(dx, dy * mask / (1 - p), rtol=1e-15)


def test_backward_matches_numeric_gradient():
    rng = np.random.default_rng(2)
    x, dy = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    _, mask = c.dropout_forward(x, p=0.4, rng=5)
    numeric = c.numerical_gradient(lambda v: c.dropout_forward(v, p=0.4, rng=5)[0], x.copy(), dy)
    assert c.rel_error(numeric, c.dropout_backward(dy, mask, 0.4)) < 1e-9


def test_same_seed_same_mask_and_generator_is_advanced(x):
    _, m1 = c.dropout_forward(x, 0.5, rng=42)
    _, m2 = c.dropout_forward(x, 0.5, rng=42)
    np.testing.assert_array_equal(m1, m2)
    g = np.random.default_rng(42)
    _, m3 = c.dropout_forward(x, 0.5, rng=g)
    _, m4 = c.dropout_forward(x, 0.5, rng=g)
    np.testing.assert_array_equal(m1, m3)
    assert (m3 != m4).any()


def test_dtype_is_preserved():
    x32 = np.ones((10, 10), np.float32)
    y, _ = c.dropout_forward(x32, 0.5, rng=0)
    assert y.dtype == np.float32


def test_expectation_of_both_formulations_matches_eval():
    """E[train output] equals the eval output, for inverted and original dropout alike."""
    x = np.linspace(-2.0, 3.0, 20)
    p, trials = 0.3, 20_000
    g = np.random.default_rng(3)
    inv = np.mean([c.dropout_forward(x, p, rng=g)[0] for _ in range(trials)], axis=0)
    orig = np.mean([c.original_dropout_forward(x, p, rng=g)[0] for _ in range(trials)], axis=0)
    # standard error of a mean of `trials` draws of x * Bernoulli(q) / q (resp. x * Bernoulli(q))
    q = 1 - p
    se_inv = np.abs(x) * np.sqrt(q * (1 - q)) / q / np.sqrt(trials)
    se_orig = np.abs(x) * np.sqrt(q * (1 - q)) / np.sqrt(trials)
    assert np.all(np.abs(inv - c.dropout_forward(x, p, training=False)[0]) <= 5 * se_inv + 1e-12)
    assert np.all(np.abs(orig - c.original_dropout_forward(x, p, training=False)[0]) <= 5 * se_orig + 1e-12)
    np.testing.assert_allclose(c.original_dropout_forward(x, p, training=False)[0], q * x)


def test_original_dropout_training_and_backward():
    x = np.random.default_rng(4).normal(size=(6, 6))
    y, mask = c.original_dropout_forward(x, 0.5, rng=9)
    np.testing.assert_array_equal(y, x * mask)
    np.testing.assert_array_equal(c.original_dropout_backward(np.ones_like(x), mask), mask.astype(float))


def test_layer_train_eval_and_backward(x):
    layer = c.Dropout(0.25, rng=0)
    assert repr(layer) == "Dropout(p=0.25)"
    y = layer(x)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), layer.mask / 0.75)
    np.testing.assert_allclose(y, x * layer.mask / 0.75)
    assert layer.eval() is layer and not layer.training
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    assert layer.train() is layer and layer.training


def test_difference_no_inplace_argument_and_input_never_modified():
    """torch's dropout layers take inplace=True; the companion's never modify their input (differences page)."""
    import torch

    assert "inplace" in repr(torch.nn.Dropout(0.5, inplace=True)) or torch.nn.Dropout(0.5, inplace=True).inplace
    x = np.ones((4, 5))
    for layer in (c.Dropout(0.5, rng=0), c.Dropout1d(0.5, rng=0), c.AlphaDropout(0.5, rng=0)):
        with pytest.raises(TypeError):
            type(layer)(0.5, inplace=True)
        y = layer(x)
        assert y is not x and np.all(x == 1.0)
