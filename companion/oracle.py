"""PyTorch as the oracle: device choice and NumPy <-> torch conversion.

torch is imported lazily, so ``import companion`` stays fast and works without it.
"""

__all__ = ["torch_device", "torch_devices", "to_torch", "to_numpy"]


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
