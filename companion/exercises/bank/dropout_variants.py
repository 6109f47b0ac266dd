"""Exercises of the chapter ``book/dropout_variants.ipynb`` (Dropout variants)."""
import numpy as np

from companion.alpha_dropout import alpha_dropout_constants
from companion.structured_dropout import spatial_dropout_forward

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ dovariants_spatial_dropout
def _spatial_ref(x, p, rng):
    return spatial_dropout_forward(x, p, True, rng)[0]


def _nonzero(rng, shape):
    """Values away from zero, so that y / x recovers the mask and the scale."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _spatial_cases(rng):
    seeds = [int(s) for s in rng.integers(0, 2**31, size=5)]
    g = np.random.default_rng
    x = _nonzero(rng, (4, 6, 5, 5))
    return [
        dict(x=x, p=0.3, rng=g(seeds[0])),
        dict(x=x.copy(), p=0.3, rng=g(seeds[0])),  # same generator state as case 0: the same output
        dict(x=x.copy(), p=0.3, rng=g(seeds[1])),  # another state: another mask
        dict(x=_nonzero(rng, (64, 64, 3, 3)), p=0.25, rng=g(seeds[2])),  # 4096 decisions: the keep fraction shows
        dict(x=_nonzero(rng, (8, 16, 10)), p=0.6, rng=g(seeds[3])),  # one spatial axis
        dict(x=_nonzero(rng, (3, 5, 2, 3, 2)), p=0.2, rng=g(seeds[4])),  # three spatial axes
    ]


_SAME_STATE, _OTHER_STATE, _LARGE = (0, 1), (0, 2), 3


def _binary(r, ex):
    return bool(np.all(np.isclose(r, 0.0, atol=ex.atol) | np.isclose(r, 1.0, rtol=ex.rtol, atol=ex.atol)))


def _grade_spatial(cases, outputs, ex):
    ratios = [out[0].astype(np.float64) * (1 - case["p"]) / case["x"] for case, out in zip(cases, outputs)]
    if not all(_binary(r, ex) for r in ratios):
        for name, factor in (("no_rescaling", lambda p: 1 - p), ("p_as_keep_probability", lambda p: (1 - p) / p)):
            if all(_binary(r / factor(case["p"]), ex) for r, case in zip(ratios, cases)):
                return "y is not x * mask / (1 - p).", name
        return ("y is not x * mask / (1 - p): every kept value must be x / (1 - p) and every dropped one 0."), None
    masks = [r > 0.5 for r in ratios]
    for m in masks:
        flat = m.reshape(m.shape[0], m.shape[1], -1)
        if not np.all(flat.all(axis=2) | ~flat.any(axis=2)):
            across_channels = all(np.all(k == k[:, :1]) for k in masks)
            return ("Your mask varies over the spatial positions of a feature map.",
                    "shared_across_channels" if across_channels else "element_wise")
    if all(np.all(m == m[:1]) for m in masks):
        return "Every sample of the batch has the same channels dropped.", "shared_across_batch"
    kept, p = float(masks[_LARGE][:, :, 0, 0].mean()), cases[_LARGE]["p"]
    n = masks[_LARGE][:, :, 0, 0].size
    if abs(kept - (1 - p)) > 5 * np.sqrt(p * (1 - p) / n):
        return (f"With p = {p:g} your mask keeps {kept:.1%} of {n} channels; about {1 - p:.0%} should be kept."), None
    (a, b), (c, d) = _SAME_STATE, _OTHER_STATE
    if not np.array_equal(masks[a], masks[b]):
        return "Two calls with generators in the same state gave different masks.", "ignores_rng"
    if np.array_equal(masks[c], masks[d]):
        return ("Two calls with generators in different states gave the same mask: draw it from rng, e.g. "
                "rng.random((N, C, 1, 1)) >= p."), None
    return None


def _spatial_mutant(kind):
    def wrong(x, p, rng):
        n, c = x.shape[:2]
        ones = (1,) * (x.ndim - 2)
        shape = {"element_wise": x.shape, "shared_across_batch": (1, c) + ones,
                 "shared_across_channels": (n, 1) + x.shape[2:]}.get(kind, (n, c) + ones)
        u = np.random.random(shape) if kind == "ignores_rng" else rng.random(shape)
        if kind == "p_as_keep_probability":
            return x * (u < p) / p
        scale = 1.0 if kind == "no_rescaling" else 1.0 / (1.0 - p)
        return x * (u >= p) * scale

    return wrong


register_code(
    "dovariants_spatial_dropout",
    signature="dovariants_spatial_dropout(x, p, rng)",
    reference=_spatial_ref,
    cases=_spatial_cases,
    grader=_grade_spatial,
    mutants=[
        Mutant("element_wise",
               "You drew one keep/drop decision per value (ordinary dropout). Spatial dropout draws one per "
               "(sample, channel) and applies it to the whole feature map: a mask of shape (N, C, 1, ..., 1).",
               _spatial_mutant("element_wise")),
        Mutant("shared_across_channels",
               "Your mask drops the same positions in every channel: one decision per (sample, position). Spatial "
               "dropout does the opposite, one decision per (sample, channel) for all positions.",
               _spatial_mutant("shared_across_channels")),
        Mutant("shared_across_batch",
               "Your mask drops the same channels for every sample of the batch. Each sample gets its own "
               "decisions: a mask of shape (N, C, 1, ..., 1), not (1, C, 1, ..., 1).",
               _spatial_mutant("shared_across_batch")),
        Mutant("no_rescaling",
               "You dropped channels without rescaling the kept ones. Like ordinary (inverted) dropout, spatial "
               "dropout divides the kept values by 1 - p so that the expected output equals x.",
               _spatial_mutant("no_rescaling")),
        Mutant("p_as_keep_probability",
               "You used p as the keep probability. Here (as in torch.nn.Dropout2d) p is the probability of "
               "dropping a channel: keep each with probability 1 - p and divide by 1 - p.",
               _spatial_mutant("p_as_keep_probability")),
        Mutant("ignores_rng",
               "Your mask does not come from the rng argument (np.random.* uses a hidden global generator). Draw "
               "it from rng, e.g. rng.random((N, C, 1, 1)) >= p.", _spatial_mutant("ignores_rng")),
    ],
    rtol=1e-6,
    atol=1e-8,
    explanation="mask = rng.random((N, C) + (1,) * len(S)) >= p, then y = x * mask / (1 - p): whole feature maps "
                "are kept (and rescaled) or dropped.",
)

# ------------------------------------------------------------------------------------------ dovariants_alpha_scale
_A, _B, _ALPHA_PRIME = alpha_dropout_constants(0.5)
register_question(
    "dovariants_alpha_scale",
    answer=_A,
    kind="numeric",
    rtol=1e-3,
    wrong={
        2.0: "1 / (1 - p) is the rescaling of ordinary inverted dropout. Alpha dropout sets dropped values to "
             "alpha' (not 0) and needs a = ((1 - p) * (1 + p * alpha'^2))^(-1/2) to bring the variance back to 1.",
        float(1.0 / np.sqrt(0.5)): "1 / sqrt(1 - p) would restore the variance if dropped values became 0 and the "
                                   "mean were 0; here they become alpha', which adds the term p * alpha'^2.",
        1.0: "Without a correction, replacing half of the values by alpha' changes both the mean and the variance. "
             "a = ((1 - p) * (1 + p * alpha'^2))^(-1/2).",
    },
    explanation=f"a = ((1 - p)(1 + p alpha'^2))^(-1/2) with alpha' = {_ALPHA_PRIME:.4f}; then b = -a alpha' p.",
)

# ------------------------------------------------------------------------------------------ dovariants_never_dropped
register_question(
    "dovariants_never_dropped",
    answer=0.8**10,
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.8: "0.8 is the answer for locked dropout, where one decision covers all 10 steps. Naive dropout decides "
             "anew at every step: the feature survives all 10 with probability 0.8^10.",
        0.2**10: "0.2^10 is the probability of being dropped at every step. Kept at every step: (1 - p)^10 = 0.8^10.",
        1 - 0.8**10: "That is the probability of being dropped at least once. Kept at every step: 0.8^10.",
    },
    explanation="Ten independent decisions, each keeping with probability 0.8: 0.8^10, about 0.107.",
)
