"""The benchmark CLI and its helpers, run on tiny shapes in-process (no speed is ever asserted).

Also checks the fast float32 path of the companion against the float64 teaching version on
the kind of input the benchmark uses (long contiguous channels, large mean).
"""
import io
import json

import numpy as np
import pytest

import companion as c
from companion.tools import bench

TINY = [(2, 3, 4, 4), (4, 3, 4, 4)]


def _check_record(r):
    assert tuple(r) == bench.RECORD_KEYS
    assert r["op"] in bench.OPS and r["impl"] in bench.IMPLS and r["device"] == "cpu"
    assert isinstance(r["shape"], list) and all(isinstance(v, int) for v in r["shape"])
    assert r["dtype"] == "float32"
    for key in ("median_ms", "gbps", "copy_gbps"):
        assert isinstance(r[key], float) and r[key] > 0 and np.isfinite(r[key])
    assert isinstance(r["threads"], int) and r["threads"] >= 1
    assert isinstance(r["torch_version"], str) and isinstance(r["device_name"], str) and r["device_name"]
    # effective bandwidth is the modelled bytes over the median time
    expected = bench.bytes_moved(r["op"], r["shape"], r["dtype"]) / (r["median_ms"] / 1e3) / 1e9
    assert r["gbps"] == pytest.approx(expected, rel=1e-12)


def test_run_returns_one_record_per_op_impl_shape_and_reports_progress():
    progress, noise = io.StringIO(), []
    records = bench.run(TINY, devices=["cpu"], repeats=3, warmup=1, progress=progress, noise=noise)
    assert len(records) == len(bench.OPS) * len(bench.IMPLS) * len(TINY)
    for r in records:
        _check_record(r)
    assert {(r["op"], r["impl"], tuple(r["shape"])) for r in records} == {
        (op, impl, s) for op in bench.OPS for impl in bench.IMPLS for s in TINY}
    assert {r["threads"] for r in records if r["impl"] == "numpy"} == {1}
    lines = progress.getvalue().splitlines()
    assert len(lines) == len(TINY)
    assert lines[0].startswith("[1/2] cpu float32 (2, 3, 4, 4):") and lines[1].startswith("[2/2]")
    assert "batch_norm_train numpy" in lines[0] and "GB/s" in lines[0]
    # one noise figure per timed case: 6 (op, impl) pairs plus the copy, per shape
    assert len(noise) == 7 * len(TINY) and all(v >= 0 for v in noise)
    # the copy is measured once per shape and shared by its records
    for s in TINY:
        assert len({r["copy_gbps"] for r in records if tuple(r["shape"]) == s}) == 1


def test_subsets_of_ops_and_impls():
    records = bench.run([(3, 2, 5)], ops=["batch_norm_eval"], impls=["torch"], devices=["cpu"], repeats=1, warmup=0,
                        progress=None)
    assert [(r["op"], r["impl"], r["shape"]) for r in records] == [("batch_norm_eval", "torch", [3, 2, 5])]


def test_cli_writes_json_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "sub" / "bench.json"
    status = bench.main(["--shapes", "2x3x4x4,4x3x4x4,8x3x4x4,16x3x4x4", "--repeats", "2", "--warmup", "0",
                         "--ops", "batch_norm_train", "--json", str(out)])
    assert status == 0
    records = json.loads(out.read_text())
    assert isinstance(records, list) and len(records) == 2 * 4
    for r in records:
        _check_record(r)
    captured = capsys.readouterr()
    assert "[4/4] cpu float32 (16, 3, 4, 4)" in captured.err
    assert "numpy / torch time ratio:" in captured.out
    assert "slope" in captured.out and "over N = [2, 4, 8, 16]" in captured.out
    assert "noise: median relative interquartile range" in captured.out
    assert f"wrote 8 records to {out}" in captured.out


@pytest.mark.parametrize("argv", [["--shapes", "2x3xfoo"], ["--ops", "batch_norm_test"], ["--shapes", "1x3"],
                                  ["--threads", "0"], ["--repeats", "0", "--shapes", "2x2"]])
def test_cli_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_bytes_per_element_model():
    """float32: BN train moves 5 tensors (20 B/element), BN eval and a copy 2 (8 B), dropout 4 + a bool mask twice."""
    n = 2 * 3 * 4 * 4
    assert bench.bytes_moved("batch_norm_train", (2, 3, 4, 4), "float32") == 20 * n
    assert bench.bytes_moved("batch_norm_eval", (2, 3, 4, 4), "float32") == 8 * n
    assert bench.bytes_moved("copy", (2, 3, 4, 4), "float32") == 8 * n
    assert bench.bytes_moved("dropout_train", (2, 3, 4, 4), "float32") == 18 * n
    assert bench.bytes_moved("dropout_train", (2, 3, 4, 4), np.float16) == 10 * n


