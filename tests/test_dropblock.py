"""companion.dropblock: against a reference written with torch ops (corners dilated by max-pooling, given the
same uniform draws), contiguous square blocks, dropped fraction near p, the paper's normalization."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion as c
from companion.tools.oracle import assert_parity, to_torch


def _torch_drop_block(x, u, p, b):
    """DropBlock in torch ops: corners where u < gamma, dilated into b x b blocks by a max-pool, then rescaled."""
    h, w = x.shape[2:]
    gamma = p * h * w / (b * b * (h - b + 1) * (w - b + 1))
    corners = (u < gamma).to(x.dtype)
    blocks = F.max_pool2d(F.pad(corners, [b - 1] * 4), kernel_size=b, stride=1)
    mask = 1.0 - blocks
    return x * mask * (mask.numel() / mask.sum())


@pytest.mark.parametrize("b", [1, 2, 3, 5])
def test_drop_block_matches_torch_reference(b):
    shape = (3, 4, 9, 8)
    x = np.random.default_rng(0).normal(size=shape)
    dy = np.random.default_rng(1).normal(size=shape)
    y, cache = c.drop_block_forward(x, 0.2, b, rng=5)
    u = np.random.default_rng(5).random((3, 4, 9 - b + 1, 8 - b + 1))
    xt = to_torch(x, "cpu", requires_grad=True)
    yt = _torch_drop_block(xt, torch.from_numpy(u), 0.2, b)
    yt.backward(to_torch(dy, "cpu"))
    assert_parity(y, yt, np.float64)
    assert_parity(c.drop_block_backward(dy, cache), xt.grad, np.float64)


def test_drop_block_drops_squares_and_about_p():
    x = np.ones((200, 2, 16, 16))
    y, (mask, scale) = c.drop_block_forward(x, 0.15, 4, rng=2)
    dropped = 1 - mask.mean()
    assert 0.10 < dropped < 0.15  # overlapping blocks drop a little less than p
    np.testing.assert_allclose(y.mean(), 1.0, rtol=1e-12)  # the normalization keeps the total
    assert scale == pytest.approx(1 / mask.mean())
    one = ~mask[0, 0]
    # a lone dropped square has exactly 16 positions in a 4 x 4 box
    rows, cols = np.nonzero(one)
    if rows.size == 16:
        assert rows.max() - rows.min() == 3 and cols.max() - cols.min() == 3


def test_drop_block_identity_and_checks():
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 5))
    for y, (mask, scale) in (c.drop_block_forward(x, 0.0, 3, rng=1), c.drop_block_forward(x, 0.5, 3, training=False)):
        np.testing.assert_array_equal(y, x)
        assert mask.all() and scale == 1.0
    with pytest.raises(ValueError, match="does not fit"):
        c.drop_block_forward(x, 0.1, 6)
    with pytest.raises(ValueError, match="p must be < 1"):
        c.drop_block_forward(x, 1.0, 2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        c.drop_block_forward(np.ones((2, 2, 3, 3, 3)), 0.1, 2)
