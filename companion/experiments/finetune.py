"""Fine-tuning a network that contains BatchNorm layers: freezing them, and checking what really froze.

A BatchNorm layer holds two kinds of state. Its scale and shift ``weight`` (gamma) and ``bias`` (beta)
are parameters: the optimizer changes them through their gradients, so ``requires_grad=False`` stops
them. Its ``running_mean`` and ``running_var`` are buffers: every forward pass in training mode
overwrites them, with no gradient involved, so only evaluation mode stops them
:cite:p:`pytorch_batchnorm_docs`. Freezing a BN layer for fine-tuning takes both.

:func:`freeze_batchnorm` does both for every BN layer of a model. ``model.train()`` switches every
submodule back to training mode, so a training loop must re-apply it after each ``model.train()``;
:class:`FineTuneWrapper` does that automatically. :func:`finetune_changes` fine-tunes a copy of a
model for a few steps and reports which parameters and statistics moved.
"""
import copy
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .calibration import batchnorm_layers

__all__ = ["FineTuneWrapper", "finetune_changes", "finetune_probe", "freeze_batchnorm"]


_BN = nn.modules.batchnorm._BatchNorm


def _check_module(model, name="model"):
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")


def freeze_batchnorm(model):
    """Freeze every BatchNorm layer of ``model`` in place: evaluation mode and no gradient for gamma, beta.

    Every other module keeps its mode and its parameters stay trainable. Calling ``model.train()``
    afterwards puts the BN layers back in training mode (wrap the model in :class:`FineTuneWrapper`,
    or call this function again after every ``model.train()``).

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one ``BatchNorm1d/2d/3d`` layer (or a subclass).

    Returns
    -------
    torch.nn.Module
        ``model`` itself.
    """
    _check_module(model)
    layers = [m for m in model.modules() if isinstance(m, _BN)]
    if not layers:
        raise ValueError("model has no BatchNorm layer: there is nothing to freeze")
    for bn in layers:
        bn.eval()
        for param in bn.parameters(recurse=False):
            param.requires_grad_(False)
    return model


class FineTuneWrapper(nn.Module):
    """Wrap ``model`` so that ``prepare(model)`` runs after every switch to training mode.

    ``wrapper.train()`` first puts every submodule in training mode (as ``nn.Module.train`` does) and
    then calls ``prepare(model)``, so that a training loop that calls ``model.train()`` at the start of
    each epoch (as :func:`companion.experiments.training.train` does) cannot undo a freeze. ``wrapper.eval()``
    behaves as usual. The forward pass is ``model``'s.

    Parameters
    ----------
    model : torch.nn.Module
    prepare : callable, optional
        ``prepare(model)``, applied in place; default :func:`freeze_batchnorm`. Its return value is
        ignored.
    """

    def __init__(self, model, prepare=freeze_batchnorm):
        _check_module(model)
        if not callable(prepare):
            raise TypeError(f"prepare must be callable, got {type(prepare).__name__}")
        super().__init__()
        self.model = model
        self.prepare = prepare
        self.train(model.training)

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    def train(self, mode=True):
        super().train(mode)
        if mode:
            self.prepare(self.model)
        return self


def _max_abs_change(before, after):
    return float((after.detach() - before).abs().max()) if before.numel() else 0.0


