"""Re-estimating the running statistics of a trained network's BatchNorm layers ("precise BN").

During training a BatchNorm layer keeps exponential moving averages of batch statistics. They can
be poor estimates at the end of training: the momentum may be too small for the number of steps
taken (the averages still remember their initial values 0 and 1), the weights kept changing while
the averages were collected, or the data the model will see differ from the training data.
:func:`recalibrate_batchnorm` throws the averages away and recomputes them with the final weights, as an
equal-weight average over batches of ``X`` (PyTorch's ``momentum=None``), without touching any
learned parameter :cite:p:`wu2021rethinking,summers2020four`.
"""
import numbers

import numpy as np

__all__ = ["batchnorm_layers", "recalibrate_batchnorm"]


def batchnorm_layers(model):
    """The BatchNorm layers of ``model`` that track running statistics, in module order.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    list of torch.nn.modules.batchnorm._BatchNorm
        ``BatchNorm1d/2d/3d`` (and subclasses) with ``track_running_stats=True``.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def recalibrate_batchnorm(model, X, batch_size=None):
    """Recompute every BatchNorm layer's running statistics on ``X`` with the model's current weights.

    Each BatchNorm layer is reset (running mean 0, running variance 1, no batches tracked) and, with
    ``momentum=None``, fed the batches ``X[0:batch_size], X[batch_size:2*batch_size], ...`` in
    training mode, so that its running mean becomes the average of the batch means and its running
    variance the average of the unbiased batch variances. Every other module is in evaluation mode
    meanwhile (dropout is off, so the statistics describe the activations seen at inference). No
    gradient is computed and no parameter changes. A last batch of a single sample is skipped (a
    BatchNorm layer cannot take batch statistics of one value per channel).

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one BatchNorm layer that tracks running statistics.
    X : numpy.ndarray or torch.Tensor, shape (N, ...)
        Inputs (no labels needed), N >= 2, in the model's dtype.
    batch_size : int or None
        Samples per batch, >= 2; ``None`` (the default) feeds all of ``X`` as one batch, so the running
        mean is the mean over ``X`` and the running variance its unbiased variance. With ``N`` a multiple
        of ``batch_size`` the running mean also equals the mean over all of ``X``.

    Returns
    -------
    torch.nn.Module
        ``model`` itself, with its training/eval mode and each layer's ``momentum`` as before.
    """
    import torch

    layers = batchnorm_layers(model)
    if not layers:
        raise ValueError("model has no BatchNorm layer with track_running_stats=True: nothing to recalibrate")
    if batch_size is not None and (isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, numbers.Integral) or batch_size < 2):
        raise ValueError(f"batch_size must be None or an integer >= 2 (batch statistics need two samples), got {batch_size!r}")
    if not isinstance(X, (np.ndarray, torch.Tensor)):
        raise TypeError(f"X must be a numpy.ndarray or a torch.Tensor, got {type(X).__name__}")
    X = torch.as_tensor(X)
    if X.ndim < 2 or len(X) < 2:
        raise ValueError(f"X must have shape (N, ...) with N >= 2 samples, got shape {tuple(X.shape)}")
    if not X.is_floating_point():
        raise TypeError(f"X must hold floating-point values, got dtype {X.dtype}")
    if batch_size is None:
        batch_size = len(X)

    modes = {m: m.training for m in model.modules()}
    momenta = [bn.momentum for bn in layers]
    try:
        model.eval()
        for bn in layers:
            bn.reset_running_stats()
            bn.momentum = None
            bn.train()
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                batch = X[start : start + batch_size]
                if len(batch) >= 2:
                    model(batch)
    finally:
        for bn, momentum in zip(layers, momenta):
            bn.momentum = momentum
        for m, mode in modes.items():
            m.training = mode
    return model
