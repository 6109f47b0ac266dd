"""Folding eval-mode BN into the preceding layer: same outputs, same weights as PyTorch's fusion helper."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_weights

import companion as c
from companion.folding import fold_bn_weights
from companion.tools.oracle import to_numpy


def _trained_bn(num_features, rng, steps=5, shape_tail=()):
    """A companion BatchNorm with non-trivial running statistics and affine parameters."""
    bn = c.BatchNorm(num_features)
    bn.weight, bn.bias = rng.normal(size=num_features), rng.normal(size=num_features)
    for step in range(steps):
        bn(rng.normal(step - 2.0, 1.0 + step, size=(16, num_features) + shape_tail))
    return bn.eval()


@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_then_bn_equals_folded_linear(with_bias):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 7))
    b = rng.normal(size=5) if with_bias else None
    bn = _trained_bn(5, rng)
    x = rng.normal(size=(11, 7))
    z = x @ w.T + (0.0 if b is None else b)
    wf, bf = fold_bn_weights(w, b, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    np.testing.assert_allclose(x @ wf.T + bf, bn(z), rtol=1e-12, atol=1e-12)
    assert wf.shape == w.shape and bf.shape == (5,)


def test_affine_false_bn_folds_with_unit_scale_and_zero_shift():
    rng = np.random.default_rng(1)
    bn = c.BatchNorm(3, affine=False)
    bn(rng.normal(3.0, 2.0, size=(20, 3)))
    bn.eval()
    w, b, x = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(6, 4))
    wf, bf = fold_bn_weights(w, b, bn.running_mean, bn.running_var, bn.eps)
    np.testing.assert_allclose(x @ wf.T + bf, bn(x @ w.T + b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_conv_then_bn_matches_torch_fusion_and_outputs(with_bias):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 6, 3, padding=1, bias=with_bias).double()
    bn = torch.nn.BatchNorm2d(6).double()
    with torch.no_grad():
        bn.weight.normal_()
        bn.bias.normal_()
        for _ in range(4):  # training steps give non-trivial running statistics
            bn(conv(torch.randn(8, 3, 5, 5, dtype=torch.float64) * 2 + 1))
    bn.eval()
    args = [to_numpy(v) if v is not None else None for v in (conv.weight, conv.bias, bn.running_mean, bn.running_var)]
    wf, bf = fold_bn_weights(args[0], args[1], args[2], args[3], bn.eps, to_numpy(bn.weight), to_numpy(bn.bias))
    tw, tb = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    np.testing.assert_allclose(wf, to_numpy(tw), rtol=1e-13)
    np.testing.assert_allclose(bf, to_numpy(tb), rtol=1e-13, atol=1e-14)
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    with torch.no_grad():
        expected = to_numpy(bn(conv(x)))
        folded = to_numpy(F.conv2d(x, torch.from_numpy(wf), torch.from_numpy(bf), padding=1))
    np.testing.assert_allclose(folded, expected, rtol=1e-12, atol=1e-12)


def test_dtype_is_kept():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(4, 2, 3, 3)).astype(np.float32)
    wf, bf = fold_bn_weights(w, None, np.zeros(4, np.float32), np.ones(4, np.float32), 1e-5)
    assert wf.dtype == np.float32 and bf.dtype == np.float32 and wf.shape == w.shape


def test_bad_input_names_the_argument():
    w, v = np.ones((3, 2)), np.ones(3)
    with pytest.raises(ValueError, match="running_var must have shape"):
        fold_bn_weights(w, None, v, np.ones(4), 1e-5)
    with pytest.raises(TypeError, match="running_mean must be a numpy.ndarray of shape"):
        fold_bn_weights(w, None, None, v, 1e-5)
    with pytest.raises(ValueError, match="weight must have at least 2 dimensions"):
        fold_bn_weights(np.ones(3), None, v, v, 1e-5)
    with pytest.raises(ValueError, match="eps must be a finite number"):
        fold_bn_weights(w, None, v, v, -1.0)
    with pytest.raises(ValueError, match="running_var \\+ eps must be > 0"):
        fold_bn_weights(w, None, v, -v, 0.0)
    with pytest.raises(ValueError, match="bn_bias must have shape"):
        fold_bn_weights(w, None, v, v, 1e-5, v, np.ones(2))
