"""The core exercises: build batch normalization, dropout and layer normalization yourself.

Used by the chapter ``book/exercises.ipynb``. Names and signatures are fixed (instructors and later
chapters rely on them). Every reference uses the companion's own functions; every mutant is a
known-wrong implementation that embodies one misconception, so that a submission reproducing it
gets a hint naming that misconception.
"""
import numpy as np

from companion.batchnorm import BatchNorm, batch_norm_backward, batch_norm_forward
from companion.dropout import dropout_backward, dropout_forward
from companion.layernorm import layer_norm_forward

from ..registry import Mutant, register_code

__all__ = []

# ------------------------------------------------------------------------------------------ shared pieces
HINT_UNBIASED = ("You normalized with the unbiased variance (dividing by N - 1). Normalization uses the biased "
                 "variance, which divides by N: x.var(axis=...) with its default ddof=0.")
HINT_EPS_OUTSIDE = ("eps is outside the square root: you divided by sqrt(var) + eps. It belongs inside: "
                    "(x - mean) / sqrt(var + eps).")
HINT_EPS_MISSING = ("eps is missing: for a nearly constant feature (x - mean) / sqrt(var) blows up. "
                    "Divide by sqrt(var + eps).")
HINT_NO_AFFINE = "gamma and beta are missing: after normalizing, scale and shift: y = gamma * x_hat + beta."
HINT_SWAPPED = ("gamma and beta are swapped: gamma scales (multiplies) the normalized value and beta shifts "
                "(is added): y = gamma * x_hat + beta.")


def _standardize(x, axis, ddof=0, eps=1e-5, eps_outside=False, eps_missing=False):
    """Mutants' shared arithmetic: (x - mean) / sqrt(var + eps), possibly wrongly."""
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    if eps_missing:
        return (x - mu) / np.sqrt(var)
    if eps_outside:
        return (x - mu) / (np.sqrt(var) + eps)
    return (x - mu) / np.sqrt(var + eps)


def _gamma_beta(rng, d):
    """Scale and shift that are clearly different from each other and from (1, 0)."""
    return rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d), rng.normal(0.0, 1.0, size=d)


def _features(rng, n, d):
    """A batch (n, d) whose features have different means and scales."""
    return rng.normal(rng.uniform(-3, 3, size=d), rng.uniform(0.5, 3.0, size=d), size=(n, d))


# ------------------------------------------------------------------------------------------ bn_forward
def _bn_forward_ref(x, gamma, beta, eps=1e-5):
    return batch_norm_forward(x, gamma, beta, eps)[0]


def _bn_forward_cases(rng):
    cases = []
    for (n, d), eps in (((4, 3), 1e-5), ((16, 5), 1e-5), ((2, 7), 1e-5), ((6, 6), 1e-2)):
        gamma, beta = _gamma_beta(rng, d)
        cases.append(dict(x=_features(rng, n, d), gamma=gamma, beta=beta, eps=eps))
    gamma, beta = _gamma_beta(rng, 4)  # small variance (about 1e-6, below eps): a misplaced eps shows
    cases.append(dict(x=2.0 + 1e-3 * rng.normal(size=(32, 4)), gamma=gamma, beta=beta, eps=1e-5))
    return cases


register_code(
    "bn_forward", signature="f(x, gamma, beta, eps=1e-5)", returns="y",
    reference=_bn_forward_ref, cases=_bn_forward_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("unbiased_variance", HINT_UNBIASED,
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 0, ddof=1, eps=eps) + beta),
        Mutant("eps_outside_sqrt", HINT_EPS_OUTSIDE,
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 0, eps=eps, eps_outside=True) + beta),
        Mutant("eps_missing", HINT_EPS_MISSING,
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 0, eps_missing=True) + beta),
        Mutant("stats_per_sample",
               "Your statistics run over the wrong axis: you averaged each sample (a row, axis=1). Batch "
               "normalization averages each feature over the batch: mean and variance over axis=0, one per column.",
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 1, eps=eps) + beta),
        Mutant("stats_whole_array",
               "Your statistics run over the wrong axes: one mean and variance for the whole array. Batch "
               "normalization keeps one per feature: reduce over axis=0 only.",
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, None, eps=eps) + beta),
        Mutant("no_affine", HINT_NO_AFFINE, lambda x, gamma, beta, eps=1e-5: _standardize(x, 0, eps=eps)),
        Mutant("gamma_beta_swapped", HINT_SWAPPED,
               lambda x, gamma, beta, eps=1e-5: beta * _standardize(x, 0, eps=eps) + gamma),
    ],
)


