"""ShiftScaleNoise: an exact per-channel affine map in training, the identity in eval, redrawn every step."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.noisy_bn import ShiftScaleNoise, add_noise_after_batchnorm  # noqa: E402
from companion.experiments.training import make_mlp  # noqa: E402


def _x(seed=0, n=32, c=5):
    return torch.as_tensor(np.random.default_rng(seed).normal(size=(n, c)))


def test_training_output_is_per_channel_affine_with_noise_in_range():
    noise = ShiftScaleNoise(5, max_shift=1.5, scale_range=(0.5, 2.0), seed=3)
    x = _x()
    y = noise(x)
    a, b = noise.last_scale, noise.last_shift
    assert a.shape == (5,) and b.shape == (5,)
    assert torch.all((a >= 0.5) & (a <= 2.0)) and torch.all(b.abs() <= 1.5)
    torch.testing.assert_close(y, x * a + b, rtol=0, atol=0)
    # the mean and the std of each channel move to a * old + b and a * old
    torch.testing.assert_close(y.mean(0), a * x.mean(0) + b)
    torch.testing.assert_close(y.std(0), a * x.std(0))


def test_noise_changes_every_step_and_is_reproducible():
    x = _x()
    n1, n2 = ShiftScaleNoise(5, seed=7), ShiftScaleNoise(5, seed=7)
    first = n1(x)
    second = n1(x)
    assert not torch.allclose(first, second)
    torch.testing.assert_close(n2(x), first, rtol=0, atol=0)
    torch.testing.assert_close(n2(x), second, rtol=0, atol=0)


def test_global_rng_is_not_touched():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    ShiftScaleNoise(5)(_x())
    torch.testing.assert_close(torch.rand(3), expected)


def test_noise_is_uniform_over_many_steps():
    noise = ShiftScaleNoise(2000, max_shift=2.0, scale_range=(0.25, 3.0), seed=1)
    noise(_x(c=2000, n=2))
    a, b = noise.last_scale.numpy(), noise.last_shift.numpy()
    # U(0.25, 3): mean 1.625, std 2.75/sqrt(12); U(-2, 2): mean 0, std 4/sqrt(12); 2000 draws
    assert abs(a.mean() - 1.625) < 4 * 2.75 / np.sqrt(12 * 2000)
    assert abs(b.mean()) < 4 * 4 / np.sqrt(12 * 2000)
    assert abs(a.std() - 2.75 / np.sqrt(12)) < 0.05 and abs(b.std() - 4 / np.sqrt(12)) < 0.07


def test_eval_mode_is_identity_and_draws_nothing():
    noise = ShiftScaleNoise(5).eval()
    x = _x()
    assert noise(x) is x
    assert noise.last_scale is None


def test_gradient_is_scale():
    noise = ShiftScaleNoise(5, seed=2)
    x = _x().requires_grad_(True)
    noise(x).sum().backward()
    torch.testing.assert_close(x.grad, noise.last_scale.expand_as(x))


def test_add_noise_after_every_batchnorm_only():
    base = make_mlp([4, 6, 6, 3], norm="batch", activation="sigmoid", seed=0)
    noisy = add_noise_after_batchnorm(base, max_shift=1.0, scale_range=(0.5, 1.5), seed=10)
    kinds = [type(m).__name__ for m in noisy]
    assert kinds == ["Linear", "BatchNorm1d", "ShiftScaleNoise", "Sigmoid",
                     "Linear", "BatchNorm1d", "ShiftScaleNoise", "Sigmoid", "Linear"]
    assert noisy[0] is base[0] and noisy[1] is base[1]
    assert noisy[2].max_shift == 1.0 and noisy[2].scale_range == (0.5, 1.5)
    # eval mode: exactly the original network
    base.eval(), noisy.eval()
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))
    torch.testing.assert_close(noisy(x), base(x), rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(num_features=0), "num_features must be an integer >= 1"),
    (dict(num_features=3, max_shift=-1.0), "max_shift must be a finite number >= 0"),
    (dict(num_features=3, scale_range=(2.0, 1.0)), "scale_range must satisfy 0 < low <= high"),
    (dict(num_features=3, scale_range=(0.0, 1.0)), "scale_range must satisfy 0 < low <= high"),
    (dict(num_features=3, scale_range=1.0), "scale_range must be a pair"),
])
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        ShiftScaleNoise(**kwargs)


def test_bad_inputs():
    noise = ShiftScaleNoise(3)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        noise(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        noise(torch.ones(2, 4))
    with pytest.raises(TypeError, match="model must be a torch.nn.Sequential"):
        add_noise_after_batchnorm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no BatchNorm1d"):
        add_noise_after_batchnorm(make_mlp([2, 3, 2]))
