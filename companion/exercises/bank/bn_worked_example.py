"""Exercises of the chapter ``book/bn_worked_example.ipynb`` (A worked example)."""
import numpy as np

from companion.batchnorm import batch_norm_forward, batch_stats

from ..registry import register_question

__all__ = []

_X = np.array([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]])
_PAIR = np.array([[3.0], [7.0]])

register_question(
    "worked_column_variance",
    answer=float(batch_stats(_X)[1][1]),
    kind="numeric",
    rtol=1e-3,
    wrong={
        1.125: "That is the unbiased variance (sum of squares divided by m - 1 = 1). Batch normalization "
               "normalizes with the biased variance: divide by m = 2.",
        0.75: "0.75 is the distance of each value from the mean (the standard deviation), not its square. "
              "The variance is the mean of the squared deviations: 0.75**2.",
        1.5: "1.5 is the difference between the two values. Subtract the mean (1.75) from each, square the "
             "deviations and average them.",
        2.25: "2.25 is the square of the difference 1.5. The deviations are measured from the mean, so each "
              "is half the difference: average (0.75**2, 0.75**2).",
    },
    explanation="mean = 1.75, deviations = -0.75 and +0.75, biased variance = (0.5625 + 0.5625) / 2 = 0.5625.",
)

register_question(
    "worked_pair_xhat",
    answer=float(batch_norm_forward(_PAIR, None, None, eps=1e-8)[0][1, 0]),
    kind="numeric",
    rtol=1e-4,
    wrong={
        1.0 / np.sqrt(2.0): "1/sqrt(2) comes from the unbiased variance (dividing by m - 1 = 1 gives 8). BN uses "
                            "the biased variance, 4, and two values with mean 0 and mean square 1 are +-1.",
        2.0: "2 is the deviation from the mean; you still have to divide it by sqrt(var + eps) = sqrt(4 + 1e-8).",
        0.5: "You divided the deviation 2 by the variance 4; divide by the standard deviation sqrt(4 + eps) = 2.",
        1.75: "7 / 4 divides the raw value by the standard deviation without subtracting the mean 5 first.",
        -1.0: "The sample with the larger value lies above the mean, so its normalized value is positive.",
    },
    explanation="mean = 5, biased variance = 4, x_hat = (7 - 5) / sqrt(4 + 1e-8) = 0.99999999875: in a batch of "
                "two every value becomes (almost exactly) +1 or -1.",
)

register_question(
    "worked_pair_gradient",
    answer="a",
    kind="choice",
    choices={
        "a": "the gradient with respect to the layer's input x only",
        "b": "the gradients with respect to gamma and beta only",
        "c": "all of them: x, gamma and beta",
        "d": "none of them",
    },
    wrong={
        "b": "gamma and beta still get ordinary gradients: dbeta = sum(dy), dgamma = sum(dy * x_hat) with "
             "x_hat = +-1. It is the input whose gradient vanishes, because x_hat barely depends on x.",
        "c": "y = gamma * x_hat + beta depends on gamma and beta as usual, so their gradients are ordinary; "
             "only the input's gradient is multiplied by eps / (var + eps).",
        "d": "With two samples x_hat is +-sqrt(var / (var + eps)), nearly constant in x, so dL/dx is multiplied "
             "by eps / (var + eps), about zero. (gamma and beta do keep their gradients.)",
    },
    explanation="x_hat = +-sqrt(var / (var + eps)) hardly moves when x moves, so dL/dx carries the factor "
                "eps / (var + eps); dL/dgamma = sum(dy * x_hat) and dL/dbeta = sum(dy) are unaffected.",
)
