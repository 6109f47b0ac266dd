"""Exercises of the chapter ``book/norm_variants.ipynb`` (Normalization variants)."""
import numpy as np

from companion.groupnorm import group_norm_forward

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ normvariants_group_norm
def _group_norm_ref(x, num_groups, gamma, beta, eps=1e-5):
    return group_norm_forward(x, num_groups, gamma, beta, eps)[0]


def _group_norm_cases(rng):
    cases = []
    for shape, g, eps in (((2, 6, 4, 4), 3, 1e-5), ((3, 8, 5), 2, 1e-5), ((1, 4, 3, 3), 2, 1e-5),
                          ((4, 12, 2, 3), 4, 1e-3), ((2, 6, 3, 2, 2), 2, 1e-5)):
        c = shape[1]
        # every channel of every sample gets its own offset and scale, so that every wrong grouping shows
        loc = rng.uniform(-3.0, 3.0, size=shape[:2] + (1,) * (len(shape) - 2))
        scale = rng.uniform(0.5, 3.0, size=shape[:2] + (1,) * (len(shape) - 2))
        x = loc + scale * rng.normal(size=shape)
        gamma = rng.uniform(0.5, 2.0, size=c) * rng.choice([-1.0, 1.0], size=c)
        cases.append(dict(x=x, num_groups=g, gamma=gamma, beta=rng.normal(size=c), eps=eps))
    return cases


def _affine(xhat, gamma, beta):
    view = (1, -1) + (1,) * (xhat.ndim - 2)
    return gamma.reshape(view) * xhat + beta.reshape(view)


def _standardize(x, axes, ddof=0, eps=1e-5):
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True, ddof=ddof) + eps)


