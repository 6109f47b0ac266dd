"""recalibrate_batchnorm: running statistics recomputed exactly, nothing else touched, clear errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.calibration import batchnorm_layers, recalibrate_batchnorm  # noqa: E402

from _torch_models import dropout_bn  # noqa: E402


def _model(dropout=0.0, seed=0):
    torch.manual_seed(seed)
    layers = [nn.Linear(5, 4)]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3), nn.BatchNorm1d(3)]
    return nn.Sequential(*layers).double()


def _pre_bn(model, X):
    """Inputs of every BatchNorm layer, computed with the final running statistics (eval mode)."""
    seen = []
    hooks = [bn.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].clone())) for bn in batchnorm_layers(model)]
    model.eval()
    with torch.no_grad():
        model(torch.as_tensor(X))
    for h in hooks:
        h.remove()
    return seen


def test_running_stats_are_batch_averages(rng):
    model = _model()
    X = rng.normal(2.0, 3.0, size=(24, 5))
    recalibrate_batchnorm(model, X, batch_size=6)
    bn1, bn2 = batchnorm_layers(model)
    # first layer: its input does not depend on any running statistic
    h = _pre_bn(model, X)[0].numpy()
    np.testing.assert_allclose(bn1.running_mean.numpy(), h.mean(axis=0), rtol=1e-12, atol=1e-12)
    batch_vars = [h[i : i + 6].var(axis=0, ddof=1) for i in range(0, 24, 6)]
    np.testing.assert_allclose(bn1.running_var.numpy(), np.mean(batch_vars, axis=0), rtol=1e-12)
    assert int(bn1.num_batches_tracked) == 4 and int(bn2.num_batches_tracked) == 4


def test_second_layer_sees_training_mode_first_layer(rng):
    """Every BN layer normalizes with batch statistics during recalibration (as in training)."""
    model = _model()
    X = rng.normal(size=(8, 5))
    recalibrate_batchnorm(model, X, batch_size=8)
    bn1, bn2 = batchnorm_layers(model)
    lin1, lin2 = model[0], model[3]
    with torch.no_grad():
        h = torch.relu(nn.functional.batch_norm(lin1(torch.as_tensor(X)), None, None, bn1.weight, bn1.bias, True))
        z = lin2(h)
    np.testing.assert_allclose(bn2.running_mean.numpy(), z.mean(0).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn2.running_var.numpy(), z.var(0, unbiased=True).numpy(), rtol=1e-12)


def test_forgets_old_statistics_and_restores_state(rng):
    model = _model()
    for bn, mom in zip(batchnorm_layers(model), (0.3, 0.01)):
        bn.momentum = mom
        bn.running_mean.fill_(100.0)
        bn.running_var.fill_(50.0)
    params = [p.detach().clone() for p in model.parameters()]
    model.train()
    model[2].eval()  # a mixed state must come back unchanged
    X = rng.normal(size=(10, 5))
    grad_enabled = []
    model[0].register_forward_hook(lambda mod, inp, out: grad_enabled.append(torch.is_grad_enabled()))
    once = recalibrate_batchnorm(model, X, batch_size=5)
    assert grad_enabled == [False, False]
    assert once is model
    assert [m.training for m in model.modules()] == [True, True, True, False, True, True]
    assert [bn.momentum for bn in batchnorm_layers(model)] == [0.3, 0.01]
    for p, q in zip(params, model.parameters()):
        assert torch.equal(p, q) and q.grad is None
    stats = [bn.running_mean.clone() for bn in batchnorm_layers(model)]
    recalibrate_batchnorm(model, X, batch_size=5)  # idempotent: the old values are forgotten
    for s, bn in zip(stats, batchnorm_layers(model)):
        assert torch.equal(s, bn.running_mean)
        assert np.all(np.abs(s.numpy()) < 100.0)


def test_dropout_is_off_during_recalibration(rng):
    X = rng.normal(size=(12, 5))
    with_dropout = recalibrate_batchnorm(_model(dropout=0.5), X, batch_size=4)
    without = recalibrate_batchnorm(_model(dropout=0.0), X, batch_size=4)
    for a, b in zip(batchnorm_layers(with_dropout), batchnorm_layers(without)):
        np.testing.assert_allclose(a.running_mean.numpy(), b.running_mean.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.running_var.numpy(), b.running_var.numpy(), rtol=1e-12)


def test_single_sample_last_batch_is_skipped(rng):
    model = _model()
    X = rng.normal(size=(7, 5))
    recalibrate_batchnorm(model, X, batch_size=3)  # batches of 3, 3 and 1
    assert int(batchnorm_layers(model)[0].num_batches_tracked) == 2
    h = _pre_bn(model, X[:6])[0].numpy()
    np.testing.assert_allclose(batchnorm_layers(model)[0].running_mean.numpy(), h.mean(axis=0), atol=1e-12)


def test_float32_numpy_input_and_fixes_a_lagging_model(rng):
    """The use case: a tiny momentum leaves running stats near (0, 1); recalibration matches batch stats."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2, momentum=1e-4))
    X = (rng.normal(size=(64, 3)) * 5 + 10).astype(np.float32)
    model.train()
    with torch.no_grad():
        model(torch.as_tensor(X))
    bn = model[1]
    h = model[0](torch.as_tensor(X)).detach().numpy()
    assert np.all(np.abs(bn.running_mean.numpy() - h.mean(0)) > 1.0)
    recalibrate_batchnorm(model, X, batch_size=64)
    np.testing.assert_allclose(bn.running_mean.numpy(), h.mean(0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "model, X, batch_size, exc, match",
    [
        ("not a model", np.zeros((4, 5)), 2, TypeError, "torch.nn.Module"),
        (nn.Sequential(nn.Linear(5, 2)), np.zeros((4, 5)), 2, ValueError, "no BatchNorm"),
        (nn.Sequential(nn.BatchNorm1d(5, track_running_stats=False)), np.zeros((4, 5)), 2, ValueError, "no BatchNorm"),
        (None, np.zeros((4, 5)), 1, ValueError, "batch_size"),
        (None, np.zeros((4, 5)), 2.0, ValueError, "batch_size"),
        (None, np.zeros((4, 5)), True, ValueError, "batch_size"),
        (None, [[0.0] * 5] * 4, 2, TypeError, "X must be"),
        (None, np.zeros((1, 5)), 2, ValueError, "N >= 2"),
        (None, np.zeros(5), 2, ValueError, "shape"),
        (None, np.zeros((4, 5), dtype=np.int64), 2, TypeError, "floating"),
    ],
)
def test_bad_input(model, X, batch_size, exc, match):
    model = _model() if model is None else model
    with pytest.raises(exc, match=match):
        recalibrate_batchnorm(model, X, batch_size=batch_size)


def test_recalibrate_batchnorm_uses_dropout_free_inputs_and_restores_state():
    torch.manual_seed(0)
    model = dropout_bn(0.5)
    X = np.random.default_rng(4).normal(size=(500, 4)).astype(np.float32)
    model.train()
    with torch.no_grad():
        for _ in range(20):
            model(torch.as_tensor(X))  # running statistics of dropped-out inputs
    model[3].momentum = 0.3
    recalibrate_batchnorm(model, X, batch_size=100)
    with torch.no_grad():
        h = model[1](model[0](torch.as_tensor(X))).double()
    batches = h.reshape(5, 100, -1)
    np.testing.assert_allclose(model[3].running_mean.numpy(), h.mean(0).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model[3].running_var.numpy(), batches.var(dim=1, unbiased=True).mean(0).numpy(),
                               rtol=1e-5)
    assert model[3].momentum == 0.3 and model.training and model[2].training
    assert int(model[3].num_batches_tracked) == 5


def test_recalibrate_batchnorm_errors():
    with pytest.raises(ValueError, match="no BatchNorm layer"):
        recalibrate_batchnorm(nn.Sequential(nn.Linear(2, 2)), np.ones((3, 2), np.float32))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        recalibrate_batchnorm("model", np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="batch_size"):
        recalibrate_batchnorm(nn.Sequential(nn.BatchNorm1d(2)), np.ones((3, 2), np.float32), batch_size=0)
