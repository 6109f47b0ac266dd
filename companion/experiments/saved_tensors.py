"""What autograd keeps for the backward pass: the memory a layer costs during training.

During a training step every layer stores some tensors from its forward pass until the backward pass
has used them. For most layers that is an activation-sized tensor (the input of a linear layer or of
a batch normalization, the output of a ReLU), which is why training needs far more memory than
inference. :func:`saved_for_backward` lists those tensors with PyTorch's saved-tensor hooks
(``torch.autograd.graph.saved_tensors_hooks``) :cite:p:`paszke2019pytorch`.
"""
import torch

__all__ = ["saved_for_backward"]


def saved_for_backward(fn, *inputs):
    """The distinct tensors that autograd saves while ``fn(*inputs)`` runs, with their sizes.

    Parameters
    ----------
    fn : callable
        E.g. a ``torch.nn.Module``; called once as ``fn(*inputs)`` with gradients enabled.
    *inputs : torch.Tensor
        Its inputs (give at least one ``requires_grad=True`` tensor, or parameters that require
        gradients, otherwise nothing is saved).

    Returns
    -------
    list of (tuple, int)
        ``(shape, bytes)`` of every distinct saved tensor, in the order they were first saved. A
        tensor saved twice (same storage, offset, shape and dtype) is listed once.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable (e.g. a torch.nn.Module), got {type(fn).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"inputs[{i}] must be a torch.Tensor, got {type(x).__name__}")
    seen = {}

    def pack(t):
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.dtype)
        seen.setdefault(key, (tuple(t.shape), t.numel() * t.element_size()))
        return t

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*inputs)
    return list(seen.values())