# ------------------------------------------------------------------------------------------ bn_backward
def _bn_backward_ref(dy, x, gamma, eps=1e-5):
    _, cache = batch_norm_forward(x, gamma, None, eps)
    return batch_norm_backward(dy, cache)


def _bn_backward_cases(rng):
    cases = []
    for (n, d), eps in (((4, 3), 1e-5), ((10, 6), 1e-5), ((3, 5), 1e-2)):
        gamma, _ = _gamma_beta(rng, d)
        cases.append(dict(dy=rng.normal(size=(n, d)), x=_features(rng, n, d), gamma=gamma, eps=eps))
    gamma, _ = _gamma_beta(rng, 4)
    cases.append(dict(dy=rng.normal(size=(16, 4)), x=-1.0 + 1e-3 * rng.normal(size=(16, 4)), gamma=gamma, eps=1e-5))
    return cases


def _bn_backward_parts(dy, x, gamma, eps):
    xhat = _standardize(x, 0, eps=eps)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    return xhat, inv_std, dy.sum(axis=0), (dy * xhat).sum(axis=0)


def _bn_backward_mutant(drop_mean=False, drop_var=False, dgamma_with_x=False, no_gamma=False, swap=False):
    def wrong(dy, x, gamma, eps=1e-5):
        xhat, inv_std, dbeta, dgamma = _bn_backward_parts(dy, x, gamma, eps)
        g = np.ones_like(gamma) if no_gamma else gamma
        dx = dy - (0 if drop_mean else dy.mean(axis=0)) - (0 if drop_var else xhat * (dy * xhat).mean(axis=0))
        dx = dx * g * inv_std
        if dgamma_with_x:
            dgamma = (dy * x).sum(axis=0)
        return (dx, dbeta, dgamma) if swap else (dx, dgamma, dbeta)

    return wrong


register_code(
    "bn_backward", signature="f(dy, x, gamma, eps=1e-5)", returns="(dx, dgamma, dbeta)",
    reference=_bn_backward_ref, cases=_bn_backward_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("stats_constant",
               "Your dx treats the batch mean and variance as constants (dx = dy * gamma / sqrt(var + eps)). In "
               "training mode both depend on every x, so dx has two more terms: dx = gamma / sqrt(var + eps) * "
               "(dy - mean(dy) - x_hat * mean(dy * x_hat)), means over the batch axis.",
               _bn_backward_mutant(drop_mean=True, drop_var=True)),
        Mutant("variance_path_missing",
               "Your dx follows the path through the batch mean but not the one through the batch variance: "
               "it lacks the term - x_hat * mean(dy * x_hat).",
               _bn_backward_mutant(drop_var=True)),
        Mutant("mean_path_missing",
               "Your dx follows the path through the batch variance but not the one through the batch mean: "
               "it lacks the term - mean(dy).",
               _bn_backward_mutant(drop_mean=True)),
        Mutant("dx_without_gamma",
               "dx is missing the factor gamma: the gradient reaches x_hat through y = gamma * x_hat + beta, "
               "so every term of dx is multiplied by gamma.",
               _bn_backward_mutant(no_gamma=True)),
        Mutant("dgamma_uses_x",
               "dgamma uses x instead of the normalized x_hat: since y = gamma * x_hat + beta, "
               "dgamma = sum(dy * x_hat, axis=0).",
               _bn_backward_mutant(dgamma_with_x=True)),
        Mutant("dgamma_dbeta_swapped",
               "dgamma and dbeta are swapped: dbeta = sum(dy, axis=0) and dgamma = sum(dy * x_hat, axis=0), "
               "returned in the order (dx, dgamma, dbeta).",
               _bn_backward_mutant(swap=True)),
    ],
)


