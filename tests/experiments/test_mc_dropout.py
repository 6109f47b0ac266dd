"""Monte-Carlo dropout: masks are drawn only in dropout layers, seeding, mode restoring, uncertainty scores."""
import numpy as np
import pytest
import torch
from torch import nn

from companion.experiments.mc_dropout import detection_auc, mc_predict, mutual_information, predictive_entropy
from companion.experiments.training import make_mlp, predict


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)


def test_samples_differ_and_are_probabilities(X):
    model = make_mlp([6, 16, 4], dropout=0.5, seed=0)
    probs = mc_predict(model, X, n_samples=8, seed=1)
    assert probs.shape == (8, 20, 4) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, rtol=1e-5)
    assert np.abs(probs[0] - probs[1]).max() > 1e-3  # different masks, different predictions


def test_zero_dropout_gives_the_deterministic_prediction(X):
    model = make_mlp([6, 16, 4], seed=0)
    model = nn.Sequential(*model[:2], nn.Dropout(0.0), *model[2:])
    probs = mc_predict(model, X, n_samples=3)
    for s in range(3):
        np.testing.assert_allclose(probs[s], _softmax(predict(model, X)), rtol=1e-5, atol=1e-7)


def test_masks_follow_inverted_dropout_and_average_to_the_eval_network():
    """With a linear model after dropout, the mean of many samples' logits is the eval logits."""
    torch.manual_seed(0)
    lin = nn.Linear(5, 3)
    model = nn.Sequential(nn.Dropout(0.3), lin)
    X = np.ones((1, 5), np.float32)
    probs = mc_predict(model, X, n_samples=4000, seed=2)
    logits = np.log(probs[:, 0, :])  # log-softmax: logits up to a per-sample constant
    logits -= logits[:, :1]
    eval_logits = (lin(torch.as_tensor(X)).detach().numpy() - lin(torch.as_tensor(X)).detach().numpy()[:, :1])[0]
    # each sample's logits are W (x * m / 0.7) + b: their mean is the eval logits
    se = logits.std(axis=0) / np.sqrt(len(logits))
    assert np.all(np.abs(logits.mean(axis=0) - eval_logits) < 5 * se + 1e-6)


def test_same_seed_same_samples_and_global_rng_untouched(X):
    model = make_mlp([6, 16, 4], dropout=0.5, seed=0)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = mc_predict(model, X, n_samples=4, seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    b = mc_predict(model, X, n_samples=4, seed=7)
    c = mc_predict(model, X, n_samples=4, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_batchnorm_stays_in_eval_mode_and_modes_are_restored(X):
    model = make_mlp([6, 16, 4], norm="batch", dropout=0.5, seed=0)
    bn = model[1]
    assert isinstance(bn, nn.BatchNorm1d)
    with torch.no_grad():
        model(torch.as_tensor(X))  # training mode: move the running statistics off their initial values
    running_mean, running_var = bn.running_mean.clone(), bn.running_var.clone()
    probs = mc_predict(model, X, n_samples=2, seed=3)
    assert probs.shape == (2, 20, 4)
    assert torch.equal(bn.running_mean, running_mean) and torch.equal(bn.running_var, running_var)
    assert all(m.training for m in model.modules())  # restored
    model.eval()
    mc_predict(model, X, n_samples=1)
    assert not any(m.training for m in model.modules())


def test_prediction_does_not_depend_on_the_batch():
    """BN in eval mode: the same input gets the same prediction alone or in a batch (masks aside)."""
    X = np.random.default_rng(4).normal(size=(12, 6)).astype(np.float32)
    model = make_mlp([6, 16, 4], norm="batch", seed=0)
    with torch.no_grad():
        model(torch.as_tensor(X))
    model = nn.Sequential(*model, nn.Dropout(0.0)).train()
    whole = mc_predict(model, X, n_samples=1, batch_size=12)
    one_by_one = mc_predict(model, X, n_samples=1, batch_size=1)  # training-mode BN would fail on a batch of 1
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-5, atol=1e-6)


def test_entropy_and_mutual_information_known_values():
    C = 4
    uniform = np.full((3, 5, C), 1.0 / C)
    onehot = np.zeros((3, 5, C))
    onehot[..., 1] = 1.0
    np.testing.assert_allclose(predictive_entropy(uniform), np.log(C))
    np.testing.assert_allclose(predictive_entropy(onehot), 0.0, atol=1e-12)
    np.testing.assert_allclose(mutual_information(uniform), 0.0, atol=1e-12)
    # two confident samples that disagree: the mean is uniform over two classes
    disagree = np.zeros((2, 1, C))
    disagree[0, 0, 0] = disagree[1, 0, 1] = 1.0
    np.testing.assert_allclose(predictive_entropy(disagree), np.log(2))
    np.testing.assert_allclose(mutual_information(disagree), np.log(2))
    # a single (N, C) prediction is accepted by predictive_entropy
    np.testing.assert_allclose(predictive_entropy(uniform[0]), np.log(C))


def test_mutual_information_is_between_zero_and_predictive_entropy():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(10) * 0.3, size=(16, 50))
    mi, h = mutual_information(probs), predictive_entropy(probs)
    assert np.all(mi >= 0) and np.all(mi <= h + 1e-12)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(n_samples=0), ValueError, "n_samples must be >= 1"),
    (dict(n_samples=2.5), TypeError, "n_samples must be an integer"),
    (dict(n_samples=2, seed="a"), TypeError, "seed must be an int"),
    (dict(n_samples=2, batch_size=0), ValueError, "batch_size must be >= 1"),
])
def test_bad_arguments_are_named(X, kwargs, exc, words):
    model = make_mlp([6, 16, 4], dropout=0.5, seed=0)
    with pytest.raises(exc, match=words):
        mc_predict(model, X, **kwargs)


