"""Exercises of the chapter ``book/bn_train_vs_eval.ipynb`` (Training versus inference)."""
import numpy as np

from companion.batchnorm import BatchNorm

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------- traineval_keras_to_torch
def _keras_to_torch_ref(keras_momentum):
    return 1.0 - keras_momentum


def _keras_cases(rng):
    return [
        dict(keras_momentum=np.array([0.99, 0.9, 0.999, 0.5])),
        dict(keras_momentum=rng.uniform(0.0, 1.0, size=7)),
        dict(keras_momentum=np.array([0.0, 1.0, 0.75])),
        dict(keras_momentum=rng.uniform(0.9, 1.0, size=(2, 3))),
    ]


register_code(
    "traineval_keras_to_torch",
    signature="traineval_keras_to_torch(keras_momentum)",
    returns="torch_momentum",
    reference=_keras_to_torch_ref,
    cases=_keras_cases,
    mutants=[
        Mutant("same_number",
               "You kept the number unchanged. Keras's momentum weights the *old* running value "
               "(new = keras * old + (1 - keras) * batch), PyTorch's momentum α weights the *new batch* "
               "(new = (1 - α) * old + α * batch): the two momenta add up to 1.",
               lambda keras_momentum: np.array(keras_momentum, dtype=float)),
        Mutant("torch_default",
               "You returned PyTorch's default 0.1 whatever the Keras value. The equivalent momentum depends on "
               "the Keras one: 1 - keras_momentum.",
               lambda keras_momentum: np.full(np.shape(keras_momentum), 0.1)),
        Mutant("reciprocal",
               "Momentum conventions are not reciprocal: a Keras momentum k gives the new batch the weight 1 - k, "
               "which is PyTorch's momentum α.",
               lambda keras_momentum: 1.0 / np.maximum(keras_momentum, 1e-12) - 1.0),
    ],
    explanation="Keras weights the old value by its momentum, PyTorch weights the new batch by its momentum α: "
                "α = 1 - keras "
                "(Keras's default 0.99 is PyTorch's 0.01).",
)


# ------------------------------------------------------------------------------ traineval_cumulative_mean
def _cumulative_ref(batch_means):
    """Feed the companion's layer (momentum=None) one two-sample batch per mean: the layer is the reference."""
    bn = BatchNorm(1, momentum=None)
    out = []
    for mu in np.asarray(batch_means, dtype=np.float64):
        bn(np.array([[mu - 1.0], [mu + 1.0]]))
        out.append(bn.running_mean[0])
    return np.array(out)


def _cumulative_cases(rng):
    return [
        dict(batch_means=np.array([4.0, -2.0, 7.0, 1.0])),
        dict(batch_means=rng.normal(3.0, 2.0, size=12)),
        dict(batch_means=np.array([5.0])),
        dict(batch_means=rng.uniform(-10.0, 10.0, size=30)),
    ]


def _ema(batch_means, m, start=0.0):
    out, r = [], start
    for mu in batch_means:
        r = (1 - m) * r + m * mu
        out.append(r)
    return np.array(out)


register_code(
    "traineval_cumulative_mean",
    signature="traineval_cumulative_mean(batch_means)",
    returns="running_means",
    reference=_cumulative_ref,
    cases=_cumulative_cases,
    mutants=[
        Mutant("counts_initial_value",
               "You counted the initial running mean 0 as one more sample (dividing by k + 1). With momentum=None "
               "the k-th update uses the factor 1/k, so the first batch replaces the initial value completely.",
               lambda batch_means: np.cumsum(batch_means) / np.arange(2, len(batch_means) + 2)),
        Mutant("default_momentum",
               "That is the exponential moving average with PyTorch's default momentum 0.1. momentum=None means a "
               "plain (cumulative) average of all batch means seen so far.",
               lambda batch_means: _ema(batch_means, 0.1)),
        Mutant("halving",
               "You averaged the old value and the new batch mean with equal weights at every step (momentum 0.5), "
               "which favours recent batches. momentum=None weights every batch equally: the k-th update uses 1/k.",
               lambda batch_means: _ema(batch_means, 0.5)),
        Mutant("final_only",
               "You returned the overall average at every position. The running mean after batch k only knows the "
               "first k batch means.",
               lambda batch_means: np.full(len(batch_means), np.mean(batch_means))),
    ],
    explanation="With momentum=None the k-th update is r += (mu_k - r) / k, so r is the average of the first k "
                "batch means: np.cumsum(batch_means) / np.arange(1, k + 1).",
)


# -------------------------------------------------------------------------- traineval_running_mean_after_k
register_question(
    "traineval_running_mean_after_k",
    answer=5.0 * (1.0 - 0.9**10),
    kind="numeric",
    rtol=1e-3,
    wrong={
        5.0: "5 means the running mean has already reached the batch mean. That happens in Keras's convention, "
             "where momentum weights the old value (0.1 * old + 0.9 * batch), or if you add 10 * 0.1 * 5 linearly. "
             "In PyTorch a share 0.9 of the old value survives each update: 5 * (1 - 0.9**10).",
        5.0 * 0.9**10: "0.9**10 * 5 is the weight left on the initial value, times 5. The running mean is the "
                       "complement: 5 * (1 - 0.9**10).",
        0.5: "0.5 is the value after one update. Each of the 10 updates moves the running mean 10% of the "
             "remaining way towards 5: 5 * (1 - 0.9**10).",
        5.0 * (1.0 - 0.9**9): "Off by one update: after k updates the remaining share of the initial value is "
                              "0.9**k with k = 10.",
        5.0 * (1.0 - 0.99**10): "That is Keras's default momentum 0.99 (PyTorch 0.01). With PyTorch's momentum=0.1 "
                                "each update keeps 0.9 of the old value: 5 * (1 - 0.9**10).",
    },
    explanation="After k updates a share (1 - α)**k of the initial value 0 remains: 5 * (1 - 0.9**10) = 3.257.",
)


# ---------------------------------------------------------------------------------- traineval_eval_stats
register_question(
    "traineval_eval_stats",
    answer="b",
    kind="choice",
    choices={
        "a": "the mean and the biased variance of these 50 samples",
        "b": "the running mean and the running (unbiased) variance collected during training",
        "c": "the running mean, and the variance of these 50 samples",
        "d": "the mean and variance of the whole training set, recomputed at every call",
    },
    wrong={
        "a": "That is training mode (or track_running_stats=False). In eval mode the layer uses its stored running "
             "statistics, so a sample's output does not depend on the other samples of the batch.",
        "c": "Eval mode uses no batch statistic at all: both the mean and the variance come from the running "
             "buffers.",
        "d": "The layer does not keep the training set. It stores running averages of batch statistics collected "
             "during training (you can recompute them on purpose, e.g. with companion.experiments.variance_shift.recalibrate_batchnorm).",
    },
    explanation="In eval mode the layer normalizes with running_mean and running_var, the averages collected "
                "during training; the batch plays no role.",
)
