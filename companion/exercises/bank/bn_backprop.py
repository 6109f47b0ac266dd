"""Exercises of the chapter ``book/bn_backprop.ipynb`` (Backpropagation through batch normalization)."""
import numpy as np

from companion.batchnorm import batch_norm_backward, batch_norm_forward

from ..registry import Mutant, register_code, register_question

__all__ = []


def _forward_cases(rng, shapes=((8, 3), (5, 4), (2, 3), (16, 1), (3, 6))):
    """Batches with varied means, spreads, gammas and upstream gradients (one small-variance channel each)."""
    cases = []
    for n, c in shapes:
        x = rng.normal(rng.uniform(-3, 3, c), rng.uniform(0.5, 4.0, c), size=(n, c))
        x[:, 0] = 0.02 * x[:, 0]  # variance comparable to eps: a misplaced eps shows
        gamma = rng.uniform(-2.0, 2.0, c)
        beta = rng.normal(size=c)
        _, (xhat, inv_std, _) = batch_norm_forward(x, gamma, beta, eps=1e-5)
        dy = rng.normal(size=(n, c))
        cases.append((dy, xhat, gamma, beta, inv_std))
    return cases


# ------------------------------------------------------------------------------------ backprop_param_grads
def _param_grads_ref(dy, xhat, gamma, beta):
    return (dy * xhat).sum(axis=0), dy.sum(axis=0)


register_code(
    "backprop_param_grads",
    signature="backprop_param_grads(dy, xhat, gamma, beta)",
    returns="(dgamma, dbeta)",
    reference=_param_grads_ref,
    cases=lambda rng: [dict(dy=dy, xhat=xhat, gamma=g, beta=b) for dy, xhat, g, b, _ in _forward_cases(rng)],
    mutants=[
        Mutant("mean_not_sum",
               "You averaged over the batch. gamma and beta are used by every sample, so their gradients "
               "*add up* the contributions of all samples: a sum over axis 0, not a mean.",
               lambda dy, xhat, gamma, beta: ((dy * xhat).mean(axis=0), dy.mean(axis=0))),
        Mutant("y_instead_of_xhat",
               "You multiplied dy by the output y = gamma * xhat + beta. The derivative of gamma * xhat + beta "
               "with respect to gamma is xhat, so dgamma = sum(dy * xhat).",
               lambda dy, xhat, gamma, beta: ((dy * (gamma * xhat + beta)).sum(axis=0), dy.sum(axis=0))),
        Mutant("gamma_factor",
               "You multiplied by gamma. gamma multiplies xhat in the forward pass, so the gradient of gamma "
               "involves xhat (not gamma); it is the gradient of xhat that gets the factor gamma.",
               lambda dy, xhat, gamma, beta: ((gamma * dy * xhat).sum(axis=0), dy.sum(axis=0))),
        Mutant("swapped",
               "The two results are swapped: dgamma = sum(dy * xhat) and dbeta = sum(dy).",
               lambda dy, xhat, gamma, beta: (dy.sum(axis=0), (dy * xhat).sum(axis=0))),
        Mutant("wrong_axis",
               "You summed over the channels (axis 1). Each channel has its own gamma and beta; sum over the "
               "batch, axis 0.",
               lambda dy, xhat, gamma, beta: (np.full(dy.shape[1], (dy * xhat).sum()), np.full(dy.shape[1], dy.sum()))),
    ],
    explanation="Both parameters are shared by the whole batch, so their gradients sum over it: "
                "dbeta = sum(dy) and dgamma = sum(dy * xhat).",
)


# ------------------------------------------------------------------------------------------- backprop_dx
def _dx_ref(dy, xhat, gamma, inv_std):
    # batch_norm_backward only needs (xhat, inv_std, weight) in its cache
    return batch_norm_backward(dy, (xhat, inv_std, gamma))[0]


def _dx_constant_stats(dy, xhat, gamma, inv_std):
    return gamma * inv_std * dy


