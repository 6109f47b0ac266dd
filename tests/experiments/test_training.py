"""The training helpers: model builder, the SGD optimizer (bit-for-bit torch.optim.SGD), train loop."""
import numpy as np
import pytest
import torch

from companion.experiments.data import load_digits_split
from companion.experiments.training import SGD, accuracy, accuracy_in_train_mode, make_mlp, train


@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.9, 1e-3), (0.5, 1e-2)])
def test_sgd_is_bitwise_torch_sgd(momentum, weight_decay):
    X, y, _, _ = load_digits_split(n_train=256)
    a = make_mlp([64, 32, 10], norm="batch", dropout=0.2, seed=3)
    b = make_mlp([64, 32, 10], norm="batch", dropout=0.2, seed=3)
    opt_a = SGD(a.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for step in range(15):
        idx = slice(16 * step, 16 * step + 32)
        for model, opt in ((a, opt_a), (b, opt_b)):
            torch.manual_seed(step)  # same dropout masks in both
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 1e-3)])
def test_sgd_is_bitwise_torch_sgd_when_some_parameters_get_no_gradient(momentum, weight_decay):
    """A parameter without a gradient in a step is skipped and its momentum buffer starts late (as torch)."""
    X, y, _, _ = load_digits_split(n_train=64)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    nets = []
    for _ in range(2):
        torch.manual_seed(5)
        nets.append(torch.nn.ModuleList([torch.nn.Linear(64, 16), torch.nn.Linear(16, 10), torch.nn.Linear(16, 10)]))
    a, b = nets
    opt_a = SGD(a.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    for step in range(8):
        head = 1 if step < 3 or step % 2 else 2  # head 2 first gets a gradient at step 4
        for net, opt in ((a, opt_a), (b, opt_b)):
            loss = torch.nn.functional.cross_entropy(net[head](torch.relu(net[0](Xt[:32]))), yt[:32])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_train_is_deterministic_and_learns():
    X, y, Xt, yt = load_digits_split(n_train=600)
    runs = [train(make_mlp([64, 64, 10], norm="batch", seed=0), X, y, epochs=3, X_test=Xt, y_test=yt, seed=1)
            for _ in range(2)]
    assert runs[0]["loss"] == runs[1]["loss"]
    assert runs[0]["test_acc"][-1] > 0.85
    assert runs[0]["loss"][-1] < runs[0]["loss"][0]


def test_make_mlp_layout_and_errors():
    m = make_mlp([4, 8, 8, 3], norm="batch", dropout=0.5, norm_before_activation=False, activation="tanh")
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Linear", "Tanh", "BatchNorm1d", "Dropout", "Linear", "Tanh", "BatchNorm1d", "Dropout", "Linear"]
    with pytest.raises(ValueError, match="activation must be one of"):
        make_mlp([4, 3], activation="gelu")
    with pytest.raises(ValueError, match="norm must be None"):
        make_mlp([4, 3], norm="group")
    with pytest.raises(ValueError, match="sizes needs at least"):
        make_mlp([4])


def test_train_rejects_too_large_batches_and_unknown_optimizers():
    X, y, _, _ = load_digits_split(n_train=10)
    with pytest.raises(ValueError, match="batch_size"):
        train(make_mlp([64, 10]), X, y, batch_size=64)
    with pytest.raises(ValueError, match="optimizer must be"):
        train(make_mlp([64, 10]), X, y, batch_size=5, optimizer="rmsprop")


def test_accuracy_restores_training_mode():
    X, y, _, _ = load_digits_split(n_train=50)
    m = make_mlp([64, 10], norm=None)
    m.train()
    acc = accuracy(m, X, y)
    assert m.training and 0.0 <= acc <= 1.0
    assert acc == pytest.approx(np.mean(m(torch.as_tensor(X)).argmax(1).numpy() == y))


def test_accuracy_in_train_mode_uses_batch_statistics_and_leaves_the_model_alone():
    X, y, Xt, yt = load_digits_split(n_train=600)
    model = make_mlp([64, 64, 10], norm="batch", seed=0)
    train(model, X, y, epochs=3, seed=1)
    model.eval()
    before = [t.clone() for t in model.state_dict().values()]
    by_class = np.argsort(yt, kind="stable")
    sorted_acc = accuracy_in_train_mode(model, Xt, yt, 8, by_class)
    full_batch = accuracy_in_train_mode(model, Xt, yt, len(Xt), np.arange(len(Xt)))
    assert not model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.state_dict().values()))
    assert full_batch > 0.85 and sorted_acc < full_batch - 0.2  # one-class batches break BN
    with pytest.raises(ValueError, match="batch_size must be an integer >= 2"):
        accuracy_in_train_mode(model, Xt, yt, 1, by_class)
    with pytest.raises(ValueError, match="permutation"):
        accuracy_in_train_mode(model, Xt, yt, 8, np.zeros(len(Xt), int))
