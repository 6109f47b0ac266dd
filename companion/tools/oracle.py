"""PyTorch as the oracle: device choice and NumPy <-> torch conversion.

torch is imported lazily, so ``import companion`` stays fast and works without it.
"""

__all__ = ["torch_device", "torch_devices", "to_torch", "to_numpy", "assert_parity"]


def torch_device():
    """``torch.device('cuda')`` when a CUDA GPU is available, else ``torch.device('cpu')``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def torch_devices():
    """Names of the devices to compare on: ``['cpu']``, plus ``'cuda'`` when available."""
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def to_torch(x, device=None, requires_grad=False):
    """Copy a NumPy array to a torch tensor (same dtype) on ``device`` (default: :func:`torch_device`)."""
    import torch

    t = torch.as_tensor(x).clone().to(device or torch_device())
    return t.requires_grad_(requires_grad)


def to_numpy(t):
    """Copy a torch tensor (any device, with or without grad) to a NumPy array."""
    return t.detach().cpu().numpy()


def assert_parity(ours, theirs, dtype):
    """Assert that a companion result equals PyTorch's: the book's parity standard.

    float64 must agree to an absolute 1e-10; float32 (and float16) within the default tolerances
    of ``torch.testing.assert_close`` for that dtype. dtypes and shapes must match exactly.

    Parameters
    ----------
    ours : numpy.ndarray
    theirs : torch.Tensor or numpy.ndarray
    dtype : numpy dtype of the comparison
    """
    import numpy as np
    import torch

    theirs = to_numpy(theirs) if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.dtype == theirs.dtype, f"dtype {ours.dtype} != torch's {theirs.dtype}"
    assert ours.shape == theirs.shape, f"shape {ours.shape} != torch's {theirs.shape}"
    if np.dtype(dtype) == np.float64:
        err = float(np.max(np.abs(ours - theirs)))
        assert err <= 1e-10, f"float64 parity: max |difference| {err:.3g} > 1e-10"
    else:
        torch.testing.assert_close(torch.from_numpy(np.ascontiguousarray(ours)), torch.from_numpy(theirs))
