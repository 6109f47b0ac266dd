"""Exercises of the chapter ``book/dropout_why.ipynb`` (Why dropout regularizes).

``p`` is the drop probability throughout, as in the book and in PyTorch.
"""
import numpy as np

from companion.dropout import keep_mask

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ dowhy_noise_variance
register_question(
    "dowhy_noise_variance",
    answer=4.0 / 3.0,
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.75: "0.75 = x^2 p (1 - p) is the variance of r * x, i.e. of *original* dropout without rescaling. "
              "Inverted dropout divides by 1 - p, which multiplies the variance by 1/(1 - p)^2.",
        16.0 / 3.0: "16/3 = x^2 / (1 - p) is E[y^2], the mean of the square. The variance subtracts the square of "
                    "the mean: E[y^2] - E[y]^2 = 16/3 - 4.",
        12.0: "12 = x^2 (1 - p) / p treats p as the keep probability. Here p = 0.25 is the drop probability: "
              "Var = x^2 p / (1 - p).",
        1.0: "1 = x^2 p forgets the rescaling's effect: Var = x^2 p / (1 - p), because a kept unit is worth "
             "x / (1 - p), not x.",
    },
    explanation="y = x/(1 - p) with probability 1 - p and 0 otherwise: E[y^2] = x^2/(1 - p), E[y] = x, so "
                "Var[y] = x^2/(1 - p) - x^2 = x^2 p/(1 - p) = 4 * 0.25/0.75 = 4/3. The noise-to-signal ratio "
                "sqrt(p/(1 - p)) grows without bound as p approaches 1.",
)


# ------------------------------------------------------------------------------------------ dowhy_mc_average
def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _mc_average_ref(h, W, b, masks, p):
    logits = (h[None] * masks / (1.0 - p)) @ W + b  # (S, N, C): one thinned network per mask
    return _softmax(logits).mean(axis=0)


def _mc_average_cases(rng):
    cases = []
    for (s, n, hdim, c), p in (((4, 5, 8, 3), 0.3), ((16, 3, 6, 4), 0.7), ((1, 4, 5, 2), 0.2),
                                ((8, 6, 10, 5), 0.5), ((32, 2, 4, 3), 0.6)):
        h = np.maximum(rng.normal(0.5, 1.0, size=(n, hdim)), 0.0)  # ReLU activations
        W = rng.normal(0.0, 1.5, size=(hdim, c))
        b = rng.normal(0.0, 0.5, size=c)
        cases.append(dict(h=h, W=W, b=b, masks=keep_mask((s, n, hdim), p, rng), p=p))
    return cases


register_code(
    "dowhy_mc_average", signature="f(h, W, b, masks, p)", returns="probs",
    reference=_mc_average_ref, cases=_mc_average_cases, rtol=1e-6, atol=1e-9,
    mutants=[
        Mutant("average_logits",
               "You averaged the logits (or the masked activations) and applied softmax once. The Monte-Carlo "
               "prediction averages the *probabilities* of the thinned networks: softmax each sample, then take "
               "the mean over the masks (axis 0).",
               lambda h, W, b, masks, p: _softmax(((h[None] * masks / (1 - p)) @ W + b).mean(axis=0))),
        Mutant("no_rescale",
               "The kept activations were not divided by 1 - p. The network was trained with inverted dropout, so "
               "each thinned network sees h * mask / (1 - p), exactly as in training.",
               lambda h, W, b, masks, p: _softmax((h[None] * masks) @ W + b).mean(axis=0)),
        Mutant("p_as_keep",
               "You divided by p. p is the drop probability; kept activations are divided by the keep probability "
               "1 - p.",
               lambda h, W, b, masks, p: _softmax((h[None] * masks / p) @ W + b).mean(axis=0)),
        Mutant("ignored_masks",
               "Your result does not depend on the masks: that is the weight-scaling (evaluation-mode) prediction "
               "softmax(h @ W + b). Apply each mask, run the layer, softmax, then average over the masks.",
               lambda h, W, b, masks, p: _softmax(h @ W + b)),
    ],
    explanation="Each mask defines one thinned network; its prediction is softmax((h * mask / (1 - p)) @ W + b), and "
                "the Monte-Carlo estimate of the ensemble's prediction is the mean of these probability vectors.",
)


# ------------------------------------------------------------------------------------------ dowhy_mc_batchnorm
register_question(
    "dowhy_mc_batchnorm",
    answer="b",
    kind="choice",
    choices={
        "a": "model.train(), then run the model several times on the test inputs",
        "b": "model.eval(), then switch only the dropout modules back to training mode, then run several times",
        "c": "model.eval(), then run several times: the predictions differ because of dropout",
        "d": "model.train() for one pass over a large batch so that the statistics are good, then run several times",
    },
    wrong={
        "a": "model.train() also puts BatchNorm in training mode: it normalizes with the statistics of the current "
             "batch (a prediction then depends on which other inputs share the batch) and it overwrites the "
             "running statistics. Only the dropout modules should sample masks.",
        "c": "In evaluation mode dropout is the identity: every run gives the same prediction and the spread is "
             "zero. The dropout modules must be in training mode to sample masks.",
        "d": "BatchNorm is still in training mode during the repeated runs (batch statistics, running statistics "
             "updated). Keep BatchNorm in evaluation mode and switch only the dropout modules to training mode.",
    },
    explanation="Monte-Carlo dropout needs random masks from the dropout layers and nothing else random: BatchNorm "
                "must keep using its running statistics. companion.experiments.mc_dropout.mc_predict does exactly this.",
)
