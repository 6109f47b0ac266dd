"""Exercises of the chapter ``book/bn_distributed.ipynb`` (BN across devices)."""
import numpy as np

from companion.ghostbatchnorm import ghost_batch_norm_forward
from companion.welford import merge_moments

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ bndist_merge_stats
def _merge_ref(counts, means, m2s):
    stats = None
    for n, mean, s in zip(counts, means, m2s):
        part = (int(n), mean, s)
        stats = part if stats is None else merge_moments(stats, part)
    n, mean, s = stats
    return mean, s / n


def _merge_cases(rng):
    cases = []
    for p, c, offset, lo, hi in ((2, 3, 0.0, 2, 9), (4, 5, 0.0, 1, 30), (3, 2, 0.0, 50, 51), (5, 4, 0.0, 1, 3),
                                 (3, 3, 1e8, 5, 40)):
        counts = rng.integers(lo, hi, size=p)
        shards = [offset + rng.uniform(-3, 3, size=c) + rng.uniform(0.5, 2.0, size=c) * rng.normal(size=(n, c))
                  for n in counts]
        means = np.array([s.mean(axis=0) for s in shards])
        m2s = np.array([((s - s.mean(axis=0)) ** 2).sum(axis=0) for s in shards])
        cases.append(dict(counts=counts.astype(np.int64), means=means, m2s=m2s))
    return cases


def _merge_mutant(kind):
    def wrong(counts, means, m2s):
        n = counts.astype(np.float64)[:, None]
        total = n.sum()
        mean = (n * means).sum(axis=0) / total
        if kind == "unweighted_mean":
            mean = means.mean(axis=0)
            return mean, (m2s.sum(axis=0) + (n * (means - mean) ** 2).sum(axis=0)) / total
        if kind == "within_only":
            return mean, m2s.sum(axis=0) / total
        if kind == "average_variances":
            return mean, (m2s / n).mean(axis=0)
        if kind == "unbiased":
            return mean, (m2s.sum(axis=0) + (n * (means - mean) ** 2).sum(axis=0)) / (total - 1)
        # one_pass: E[x^2] - E[x]^2 from the shards' sums of squares
        sum_sq = (m2s + n * means**2).sum(axis=0)
        return mean, sum_sq / total - mean**2

    return wrong


register_code(
    "bndist_merge_stats",
    signature="bndist_merge_stats(counts, means, m2s)",
    reference=_merge_ref,
    cases=_merge_cases,
    returns="(mean, var)",
    mutants=[
        Mutant("unweighted_mean",
               "You averaged the shards' means with equal weights. Shards of different sizes must be weighted by "
               "their counts: mean = sum(n_k * mean_k) / sum(n_k).", _merge_mutant("unweighted_mean")),
        Mutant("within_only",
               "You added the shards' sums of squared deviations but forgot that each shard's deviations are "
               "measured from its own mean. Add the between-shard term sum(n_k * (mean_k - mean)**2).",
               _merge_mutant("within_only")),
        Mutant("average_variances",
               "You averaged the shards' variances. That ignores both the shard sizes and the spread between the "
               "shards' means; pool the sums of squares and add sum(n_k * (mean_k - mean)**2).",
               _merge_mutant("average_variances")),
        Mutant("unbiased",
               "You divided by n - 1. Batch normalization normalizes with the biased variance (divide by n); "
               "the unbiased one is only for the running average.", _merge_mutant("unbiased")),
        Mutant("one_pass",
               "You went through E[x**2] - E[x]**2. With a large offset (one case has mean 1e8) both terms are "
               "about 1e16 and their difference loses every digit of the variance. Merge the centred sums of "
               "squares instead (Chan's formula).", _merge_mutant("one_pass")),
    ],
    rtol=1e-7,
    atol=1e-9,
    explanation="mean = sum(n_k mean_k) / n and var = (sum(M2_k) + sum(n_k (mean_k - mean)**2)) / n: the "
                "within-shard and the between-shard parts of the sum of squares, never E[x**2] - E[x]**2.",
)


# ------------------------------------------------------------------------------------------ bndist_ghost_bn
def _ghost_ref(x, virtual_batch_size):
    return ghost_batch_norm_forward(x, None, None, virtual_batch_size, eps=1e-5)[0]


def _ghost_cases(rng):
    cases = []
    for shape, v in (((12, 3), 4), ((16, 2, 3), 8), ((10, 4), 5), ((9, 3, 2), 3), ((8, 5), 8)):
        loc = rng.uniform(-3, 3, size=(shape[0],) + (1,) * (len(shape) - 1))  # sub-batches differ in mean
        cases.append(dict(x=loc + rng.uniform(0.5, 2, size=shape[1:]) * rng.normal(size=shape),
                          virtual_batch_size=v))
    return cases


