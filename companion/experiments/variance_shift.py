"""The variance shift between dropout and batch normalization (Li et al., 2019), predicted and measured.

Inverted dropout keeps the mean of its input but not its variance: in training, an input of mean
``c`` and variance ``v`` becomes ``x * mask / (1 - p)`` with

    Var_train = (c**2 + v) / (1 - p) - c**2        (evaluation: Var_eval = v)

so ``Var_train / Var_eval = (1 + p * c**2 / v) / (1 - p)``.  A batch normalization layer placed
after dropout learns its running variance from training-mode inputs and applies it at evaluation to
inputs of a smaller variance.  Through a linear layer ``z = W @ (mask * x / (1 - p))`` (masks
independent of x and of each other) the shift of unit ``j`` becomes

    Var_train(z_j) / Var_eval(z_j) = 1 + p / (1 - p) * sum_k W[j, k]**2 * E[x_k**2] / (W[j] @ Cov(x) @ W[j])

:func:`dropout_variance_ratio` and :func:`linear_variance_ratio` are these two predictions;
:func:`input_variances` measures the variance of a layer's input in a PyTorch model with dropout on
and off. :func:`companion.experiments.calibration.recalibrate_batchnorm` recomputes the running statistics of every
batch-norm layer with dropout off, which removes the mismatch without retraining.
"""
import numbers

import numpy as np

from .._validate import check_array
from .mc_dropout import dropout_layers

__all__ = ["dropout_variance_ratio", "input_variances", "linear_variance_ratio"]


def _check_drop(p):
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a real number in [0, 1), got {p!r}")
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be in [0, 1) (with p = 1 nothing is kept and the ratio is undefined), got {p}")
    return p


def dropout_variance_ratio(p, mean=0.0, var=1.0):
    """``Var_train / Var_eval`` of inverted dropout applied to an input of the given mean and variance.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability.
    mean : float or array-like
        Mean ``c`` of the input (per feature if an array).
    var : float or array-like, > 0
        Variance ``v`` of the input, broadcastable against ``mean``.

    Returns
    -------
    ratio : float, or numpy.ndarray of the broadcast shape of ``mean`` and ``var``
        ``(1 + p * c**2 / v) / (1 - p)``; ``1 / (1 - p)`` for a zero-mean input.
    """
    p = _check_drop(p)
    c = np.asarray(mean, dtype=np.float64)
    v = np.asarray(var, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError("mean must be finite")
    if not np.all(v > 0) or not np.all(np.isfinite(v)):
        raise ValueError("var must be finite and > 0 (a constant input has no variance to shift)")
    ratio = (1.0 + p * c * c / v) / (1.0 - p)
    return float(ratio) if ratio.ndim == 0 else ratio


def linear_variance_ratio(weight, x, p):
    """Predicted ``Var_train / Var_eval`` of every output of ``x -> weight @ dropout(x)``.

    Parameters
    ----------
    weight : numpy.ndarray, shape (D_out, D_in)
        The linear layer's weight (``nn.Linear`` layout); a bias does not change variances.
    x : numpy.ndarray, shape (N, D_in)
        Samples of the dropout layer's input (evaluation mode: no dropout); their mean, second
        moment and covariance (all dividing by N) stand for the population's.
    p : float in [0, 1)
        Drop probability of the (inverted) dropout before the linear layer.

    Returns
    -------
    ratio : numpy.ndarray, shape (D_out,)
        ``1 + p / (1 - p) * sum_k weight[j, k]**2 * E[x_k**2] / (weight[j] @ Cov(x) @ weight[j])``.
    """
    check_array(weight, "weight", min_ndim=2)
    check_array(x, "x", min_ndim=2)
    if weight.ndim != 2 or x.ndim != 2 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight must have shape (D_out, D_in) and x (N, D_in), got {weight.shape} and {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"x needs at least 2 samples to estimate a covariance, got shape {x.shape}")
    p = _check_drop(p)
    w = weight.astype(np.float64)
    x = x.astype(np.float64)
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / len(x)
    var_eval = np.einsum("jk,kl,jl->j", w, cov, w)
    if not np.all(var_eval > 0):
        raise ValueError("an output of weight @ x is constant over the samples: its variance ratio is undefined")
    extra = (w * w) @ np.mean(x * x, axis=0)
    return 1.0 + p / (1.0 - p) * extra / var_eval


def _per_channel_var(t):
    """Biased variance of each channel (axis 1) over every other axis, as float64 NumPy."""
    a = t.detach().double()
    dims = [0] + list(range(2, a.dim()))
    return a.var(dim=dims, unbiased=False).numpy()


def input_variances(model, module, X, seed=0):
    """Variance of ``module``'s input per channel, with the model's dropout layers on and off.

    Every other layer (batch normalization in particular) is in evaluation mode in both passes, so
    the two differ only by dropout.  The model's modes are restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
    module : torch.nn.Module
        A submodule of ``model`` whose (first) input is measured, e.g. a ``BatchNorm1d``.
    X : numpy.ndarray, shape (N, ...)
        Inputs of the model (its dtype, usually float32), all in one forward pass.
    seed : int
        Seed of the dropout masks (torch's global generator state is restored).

    Returns
    -------
    var_train, var_eval : numpy.ndarray of float64, shape (C,)
        Biased variance over the samples (and spatial positions) of each channel (axis 1) of the
        module's input, with dropout active and with dropout off.
    """
    import torch

    if not isinstance(model, torch.nn.Module) or not isinstance(module, torch.nn.Module):
        raise TypeError("model and module must be torch.nn.Module instances")
    if not any(m is module for m in model.modules()):
        raise ValueError("module must be a submodule of model")
    check_array(X, "X", min_ndim=2)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    captured = []
    handle = module.register_forward_pre_hook(lambda m, inputs: captured.append(inputs[0]))
    modes = {m: m.training for m in model.modules()}
    X = torch.as_tensor(X)
    try:
        model.eval()
        with torch.no_grad():
            model(X)
            for m in dropout_layers(model):
                m.train()
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                model(X)
    finally:
        handle.remove()
        for m, mode in modes.items():
            m.training = mode
    if len(captured) != 2:
        raise ValueError(f"module was called {len(captured)} times in two forward passes of model; "
                         "expected exactly once per pass")
    if captured[0].dim() < 2:
        raise ValueError(f"the module's input must have a channel axis (N, C, ...), got shape {tuple(captured[0].shape)}")
    var_eval, var_train = (_per_channel_var(t) for t in captured)
    return var_train, var_eval
