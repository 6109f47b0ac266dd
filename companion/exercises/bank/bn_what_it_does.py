"""Exercises of the chapter ``book/bn_what_it_does.ipynb`` (Internal covariate shift, and what BN really does)."""
import numpy as np

from companion.folding import fold_bn_weights

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ whatitdoes_fold_bn
def _fold_ref(W, b, gamma, beta, running_mean, running_var, eps):
    return fold_bn_weights(W, b, running_mean, running_var, eps, bn_weight=gamma, bn_bias=beta)


def _fold_cases(rng):
    cases = []
    for n_out, n_in, eps in ((3, 5, 1e-5), (6, 2, 1e-3), (4, 4, 1e-5), (1, 3, 1e-1)):
        W = rng.normal(size=(n_out, n_in))
        b = rng.normal(size=n_out)
        gamma = rng.uniform(0.5, 2.0, size=n_out) * rng.choice([-1.0, 1.0], size=n_out)
        beta = rng.normal(size=n_out)
        running_mean = rng.normal(0.0, 3.0, size=n_out)
        running_var = rng.uniform(0.2, 4.0, size=n_out)
        running_var[0] = 0.1 * eps  # a nearly constant unit: there eps matters
        cases.append(dict(W=W, b=b, gamma=gamma, beta=beta, running_mean=running_mean,
                          running_var=running_var, eps=eps))
    return cases


def _fold_no_eps(W, b, gamma, beta, running_mean, running_var, eps):
    a = gamma / np.sqrt(running_var)
    return W * a[:, None], a * (b - running_mean) + beta


def _fold_variance(W, b, gamma, beta, running_mean, running_var, eps):
    a = gamma / (running_var + eps)
    return W * a[:, None], a * (b - running_mean) + beta


def _fold_unscaled_bias(W, b, gamma, beta, running_mean, running_var, eps):
    a = gamma / np.sqrt(running_var + eps)
    return W * a[:, None], b + beta - a * running_mean


def _fold_no_mean(W, b, gamma, beta, running_mean, running_var, eps):
    a = gamma / np.sqrt(running_var + eps)
    return W * a[:, None], a * b + beta


def _fold_drops_linear_bias(W, b, gamma, beta, running_mean, running_var, eps):
    a = gamma / np.sqrt(running_var + eps)
    return W * a[:, None], beta - a * running_mean


register_code(
    "whatitdoes_fold_bn",
    signature="whatitdoes_fold_bn(W, b, gamma, beta, running_mean, running_var, eps)",
    reference=_fold_ref,
    cases=_fold_cases,
    returns="(W_folded, b_folded)",
    mutants=[
        Mutant("no_eps",
               "eps is missing: in evaluation mode BN divides by sqrt(running_var + eps), and for a nearly "
               "constant unit (tiny running_var) leaving eps out changes the result a lot.", _fold_no_eps),
        Mutant("variance_not_std",
               "You divided by the variance. BN divides by the standard deviation: the scale of each unit is "
               "gamma / sqrt(running_var + eps).", _fold_variance),
        Mutant("unscaled_bias",
               "The linear layer's bias b passes through BN too, so it is scaled like the rest of the "
               "pre-activation: b_folded = a * (b - running_mean) + beta with a = gamma / sqrt(running_var + eps).",
               _fold_unscaled_bias),
        Mutant("no_mean",
               "You forgot to subtract the running mean: BN computes gamma * (h - running_mean) / "
               "sqrt(running_var + eps) + beta, so b_folded = a * (b - running_mean) + beta.", _fold_no_mean),
        Mutant("drops_linear_bias",
               "You dropped the linear layer's own bias b. The pre-activation is h = W x + b, and b goes through "
               "BN with the rest: b_folded = a * (b - running_mean) + beta.", _fold_drops_linear_bias),
    ],
    rtol=1e-6,
    atol=1e-8,
    explanation="Each output unit is rescaled by a = gamma / sqrt(running_var + eps): row i of W is multiplied "
                "by a[i], and the bias becomes a * (b - running_mean) + beta. The folded layer computes exactly "
                "what Linear followed by eval-mode BN computes, so gamma is an ordinary reparametrization.",
)


