"""The parity table (companion vs PyTorch per device and dtype) used by the performance chapter."""
import json

import numpy as np
import pytest

import companion.batchnorm
from companion.tools import parity
from companion.tools.oracle import torch_devices


@pytest.fixture(scope="module")
def rows():
    return parity.parity_table(shape=(6, 3, 5, 4), steps=4)


def test_every_device_dtype_and_quantity_has_a_row(rows):
    expected = [(d, t, q) for d in torch_devices()
                for t in (["float64", "float32"] + (["float16"] if d == "cuda" else []))
                for q in parity.QUANTITIES]
    assert [(r["device"], r["dtype"], r["quantity"]) for r in rows] == expected


def test_errors_are_within_the_parity_tolerances(rows):
    for r in rows:
        assert r["within_tol"], r
        assert 0.0 <= r["max_abs"] and 0.0 <= r["max_rel"]
        if r["dtype"] == "float64":
            assert r["max_abs"] <= 1e-10 and r["max_rel"] <= 1e-13, r
        if r["dtype"] == "float32":
            assert r["max_rel"] <= 1e-5, r


def test_a_wrong_forward_is_caught(monkeypatch):
    """The table measures something: a forward that is off by 1e-4 shows up outside tolerance."""
    right = companion.batchnorm.batch_norm_forward

    def off_by_a_bit(x, weight, bias, eps=1e-5):
        y, cache = right(x, weight, bias, eps)
        return y + np.asarray(1e-4, y.dtype), cache

    monkeypatch.setattr(companion.batchnorm, "batch_norm_forward", off_by_a_bit)
    rows = parity.parity_table(devices=["cpu"], dtypes={"cpu": ["float64"]}, shape=(4, 2, 3, 3), steps=1)
    bad = {r["quantity"]: r for r in rows if not r["within_tol"]}
    assert list(bad) == ["bn forward y"]
    assert bad["bn forward y"]["max_abs"] == pytest.approx(1e-4, rel=1e-6)


def test_unknown_dtype_is_rejected():
    with pytest.raises(ValueError, match="dtypes: expected float64, float32 or float16"):
        parity.parity_table(devices=["cpu"], dtypes={"cpu": ["int8"]})


@pytest.mark.parametrize("err, text", [(0.0, "0"), (9.5e-7, "<= 1e-06"), (1.1e-7, "<= 1e-06"), (3e-15, "<= 1e-14"),
                                       (0.02, "<= 1e-01"), (5.0, "<= 1e+01")])
def test_error_bound_is_the_next_power_of_ten(err, text):
    assert parity.error_bound(err) == text


def test_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "parity.json"
    assert parity.main(["--devices", "cpu", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert len(rows) == 2 * len(parity.QUANTITIES)
    assert set(rows[0]) == {"device", "dtype", "quantity", "max_abs", "max_rel", "within_tol", "torch_version"}
    assert "bn running_var" in capsys.readouterr().out