def _synthetic(times, tail=(64, 32, 32), op="batch_norm_train", impl="numpy"):
    return [{"op": op, "impl": impl, "device": "cpu", "dtype": "float32", "shape": [n, *tail], "median_ms": t}
            for n, t in times.items()]


def test_loglog_slope_recovers_the_exponent():
    sizes = [4, 8, 16, 32, 64]
    linear = _synthetic({n: 0.25 * n for n in sizes})
    quadratic = _synthetic({n: 0.01 * n**2 for n in sizes})
    assert bench.loglog_slope(linear, "batch_norm_train", "numpy") == (pytest.approx(1.0), sizes)
    assert bench.loglog_slope(quadratic, "batch_norm_train", "numpy")[0] == pytest.approx(2.0)
    kinked = _synthetic({**{n: 0.25 * n for n in sizes}, 128: 0.25 * 128 * 4})  # a jump at the largest size
    assert bench.loglog_slope(kinked, "batch_norm_train", "numpy")[0] > 1.2
    assert bench.loglog_slope(kinked, "batch_norm_train", "numpy", sizes=sizes) == (pytest.approx(1.0), sizes)
    mixed = linear + _synthetic({4: 1.0}, tail=(32, 16, 16))
    with pytest.raises(ValueError, match="differing only in N"):
        bench.loglog_slope(mixed, "batch_norm_train", "numpy")


def test_ratio_divides_numpy_by_torch():
    records = _synthetic({64: 12.0}) + _synthetic({64: 4.0}, impl="torch")
    assert bench.ratio(records, "batch_norm_train", (64, 64, 32, 32)) == pytest.approx(3.0)
    assert "batch_norm_train  cpu float32 (64, 64, 32, 32): 3.00x" in bench.summary(
        [dict(r, gbps=1.0, copy_gbps=2.0) for r in records])


def test_fast_float32_path_agrees_with_the_float64_teaching_version():
    """Contiguous float32 reductions: statistics as good as float64 accumulation, even with mean 1e4."""
    rng = np.random.default_rng(0)
    shape = (8, 4, 32, 32)
    x64 = 1e4 + rng.standard_normal(shape)
    x = x64.astype(np.float32)
    w, b, dy = rng.normal(size=4), rng.normal(size=4), rng.normal(size=shape)
    y, cache = c.batch_norm_forward(x, w.astype(np.float32), b.astype(np.float32))
    dx, dw, db = c.batch_norm_backward(dy.astype(np.float32), cache)
    y_ref, cache_ref = c.batch_norm_forward_graph(x.astype(np.float64), w, b)
    dx_ref, dw_ref, db_ref = c.batch_norm_backward_graph(dy, cache_ref)
    axes = (0, 2, 3)
    # the float32 mean itself is exact to its last bit or so: float32 spacing at 1e4 is about 1e-3
    m, v = c.batch_stats(x)
    exact_mean, exact_var = x.astype(np.float64).mean(axis=axes), x.astype(np.float64).var(axis=axes)
    assert np.all(np.abs(m - exact_mean) <= np.spacing(np.float32(1e4)))
    np.testing.assert_allclose(v, exact_var, rtol=1e-5)
    # so xhat is off by at most that spacing (over sigma = 1), and the outputs by |w| times it
    tol = 2 * np.spacing(np.float32(1e4))
    xhat = cache[0].astype(np.float64)
    np.testing.assert_allclose(xhat.var(axis=axes), 1.0, atol=1e-4)
    np.testing.assert_allclose(xhat.mean(axis=axes), 0.0, atol=tol)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=tol * np.abs(w).max())
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-5, atol=tol * np.abs(dy).sum(axis=axes).max())
    np.testing.assert_allclose(db, db_ref, rtol=1e-5)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-5 * np.abs(dx_ref).max())


def test_non_contiguous_input_gives_the_same_result():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 5, 4, 3)).astype(np.float32)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # same values, other layout
    assert not xt.flags.c_contiguous
    y1, _ = c.batch_norm_forward(x, None, None)
    y2, cache = c.batch_norm_forward(xt, None, None)
    np.testing.assert_allclose(y2, y1, rtol=1e-6, atol=1e-6)
    assert cache[0].shape == x.shape
