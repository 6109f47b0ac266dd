"""Exercises of the chapter ``book/dropout.ipynb`` (Dropout): test-time scaling, expectations, conventions.

``p`` is the drop probability throughout, as in the book and in PyTorch.
"""
from companion.dropout import original_dropout_forward

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ do_original_eval
def _original_eval_ref(x, p):
    return original_dropout_forward(x, p, training=False)[0]


def _original_eval_cases(rng):
    cases = []
    # p = 0.5 is left out on purpose: there p and 1 - p coincide and hide the commonest mistake
    for shape, p in (((5,), 0.2), ((4, 3), 0.25), ((2, 3, 4), 0.8), ((6, 2), 0.1), ((3,), 0.0), ((3, 5), 0.6)):
        cases.append(dict(x=rng.normal(0.0, 2.0, size=shape), p=p))
    return cases


register_code(
    "do_original_eval", signature="f(x, p)", returns="y",
    reference=_original_eval_ref, cases=_original_eval_cases, rtol=1e-10, atol=1e-12,
    mutants=[
        Mutant("scale_by_p",
               "You multiplied by p. Here p is the probability of *dropping* a unit; the test-time factor is the "
               "probability of *keeping* it, 1 - p. (The 2014 paper writes p for the keep probability, so its "
               "'multiply by p' is this book's 'multiply by 1 - p'.)",
               lambda x, p: x * p),
        Mutant("inverted_factor_at_test",
               "You divided by 1 - p at test time. That factor belongs to *inverted* dropout, and it is applied "
               "during training. Original dropout trains without rescaling, so at test time the activations must "
               "shrink to their training-time average: multiply by 1 - p.",
               lambda x, p: x / (1 - p)),
        Mutant("identity",
               "You returned x unchanged: that is the evaluation output of *inverted* dropout. Original dropout "
               "did not rescale during training, so a unit passed (1 - p) * x on average; multiply by 1 - p.",
               lambda x, p: x.copy()),
    ],
    explanation="A unit passes (1 - p) * x on average during training (it is kept with probability 1 - p and "
                "not rescaled), so the evaluation network scales every activation by the keep probability.",
)


# ------------------------------------------------------------------------------------------ do_expected_output
register_question(
    "do_expected_output",
    answer=2.0,
    kind="numeric",
    rtol=1e-3,
    wrong={
        1.5: "1.5 = (1 - p) * x is the mean of *original* (not rescaled) dropout. Inverted dropout divides the "
             "kept outputs by 1 - p, which exactly cancels the factor 1 - p of the average.",
        8.0 / 3.0: "8/3 = x / (1 - p) is the output *when the unit is kept*. It is zero with probability p = 0.25, "
                   "so the average is 0.75 * 8/3.",
        0.5: "0.5 = p * x treats p as the keep probability and forgets the rescaling. In this book p = 0.25 is "
             "the drop probability, and inverted dropout rescales the kept outputs.",
    },
    explanation="E[y] = (1 - p) * x / (1 - p) + p * 0 = x = 2: inverted dropout preserves the expected value, "
                "which is why the evaluation network can use x unchanged.",
)


# ------------------------------------------------------------------------------------------ do_convention
register_question(
    "do_convention",
    answer="b",
    kind="choice",
    choices={
        "a": "nn.Dropout(p=0.8)",
        "b": "nn.Dropout(p=0.2)",
        "c": "nn.Dropout(p=0.8), and multiply the inputs by 0.8 at test time",
        "d": "nn.Dropout(p=0.5), the standard value",
    },
    wrong={
        "a": "In the 2014 paper p is the probability of *keeping* a unit; PyTorch's p is the probability of "
             "*dropping* it. nn.Dropout(p=0.8) drops 80 % of the inputs instead of 20 %.",
        "c": "Two mistakes: PyTorch's p=0.8 drops 80 % (the paper's p keeps), and PyTorch's layer is inverted "
             "dropout, which already rescales during training, so nothing is multiplied at test time.",
        "d": "0.5 is the usual value for hidden units (where both conventions agree). The paper's p = 0.8 "
             "keeps 80 % of the inputs, i.e. drops 20 %.",
    },
    explanation="The paper's p = 0.8 keeps 80 % of the input units, so 20 % are dropped: nn.Dropout(p=0.2). "
                "PyTorch rescales during training (inverted dropout), so nothing changes at test time.",
)