def finetune_changes(model, X, y, prepare, steps=4, lr=0.05, seed=0):
    """Fine-tune a copy of ``model`` after ``prepare`` and report how far each part of it moved.

    The copy is put in training mode, ``prepare(copy)`` is applied (e.g. :func:`freeze_batchnorm`),
    and ``steps`` steps of plain SGD (learning rate ``lr``, cross-entropy loss) are taken, each on the
    whole of ``X``, updating only the parameters whose ``requires_grad`` is still True. ``model``
    itself is not modified.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier with at least one BatchNorm layer that tracks running statistics.
    X : numpy.ndarray, shape (N, ...), N >= 2
        Fine-tuning inputs, in the model's dtype.
    y : numpy.ndarray of int, shape (N,)
        Class labels.
    prepare : callable
        ``prepare(model)``, applied in place after ``model.train()``. If it returns a
        ``torch.nn.Module``, that module is fine-tuned instead.
    steps : int
        Number of SGD steps (>= 1).
    lr : float
        Learning rate.
    seed : int
        Seed of torch's generator (dropout masks).

    Returns
    -------
    stats_change : numpy.ndarray, shape (2 L,)
        For each of the L BatchNorm layers (module order), the largest absolute change of its
        running mean, then of its running variance.
    affine_change : numpy.ndarray, shape (2 L,)
        For each BatchNorm layer, the largest absolute change of gamma, then of beta (0 for a layer
        without them, ``affine=False``).
    weight_change : numpy.ndarray, shape (K,)
        The largest absolute change of each of the K parameter tensors outside BatchNorm layers, in
        ``model.named_parameters()`` order.
    """
    _check_module(model)
    if not callable(prepare):
        raise TypeError(f"prepare must be callable, got {type(prepare).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    X = torch.as_tensor(X)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if len(X) < 2 or len(y) != len(X):
        raise ValueError(f"X and y must hold the same number N >= 2 of samples, got {len(X)} and {len(y)}")

    net = copy.deepcopy(model)
    bns = batchnorm_layers(net)
    if not bns:
        raise ValueError("model has no BatchNorm layer that tracks running statistics")
    bn_param_ids = {id(p) for m in net.modules() if isinstance(m, _BN) for p in m.parameters(recurse=False)}
    others = [p for p in net.parameters() if id(p) not in bn_param_ids]
    stats0 = [(m.running_mean.clone(), m.running_var.clone()) for m in bns]
    affine0 = [(m.weight.detach().clone() if m.affine else None, m.bias.detach().clone() if m.affine else None)
               for m in bns]
    others0 = [p.detach().clone() for p in others]

    net.train()
    returned = prepare(net)
    if isinstance(returned, torch.nn.Module) and returned is not net:
        raise ValueError("prepare returned a different model: it must modify the model it is given in place")
    trainable = [p for p in net.parameters() if p.requires_grad]
    torch.manual_seed(seed)
    for _ in range(steps):
        loss = F.cross_entropy(net(X), y)
        for p in trainable:
            p.grad = None
        if trainable:
            loss.backward()
        with torch.no_grad():
            for p in trainable:
                if p.grad is not None:
                    p -= lr * p.grad

    stats = [_max_abs_change(b, a) for (m0, v0), m in zip(stats0, bns) for b, a in ((m0, m.running_mean),
                                                                                      (v0, m.running_var))]
    affine = []
    for (w0, b0), m in zip(affine0, bns):
        affine += [0.0, 0.0] if w0 is None else [_max_abs_change(w0, m.weight), _max_abs_change(b0, m.bias)]
    weights = [_max_abs_change(b, p) for b, p in zip(others0, others)]
    return np.array(stats), np.array(affine), np.array(weights)


def finetune_probe(prepare, steps=4, lr=0.05, seed=0):
    """``probe(model, X, y)``: :func:`finetune_changes` with ``prepare`` fixed (how the exercise checker sees it).

    Parameters
    ----------
    prepare : callable
        ``prepare(model)``, e.g. a reader's freezing function.
    steps, lr, seed
        Passed to :func:`finetune_changes`.

    Returns
    -------
    callable
        ``probe(model, X, y) -> (stats_change, affine_change, weight_change)``.
    """
    if not callable(prepare):
        raise TypeError(f"prepare must be callable, got {type(prepare).__name__}")

    def probe(model, X, y):
        return finetune_changes(model, X, y, prepare, steps=steps, lr=lr, seed=seed)

    probe.__name__ = getattr(prepare, "__name__", "probe")
    return probe
