"""Exercises of the chapter ``book/norm_transformers.ipynb`` (Normalization in Transformers)."""
import numpy as np

from companion.rmsnorm import rms_norm_forward

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ normtf_rms_norm
def _rms_ref(x, weight, eps=1e-6):
    return rms_norm_forward(x, x.shape[-1], weight, eps)[0]


def _rms_cases(rng):
    cases = []
    for shape, scale, offset, eps in (((4, 8), 1.0, 0.0, 1e-6), ((2, 5, 6), 2.0, 1.5, 1e-6),
                                      ((3, 7), 1e-3, 0.0, 1e-5), ((6, 4), 1.0, -2.0, 1e-6), ((5, 5), 3.0, 0.5, 1e-2)):
        d = shape[-1]
        cases.append(dict(x=offset + scale * rng.normal(size=shape),
                          weight=rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d), eps=eps))
    return cases


def _rms_mutant(kind):
    def wrong(x, weight, eps=1e-6):
        if kind == "centred":
            x = x - x.mean(axis=-1, keepdims=True)
        axis = 0 if kind == "wrong_axis" else -1
        ms = np.mean(x**2, axis=axis, keepdims=True)
        if kind == "l2_norm":
            ms = np.sum(x**2, axis=axis, keepdims=True)
        denom = np.sqrt(ms) + eps if kind == "eps_outside" else np.sqrt(ms + eps)
        y = x / denom
        return y if kind == "no_weight" else y * weight

    return wrong


register_code(
    "normtf_rms_norm",
    signature="normtf_rms_norm(x, weight, eps=1e-6)",
    reference=_rms_ref,
    cases=_rms_cases,
    mutants=[
        Mutant("centred",
               "You subtracted the mean first: that is layer normalization (without its bias). RMSNorm divides x "
               "itself by the root mean square, with no centring.", _rms_mutant("centred")),
        Mutant("l2_norm",
               "You divided by the Euclidean norm sqrt(sum(x**2)). RMSNorm divides by the root *mean* square "
               "sqrt(mean(x**2) + eps), which is the norm divided by sqrt(D).",
               _rms_mutant("l2_norm")),
        Mutant("eps_outside",
               "You added eps outside the square root. RMSNorm (and torch.nn.RMSNorm) adds it to the mean square: "
               "x / sqrt(mean(x**2) + eps). The difference shows for small inputs.", _rms_mutant("eps_outside")),
        Mutant("wrong_axis",
               "You took the mean over the batch axis. RMSNorm normalizes each token's feature vector: the mean "
               "square runs over the last axis.", _rms_mutant("wrong_axis")),
        Mutant("no_weight",
               "You forgot the element-wise weight: multiply the normalized vector by weight (shape (D,)).",
               _rms_mutant("no_weight")),
    ],
    rtol=1e-7,
    atol=1e-9,
    explanation="y = weight * x / sqrt(mean(x**2, axis=-1, keepdims=True) + eps): no mean, no bias.",
)


# ------------------------------------------------------------------------------------------ normtf_rms_value
register_question(
    "normtf_rms_value",
    answer=1.2,
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.6: "You divided by the Euclidean norm (5). RMSNorm divides by the root mean square, "
             "sqrt((9 + 16 + 0 + 0) / 4) = 2.5.",
        1.3065: "That is layer normalization, which subtracts the mean (-0.25) first. RMSNorm does not centre.",
        0.75: "You divided by the largest magnitude (4). RMSNorm divides by the root mean square, 2.5.",
    },
    explanation="rms = sqrt(mean([9, 16, 0, 0])) = sqrt(6.25) = 2.5, and 3 / 2.5 = 1.2.",
)


# ------------------------------------------------------------------------------------------ normtf_pre_ln
register_question(
    "normtf_pre_ln",
    answer="b",
    kind="choice",
    choices={
        "a": "y = LN(x + F(x))",
        "b": "y = x + F(LN(x))",
        "c": "y = x + LN(F(x))",
        "d": "y = LN(x) + F(LN(x))",
    },
    wrong={
        "a": "That is Post-LN, the original Transformer: the normalization sits on the residual path itself, after "
             "the addition, so every block's output passes through it.",
        "c": "Normalizing the branch's output is yet another placement (it appears in some later models); Pre-LN "
             "normalizes the branch's *input* and leaves the residual path untouched.",
        "d": "The residual path carries x itself, not LN(x); Pre-LN only normalizes what enters the branch F.",
    },
    explanation="Pre-LN normalizes the input of each branch and adds the branch's output to the untouched residual "
                "stream (with one final LayerNorm after the last block).",
)
