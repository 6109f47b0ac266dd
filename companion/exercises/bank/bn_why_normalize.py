"""Exercises of the chapter ``book/bn_why_normalize.ipynb`` (Why normalize?)."""
import numpy as np

from companion.batchnorm import batch_stats
from companion.experiments.quadratic import max_stable_lr

from ..registry import Mutant, register_code, register_question

__all__ = []

# ------------------------------------------------------------------------------------------ why_stable_lr
register_question(
    "why_stable_lr",
    answer=max_stable_lr(np.diag([4.0, 100.0])),
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.5: "2/4 is the limit of the *flattest* direction. Every direction must be stable, so the steepest "
             "one (eigenvalue 100) sets the limit: 2/100.",
        0.01: "1/100 is the learning rate that zeroes the steep direction in one step, not the stability limit. "
              "The error along it is multiplied by 1 - 100*lr, which stays inside (-1, 1) up to lr = 2/100.",
        2.0 / 104.0: "2/(4 + 100) is the *best* learning rate (fastest worst-case convergence), not the largest "
                     "stable one, which is 2/lambda_max = 2/100.",
        0.25: "1/4 inverts the smallest eigenvalue. The steepest direction (eigenvalue 100) limits the "
              "learning rate: the largest stable value is 2/100.",
    },
    explanation="One step multiplies the error along an eigenvector by 1 - lr*lambda; descent converges only if "
                "|1 - lr*lambda| < 1 for every eigenvalue, i.e. lr < 2/lambda_max = 2/100 = 0.02.",
)


# ------------------------------------------------------------------------------------------ why_standardize
def _standardize_ref(X_train, X):
    mean, var = batch_stats(X_train)
    return (X - mean) / np.sqrt(var)


def _standardize_cases(rng):
    cases = []
    for n_train, n, d in ((50, 10, 2), (20, 20, 3), (100, 3, 4), (8, 5, 2)):
        loc = rng.uniform(-100.0, 1000.0, size=d)
        scale = rng.uniform(0.5, 500.0, size=d)
        X_train = rng.normal(loc, scale, size=(n_train, d))
        X = rng.normal(loc + 0.5 * scale, 2.0 * scale, size=(n, d))  # new data, other statistics
        cases.append(dict(X_train=X_train, X=X))
    return cases


def _own_statistics(X_train, X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _variance_divisor(X_train, X):
    return (X - X_train.mean(axis=0)) / X_train.var(axis=0)


def _per_sample(X_train, X):
    return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)


def _unbiased(X_train, X):
    return (X - X_train.mean(axis=0)) / X_train.std(axis=0, ddof=1)


def _not_centred(X_train, X):
    return X / X_train.std(axis=0)


register_code(
    "why_standardize",
    signature="why_standardize(X_train, X)",
    reference=_standardize_ref,
    cases=_standardize_cases,
    may_use=[batch_stats],
    mutants=[
        Mutant("own_statistics",
               "You standardized X with its own mean and standard deviation. Use the training set's: the test "
               "data must go through the same transformation the model was trained with (and a single row has no "
               "spread of its own).", _own_statistics),
        Mutant("variance_divisor",
               "You divided by the variance. Divide by the standard deviation (its square root), so that the "
               "result is in units of standard deviations.", _variance_divisor),
        Mutant("per_sample",
               "You standardized each row (sample) over its features. Statistics are per feature: take the mean "
               "and standard deviation of each column, over the samples (axis 0).", _per_sample),
        Mutant("unbiased_std",
               "You used the unbiased standard deviation (ddof=1). This exercise asks for the one that divides "
               "by n (ddof=0), the convention of batch normalization.", _unbiased),
        Mutant("not_centred",
               "You divided by the standard deviation but did not subtract the training mean first.", _not_centred),
    ],
    rtol=1e-6,
    atol=1e-8,
    explanation="Per-feature statistics of the training set, applied unchanged to any later data.",
)
