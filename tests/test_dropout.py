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
    assert repr(layer) == "Dropout(p=0.25, inplace=False)"
    y = layer(x)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), layer.mask / 0.75)
    np.testing.assert_allclose(y, x * layer.mask / 0.75)
    assert layer.eval() is layer and not layer.training
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    assert layer.train() is layer and layer.training


# ---- inplace=True, as torch.nn.Dropout(p, inplace=True) and its relatives ----

_INPLACE_LAYERS = [("Dropout", (6, 5)), ("Dropout1d", (4, 3, 5)), ("Dropout2d", (2, 3, 4, 5)),
                   ("Dropout3d", (2, 3, 2, 3, 4)), ("AlphaDropout", (6, 5)), ("FeatureAlphaDropout", (2, 3, 4, 5))]


@pytest.mark.parametrize("name, shape", _INPLACE_LAYERS)
@pytest.mark.parametrize("p", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inplace_layer_overwrites_and_returns_its_input(name, shape, p, training, dtype):
    """torch/nn/modules/dropout.py: with inplace=True the output is the input tensor itself (overwritten in training,
    unchanged in eval or with p = 0). The values are bit for bit those of inplace=False with the same mask, and the
    backward pass needs only the mask: it is right even after the caller overwrites the returned array."""
    import torch

    rng = np.random.default_rng(len(shape))
    x, dy = rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)
    plain = getattr(c, name)(p, rng=7).train(training)
    inplace = getattr(c, name)(p, inplace=True, rng=7).train(training)
    assert repr(inplace) == repr(getattr(torch.nn, name)(p, inplace=True))
    assert repr(plain) == repr(getattr(torch.nn, name)(p))
    x_in = x.copy()
    y_plain, y = plain(x), inplace(x_in)
    assert y is x_in
    np.testing.assert_array_equal(y, y_plain)
    assert y_plain is not x and np.array_equal(x, x_in) == (not training or p == 0.0)
    np.testing.assert_array_equal(inplace.mask, plain.mask)
    x_in[...] = np.nan  # the layer must not read its (overwritten) input again
    np.testing.assert_array_equal(inplace.backward(dy), plain.backward(dy))
    # torch agrees that the result is the input itself (the functional form for alpha dropout, see below)
    t = torch.from_numpy(x.copy())
    functional = {"Dropout": torch.nn.functional.dropout, "AlphaDropout": torch.nn.functional.alpha_dropout,
                  "FeatureAlphaDropout": torch.nn.functional.feature_alpha_dropout}
    if name in functional:
        assert functional[name](t, p, training, inplace=True) is t
    else:
        assert getattr(torch.nn, name)(p, inplace=True).train(training)(t) is t


@pytest.mark.parametrize("name, shape", [("dropout_forward", (6, 5)), ("spatial_dropout_forward", (2, 3, 4)),
                                         ("alpha_dropout_forward", (6, 5)), ("feature_alpha_dropout_forward", (2, 3, 4))])
def test_inplace_functional_forms(name, shape):
    """dropout_forward, spatial_dropout_forward, alpha_dropout_forward and feature_alpha_dropout_forward take
    inplace=, as torch.nn.functional.dropout/dropout1d/alpha_dropout/feature_alpha_dropout do; a read-only array
    cannot be overwritten (ValueError) and inplace must be a bool (TypeError)."""
    fn = getattr(c, name)
    x = np.random.default_rng(3).normal(size=shape)
    x_in = x.copy()
    y, mask = fn(x_in, 0.5, rng=11, inplace=True)
    y_plain, mask_plain = fn(x, 0.5, rng=11)
    assert y is x_in and y_plain is not x
    np.testing.assert_array_equal(y, y_plain)
    np.testing.assert_array_equal(mask, mask_plain)
    assert fn(x_in, 0.5, training=False, inplace=True)[0] is x_in
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only, but inplace=True overwrites it"):
        fn(frozen, 0.5, rng=0, inplace=True)
    assert fn(frozen, 0.5, rng=0)[0].flags.writeable  # without inplace a read-only input is fine
    with pytest.raises(TypeError, match="inplace must be True or False"):
        fn(x, 0.5, rng=0, inplace="yes")


def test_difference_without_inplace_always_a_new_array():
    """torch returns the input tensor itself in eval mode and with p = 0 (with or without inplace); the companion
    without inplace always returns a new array, so an array a reader passes in is never aliased nor modified
    (differences page)."""
    import torch

    t = torch.ones(4, 5)
    assert torch.nn.Dropout(0.5).eval()(t) is t and torch.nn.Dropout(0.0)(t) is t
    x = np.ones((4, 5))
    for layer in (c.Dropout(0.5, rng=0), c.Dropout1d(0.5, rng=0), c.AlphaDropout(0.5, rng=0)):
        for mode in (True, False):
            y = layer.train(mode)(x)
            assert y is not x and np.all(x == 1.0)
    assert c.Dropout(0.0)(x) is not x


def test_difference_alpha_dropout_layers_honour_inplace():
    """torch.nn.AlphaDropout and FeatureAlphaDropout accept inplace=True, but their forward calls
    F.alpha_dropout(input, p, training) without it, so they never work in place (torch 2.x); the functional forms
    do. The companion's layers do what the argument says (differences page)."""
    import torch
    import torch.nn.functional as F

    for name, fn in (("AlphaDropout", F.alpha_dropout), ("FeatureAlphaDropout", F.feature_alpha_dropout)):
        t = torch.randn(4, 3, 5)
        before = t.clone()
        out = getattr(torch.nn, name)(0.5, inplace=True)(t)
        assert out is not t and torch.equal(t, before)
        assert fn(t, 0.5, True, inplace=True) is t
        x = np.random.default_rng(0).normal(size=(4, 3, 5))
        assert getattr(c, name)(0.5, inplace=True, rng=0)(x) is x


def test_one_masked_backward_serves_every_inverted_dropout():
    """dropout_backward, spatial/locked_dropout_backward and drop_path_backward all compute dy * mask / (1 - p)
    through companion.dropout.masked_backward; each passes the mask shape it shares values along."""
    from companion.dropout import masked_backward

    rng = np.random.default_rng(12)
    dy, p = rng.normal(size=(4, 3, 5)), 0.3
    cases = [(c.dropout_forward, c.dropout_backward, (4, 3, 5)),
             (c.spatial_dropout_forward, c.spatial_dropout_backward, (4, 3, 1)),
             (c.locked_dropout_forward, c.locked_dropout_backward, (1, 3, 5)),
             (c.drop_path_forward, c.drop_path_backward, (4, 1, 1))]
    for forward, backward, shape in cases:
        _, mask = forward(dy, p, rng=1)
        assert mask.shape == shape
        expected = np.where(np.broadcast_to(mask, dy.shape), dy / (1 - p), 0.0)
        np.testing.assert_allclose(backward(dy, mask, p), expected, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(masked_backward(dy, mask, p, shape), backward(dy, mask, p))
    with pytest.raises(ValueError, match=r"mask must have shape \(4, 3, 1\) for dy of shape \(4, 3, 5\)"):
        c.feature_alpha_dropout_backward(dy, np.ones((4, 3, 5), bool), p)
