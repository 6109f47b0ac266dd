"""Exercises of the chapter ``book/bn_numerics.ipynb`` (Numerical stability)."""
import numpy as np

from companion.batchnorm import batch_stats

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ numerics_stable_var
def _var_ref(x):
    return batch_stats(x.astype(np.float64))[1]


def _var_cases(rng):
    return [
        dict(x=rng.normal(5.0, 2.0, size=(200, 3))),  # harmless
        dict(x=(1e4 + rng.normal(size=(1000, 4))).astype(np.float32)),  # float32, mean/std = 1e4
        dict(x=1e8 + rng.normal(size=(500, 2))),  # float64, mean/std = 1e8
        dict(x=rng.normal(-3.0, 0.5, size=(3, 5))),  # a small batch
    ]


def _one_pass_float64(x):
    x = x.astype(np.float64)
    return (x * x).mean(axis=0) - x.mean(axis=0) ** 2


def _one_pass_input_dtype(x):
    mean = x.mean(axis=0, dtype=x.dtype)
    return ((x * x).mean(axis=0, dtype=x.dtype) - mean * mean).astype(np.float64)


def _unbiased(x):
    return x.astype(np.float64).var(axis=0, ddof=1)


def _std(x):
    return x.astype(np.float64).std(axis=0)


def _no_square(x):
    x = x.astype(np.float64)
    return np.abs(x - x.mean(axis=0)).mean(axis=0)


register_code(
    "numerics_stable_var",
    signature="numerics_stable_var(x)",
    reference=_var_ref,
    cases=_var_cases,
    mutants=[
        Mutant("one_pass",
               "You used mean(x**2) - mean(x)**2. When the mean is large compared to the spread, both terms are "
               "about mean**2 and their rounding errors swamp the small difference (catastrophic cancellation), "
               "even in float64 at mean 1e8. Subtract the mean first, then average the squared deviations.",
               _one_pass_float64),
        Mutant("one_pass_low_precision",
               "You used mean(x**2) - mean(x)**2 in the input's precision: in float32 it already fails at "
               "mean/std = 1e4. Convert to float64 and compute the mean squared deviation from the mean.",
               _one_pass_input_dtype),
        Mutant("unbiased",
               "You divided by N - 1 (the unbiased estimate). This exercise, like BN, wants the biased variance: "
               "divide by N.", _unbiased),
        Mutant("std_not_variance",
               "You returned the standard deviation. The variance is its square: the mean of the squared "
               "deviations, without a square root.", _std),
        Mutant("no_square",
               "You averaged |x - mean| instead of (x - mean)**2: the variance squares the deviations.", _no_square),
    ],
    rtol=1e-3,
    atol=0.0,
    explanation="Two passes (mean, then mean squared deviation) in float64, or Welford's update, never subtract "
                "two nearly equal large numbers, so they stay accurate when |mean| >> std.",
)


# ------------------------------------------------------------------------------------------ numerics_eps_variance
register_question(
    "numerics_eps_variance",
    answer=0.8,
    kind="numeric",
    rtol=1e-3,
    wrong={
        1.0: "Normalization gives unit variance only when eps is negligible compared to the variance. Here "
             "sigma^2 = 4e-5 is only four times eps: Var(x_hat) = sigma^2 / (sigma^2 + eps).",
        float(np.sqrt(0.8)): "That is the standard deviation of x_hat, sqrt(sigma^2 / (sigma^2 + eps)). The question "
                             "asks for the variance: sigma^2 / (sigma^2 + eps).",
        0.2: "That is eps / (sigma^2 + eps), the fraction that is lost. The variance that remains is "
             "sigma^2 / (sigma^2 + eps).",
        0.75: "eps is added to the variance, not subtracted from it: Var(x_hat) = sigma^2 / (sigma^2 + eps).",
    },
    explanation="x_hat = (x - mu) / sqrt(sigma^2 + eps), so Var(x_hat) = sigma^2 / (sigma^2 + eps) = 4/5.",
)


# ------------------------------------------------------------------------------------------ numerics_fp16_square
register_question(
    "numerics_fp16_square",
    answer="b",
    kind="choice",
    choices={"a": "90000.0", "b": "inf", "c": "65504.0, the largest float16 value", "d": "nan"},
    wrong={
        "a": "float16 cannot represent 90000: its largest finite value is 65504.",
        "c": "IEEE arithmetic with round-to-nearest does not saturate: a result beyond the largest finite value "
             "(by more than half a spacing) rounds to infinity.",
        "d": "Overflow gives infinity, not NaN. NaN comes from operations such as inf - inf or 0/0 (which is "
             "what a one-pass variance in float16 then produces).",
    },
    explanation="300**2 = 90000 > 65504, the largest finite float16, so the result overflows to inf. Any "
                "|x| >= 256 overflows when squared.",
)