# ------------------------------------------------------------------------------------------ bn_running_update
def _bn_running_ref(running_mean, running_var, x, momentum=0.1):
    bn = BatchNorm(x.shape[1], momentum=momentum, affine=False)
    bn.running_mean, bn.running_var = running_mean.copy(), running_var.copy()
    bn(x)
    return bn.running_mean, bn.running_var


def _bn_running_cases(rng):
    cases = []
    for (n, d), momentum in (((4, 3), 0.1), ((8, 5), 0.3), ((2, 4), 0.1), ((16, 2), 0.9), ((6, 6), 0.01)):
        cases.append(dict(running_mean=rng.normal(size=d), running_var=rng.uniform(0.5, 2.0, size=d),
                          x=_features(rng, n, d), momentum=momentum))
    return cases


def _running_mutant(keras=False, biased=False, replace=False):
    def wrong(running_mean, running_var, x, momentum=0.1):
        m = 1.0 if replace else (1.0 - momentum if keras else momentum)
        var = x.var(axis=0, ddof=0 if biased else 1)
        return (1 - m) * running_mean + m * x.mean(axis=0), (1 - m) * running_var + m * var

    return wrong


register_code(
    "bn_running_update", signature="f(running_mean, running_var, x, momentum=0.1)", returns="(new_mean, new_var)",
    reference=_bn_running_ref, cases=_bn_running_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("keras_momentum",
               "Your momentum convention is inverted (the Keras one: running = momentum * running + "
               "(1 - momentum) * batch). In PyTorch's convention, asked for here, momentum weighs the new batch: "
               "running = (1 - momentum) * running + momentum * batch.",
               _running_mutant(keras=True)),
        Mutant("biased_running_var",
               "Your running variance uses the biased batch variance (divide by N). PyTorch keeps the unbiased "
               "one in running_var: the batch variance times N / (N - 1), i.e. x.var(axis=0, ddof=1).",
               _running_mutant(biased=True)),
        Mutant("no_averaging",
               "Your new running statistics are just the current batch's: they must be an exponential moving "
               "average, running = (1 - momentum) * running + momentum * batch.",
               _running_mutant(replace=True)),
    ],
)


# ------------------------------------------------------------------------------------------ bn_inference
def _bn_inference_ref(x, running_mean, running_var, gamma, beta, eps=1e-5):
    bn = BatchNorm(x.shape[1], eps=eps).eval()
    bn.running_mean, bn.running_var = running_mean, running_var
    bn.weight, bn.bias = gamma, beta
    return bn(x)


def _bn_inference_cases(rng):
    cases = []
    for (n, d), eps in (((5, 3), 1e-5), ((1, 4), 1e-5), ((8, 6), 1e-2)):
        gamma, beta = _gamma_beta(rng, d)
        cases.append(dict(x=_features(rng, n, d), running_mean=rng.normal(size=d),
                          running_var=rng.uniform(0.5, 3.0, size=d), gamma=gamma, beta=beta, eps=eps))
    gamma, beta = _gamma_beta(rng, 3)  # a nearly constant feature: running variance below eps
    cases.append(dict(x=rng.normal(size=(6, 3)), running_mean=rng.normal(size=3),
                      running_var=np.array([1e-6, 2e-6, 1.5]), gamma=gamma, beta=beta, eps=1e-5))
    return cases


def _inference_mutant(batch=False, eps_outside=False, no_sqrt=False, swap=False):
    def wrong(x, running_mean, running_var, gamma, beta, eps=1e-5):
        mean, var = (x.mean(axis=0), x.var(axis=0)) if batch else (running_mean, running_var)
        if no_sqrt:
            xhat = (x - mean) / (var + eps)
        elif eps_outside:
            xhat = (x - mean) / (np.sqrt(var) + eps)
        else:
            xhat = (x - mean) / np.sqrt(var + eps)
        return beta * xhat + gamma if swap else gamma * xhat + beta

    return wrong


