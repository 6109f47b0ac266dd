"""Watching a layer during training: record a summary of a module's input at every training step.

Ioffe and Szegedy followed the input of one sigmoid over training to show how its distribution
moves :cite:p:`ioffe2015batch`. :class:`InputRecorder` does that for any ``torch.nn.Module``
through a forward pre-hook: at each forward pass in training mode (not in evaluation mode, so
the periodic test-set evaluations of :func:`companion.experiments.training.train` are not recorded) it calls
``summary(x)`` on the module's input and keeps the result.
"""
import numpy as np

__all__ = ["InputRecorder"]


class InputRecorder:
    """Record ``summary(input)`` at every training-mode forward pass of ``module``.

    Parameters
    ----------
    module : torch.nn.Module
        The module whose (first) input is watched.
    summary : callable
        ``summary(x) -> array-like`` of a fixed shape ``S``, where ``x`` is the detached input
        tensor (e.g. shape ``(N, C)``). Called without gradient tracking.

    Attributes
    ----------
    records : list of numpy.ndarray
        One entry of shape ``S`` per recorded forward pass.

    Examples
    --------
    >>> rec = InputRecorder(model[-2], lambda x: x.mean(0))   # doctest: +SKIP
    >>> train(model, X, y); rec.remove(); rec.array().shape    # doctest: +SKIP
    (steps, C)

    Use it as a context manager to remove the hook automatically.
    """

    def __init__(self, module, summary):
        import torch

        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        if not callable(summary):
            raise TypeError(f"summary must be callable, got {type(summary).__name__}")
        self.summary = summary
        self.records = []
        self._handle = module.register_forward_pre_hook(self._hook)

    def _hook(self, module, inputs):
        import torch

        if module.training:
            with torch.no_grad():
                value = self.summary(inputs[0].detach())
            if isinstance(value, torch.Tensor):
                value = value.numpy()
            self.records.append(np.asarray(value))

    def array(self):
        """The records stacked into one array of shape ``(T, *S)`` (T = number of recorded passes)."""
        if not self.records:
            raise ValueError("nothing recorded yet: run a forward pass of the model in training mode first")
        return np.stack(self.records)

    def remove(self):
        """Stop recording (the records are kept)."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