def test_model_without_dropout_and_bad_inputs_are_rejected(X):
    with pytest.raises(ValueError, match="no dropout module"):
        mc_predict(make_mlp([6, 16, 4], seed=0), X, n_samples=2)
    model = make_mlp([6, 16, 4], dropout=0.5, seed=0)
    with pytest.raises(TypeError, match="X must be a numpy.ndarray"):
        mc_predict(model, torch.as_tensor(X), n_samples=2)
    with pytest.raises(ValueError, match="probability vectors"):
        predictive_entropy(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"shape \(S, N, C\)"):
        mutual_information(np.full((5, 4), 0.25))


def test_detection_auc_known_values():
    familiar = np.array([0.1, 0.2, 0.3])
    assert detection_auc(familiar, np.array([0.4, 0.5])) == 1.0
    assert detection_auc(familiar, np.array([0.0, 0.05])) == 0.0
    # 0.25 beats 2 of 3, 0.2 beats 1 and ties 1: (2 + 1.5) / 6
    assert detection_auc(familiar, np.array([0.25, 0.2])) == pytest.approx(3.5 / 6, abs=1e-15)
    assert detection_auc(np.ones(4), np.ones(7)) == 0.5


@pytest.mark.parametrize("seed", range(5))
def test_detection_auc_equals_scikit_learns_roc_auc(seed):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    # rounded to 1 decimal: many ties, within and across the two groups
    familiar = np.round(rng.normal(0, 1, 300), 1)
    unfamiliar = np.round(rng.normal(0.7, 1.5, 200), 1).astype(np.float32)
    expected = roc_auc_score(np.r_[np.zeros(300), np.ones(200)], np.r_[familiar, unfamiliar])
    assert detection_auc(familiar, unfamiliar) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("args, exc, words", [
    ((np.zeros((2, 2)), np.zeros(3)), ValueError, "in_scores must be one score per input"),
    ((np.zeros(2), np.array([0.0, np.nan])), ValueError, "out_scores must be finite"),
    ((np.zeros(2), [0.1, 0.2]), TypeError, "out_scores must be a numpy.ndarray"),
    ((np.zeros(0), np.zeros(3)), ValueError, "in_scores must not be empty"),
])
def test_detection_auc_rejects_bad_scores(args, exc, words):
    with pytest.raises(exc, match=words):
        detection_auc(*args)
