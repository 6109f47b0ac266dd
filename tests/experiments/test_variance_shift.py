"""Variance shift between dropout and batch normalization: closed forms against Monte Carlo and torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.dropout import dropout_forward  # noqa: E402
from companion.experiments.variance_shift import (  # noqa: E402
    dropout_variance_ratio,
    input_variances,
    linear_variance_ratio,
)

from _torch_models import dropout_bn  # noqa: E402


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (2.0, 0.5), (-1.0, 3.0)])
def test_dropout_variance_ratio_matches_monte_carlo(p, mean, std):
    rng = np.random.default_rng(0)
    x = rng.normal(mean, std, size=2_000_000)
    y, _ = dropout_forward(x, p, True, rng)
    measured = y.var() / x.var()
    assert measured == pytest.approx(dropout_variance_ratio(p, mean, std**2), rel=2e-2)


def test_dropout_variance_ratio_special_values_and_arrays():
    assert dropout_variance_ratio(0.5) == 2.0
    assert dropout_variance_ratio(0.0, 5.0, 1.0) == 1.0
    assert dropout_variance_ratio(0.5, 1.0, 1.0) == 3.0  # (1 + 0.5) / 0.5
    r = dropout_variance_ratio(0.25, np.array([0.0, 1.0]), np.array([1.0, 4.0]))
    np.testing.assert_allclose(r, [4 / 3, (1 + 0.25 / 4) / 0.75])


def test_dropout_variance_ratio_errors():
    with pytest.raises(ValueError, match="p must be in"):
        dropout_variance_ratio(1.0)
    with pytest.raises(TypeError, match="p must be a real number"):
        dropout_variance_ratio("0.5")
    with pytest.raises(ValueError, match="var must be"):
        dropout_variance_ratio(0.5, 0.0, 0.0)


def test_linear_variance_ratio_matches_monte_carlo_and_the_identity_case():
    rng = np.random.default_rng(1)
    x = np.maximum(rng.normal(size=(200_000, 6)) @ rng.normal(size=(6, 6)), 0)  # correlated ReLU features
    w = rng.normal(size=(3, 6))
    p = 0.4
    y, _ = dropout_forward(x, p, True, rng)
    measured = (y @ w.T).var(axis=0) / (x @ w.T).var(axis=0)
    np.testing.assert_allclose(linear_variance_ratio(w, x, p), measured, rtol=2e-2)
    # through the identity it is the per-feature closed form
    np.testing.assert_allclose(linear_variance_ratio(np.eye(6), x, p),
                               dropout_variance_ratio(p, x.mean(0), x.var(0)), rtol=1e-10)


def test_linear_variance_ratio_errors():
    with pytest.raises(ValueError, match="shape"):
        linear_variance_ratio(np.ones((2, 3)), np.ones((5, 4)), 0.5)
    with pytest.raises(ValueError, match="constant"):
        linear_variance_ratio(np.ones((1, 2)), np.ones((5, 2)), 0.5)
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        linear_variance_ratio(np.ones((1, 2)), [[1.0, 2.0]], 0.5)


def test_input_variances_measures_the_shift_before_batch_norm_and_restores_modes():
    torch.manual_seed(0)
    model = dropout_bn(0.5)
    X = np.random.default_rng(2).normal(size=(100_000, 4)).astype(np.float32)
    model.train()
    model[3].eval()
    var_train, var_eval = input_variances(model, model[3], X)
    with torch.no_grad():
        h = model[1](model[0](torch.as_tensor(X))).double().numpy()
    np.testing.assert_allclose(var_eval, h.var(axis=0), rtol=1e-6)
    np.testing.assert_allclose(var_train / var_eval, dropout_variance_ratio(0.5, h.mean(0), h.var(0)), rtol=3e-2)
    assert model.training and model[2].training and not model[3].training  # modes restored
    # the same seed gives the same masks
    np.testing.assert_array_equal(input_variances(model, model[3], X[:50], seed=3)[0],
                                  input_variances(model, model[3], X[:50], seed=3)[0])


def test_input_variances_per_channel_of_feature_maps_and_errors():
    model = nn.Sequential(nn.Dropout2d(0.5), nn.BatchNorm2d(3))
    X = np.random.default_rng(3).normal(size=(4000, 3, 4, 4)).astype(np.float32)
    var_train, var_eval = input_variances(model, model[1], X)
    assert var_train.shape == var_eval.shape == (3,)
    np.testing.assert_allclose(var_eval, X.var(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(var_train / var_eval, 2.0, rtol=0.1)
    with pytest.raises(ValueError, match="submodule"):
        input_variances(model, nn.BatchNorm2d(3), X)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        input_variances(model, "bn", X)
    with pytest.raises(TypeError, match="X must be a numpy.ndarray"):
        input_variances(model, model[1], torch.zeros(2, 3, 4, 4))
