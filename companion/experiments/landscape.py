"""The loss landscape seen from one point: what happens when we step along the gradient.

Santurkar et al. argue that batch normalization helps because it makes the loss and its gradient
change more slowly along the directions that training follows :cite:p:`santurkar2018how`. From
parameters ``w`` with gradient ``g`` on a batch, :func:`loss_along_gradient` measures, for step
sizes ``eta``,

* the loss ``L(w - eta * g)`` (how far the first-order prediction can be trusted), and
* the gradient change ``||grad L(w - eta * g) - g|| / ||g||`` ("gradient predictiveness": 0 means
  the gradient at ``w`` still describes the landscape ``eta`` further on).

Dividing the gradient change by the step length ``eta * ||g||`` gives an estimate of the local
Lipschitz constant of the gradient (Santurkar's "effective beta-smoothness") along that direction.
"""
import copy

import numpy as np

__all__ = ["loss_along_gradient"]


def loss_along_gradient(model, X, y, etas, loss_fn=None, training=True):
    """Loss and gradient change at ``w - eta * g`` for each step size ``eta``.

    Parameters
    ----------
    model : torch.nn.Module
        The network at the point ``w`` to probe. It is deep-copied: neither its parameters nor its
        buffers (e.g. BatchNorm running statistics) change.
    X : numpy.ndarray or torch.Tensor, shape (N, ...)
        The batch the loss is computed on (the same batch at every step size).
    y : numpy.ndarray or torch.Tensor, shape (N, ...)
        Targets (class indices for the default loss).
    etas : sequence of float, shape (K,)
        Step sizes, each > 0.
    loss_fn : callable, optional
        ``loss_fn(output, y) -> scalar tensor``; default ``torch.nn.functional.cross_entropy``.
    training : bool
        Evaluate the copy in training mode (BatchNorm uses batch statistics, as the optimizer sees
        it) or in evaluation mode.

    Returns
    -------
    dict
        ``loss0`` (float, the loss at ``w``), ``grad_norm`` (float, ``||g||``), ``etas`` (ndarray (K,)),
        ``loss`` (ndarray (K,), ``L(w - eta g)``), ``grad_change`` (ndarray (K,),
        ``||grad L(w - eta g) - g|| / ||g||``) and ``smoothness`` (ndarray (K,),
        ``||grad L(w - eta g) - g|| / (eta ||g||)``).
    """
    import torch
    import torch.nn.functional as F

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    etas = np.asarray(etas, dtype=np.float64)
    if etas.ndim != 1 or etas.size == 0 or not np.all(np.isfinite(etas)) or not np.all(etas > 0):
        raise ValueError(f"etas must be a non-empty 1-d sequence of finite step sizes > 0, got {etas!r}")
    if loss_fn is None:
        loss_fn = F.cross_entropy
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples, got {len(X)} and {len(y)}")

    probe = copy.deepcopy(model)
    probe.train(bool(training))
    params = [p for p in probe.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameter that requires a gradient")

    def loss_and_grad():
        loss = loss_fn(probe(X), y)
        return loss.item(), torch.autograd.grad(loss, params)

    def norm(tensors):
        return float(torch.sqrt(sum((t.double() ** 2).sum() for t in tensors)))

    loss0, g = loss_and_grad()
    grad_norm = norm(g)
    if grad_norm == 0.0:
        raise ValueError("the gradient is exactly zero at this point: there is no direction to probe")
    w0 = [p.detach().clone() for p in params]
    losses, changes = [], []
    for eta in etas:
        with torch.no_grad():
            for p, w, gi in zip(params, w0, g):
                p.copy_(w - eta * gi)
        loss, g_eta = loss_and_grad()
        losses.append(loss)
        changes.append(norm([a - b for a, b in zip(g_eta, g)]) / grad_norm)
    changes = np.array(changes)
    return {
        "loss0": loss0,
        "grad_norm": grad_norm,
        "etas": etas,
        "loss": np.array(losses),
        "grad_change": changes,
        "smoothness": changes / etas,
    }
