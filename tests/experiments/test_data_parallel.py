"""companion.experiments.data_parallel: per-device BN equals BN per shard (running statistics from shard 0),
and the chapter's distributed run on two real processes."""
import numpy as np
import torch
import torch.nn.functional as F

import companion as c
from companion.experiments.data_parallel import PerDeviceBatchNorm, per_device_batch_norm, shard_bounds, sync_bn_demo
from companion.experiments.distributed import run_processes
from companion.experiments.training import make_mlp


def test_per_device_batch_norm_normalizes_each_shard_alone():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm1d(3, momentum=0.5)
    layer = PerDeviceBatchNorm(bn, 4)
    x = torch.randn(10, 3) * 2 + 1
    y = layer(x)
    expected = torch.cat([F.batch_norm(s, None, None, training=True) for s in x.split(4)])
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(bn.running_mean, 0.5 * x[:4].mean(0))  # only shard 0 updates the buffers
    layer.eval()
    torch.testing.assert_close(layer(x), bn(x))


def test_per_device_batch_norm_replaces_every_batch_norm():
    model = per_device_batch_norm(make_mlp([5, 4, 4, 2], norm="batch"), 8)
    assert sum(isinstance(m, PerDeviceBatchNorm) for m in model.modules()) == 2
    assert shard_bounds([3, 5, 2], 1) == (3, 8)


def test_sync_bn_demo_on_two_processes():
    out = run_processes(sync_bn_demo, 2, ([3, 5], [4, 6], (3, 2, 2), 0, (4, 8, 2, 2), 2), timeout=300)
    for r in out:
        assert r["torch_error"][0] == "ValueError" and "GPU" in r["torch_error"][1]
        for part in ("pair", "all"):
            assert max(v for k, v in r[part].items() if not k.endswith("bits")) < 1e-10
        expected = c.sync_batch_norm_comm_bytes(8, 2)
        assert r["calls"] == [("all_gather", expected["forward_sent"], expected["forward_received"]),
                              ("all_reduce", expected["backward_reduced"], expected["backward_reduced"])]
        assert r["activation_bytes"] == 4 * 8 * 2 * 2 * 8
        assert r["time_sync"] > 0 and r["time_local"] > 0
    assert out[0]["all"]["dweight_bits"] == out[1]["all"]["dweight_bits"]
    assert np.frombuffer(out[0]["pair"]["dbias_bits"]).shape == (3,)
