"""PyTorch as the oracle: device choice and NumPy <-> torch conversion.

torch is imported lazily, so ``import companion`` stays fast and works without it.
"""

__all__ = ["TOLERANCES", "assert_parity", "to_numpy", "to_torch", "torch_device", "torch_devices", "within_tolerance"]

#: The book's parity standard, (rtol, atol) per dtype: an absolute 1e-10 in float64, else the defaults of
#: ``torch.testing.assert_close`` for that dtype. The one source of truth for the parity tests
#: (:func:`assert_parity`) and for the chapter's parity table (:mod:`companion.tools.parity`).
TOLERANCES = {"float64": (0.0, 1e-10), "float32": (1.3e-6, 1e-5), "float16": (1e-3, 1e-5)}


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


def _tolerance(dtype):
    import numpy as np

    name = np.dtype(dtype).name
    if name not in TOLERANCES:
        raise ValueError(f"dtype: expected float64, float32 or float16, got {name!r}")
    return TOLERANCES[name]


def within_tolerance(ours, theirs, dtype):
    """Whether every element satisfies ``|ours - theirs| <= atol + rtol * |theirs|`` (:data:`TOLERANCES`)."""
    import numpy as np

    rtol, atol = _tolerance(dtype)
    a, b = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def assert_parity(ours, theirs, dtype):
    """Assert that a companion result equals PyTorch's: the book's parity standard.

    Every element within :data:`TOLERANCES` of ``dtype`` (float64: an absolute 1e-10; float32 and
    float16: the defaults of ``torch.testing.assert_close``); dtypes and shapes must match exactly.

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
    rtol, atol = _tolerance(dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=f"{np.dtype(dtype).name} parity")
