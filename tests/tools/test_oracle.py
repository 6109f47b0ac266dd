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


def test_one_tolerance_rule_for_the_tests_and_the_parity_table():
    from companion.tools import oracle, parity

    assert parity.TOLERANCES is oracle.TOLERANCES
    # float32/float16: the defaults of torch.testing.assert_close, which the rule claims to follow
    from torch.testing._comparison import default_tolerances

    for name, dtype in (("float32", torch.float32), ("float16", torch.float16)):
        assert oracle.TOLERANCES[name] == default_tolerances(dtype)
    x = np.ones(3)
    assert oracle.within_tolerance(x + 1e-11, x, "float64") and not oracle.within_tolerance(x + 1e-9, x, "float64")
    with pytest.raises(ValueError, match="float64, float32 or float16"):
        oracle.within_tolerance(x, x, "int8")
