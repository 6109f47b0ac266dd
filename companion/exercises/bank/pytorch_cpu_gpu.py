"""Exercises of the chapter ``book/pytorch_cpu_gpu.ipynb`` (PyTorch on CPU and GPU)."""
import numpy as np

from companion.folding import fold_bn_weights
from companion.tools.bench import bytes_moved

from ..registry import Mutant, register_code, register_question

__all__ = []

# ------------------------------------------------------------------------------------------ perf_bn_time_bound
_SHAPE = (64, 64, 32, 32)
_COPY_GBPS = 40.0
_NUMEL = int(np.prod(_SHAPE))

register_question(
    "perf_bn_time_bound",
    answer=bytes_moved("batch_norm_train", _SHAPE, "float32") / (_COPY_GBPS * 1e9) * 1e3,
    kind="numeric",
    rtol=1e-3,
    wrong={
        2 * 4 * _NUMEL / (_COPY_GBPS * 1e9) * 1e3:
            "You counted only the forward pass (read x, write y). Training also runs the backward pass, which "
            "reads dy and the saved input and writes dx: five full-size tensors in all.",
        5 * 8 * _NUMEL / (_COPY_GBPS * 1e9) * 1e3:
            "You used 8 bytes per value: that is float64. A float32 value takes 4 bytes.",
        5 * 4 * _NUMEL / (_COPY_GBPS * 2**30) * 1e3:
            "You took a GB to be 2**30 bytes. Bandwidths are quoted in decimal units: 1 GB/s = 1e9 bytes per second.",
        5 * 4 * _NUMEL / (_COPY_GBPS * 1e9):
            "That is the time in seconds; the question asks for milliseconds.",
    },
    explanation="5 tensors x 4 bytes x 64*64*32*32 values = 83.9 MB; at 40e9 bytes per second that takes 2.1 ms. "
                "That is the floor of the model: the time of an implementation that moves only those bytes, at the "
                "speed of a copy.",
)

# ------------------------------------------------------------------------------------------ perf_loglog_slope
_T32, _T64 = 6.0, 13.5

register_question(
    "perf_loglog_slope",
    answer=float(np.log(_T64 / _T32) / np.log(2.0)),
    kind="numeric",
    rtol=1e-3,
    wrong={
        _T64 / _T32: "2.25 is the ratio of the times. The slope of the log-log line is log(time ratio) / log(size "
                     "ratio) = log(2.25) / log(2).",
        float(np.log(2.0) / np.log(_T64 / _T32)): "You divided the other way round: the slope is the change in "
                                                   "log(time) per unit change in log(N).",
        (_T64 - _T32) / (64 - 32): "That is the slope on linear axes (milliseconds per sample). On a log-log plot "
                                   "take logarithms first: log(13.5 / 6) / log(64 / 32).",
    },
    explanation="slope = log(13.5 / 6.0) / log(64 / 32) = 1.17: a bit worse than linear (one possible cause: "
                "the larger batch no longer fits in a cache).",
)


# ------------------------------------------------------------------------------------------ perf_fold_bn
def _fold_ref(weight, bias, running_mean, running_var, eps, gamma, beta):
    return fold_bn_weights(weight, bias, running_mean, running_var, eps, gamma, beta)


def _fold_cases(rng):
    cases = []
    for shape, eps, var_scale in (((5, 3), 1e-5, 1.0), ((4, 2, 3, 3), 1e-5, 4.0), ((3, 3), 1e-3, 1e-4),
                                  ((6, 4), 1e-5, 0.5)):
        c = shape[0]
        cases.append(dict(
            weight=rng.normal(size=shape),
            bias=rng.normal(size=c),
            running_mean=rng.normal(2.0, 1.0, size=c),
            running_var=var_scale * rng.uniform(0.5, 2.0, size=c),
            eps=eps,
            gamma=rng.uniform(0.5, 2.0, size=c) * rng.choice([-1.0, 1.0], size=c),
            beta=rng.normal(size=c),
        ))
    return cases


def _col(v, weight):
    return v.reshape((-1,) + (1,) * (weight.ndim - 1))


def _mean_not_subtracted(weight, bias, running_mean, running_var, eps, gamma, beta):
    s = gamma / np.sqrt(running_var + eps)
    return weight * _col(s, weight), s * bias + beta


def _variance_not_std(weight, bias, running_mean, running_var, eps, gamma, beta):
    s = gamma / (running_var + eps)
    return weight * _col(s, weight), s * (bias - running_mean) + beta


def _eps_outside(weight, bias, running_mean, running_var, eps, gamma, beta):
    s = gamma / (np.sqrt(running_var) + eps)
    return weight * _col(s, weight), s * (bias - running_mean) + beta


def _weight_not_scaled(weight, bias, running_mean, running_var, eps, gamma, beta):
    s = gamma / np.sqrt(running_var + eps)
    return weight.copy(), s * (bias - running_mean) + beta


def _beta_scaled(weight, bias, running_mean, running_var, eps, gamma, beta):
    s = gamma / np.sqrt(running_var + eps)
    return weight * _col(s, weight), s * (bias - running_mean + beta)


register_code(
    "perf_fold_bn",
    signature="perf_fold_bn(weight, bias, running_mean, running_var, eps, gamma, beta)",
    reference=_fold_ref,
    cases=_fold_cases,
    returns="(folded_weight, folded_bias)",
    mutants=[
        Mutant("mean_not_subtracted",
               "The folded bias ignores the running mean. BN subtracts it from the layer's output, so the new bias "
               "is s * (bias - running_mean) + beta with s = gamma / sqrt(running_var + eps).", _mean_not_subtracted),
        Mutant("variance_not_std",
               "You divided by the variance. BN divides by the standard deviation: s = gamma / sqrt(running_var + "
               "eps).", _variance_not_std),
        Mutant("eps_outside",
               "eps is outside the square root: use gamma / sqrt(running_var + eps), exactly as the BN layer does "
               "(it matters for channels with a tiny variance).", _eps_outside),
        Mutant("weight_not_scaled",
               "Only the bias is folded. BN also scales every output channel by s = gamma / sqrt(running_var + "
               "eps), so row k of the weight (output channel k) must be multiplied by s[k].", _weight_not_scaled),
        Mutant("beta_scaled",
               "beta is multiplied by the scale too. BN adds beta after scaling: the new bias is "
               "s * (bias - running_mean) + beta.", _beta_scaled),
    ],
    rtol=1e-10,
    atol=1e-12,
    explanation="BN in eval mode is z -> s * (z - running_mean) + beta per output channel, with s = gamma / "
                "sqrt(running_var + eps). Applied to z = W x + b it gives (s * W) x + s * (b - running_mean) + beta.",
)
