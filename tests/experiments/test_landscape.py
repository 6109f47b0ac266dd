"""loss_along_gradient: exact on a quadratic, leaves the model untouched, clear errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.landscape import loss_along_gradient  # noqa: E402


def _mse(out, y):
    return 0.5 * ((out - y) ** 2).sum() / len(y)


def _linear_problem(seed=0, n=20, d=4):
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.normal(size=(n, d)))
    y = torch.as_tensor(rng.normal(size=(n, 1)))
    model = nn.Linear(d, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(rng.normal(size=(1, d))))
    return model, X, y


def test_quadratic_loss_matches_closed_form():
    """For least squares L(w) = |Xw - y|^2 / 2n: L(w - eta g) = L - eta |g|^2 + eta^2/2 g'Hg, grad change = eta |Hg|/|g|."""
    model, X, y = _linear_problem()
    Xn, yn, w = X.numpy(), y.numpy()[:, 0], model.weight.detach().numpy()[0]
    n = len(yn)
    H = Xn.T @ Xn / n
    g = Xn.T @ (Xn @ w - yn) / n
    L0 = 0.5 * np.sum((Xn @ w - yn) ** 2) / n
    etas = np.array([0.01, 0.1, 0.5, 2.0])
    out = loss_along_gradient(model, X, y, etas, loss_fn=_mse)
    np.testing.assert_allclose(out["loss0"], L0, rtol=1e-12)
    np.testing.assert_allclose(out["grad_norm"], np.linalg.norm(g), rtol=1e-12)
    np.testing.assert_allclose(out["loss"], L0 - etas * (g @ g) + etas**2 / 2 * (g @ H @ g), rtol=1e-10)
    np.testing.assert_allclose(out["grad_change"], etas * np.linalg.norm(H @ g) / np.linalg.norm(g), rtol=1e-10)
    # along the gradient the smoothness estimate is the Rayleigh-like quotient |Hg|/|g| for every eta
    np.testing.assert_allclose(out["smoothness"], np.linalg.norm(H @ g) / np.linalg.norm(g), rtol=1e-10)
    assert out["smoothness"][0] <= np.linalg.eigvalsh(H).max() + 1e-12


def test_model_and_batchnorm_buffers_are_untouched():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X = torch.as_tensor(np.random.default_rng(0).normal(size=(16, 3)))
    y = torch.as_tensor(np.arange(16) % 2)
    loss_along_gradient(model, X, y, [0.1, 1.0])
    assert not model.training
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_small_steps_agree_with_first_order_prediction():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    X = torch.as_tensor(np.random.default_rng(1).normal(size=(12, 3)))
    y = torch.as_tensor(np.arange(12) % 3)
    out = loss_along_gradient(model, X, y, [1e-6])
    predicted = out["loss0"] - 1e-6 * out["grad_norm"] ** 2
    assert abs(out["loss"][0] - predicted) < 1e-10


def test_errors():
    model, X, y = _linear_problem()
    with pytest.raises(ValueError, match="etas must be"):
        loss_along_gradient(model, X, y, [0.1, -1.0], loss_fn=_mse)
    with pytest.raises(ValueError, match="etas must be"):
        loss_along_gradient(model, X, y, [], loss_fn=_mse)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        loss_along_gradient("model", X, y, [0.1])
    with pytest.raises(ValueError, match="same number of samples"):
        loss_along_gradient(model, X, y[:3], [0.1], loss_fn=_mse)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        loss_along_gradient(model, X, y, [0.1], loss_fn=3)
