"""companion.experiments.saved_tensors: the tensors autograd keeps for backward, deduplicated, with clear errors."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.saved_tensors import saved_for_backward  # noqa: E402


def test_linear_saves_its_input_and_weight():
    x = torch.randn(5, 4, requires_grad=True)
    # y = x @ W.T + b needs x for dW and W for dx; float32: 4 bytes per value
    assert saved_for_backward(nn.Linear(4, 3), x) == [((5, 4), 80), ((4, 3), 48)]


def test_relu_saves_one_activation_sized_tensor():
    assert saved_for_backward(nn.ReLU(), torch.randn(7, 6, requires_grad=True)) == [((7, 6), 168)]


def test_batchnorm_training_saves_the_input_and_per_channel_vectors():
    x = torch.randn(32, 16, dtype=torch.float64, requires_grad=True)
    saved = saved_for_backward(nn.BatchNorm1d(16, dtype=torch.float64), x)
    assert saved[0] == ((32, 16), 32 * 16 * 8)
    assert all(shape in ((16,), (0,)) for shape, _ in saved[1:])  # only per-channel vectors besides the input


def test_a_tensor_saved_twice_is_listed_once():
    x = torch.randn(3, 3, requires_grad=True)
    assert saved_for_backward(lambda t: t * t, x) == [((3, 3), 36)]


def test_nothing_saved_without_gradients():
    assert saved_for_backward(lambda t: t * t, torch.randn(3)) == []


def test_runs_with_grad_enabled_inside_no_grad():
    with torch.no_grad():
        assert saved_for_backward(nn.ReLU(), torch.randn(2, 2, requires_grad=True)) == [((2, 2), 16)]


def test_errors():
    with pytest.raises(TypeError, match="fn must be callable"):
        saved_for_backward(3, torch.randn(2))
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a torch.Tensor"):
        saved_for_backward(nn.ReLU(), [1.0, 2.0])