register_code(
    "bn_inference", signature="f(x, running_mean, running_var, gamma, beta, eps=1e-5)", returns="y",
    reference=_bn_inference_ref, cases=_bn_inference_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("batch_statistics",
               "At inference you normalized with the statistics of the batch you were given. In evaluation mode "
               "batch normalization uses the running mean and variance, so each sample's output does not depend "
               "on the rest of the batch (and a batch of one works).",
               _inference_mutant(batch=True)),
        Mutant("eps_outside_sqrt", HINT_EPS_OUTSIDE, _inference_mutant(eps_outside=True)),
        Mutant("variance_not_std",
               "You divided by the running variance (plus eps) instead of its square root: "
               "x_hat = (x - running_mean) / sqrt(running_var + eps).",
               _inference_mutant(no_sqrt=True)),
        Mutant("gamma_beta_swapped", HINT_SWAPPED, _inference_mutant(swap=True)),
    ],
)


# ------------------------------------------------------------------------------------------ spatial_bn_forward
def _spatial_ref(x, gamma, beta, eps=1e-5):
    return batch_norm_forward(x, gamma, beta, eps)[0]


def _spatial_cases(rng):
    cases = []
    for shape, eps in (((2, 3, 4, 5), 1e-5), ((4, 2, 3, 3), 1e-5), ((1, 3, 2, 2), 1e-2)):
        n, c, h, w = shape
        gamma, beta = _gamma_beta(rng, c)
        means = rng.uniform(-3, 3, size=(1, c, 1, 1))
        cases.append(dict(x=means + rng.uniform(0.5, 3.0, size=(1, c, 1, 1)) * rng.normal(size=shape),
                          gamma=gamma, beta=beta, eps=eps))
    gamma, beta = _gamma_beta(rng, 4)
    cases.append(dict(x=1.0 + 1e-3 * rng.normal(size=(3, 4, 2, 2)), gamma=gamma, beta=beta, eps=1e-5))
    return cases


def _spatial_mutant(axes=(0, 2, 3), ddof=0, reshape=False):
    def wrong(x, gamma, beta, eps=1e-5):
        c = x.shape[1]
        g, b = gamma.reshape(1, c, 1, 1), beta.reshape(1, c, 1, 1)
        if reshape:  # reshape straight to (N*H*W, C): mixes channels
            flat = x.reshape(-1, c)
            y = gamma * _standardize(flat, 0, eps=eps) + beta
            return y.reshape(x.shape)
        return g * _standardize(x, axes, ddof=ddof, eps=eps) + b

    return wrong


register_code(
    "spatial_bn_forward", signature="f(x, gamma, beta, eps=1e-5)", returns="y",
    reference=_spatial_ref, cases=_spatial_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("per_pixel",
               "You computed statistics per pixel (over the batch axis only, one mean per (channel, row, column)). "
               "Spatial batch normalization shares them across all positions of a channel: reduce over axes "
               "(0, 2, 3), one mean and variance per channel.",
               _spatial_mutant(axes=0)),
        Mutant("per_sample_and_channel",
               "You computed statistics per sample and channel (over axes (2, 3): that is instance "
               "normalization). Batch normalization also averages over the batch: axes (0, 2, 3).",
               _spatial_mutant(axes=(2, 3))),
        Mutant("reshape_without_transpose",
               "You reshaped x of shape (N, C, H, W) straight to (N*H*W, C), which mixes channels. Move the "
               "channel axis last first, x.transpose(0, 2, 3, 1).reshape(-1, C), and undo both afterwards "
               "(or reduce over axes (0, 2, 3) directly).",
               _spatial_mutant(reshape=True)),
        Mutant("unbiased_variance", HINT_UNBIASED, _spatial_mutant(ddof=1)),
    ],
)


# ------------------------------------------------------------------------------------------ dropout_forward
def _dropout_forward_ref(x, p, rng):
    return dropout_forward(x, p, True, rng)