def _grouped(kind):
    def wrong(x, num_groups, gamma, beta, eps=1e-5):
        n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
        g = num_groups
        rest = tuple(range(3, 3 + len(spatial)))
        if kind == "interleaved_groups":  # (N, C//G, G, *S): channel k goes to group k % G
            xg = x.reshape((n, c // g, g) + spatial)
            xhat = _standardize(xg, (1,) + rest, eps=eps).reshape(x.shape)
        elif kind == "channels_only":  # the group's channels at each position, not the positions
            xhat = _standardize(x.reshape((n, g, c // g) + spatial), (2,), eps=eps).reshape(x.shape)
        elif kind == "per_channel":  # instance norm
            xhat = _standardize(x, tuple(range(2, x.ndim)), eps=eps)
        elif kind == "ignores_groups":  # layer norm over every channel
            xhat = _standardize(x, tuple(range(1, x.ndim)), eps=eps)
        elif kind == "across_batch":  # the group's values of every sample together
            xg = x.reshape((n, g, c // g) + spatial)
            xhat = _standardize(xg, (0, 2) + rest, eps=eps).reshape(x.shape)
        else:  # unbiased variance
            xhat = _standardize(x.reshape((n, g, c // g) + spatial), (2,) + rest, ddof=1, eps=eps).reshape(x.shape)
        return _affine(xhat, gamma, beta)

    return wrong


register_code(
    "normvariants_group_norm",
    signature="normvariants_group_norm(x, num_groups, gamma, beta, eps=1e-5)",
    reference=_group_norm_ref,
    cases=_group_norm_cases,
    mutants=[
        Mutant("interleaved_groups",
               "Your groups are not consecutive channels: reshaping to (N, C // G, G, ...) puts channel k in group "
               "k % G. Group g holds channels g * C/G to (g + 1) * C/G - 1, so reshape to (N, G, C // G, ...) and "
               "take the statistics over every axis after G.", _grouped("interleaved_groups")),
        Mutant("channels_only",
               "You took the statistics over the group's channels only, separately at each spatial position. A "
               "group's mean and variance run over its channels *and* all their positions: axes 2, 3, ... of the "
               "(N, G, C // G, ...) view.", _grouped("channels_only")),
        Mutant("per_channel",
               "You normalized each channel on its own: that is instance normalization (G = C). Group "
               "normalization pools C // G channels (and their positions) into one mean and variance.",
               _grouped("per_channel")),
        Mutant("ignores_groups",
               "You normalized each sample over all of its channels at once (layer normalization, G = 1). Split "
               "the channels into num_groups groups and normalize each group separately.",
               _grouped("ignores_groups")),
        Mutant("across_batch",
               "Your statistics mix the samples of the batch. Group normalization, like layer normalization, "
               "normalizes each sample on its own: never reduce over axis 0.", _grouped("across_batch")),
        Mutant("unbiased_variance",
               "You used the unbiased variance (ddof=1). Normalization layers divide by the number of values, "
               "as x.var() does by default (ddof=0).", _grouped("unbiased")),
    ],
    rtol=1e-6,
    atol=1e-8,
    explanation="View x as (N, G, C // G, ...), standardize over every axis after G, view back, then apply the "
                "per-channel gamma and beta.",
)

# ------------------------------------------------------------------------------------------ normvariants_norm_batch_one
register_question(
    "normvariants_norm_batch_one",
    answer="b",
    kind="choice",
    choices={
        "a": "BatchNorm2d",
        "b": "GroupNorm",
        "c": "Dropout2d",
        "d": "BatchNorm2d with momentum=0",
    },
    wrong={
        "a": "With one image per step, BatchNorm2d's training statistics come from that single image, and its "
             "running averages (used at test time) describe a different function. Batch statistics need batches.",
        "c": "Dropout2d is a regularizer (it drops whole feature maps); it does not normalize anything.",
        "d": "momentum only controls the running averages used in evaluation; training still normalizes with the "
             "statistics of a single image (and momentum=0 freezes the running statistics at their initial values).",
    },
    explanation="GroupNorm computes its statistics inside each sample, so it behaves the same with one image per "
                "batch as with 32, and the same in training and evaluation.",
)

# ------------------------------------------------------------------------------------------ normvariants_norm_transformer
register_question(
    "normvariants_norm_transformer",
    answer="b",
    kind="choice",
    choices={
        "a": "batch normalization: each feature over the batch and all positions",
        "b": "layer normalization: the feature vector of each token, on its own",
        "c": "instance normalization: each feature over the positions of one sequence",
        "d": "no normalization: attention is scale invariant",
    },
    wrong={
        "a": "Batch statistics would make each token's output depend on the other sequences of the batch (and on "
             "the padding). The Transformer normalizes each token's feature vector on its own.",
        "c": "Normalizing over the positions of a sequence mixes tokens (and changes with the sequence length); "
             "the Transformer normalizes over the features of each token.",
        "d": "The Transformer has a normalization layer after (or, in the Pre-LN variant, before) every "
             "sub-layer: layer normalization over each token's features.",
    },
    explanation="Each token's d_model features get one mean and one variance; nothing depends on the batch or on "
                "the other positions.",
)

# ------------------------------------------------------------------------------------------ normvariants_renorm_r
register_question(
    "normvariants_renorm_r",
    answer=2.0,
    kind="numeric",
    rtol=1e-3,
    wrong={
        3.0: "r = sigma_B / sigma = 6 / 2 = 3 before clipping, but r is clipped to [1 / r_max, r_max] = [0.5, 2].",
        1.0 / 3.0: "r is the batch standard deviation over the running one, sigma_B / sigma, not the other way round; "
                   "and it is then clipped to [1 / r_max, r_max].",
        0.5: "r is sigma_B / sigma = 3 (not sigma / sigma_B), which the clip brings down to r_max = 2.",
        1.0: "r = 1 only with r_max = 1 (batch normalization). Here r = clip(6 / 2, 1/2, 2) = 2.",
    },
    explanation="r = clip(sigma_B / sigma, 1 / r_max, r_max) = clip(3, 0.5, 2) = 2.",
)