# ------------------------------------------------------------------------------------------ whatitdoes_noisy_bn
register_question(
    "whatitdoes_noisy_bn",
    answer="c",
    kind="choice",
    choices={
        "a": "BN works because it keeps each layer's input distribution stable; the noise was too small to matter.",
        "b": "Noise after BN makes training faster, so BN helps because it adds noise.",
        "c": "A stable input distribution is not what makes BN help here: its benefit survives a shift "
             "larger than the one it removes.",
        "d": "BN has no real benefit; the plain network is just unlucky.",
    },
    wrong={
        "a": "The noise made the step-to-step change of the sigmoid inputs far larger than in the plain network, "
             "yet training stayed about as fast as with clean BN. If stability were the cause, the benefit "
             "should have gone.",
        "b": "The noisy network was not faster than clean BN, only about as fast. The experiment shows that "
             "the benefit survives the noise, not that noise is the cause.",
        "d": "BN and noisy BN both reached high test accuracy within a few dozen steps, while the plain network "
             "needed hundreds; the learning-rate sweep shows the same benefit with another architecture.",
    },
    explanation="Noisy BN separates the two things that happen together in Ioffe and Szegedy's figure: the "
                "input distributions become unstable, and training stays fast. So a stable input distribution is "
                "not what makes BN help in this experiment; whether reducing internal covariate shift is BN's "
                "mechanism remains disputed (Santurkar et al., 2018).",
)


# ------------------------------------------------------------------------------------------ whatitdoes_regularization_source
register_question(
    "whatitdoes_regularization_source",
    answer="b",
    kind="choice",
    choices={
        "a": "the learnable scale gamma",
        "b": "the noise of mini-batch statistics: each sample's output depends on the other samples in its batch",
        "c": "the constant eps added to the variance",
        "d": "the running averages used in evaluation mode",
    },
    wrong={
        "a": "Nothing shows that gamma is the source (being deterministic would not rule it out: weight decay "
             "is deterministic and regularizes). What makes BN differ between training and evaluation is the "
             "batch noise, which exists even without gamma; Luo et al. find an implicit penalty that acts *on* "
             "gamma, but it is caused by that noise and fades as the batch grows.",
        "c": "eps only keeps the division finite and slightly shrinks the output variance; it adds no "
             "randomness and no penalty that depends on the data.",
        "d": "The running averages are fixed at evaluation time: they remove the batch dependence (and the "
             "noise) rather than cause it.",
    },
    explanation="In training mode each sample is normalized with the mean and variance of its mini-batch, so "
                "its output changes with its batch-mates: noise whose size shrinks roughly like 1/sqrt(batch "
                "size). That noise is where the implicit penalty comes from in Luo et al.'s analysis (2019); how much "
                "it regularizes in practice is disputed (Bjorck et al. attribute most of BN's gain to the larger "
                "learning rates it allows).",
)


# ------------------------------------------------------------------------------------------ whatitdoes_batch_noise_scaling
register_question(
    "whatitdoes_batch_noise_scaling",
    answer=0.1,
    kind="numeric",
    rtol=0.02,
    wrong={
        0.05: "That is 1/m scaling. The noise comes from estimating a mean and a variance from m values, whose "
              "sampling error shrinks like 1/sqrt(m): four times the batch halves the spread.",
        0.2: "The spread does depend on the batch size: with more batch-mates the batch mean and variance "
             "fluctuate less, like 1/sqrt(m).",
        0.4: "Larger batches give *less* noise, not more: the spread shrinks like 1/sqrt(m).",
    },
    explanation="The batch mean and variance are estimates from m values, with errors of order 1/sqrt(m); "
                "going from 16 to 64 samples divides the spread by sqrt(4) = 2: 0.2 / 2 = 0.1.",
)