def _dropout_forward_cases(rng):
    seeds = [int(s) for s in rng.integers(0, 2**31, size=5)]
    x = rng.normal(size=(8, 6))
    g = np.random.default_rng
    return [
        dict(x=x, p=0.3, rng=g(seeds[0])),
        dict(x=x.copy(), p=0.3, rng=g(seeds[0])),  # same rng state as case 0: the same mask
        dict(x=x.copy(), p=0.3, rng=g(seeds[1])),  # another state: another mask
        dict(x=rng.normal(size=(200, 500)), p=0.2, rng=g(seeds[2])),  # large: the keep fraction is measurable
        dict(x=rng.normal(size=(100, 100)), p=0.6, rng=g(seeds[3])),
        dict(x=rng.normal(size=(5, 4, 3)), p=0.75, rng=g(seeds[4])),
    ]


_SAME_STATE, _OTHER_STATE = (0, 1), (0, 2)


def _grade_dropout_forward(cases, outputs, ex):
    def holds(relation):
        for case, (y, mask) in zip(cases, outputs):
            m = mask.astype(np.float64)
            expected = relation(case["x"], m, case["p"])
            if not np.allclose(y.astype(np.float64), expected, rtol=ex.rtol, atol=ex.atol):
                return False
        return True

    if not holds(lambda x, m, p: x * m / (1 - p)):
        for name, relation in (("no_rescaling", lambda x, m, p: x * m),
                               ("scaled_by_keep_probability", lambda x, m, p: x * m * (1 - p)),
                               ("p_as_keep_probability", lambda x, m, p: x * m / p),
                               ("mask_marks_dropped", lambda x, m, p: x * (1 - m) / (1 - p))):
            if holds(relation):
                return "y is not x * mask / (1 - p).", name
        return ("y is not x * mask / (1 - p): the kept entries must be x / (1 - p) and the dropped ones 0, "
                "with mask True where an entry is kept."), None
    for case, (_, mask) in zip(cases, outputs):
        n, p = mask.size, case["p"]
        if n < 1000:
            continue
        kept = float(mask.mean())
        bound = 5 * np.sqrt(p * (1 - p) / n)
        if abs(kept - (1 - p)) > bound:
            summary = (f"With p = {p:g} your mask keeps {kept:.1%} of {n} entries; about {1 - p:.0%} should be "
                       "kept (each entry independently with probability 1 - p).")
            return summary, ("p_as_keep_probability" if abs(kept - p) <= bound else None)
    (a, b), (c, d) = _SAME_STATE, _OTHER_STATE
    if not np.array_equal(outputs[a][1], outputs[b][1]):
        return "Two calls with generators in the same state gave different masks.", "ignores_rng"
    if np.array_equal(outputs[c][1], outputs[d][1]):
        return ("Two calls with generators in different states gave the same mask: draw the mask from rng, "
                "e.g. rng.random(x.shape) >= p."), None
    return None


def _dropout_mutant(kind):
    def wrong(x, p, rng):
        u = np.random.random(x.shape) if kind == "ignores_rng" else rng.random(x.shape)
        if kind == "p_as_keep_probability":
            mask = u < p
            return x * mask / p, mask
        if kind == "mask_marks_dropped":
            dropped = u < p
            return x * ~dropped / (1 - p), dropped
        mask = u >= p
        scale = {"no_rescaling": 1.0, "scaled_by_keep_probability": 1 - p}.get(kind, 1 / (1 - p))
        return x * mask * scale, mask

    return wrong


register_code(
    "dropout_forward", signature="f(x, p, rng)", returns="(y, mask)",
    reference=_dropout_forward_ref, cases=_dropout_forward_cases, grader=_grade_dropout_forward,
    rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("no_rescaling",
               "You dropped entries without rescaling the kept ones. Inverted dropout divides them by the keep "
               "probability, y = x * mask / (1 - p), so that the expected output equals x and nothing changes "
               "at test time.",
               _dropout_mutant("no_rescaling")),
        Mutant("scaled_by_keep_probability",
               "You multiplied by 1 - p during training. That factor belongs to the original formulation's test "
               "time; inverted dropout divides the kept entries by 1 - p during training.",
               _dropout_mutant("scaled_by_keep_probability")),
        Mutant("p_as_keep_probability",
               "You used p as the keep probability. Here (as in PyTorch) p is the probability of dropping an "
               "entry: keep each with probability 1 - p and divide the kept ones by 1 - p.",
               _dropout_mutant("p_as_keep_probability")),
        Mutant("mask_marks_dropped",
               "Your mask marks the dropped entries. The convention is the keep-mask: True where the entry is "
               "kept, so that y = x * mask / (1 - p).",
               _dropout_mutant("mask_marks_dropped")),
        Mutant("ignores_rng",
               "Your mask does not come from the rng argument (np.random.* uses a hidden global generator). Draw "
               "it from rng, e.g. rng.random(x.shape) >= p, so that results are reproducible.",
               _dropout_mutant("ignores_rng")),
    ],
)


