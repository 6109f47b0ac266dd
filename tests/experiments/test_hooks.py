"""InputRecorder: one record per training-mode forward pass, none in eval mode, none after remove()."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.hooks import InputRecorder  # noqa: E402
from companion.experiments.training import make_mlp, train  # noqa: E402


def test_records_the_summary_of_the_input_in_training_mode_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid())
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
    with InputRecorder(model[1], lambda h: h.mean(0)) as rec:
        model(x)
        model.eval()
        model(x)
        model.train()
        model(2 * x)
    model(x)  # after the with-block: not recorded
    assert len(rec.records) == 2
    with torch.no_grad():
        expected = torch.stack([model[0](x).mean(0), model[0](2 * x).mean(0)]).numpy()
    np.testing.assert_allclose(rec.array(), expected, rtol=1e-6)
    assert rec.array().shape == (2, 4)


def test_one_record_per_training_step():
    X = np.random.default_rng(1).normal(size=(40, 4)).astype(np.float32)
    y = np.arange(40) % 3
    model = make_mlp([4, 5, 3], activation="sigmoid")
    rec = InputRecorder(model[1], lambda h: np.percentile(h.numpy(), [15, 50, 85]))
    hist = train(model, X, y, epochs=3, batch_size=8, X_test=X, y_test=y, eval_every=2)
    rec.remove()
    assert len(hist["loss"]) == 15 and rec.array().shape == (15, 3)
    assert np.all(np.diff(rec.array(), axis=1) >= 0)  # percentiles are ordered


def test_errors():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        InputRecorder(lambda x: x, np.mean)
    with pytest.raises(TypeError, match="summary must be callable"):
        InputRecorder(nn.ReLU(), "mean")
    with pytest.raises(ValueError, match="nothing recorded yet"):
        InputRecorder(nn.ReLU(), np.mean).array()
