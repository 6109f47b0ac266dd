"""companion.syncbatchnorm: on 2 and 4 real gloo processes with uneven shards, synchronized BN equals batch
norm on the concatenated batch (float64, <= 1e-10), dweight/dbias and running statistics are identical on
every process, and statistics are merged with Chan's formula."""
import numpy as np
import pytest

import companion as c
from companion.experiments.distributed import run_processes
from companion.syncbatchnorm import global_moments

SHAPE = (5, 3, 2)  # (C, H, W) of every shard


def _full_batch(sizes, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, size=(sum(sizes),) + SHAPE)
    return x, rng.normal(size=x.shape), rng.normal(size=SHAPE[0]), rng.normal(size=SHAPE[0])


def _rank_run(rank, world_size, sizes):
    """What each process computes: its shard's forward/backward, and three layer steps."""
    x, dy, w, b = _full_batch(sizes)
    lo = sum(sizes[:rank])
    shard = slice(lo, lo + sizes[rank])
    y, cache = c.sync_batch_norm_forward(x[shard], w, b, eps=1e-5)
    dx, dw, db = c.sync_batch_norm_backward(dy[shard], cache)
    layer = c.SyncBatchNorm(SHAPE[0], momentum=0.3)
    for step in range(3):
        layer(x[shard] * (step + 1) + step)
    layer.backward(dy[shard])
    layer.eval()
    y_eval = layer(x[shard])
    return dict(y=y, dx=dx, dw=dw, db=db, running=(layer.running_mean, layer.running_var),
                layer_grads=(layer.dweight, layer.dbias), y_eval=y_eval, shard=(shard.start, shard.stop))


@pytest.mark.parametrize("sizes", [[3, 6], [1, 2, 5, 4]], ids=["2 processes", "4 processes"])
def test_sync_batch_norm_equals_batch_norm_of_the_whole_batch(sizes):
    results = run_processes(_rank_run, len(sizes), (sizes,), timeout=300)
    x, dy, w, b = _full_batch(sizes)
    y, cache = c.batch_norm_forward(x, w, b, eps=1e-5)
    dx, dw, db = c.batch_norm_backward(dy, cache)
    full = c.BatchNorm(SHAPE[0], momentum=0.3)
    for step in range(3):
        full(x * (step + 1) + step)
    full.backward(dy)
    full.eval()
    y_eval = full(x)
    for r in results:
        s = slice(*r["shard"])
        np.testing.assert_allclose(r["y"], y[s], rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["dx"], dx[s], rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["dw"], dw, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["db"], db, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["running"][0], full.running_mean, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["running"][1], full.running_var, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["layer_grads"][0], full.dweight, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["layer_grads"][1], full.dbias, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["y_eval"], y_eval[s], rtol=0, atol=1e-10)
        # identical, not merely close, on every process
        for key in ("dw", "db"):
            np.testing.assert_array_equal(r[key], results[0][key])
        np.testing.assert_array_equal(r["running"][1], results[0]["running"][1])


def test_without_a_process_group_it_is_batch_norm():
    x, dy, w, b = _full_batch([7])
    y, cache = c.sync_batch_norm_forward(x, w, b)
    dx, dw, db = c.sync_batch_norm_backward(dy, cache)
    y0, cache0 = c.batch_norm_forward(x, w, b)
    for ours, ref in zip((y, dx, dw, db), (y0, *c.batch_norm_backward(dy, cache0))):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert repr(c.SyncBatchNorm(3)).startswith("SyncBatchNorm(3")


def test_global_moments_avoid_cancellation():
    """A large offset: Chan's merge keeps the variance; E[x^2] - E[x]^2 in float32 would lose it."""
    x = (1e4 + np.random.default_rng(1).normal(size=(64, 2))).astype(np.float32)
    m, mean, var = global_moments(x)
    assert m == 64
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=0), rtol=1e-4)


def test_comm_bytes_do_not_depend_on_the_batch():
    b = c.sync_batch_norm_comm_bytes(64, 4)
    assert b == {"forward_sent": 8 * 129, "forward_received": 4 * 8 * 129, "backward_reduced": 8 * 128}


def test_input_checks():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        c.sync_batch_norm_forward(np.ones((1, 3)), None, None)
    with pytest.raises(ValueError, match="weight"):
        c.sync_batch_norm_forward(np.ones((4, 3)), np.ones(2), None)
    _, cache = c.sync_batch_norm_forward(np.random.default_rng(0).normal(size=(4, 3)), None, None)
    with pytest.raises(ValueError, match="shape of the forward input"):
        c.sync_batch_norm_backward(np.ones((5, 3)), cache)