# ------------------------------------------------------------------------------------------ dropout_backward
def _dropout_backward_ref(dy, mask, p):
    return dropout_backward(dy, mask, p)


def _dropout_backward_cases(rng):
    cases = []
    for shape, p in (((4, 5), 0.2), ((10, 3), 0.7), ((6, 2, 3), 0.35), ((50, 20), 0.9)):
        cases.append(dict(dy=rng.normal(size=shape), mask=rng.random(shape) >= p, p=p))
    return cases


register_code(
    "dropout_backward", signature="f(dy, mask, p)", returns="dx",
    reference=_dropout_backward_ref, cases=_dropout_backward_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("no_rescaling",
               "Your dx is dy * mask without the factor 1 / (1 - p). The forward pass divided the kept entries "
               "by 1 - p, so the gradient is divided by it too: dx = dy * mask / (1 - p).",
               lambda dy, mask, p: dy * mask),
        Mutant("p_as_keep_probability",
               "You divided by p, treating it as the keep probability. p is the drop probability: "
               "dx = dy * mask / (1 - p).",
               lambda dy, mask, p: dy * mask / p),
        Mutant("mask_ignored",
               "Your dx ignores the mask: dropped entries did not influence the output, so their gradient is 0. "
               "dx = dy * mask / (1 - p).",
               lambda dy, mask, p: dy / (1 - p)),
    ],
)


# ------------------------------------------------------------------------------------------ layer_norm_forward
def _layer_norm_ref(x, gamma, beta, eps=1e-5):
    return layer_norm_forward(x, gamma, beta, eps)[0]


def _layer_norm_cases(rng):
    cases = []
    for (n, d), eps in (((4, 6), 1e-5), ((3, 10), 1e-5), ((5, 5), 1e-5), ((2, 8), 1e-2)):
        gamma, beta = _gamma_beta(rng, d)
        x = rng.uniform(-3, 3, size=(n, 1)) + rng.uniform(0.5, 3.0, size=(n, 1)) * rng.normal(size=(n, d))
        cases.append(dict(x=x, gamma=gamma, beta=beta, eps=eps))
    gamma, beta = _gamma_beta(rng, 5)  # nearly constant samples: per-sample variance below eps
    x = rng.normal(size=(4, 1)) + 1e-3 * rng.normal(size=(4, 5))
    cases.append(dict(x=x, gamma=gamma, beta=beta, eps=1e-5))
    return cases


register_code(
    "layer_norm_forward", signature="f(x, gamma, beta, eps=1e-5)", returns="y",
    reference=_layer_norm_ref, cases=_layer_norm_cases, rtol=1e-6, atol=1e-8,
    mutants=[
        Mutant("stats_per_feature",
               "Your statistics run over the wrong axis: you averaged each feature over the batch (axis=0, "
               "that is batch normalization). Layer normalization uses per-sample statistics: mean and variance "
               "of each row, over axis=1.",
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 0, eps=eps) + beta),
        Mutant("unbiased_variance", HINT_UNBIASED,
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 1, ddof=1, eps=eps) + beta),
        Mutant("eps_outside_sqrt", HINT_EPS_OUTSIDE,
               lambda x, gamma, beta, eps=1e-5: gamma * _standardize(x, 1, eps=eps, eps_outside=True) + beta),
        Mutant("no_affine", HINT_NO_AFFINE, lambda x, gamma, beta, eps=1e-5: _standardize(x, 1, eps=eps)),
        Mutant("gamma_beta_swapped", HINT_SWAPPED,
               lambda x, gamma, beta, eps=1e-5: beta * _standardize(x, 1, eps=eps) + gamma),
    ],
)
