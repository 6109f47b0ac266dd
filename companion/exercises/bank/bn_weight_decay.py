"""Exercises of the chapter ``book/bn_weight_decay.ipynb`` (Normalization and weight decay)."""
from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ bnwd_sgd_step
def _step_ref(w, g, lr, weight_decay):
    return w - lr * (g + weight_decay * w)


def _step_cases(rng):
    return [dict(w=rng.normal(size=shape) * s, g=rng.normal(size=shape), lr=lr, weight_decay=wd)
            for shape, s, lr, wd in (((5,), 1.0, 0.1, 1e-2), ((3, 4), 3.0, 0.5, 0.1), ((6,), 0.5, 0.05, 0.3),
                                     ((2, 2, 3), 2.0, 1.0, 5e-2))]


register_code(
    "bnwd_sgd_step",
    signature="bnwd_sgd_step(w, g, lr, weight_decay)",
    reference=_step_ref,
    cases=_step_cases,
    returns="w_new",
    mutants=[
        Mutant("decay_not_scaled_by_lr",
               "You shrank w by (1 - weight_decay) independently of the learning rate. In SGD (and "
               "torch.optim.SGD) weight decay adds weight_decay * w to the gradient, so the shrink factor is "
               "1 - lr * weight_decay.", lambda w, g, lr, weight_decay: w * (1 - weight_decay) - lr * g),
        Mutant("wrong_sign",
               "Your decay pushes w away from zero: the L2 penalty's gradient is +weight_decay * w, and the step "
               "subtracts it.", lambda w, g, lr, weight_decay: w - lr * (g - weight_decay * w)),
        Mutant("no_decay",
               "You left out the weight decay: add weight_decay * w to the gradient before the step.",
               lambda w, g, lr, weight_decay: w - lr * g),
    ],
    rtol=1e-9,
    atol=1e-12,
    explanation="w_new = w - lr * (g + weight_decay * w) = (1 - lr * weight_decay) * w - lr * g.",
)


# ------------------------------------------------------------------------------------------ bnwd_grad_scale
register_question(
    "bnwd_grad_scale",
    answer=0.25,
    kind="numeric",
    rtol=1e-6,
    wrong={
        4.0: "A larger w gives a smaller gradient: the loss is constant along w, so its slope in every other "
             "direction is spread over a circle of radius |w|. The gradient scales like 1 / alpha.",
        1.0: "The loss is unchanged, but its gradient is not: L(alpha w) = L(w) gives alpha * grad L(alpha w) = "
             "grad L(w).",
        0.0625: "1 / alpha**2 is how the effective learning rate scales; the gradient itself scales like 1 / alpha.",
    },
    explanation="Differentiating L(alpha w) = L(w) gives grad L(alpha w) = grad L(w) / alpha: a factor 1/4.",
)


# ------------------------------------------------------------------------------------------ bnwd_effective_lr
register_question(
    "bnwd_effective_lr",
    answer=0.025,
    kind="numeric",
    rtol=1e-6,
    wrong={
        0.05: "lr / |w| is how much the gradient shrinks; the *angle* a step turns w by is lr |g| / |w| with "
              "|g| itself proportional to 1 / |w|: lr / |w|**2.",
        0.4: "The effective learning rate falls with the norm: lr / |w|**2, not lr * |w|**2.",
        0.1: "That is the nominal learning rate; a scale-invariant weight of norm 2 moves in direction as if "
             "trained with lr / |w|**2.",
    },
    explanation="0.1 / 2**2 = 0.025: the same step turns a longer vector by a smaller angle.",
)