def _ghost_mutant(kind):
    def wrong(x, virtual_batch_size):
        n, v = x.shape[0], virtual_batch_size
        axes = (0,) + tuple(range(2, x.ndim))
        if kind == "whole_batch":
            parts = [np.arange(n)]
        elif kind == "strided":
            parts = [np.arange(i, n, n // v) for i in range(n // v)]
        else:
            parts = [np.arange(i, min(i + v, n)) for i in range(0, n, v)]
        y = np.empty_like(x)
        for idx in parts:
            s = x[idx]
            axes_here = tuple(range(1, x.ndim)) if kind == "per_sample" else axes
            ddof = 1 if kind == "unbiased" else 0
            mean = s.mean(axis=axes_here, keepdims=True)
            var = s.var(axis=axes_here, keepdims=True, ddof=ddof)
            y[idx] = (s - mean) / np.sqrt(var + 1e-5)
        return y

    return wrong


register_code(
    "bndist_ghost_bn",
    signature="bndist_ghost_bn(x, virtual_batch_size)",
    reference=_ghost_ref,
    cases=_ghost_cases,
    mutants=[
        Mutant("whole_batch",
               "You normalized with the statistics of the whole batch: that is plain batch normalization. Ghost BN "
               "cuts the batch into consecutive sub-batches of virtual_batch_size samples and normalizes each with "
               "its own mean and variance.", _ghost_mutant("whole_batch")),
        Mutant("strided",
               "Your sub-batches interleave the samples (x[i::k]). The ghost batches are consecutive: samples 0 to "
               "v - 1, then v to 2v - 1, and so on, as the shards of data-parallel devices are.",
               _ghost_mutant("strided")),
        Mutant("per_sample",
               "You normalized each sample over its features (layer normalization). Each channel is normalized over "
               "the samples (and positions) of its sub-batch.", _ghost_mutant("per_sample")),
        Mutant("unbiased",
               "You divided by n - 1 in the variance. Like batch norm, ghost BN normalizes with the biased variance.",
               _ghost_mutant("unbiased")),
    ],
    rtol=1e-6,
    atol=1e-8,
    explanation="For each slice x[i : i + v], batch-normalize per channel over the slice's samples and positions; "
                "this is exactly what plain BN does on v samples per device.",
)


# ------------------------------------------------------------------------------------------ bndist_backward_bytes
register_question(
    "bndist_backward_bytes",
    answer=4096.0,
    kind="numeric",
    rtol=0.0,
    atol=0.5,
    wrong={
        2048.0: "That is one per-channel vector. The backward pass needs two global sums per channel, sum(dy) and "
                "sum(dy * xhat), all-reduced together: 2 x 256 float64 values.",
        4104.0: "That is the forward all-gather contribution (count, means and sums of squares: 2C + 1 values). "
                "The backward all-reduce carries 2C values.",
        1024.0: "Those are float32 bytes of one vector; the messages here are float64 and there are two vectors.",
    },
    explanation="2 sums x 256 channels x 8 bytes = 4096 bytes, whatever the batch size or the image size.",
)


# ------------------------------------------------------------------------------------------ bndist_which_norm
register_question(
    "bndist_which_norm",
    answer="c",
    kind="choice",
    choices={
        "a": "plain BatchNorm2d: with 8 GPUs the batch is 16 images anyway",
        "b": "Ghost BN with a virtual batch size of 16",
        "c": "SyncBatchNorm (or GroupNorm, which needs no batch statistics at all)",
        "d": "plain BatchNorm2d with momentum=0.01, so that the running statistics average more batches",
    },
    wrong={
        "a": "Under data parallelism plain BN normalizes every device's 2 images with their own statistics: the BN "
             "batch is 2, not 16. The gradient is averaged over 16 images, the statistics are not.",
        "b": "Ghost BN splits a batch that one device holds; here no device holds 16 images. It reproduces small-"
             "batch statistics on purpose, it cannot make a small per-device batch larger.",
        "d": "The momentum only changes the running statistics used in evaluation. In training each device still "
             "normalizes with the statistics of its own 2 images.",
    },
    explanation="Synchronized BN computes the statistics over all 16 images (two small messages per layer); "
                "GroupNorm avoids batch statistics, which is why detection models with 1-2 images per GPU use "
                "either.",
)
