"""Exercises of the chapter ``book/dropout_modern.ipynb`` (Dropout in modern networks)."""
import numpy as np

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ moddrop_dropout_ridge
def _ridge(X, y, lam, diag=True):
    g = X.T @ X
    penalty = np.diag(np.diag(g)) if diag else np.eye(len(g))
    return np.linalg.solve(g + lam * penalty, X.T @ y)


def _ridge_ref(X, y, p):
    return _ridge(X, y, p / (1 - p))


def _ridge_cases(rng):
    cases = []
    for n, d, p in ((40, 3, 0.5), (60, 5, 0.2), (30, 4, 0.7), (50, 2, 0.1)):
        X = rng.normal(size=(n, d)) * rng.uniform(0.2, 5.0, size=d)  # features of very different scales
        cases.append(dict(X=X, y=X @ rng.normal(size=d) + rng.normal(size=n), p=p))
    return cases


register_code(
    "moddrop_dropout_ridge",
    signature="moddrop_dropout_ridge(X, y, p)",
    reference=_ridge_ref,
    cases=_ridge_cases,
    returns="w",
    mutants=[
        Mutant("plain_ridge",
               "You penalized every weight equally (lambda * I). Marginalizing the dropout mask penalizes w_j in "
               "proportion to (X^T X)_jj, the squared size of feature j: lambda * diag(X^T X).",
               lambda X, y, p: _ridge(X, y, p / (1 - p), diag=False)),
        Mutant("lambda_is_p",
               "Your penalty strength is p. With inverted dropout (kept inputs divided by 1 - p) the variance of the "
               "noise is p / (1 - p) per unit of x_j^2 w_j^2, so lambda = p / (1 - p).",
               lambda X, y, p: _ridge(X, y, p)),
        Mutant("keep_over_drop",
               "You used (1 - p) / p: p here is the drop probability, so lambda = p / (1 - p).",
               lambda X, y, p: _ridge(X, y, (1 - p) / p)),
        Mutant("least_squares",
               "You returned the ordinary least-squares solution: dropout adds a penalty, the solution is shrunk "
               "towards zero.", lambda X, y, p: _ridge(X, y, 0.0)),
    ],
    rtol=1e-6,
    atol=1e-9,
    explanation="w = solve(X^T X + p / (1 - p) diag(X^T X), X^T y): ridge regression whose penalty on each weight "
                "scales with its feature's size.",
)


# ------------------------------------------------------------------------------------------ moddrop_gaussian_var
register_question(
    "moddrop_gaussian_var",
    answer=0.25,
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.2: "That is p. The Gaussian noise must have the variance of inverted Bernoulli dropout's factor "
             "r / (1 - p), which is p / (1 - p).",
        0.16: "p (1 - p) is the variance of the Bernoulli mask r itself; after dividing by 1 - p it becomes "
              "p (1 - p) / (1 - p)^2 = p / (1 - p).",
        4.0: "That is (1 - p) / p: the ratio is the other way round.",
    },
    explanation="r / (1 - p) has mean 1 and variance p (1 - p) / (1 - p)^2 = p / (1 - p) = 0.25 for p = 0.2.",
)


# ------------------------------------------------------------------------------------------ moddrop_expected_depth
register_question(
    "moddrop_expected_depth",
    answer=8.75,
    kind="numeric",
    rtol=1e-3,
    wrong={
        6.0: "That is 12 blocks each kept with probability 0.5. With the linear decay rule the drop probability "
             "grows from block 1 to block 12: p_l = (l / L) * p_L.",
        9.25: "You numbered the blocks from 0. With blocks l = 1, ..., 12, p_l = (l / 12) * 0.5, so the last block "
              "has p_L = 0.5.",
        3.25: "That is the expected number of *dropped* blocks; the expected depth is 12 minus it.",
    },
    explanation="E[depth] = sum_l (1 - 0.5 l / 12) = 12 - 0.5 * 78 / 12 = 8.75.",
)
