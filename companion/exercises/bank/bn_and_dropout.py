"""Exercises of the chapter ``book/bn_and_dropout.ipynb`` (Batch normalization and dropout together)."""
from companion.experiments.variance_shift import dropout_variance_ratio

from ..registry import register_question

__all__ = []

# ------------------------------------------------------------------------------------------ bndo_variance_ratio
register_question(
    "bndo_variance_ratio",
    answer=dropout_variance_ratio(0.5),
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.5: "0.5 is the ratio the other way round (evaluation over training). In training the variance is "
             "larger: E[y^2] = E[x^2] / (1 - p), so Var_train / Var_eval = 1 / (1 - p).",
        1.0: "Rescaling by 1 / (1 - p) keeps the mean, not the variance: the dropped values add spread. "
             "E[y^2] = E[x^2] / (1 - p) = 2 while the mean stays 0.",
        4.0: "Each kept value is doubled, which multiplies its square by 4, but only half of the values are "
             "kept: E[y^2] = (1 - p) * E[x^2] / (1 - p)^2 = E[x^2] / (1 - p) = 2.",
    },
    explanation="E[y] = 0 and E[y^2] = E[x^2] / (1 - p) = 2: the training-time variance is 1 / (1 - p) = 2 times "
                "the evaluation-time variance.",
)

# ------------------------------------------------------------------------------------------ bndo_ratio_with_mean
register_question(
    "bndo_ratio_with_mean",
    answer=dropout_variance_ratio(0.5, mean=1.0, var=1.0),
    kind="numeric",
    rtol=1e-3,
    wrong={
        2.0: "1 / (1 - p) holds for a zero-mean input only. With mean c, dropped values fall from about c to 0, "
             "which adds spread: the ratio is (1 + p c^2 / v) / (1 - p).",
        4.0: "(c^2 + v) / (1 - p) = 4 is E[y^2], the second moment. The variance subtracts the squared mean, "
             "which dropout keeps: Var_train = 4 - 1 = 3.",
        1.0 / 3.0: "That is evaluation over training. Training-time variance is the larger one: 3 against 1.",
    },
    explanation="E[y] = c = 1 and E[y^2] = (c^2 + v) / (1 - p) = 4, so Var_train = 3 = 3 * Var_eval.",
)

# ------------------------------------------------------------------------------------------ bndo_placement
register_question(
    "bndo_placement",
    answer="c",
    kind="choice",
    choices={
        "a": "blocks Linear -> ReLU -> Dropout -> BN",
        "b": "blocks Linear -> BN -> ReLU -> Dropout",
        "c": "blocks Linear -> BN -> ReLU, and a single Dropout just before the output layer",
        "d": "Dropout on the input pixels, then blocks Linear -> BN -> ReLU",
    },
    wrong={
        "a": "Here dropout feeds BN directly: the largest shift of all, (1 + p c^2 / v) / (1 - p) per channel.",
        "b": "BN comes before dropout inside a block, but the next block's BN sees that dropout through a linear "
             "layer: the shift is diluted, not removed.",
        "d": "Dropout on the inputs still reaches the first BN through the first linear layer, so that BN layer "
             "stores a training-time variance that is larger than the test-time one.",
    },
    explanation="A BN layer is shifted when any dropout lies upstream of it; with dropout only after the last BN, "
                "no BN layer sees dropout.",
)