def _dx_no_variance_path(dy, xhat, gamma, inv_std):
    return gamma * inv_std * (dy - dy.mean(axis=0))


def _dx_no_mean_path(dy, xhat, gamma, inv_std):
    return gamma * inv_std * (dy - xhat * (dy * xhat).mean(axis=0))


def _dx_sum_not_mean(dy, xhat, gamma, inv_std):
    return gamma * inv_std * (dy - dy.sum(axis=0) - xhat * (dy * xhat).sum(axis=0))


def _dx_no_gamma(dy, xhat, gamma, inv_std):
    return inv_std * (dy - dy.mean(axis=0) - xhat * (dy * xhat).mean(axis=0))


def _dx_times_std(dy, xhat, gamma, inv_std):
    return gamma / inv_std * (dy - dy.mean(axis=0) - xhat * (dy * xhat).mean(axis=0))


register_code(
    "backprop_dx",
    signature="backprop_dx(dy, xhat, gamma, inv_std)",
    returns="dx",
    reference=_dx_ref,
    cases=lambda rng: [dict(dy=dy, xhat=xhat, gamma=g, inv_std=s) for dy, xhat, g, _, s in _forward_cases(rng)],
    mutants=[
        Mutant("constant_statistics",
               "You treated the batch mean and standard deviation as constants (dx = gamma/sigma * dy). That is "
               "the eval-mode gradient; in training mode mu and sigma depend on x, which adds the two "
               "correction terms -mean(dy) and -xhat * mean(dy * xhat).",
               _dx_constant_stats),
        Mutant("no_variance_path",
               "You kept the path through the mean but dropped the one through the variance: subtract "
               "xhat * mean(dy * xhat) as well.",
               _dx_no_variance_path),
        Mutant("no_mean_path",
               "You kept the path through the variance but dropped the one through the mean: subtract "
               "mean(dy) as well.",
               _dx_no_mean_path),
        Mutant("sum_not_mean",
               "The corrections are batch *means*, (1/m) * sum(dy) and (1/m) * sum(dy * xhat): you forgot "
               "the factor 1/m.",
               _dx_sum_not_mean),
        Mutant("no_gamma",
               "The bracket must be scaled by gamma as well as by 1/sigma: the gradient reaching xhat is "
               "gamma * dy.",
               _dx_no_gamma),
        Mutant("times_std",
               "inv_std is already 1/sigma: multiply by it, do not divide.",
               _dx_times_std),
    ],
    explanation="dx = gamma/sigma * (dy - mean(dy) - xhat * mean(dy * xhat)), per channel.",
)


# --------------------------------------------------------------------------------------- backprop_sum_dx
# x = (1, 2, 4, 9): mean 4, biased variance 38/4 = 9.5
_INV_STD = 1.0 / np.sqrt(9.5 + 1e-5)

register_question(
    "backprop_sum_dx",
    answer=0.0,
    kind="numeric",
    atol=1e-3,
    rtol=0.0,
    wrong={
        10.0: "10 is the sum of dy. The gradient does not pass through BN unchanged: the batch mean absorbs "
              "any shift of the inputs, so the shift direction gets no gradient at all.",
        30.0: "30 is gamma * sum(dy), the gradient of beta times gamma. Adding the same constant to every x "
              "does not change BN's output, so the sum of dx is exactly 0.",
        round(3.0 * _INV_STD * 10.0, 6): "That is gamma/sigma * sum(dy), the sum of the gradient you get by "
                                          "treating mu and sigma as constants. Through the mean, the gradient's "
                                          "batch sum cancels exactly: sum(dx) = 0.",
        2.5: "2.5 is the mean of dy. The mean is subtracted from dy inside the gradient, so the sum of dx is 0.",
    },
    explanation="Shifting every input of a channel by the same amount leaves BN's output unchanged, so the "
                "loss has zero slope along that direction: sum(dx) = 0 for any x, dy, gamma and eps.",
)
