"""Shared helpers of the normalization-layer tests (test_layernorm, test_groupnorm, test_instancenorm,
test_batchnorm, test_batchrenorm, test__standardize): data, PyTorch gradients, parity of forward and backward,
layers stepped beside their torch.nn counterparts, gradient checks."""
import numpy as np
import pytest

import companion as c
from companion.tools.oracle import assert_parity, to_torch

DTYPES = [np.float64, np.float32]


def _data(shape, pshape, dtype=np.float64, seed=0, scale=2.0, offset=1.5):
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, scale, size=shape).astype(dtype)
    w, b = (rng.normal(size=pshape).astype(dtype) for _ in range(2))
    return x, w, b, rng.normal(size=shape).astype(dtype)


def _torch_grads(fn, x, w, b, dy, device):
    """Run ``fn(xt, wt, bt)`` in torch and return (y, dx, dw, db); w/b may be None."""
    xt = to_torch(x, device, requires_grad=True)
    wt, bt = (None if v is None else to_torch(v, device, requires_grad=True) for v in (w, b))
    yt = fn(xt, wt, bt)
    yt.backward(to_torch(dy, device))
    return yt, xt.grad, None if wt is None else wt.grad, None if bt is None else bt.grad


def _check_all(ours_fwd, ours_bwd, torch_fn, x, w, b, dy, device, dtype):
    y, cache = ours_fwd(x, w, b)
    dx, dw, db = ours_bwd(dy, cache)
    yt, dxt, dwt, dbt = _torch_grads(torch_fn, x, w, b, dy, device)
    assert_parity(y, yt, dtype)
    assert_parity(dx, dxt, dtype)
    if w is not None:
        assert_parity(dw, dwt, dtype)
        assert_parity(db, dbt, dtype)


def _paired_with_torch(ours, ref):
    """``ref`` (a torch.nn layer, made float64, random affine parameters if it has them) and ``ours`` holding
    the same state, loaded from ``ref``'s state_dict."""
    import torch

    ref = ref.double()
    if getattr(ref, "weight", None) is not None:
        with torch.no_grad():
            ref.weight.normal_()
            ref.bias.normal_()
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def _step_both(ours, ref, x, dy):
    """One forward and backward of both layers on the same float64 batch, in their current modes: the outputs,
    the input gradients and (affine layers) the parameter gradients agree."""
    import torch

    xt = torch.from_numpy(x).requires_grad_(True)
    ref.zero_grad()
    yt = ref(xt)
    yt.backward(torch.from_numpy(dy))
    assert_parity(ours(x), yt, np.float64)
    assert_parity(ours.backward(dy), xt.grad, np.float64)
    if getattr(ref, "weight", None) is not None:
        assert_parity(ours.dweight, ref.weight.grad, np.float64)
        assert_parity(ours.dbias, ref.bias.grad, np.float64)


def _gradcheck(forward, backward, x, w, b, dy):
    _, cache = forward(x, w, b)
    dx, dw, db = backward(dy, cache)
    for i, analytic in enumerate((dx, dw, db)):
        args = [x, w, b]

        def f(v, i=i, args=args):
            a = list(args)
            a[i] = v
            return forward(*a)[0]

        numeric = c.numerical_gradient(f, args[i].copy(), dy, h=1e-3, order=4)
        assert c.rel_error(numeric, analytic) < 1e-8, (i, c.rel_error(numeric, analytic))


def _raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


X3 = np.random.default_rng(0).normal(size=(2, 6, 4))


W6 = np.ones(6)


def _torch_state(layer):
    """A companion layer's ``state_dict()`` as torch tensors (what ``torch.nn.Module.load_state_dict`` takes)."""
    import torch

    return {k: torch.from_numpy(v) for k, v in layer.state_dict().items()}


def _assert_same_state(ours, ref):
    """The companion layer and the torch module hold the same state, key for key (float64: <= 1e-10)."""
    theirs = ref.state_dict()
    assert list(ours.state_dict()) == list(theirs)
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v, theirs[k].detach().cpu().numpy(), rtol=0, atol=1e-10, err_msg=k)
