"""companion._layer: train/eval, state_dict()/load_state_dict() with torch's keys and rules."""
import numpy as np
import pytest
import torch

import companion as c


def test_state_dict_keys_follow_torch_for_every_layer():
    pairs = [
        (c.BatchNorm(3), torch.nn.BatchNorm1d(3)),
        (c.BatchNorm(3, affine=False, track_running_stats=False), torch.nn.BatchNorm1d(3, affine=False,
                                                                                       track_running_stats=False)),
        (c.LayerNorm((2, 3), bias=False), torch.nn.LayerNorm((2, 3), bias=False)),
        (c.GroupNorm(1, 3, affine=False), torch.nn.GroupNorm(1, 3, affine=False)),
        (c.InstanceNorm(3, affine=True, track_running_stats=True),
         torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)),
        (c.Dropout(0.3), torch.nn.Dropout(0.3)),
        (c.Dropout2d(0.3), torch.nn.Dropout2d(0.3)),
        (c.AlphaDropout(0.3), torch.nn.AlphaDropout(0.3)),
    ]
    for ours, ref in pairs:
        assert list(ours.state_dict()) == list(ref.state_dict()), type(ours).__name__
        for k, v in ref.state_dict().items():
            assert ours.state_dict()[k].shape == tuple(v.shape) and ours.state_dict()[k].dtype.kind == (
                "i" if k == "num_batches_tracked" else "f")


def test_state_dict_is_a_copy():
    bn = c.BatchNorm(2)
    sd = bn.state_dict()
    sd["weight"][:] = 5.0
    np.testing.assert_array_equal(bn.weight, 1.0)


def test_load_state_dict_strict_and_not_strict():
    """As torch.nn.Module.load_state_dict: strict refuses missing or unexpected keys; strict=False reports them."""
    bn = c.BatchNorm(2)
    sd = bn.state_dict()
    del sd["running_var"]
    sd["extra"] = np.zeros(2)
    with pytest.raises(KeyError, match="missing keys \\['running_var'\\], unexpected keys \\['extra'\\]"):
        bn.load_state_dict(sd)
    sd["weight"] = np.array([2.0, 3.0])
    result = bn.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["running_var"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(bn.weight, [2.0, 3.0])
    ref = torch.nn.BatchNorm1d(2)
    torch_result = ref.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert torch_result.missing_keys == result.missing_keys and torch_result.unexpected_keys == result.unexpected_keys


def test_load_state_dict_size_mismatch_changes_nothing():
    bn = c.BatchNorm(2)
    sd = bn.state_dict()
    sd["weight"] = np.array([2.0, 3.0])
    sd["bias"] = np.zeros(3)
    with pytest.raises(ValueError, match="size mismatch for bias"):
        bn.load_state_dict(sd)
    np.testing.assert_array_equal(bn.weight, 1.0)  # torch would have copied weight already; we copy all or nothing


def test_num_batches_tracked_round_trip():
    bn = c.BatchNorm(2)
    bn.num_batches_tracked = 10
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64
    ref = torch.nn.BatchNorm1d(2)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in bn.state_dict().items()})
    assert int(ref.num_batches_tracked) == 10
    back = c.BatchNorm(2)
    back.load_state_dict(ref.state_dict())
    assert back.num_batches_tracked == 10 and isinstance(back.num_batches_tracked, int)


def test_batch_renorm_state_keys():
    assert list(c.BatchRenorm(2).state_dict()) == ["weight", "bias", "running_mean", "running_std",
                                                   "num_batches_tracked"]
