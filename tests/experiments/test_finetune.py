"""companion.experiments.finetune: what requires_grad=False, eval() and both together freeze in a BatchNorm layer."""
import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.finetune import FineTuneWrapper, finetune_changes, finetune_probe, freeze_batchnorm  # noqa: E402
from companion.experiments.training import train  # noqa: E402


def _model(seed=0, affine=True):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 5),
                         nn.BatchNorm1d(5, affine=affine), nn.ReLU(), nn.Linear(5, 3))


def _data(rng, n=16):
    X = rng.normal(2.0, 3.0, size=(n, 6)).astype(np.float32)
    return X, rng.integers(0, 3, size=n)


def _bns(model):
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]


def _only_requires_grad(model):
    for bn in _bns(model):
        for p in bn.parameters():
            p.requires_grad_(False)


def test_freeze_sets_eval_and_no_grad_only_on_batchnorm():
    model = _model().train()
    assert freeze_batchnorm(model) is model
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            assert not m.training
            assert all(not p.requires_grad for p in m.parameters())
        elif m is not model:
            assert m.training
    assert all(p.requires_grad for p in model[0].parameters()) and all(p.requires_grad for p in model[7].parameters())


def test_frozen_layer_keeps_its_statistics_in_a_training_forward(rng):
    model = freeze_batchnorm(_model().train())
    before = [bn.running_mean.clone() for bn in _bns(model)]
    model(torch.as_tensor(_data(rng)[0]))
    assert all(torch.equal(b, bn.running_mean) for b, bn in zip(before, _bns(model)))


def test_requires_grad_alone_lets_statistics_drift(rng):
    model = _model().train()
    _only_requires_grad(model)
    before = _bns(model)[0].running_mean.clone()
    model(torch.as_tensor(_data(rng)[0]))
    assert (_bns(model)[0].running_mean - before).abs().max() > 0.1


def test_model_train_undoes_the_freeze_but_the_wrapper_does_not():
    model = freeze_batchnorm(_model())
    model.train()
    assert all(bn.training for bn in _bns(model))  # the pitfall
    wrapped = FineTuneWrapper(_model())
    wrapped.train()
    assert not any(bn.training for bn in _bns(wrapped.model)) and wrapped.model[0].training
    wrapped.eval()
    assert not any(m.training for m in wrapped.modules())
    wrapped.train()
    assert wrapped.model[3].training and not _bns(wrapped.model)[0].training


def test_wrapper_survives_companion_training_loop(rng):
    model = _model()
    before = copy.deepcopy(model.state_dict())
    X, y = _data(rng, 64)
    train(FineTuneWrapper(model), X, y, epochs=2, batch_size=16, lr=0.05, seed=0)
    after = model.state_dict()
    for key in before:
        if key.startswith(("1.", "5.")):  # the two BatchNorm layers: parameters and buffers unchanged
            assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["0.weight"], after["0.weight"])
    assert not torch.equal(before["7.weight"], after["7.weight"])


def test_changes_of_the_three_recipes(rng):
    X, y = _data(rng)
    model = _model()
    state = copy.deepcopy(model.state_dict())
    none = finetune_changes(model, X, y, lambda m: None)
    grad_only = finetune_changes(model, X, y, _only_requires_grad)
    frozen = finetune_changes(model, X, y, freeze_batchnorm)
    for key, value in model.state_dict().items():  # the model itself is untouched
        assert torch.equal(value, state[key])
    assert [a.shape for a in frozen] == [(4,), (4,), (6,)]
    assert np.all(none[0] > 0) and np.all(grad_only[0] > 0)  # statistics drift in train mode
    assert np.all(frozen[0] == 0) and np.all(frozen[1] == 0)
    assert np.all(grad_only[1] == 0) and np.all(none[1] > 0)
    assert frozen[2][0] > 0 and frozen[2][-1] > 0  # the other layers still learn
    np.testing.assert_array_equal(finetune_probe(freeze_batchnorm)(model, X, y)[2], frozen[2])


def test_affine_false_model_and_deterministic(rng):
    X, y = _data(rng)
    model = _model(affine=False)
    a = finetune_changes(model, X, y, freeze_batchnorm, seed=3)
    b = finetune_changes(model, X, y, freeze_batchnorm, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    none = finetune_changes(model, X, y, lambda m: None)
    assert np.all(none[1][:2] > 0) and np.all(none[1][2:] == 0)  # affine=False: no gamma, no beta reported


def test_errors(rng):
    X, y = _data(rng)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        freeze_batchnorm("net")
    with pytest.raises(ValueError, match="no BatchNorm layer"):
        freeze_batchnorm(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="prepare must be callable"):
        finetune_changes(_model(), X, y, None)
    with pytest.raises(TypeError, match="prepare must be callable"):
        FineTuneWrapper(_model(), prepare=3)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        finetune_changes(_model(), X, y, freeze_batchnorm, steps=0)
    with pytest.raises(ValueError, match="same number N >= 2"):
        finetune_changes(_model(), X, y[:-1], freeze_batchnorm)
    with pytest.raises(ValueError, match="in place"):
        finetune_changes(_model(), X, y, lambda m: copy.deepcopy(m))
    with pytest.raises(ValueError, match="tracks running statistics"):
        finetune_changes(nn.Sequential(nn.Linear(6, 3)), X, y, lambda m: None)
