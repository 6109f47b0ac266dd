"""The PyTorch oracle helpers: conversions, devices, and the parity assertion itself."""
import numpy as np
import pytest
import torch

from companion.tools.oracle import assert_parity, to_numpy, to_torch, torch_device, torch_devices


def test_round_trip_keeps_dtype_and_values():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    t = to_torch(x, "cpu", requires_grad=True)
    assert t.dtype == torch.float32 and t.requires_grad
    np.testing.assert_array_equal(to_numpy(t), x)
    assert torch_devices()[0] == "cpu" and torch_device().type in ("cpu", "cuda")


def test_parity_accepts_equal_and_rejects_float64_differences_above_1e_10():
    x = np.linspace(0, 1, 10)
    assert_parity(x, torch.tensor(x), np.float64)
    assert_parity(x + 5e-11, torch.tensor(x), np.float64)
    with pytest.raises(AssertionError, match="float64 parity"):
        assert_parity(x + 2e-10, torch.tensor(x), np.float64)


def test_parity_float32_uses_torch_tolerances_and_checks_dtype_and_shape():
    x = np.linspace(1, 2, 10).astype(np.float32)
    assert_parity(x * np.float32(1 + 1e-7), torch.tensor(x), np.float32)
    with pytest.raises(AssertionError):
        assert_parity(x * np.float32(1 + 1e-4), torch.tensor(x), np.float32)
    with pytest.raises(AssertionError, match="dtype"):
        assert_parity(x.astype(np.float64), torch.tensor(x), np.float32)
    with pytest.raises(AssertionError, match="shape"):
        assert_parity(x[:5], torch.tensor(x), np.float32)
