"""Monte-Carlo dropout: predict with dropout left on, and summarise the spread of the predictions.

``mc_predict`` runs a PyTorch model ``n_samples`` times with fresh dropout masks
(Gal & Ghahramani, 2016). Only the dropout modules are switched to training mode:
every other layer (BatchNorm in particular) stays in evaluation mode, so that a
prediction never depends on which other inputs share its batch.
"""
import numpy as np

from .._validate import check_array, check_positive_int

__all__ = ["detection_auc", "dropout_layers", "mc_predict", "mutual_information", "predictive_entropy"]


def dropout_layers(model):
    """The dropout modules of a torch ``model`` (every ``nn.Dropout``, ``Dropout1d/2d/3d``, ``AlphaDropout``), in order."""
    from torch import nn

    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]


def mc_predict(model, X, n_samples, seed=0, batch_size=4096):
    """Softmax predictions of ``model`` under ``n_samples`` independent dropout masks.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier that contains at least one dropout module (``nn.Dropout``, ``nn.Dropout1d/2d/3d``,
        ``nn.AlphaDropout``...) and returns class scores (logits) of shape ``(N, C)``.
    X : numpy.ndarray of float, shape (N, ...)
        Inputs (the model's dtype, usually float32).
    n_samples : int >= 1
        Number of dropout masks (forward passes).
    seed : int
        Seed of torch's global generator for the masks; the caller's generator state is restored.
    batch_size : int
        Inputs per forward pass. It bounds memory; changing it changes which masks are drawn
        (not their distribution).

    Returns
    -------
    probs : numpy.ndarray of float32, shape (n_samples, N, C)
        ``probs[s]`` is the softmax output of the network thinned by the ``s``-th set of masks.
        The model's training/eval modes are restored afterwards.
    """
    import torch

    check_array(X, "X")
    n_samples = check_positive_int(n_samples, "n_samples")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    drops = dropout_layers(model)
    if not drops:
        raise ValueError("model has no dropout module: every Monte-Carlo sample would be the same prediction")
    modes = {m: m.training for m in model.modules()}
    X = torch.as_tensor(X)
    try:
        model.eval()
        for m in drops:
            m.train()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(int(seed))
            out = torch.stack([
                torch.cat([torch.softmax(model(X[i : i + batch_size]), dim=1) for i in range(0, len(X), batch_size)])
                for _ in range(n_samples)
            ])
    finally:
        for m, mode in modes.items():
            m.training = mode
    return out.numpy().astype(np.float32, copy=False)


def _check_probs(probs):
    check_array(probs, "probs", min_ndim=2)
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-3):
        raise ValueError("probs must hold probability vectors on its last axis (non-negative, summing to 1)")
    return probs


def _entropy(p):
    p = p.astype(np.float64)
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def predictive_entropy(probs):
    """Entropy (in nats) of the averaged prediction ``probs.mean(axis=0)``.

    Parameters
    ----------
    probs : numpy.ndarray, shape (S, N, C)
        ``S`` sampled probability vectors per input, e.g. from :func:`mc_predict`.
        A single prediction of shape ``(N, C)`` is also accepted (``S = 1``).

    Returns
    -------
    numpy.ndarray of float64, shape (N,)
        Between 0 (one class certain) and ``log(C)`` (uniform).
    """
    probs = _check_probs(probs)
    return _entropy(probs if probs.ndim == 2 else probs.mean(axis=0))


def mutual_information(probs):
    """Predictive entropy minus the mean entropy of the individual samples (in nats).

    It is large only when the samples disagree with each other (each can be confident), and
    it is 0 when all samples are identical (the "BALD" score of active learning).

    Parameters
    ----------
    probs : numpy.ndarray, shape (S, N, C)

    Returns
    -------
    numpy.ndarray of float64, shape (N,), values >= 0
    """
    probs = _check_probs(probs)
    if probs.ndim != 3:
        raise ValueError(f"probs must have shape (S, N, C) with S samples per input, got shape {probs.shape}")
    return np.maximum(_entropy(probs.mean(axis=0)) - _entropy(probs).mean(axis=0), 0.0)


def detection_auc(in_scores, out_scores):
    """How well an uncertainty score tells unfamiliar inputs from familiar ones: the area under the ROC curve.

    It is the probability that a random unfamiliar input scores higher than a random familiar one,
    ties counting one half (the Mann-Whitney statistic, equal to scikit-learn's ``roc_auc_score``
    with the unfamiliar inputs as the positive class). 0.5 is chance, 1 a perfect separation.

    Parameters
    ----------
    in_scores : numpy.ndarray of float, shape (N_in,)
        Scores of the inputs the model was trained for (e.g. :func:`predictive_entropy`).
    out_scores : numpy.ndarray of float, shape (N_out,)
        Scores of the unfamiliar inputs.

    Returns
    -------
    float
        In [0, 1].
    """
    scores = {}
    for name, x in (("in_scores", in_scores), ("out_scores", out_scores)):
        check_array(x, name)
        if x.ndim != 1:
            raise ValueError(f"{name} must be one score per input, shape (N,), got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be finite (a NaN score cannot be ranked)")
        scores[name] = np.sort(x.astype(np.float64))
    inside, outside = scores["in_scores"], scores["out_scores"]
    # for each unfamiliar score: familiar scores strictly below it, and equal to it
    below = np.searchsorted(inside, outside, side="left")
    equal = np.searchsorted(inside, outside, side="right") - below
    return float((below.sum() + 0.5 * equal.sum()) / (len(inside) * len(outside)))
