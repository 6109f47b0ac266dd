"""Exercises of the chapter ``book/bn_layer.ipynb`` (The batch normalization layer)."""
from ..registry import register_question

__all__ = []

register_question(
    "bnlayer_conv_axes",
    answer="b",
    kind="choice",
    choices={
        "a": "over N only: one mean per channel and position, C*H*W means",
        "b": "over N, H and W: one mean per channel, C means",
        "c": "over C, H and W: one mean per sample, N means",
        "d": "over all four axes: a single mean",
    },
    wrong={
        "a": "That treats every position as a separate feature, as a BatchNorm1d on the flattened tensor would. "
             "A convolution applies the same filter everywhere, so BN pools all positions of a channel too.",
        "c": "Averaging over each sample's channels and positions is layer normalization, not batch "
             "normalization: BN never mixes channels, it mixes samples.",
        "d": "A single mean would mix different channels (different filters) whose values have nothing in "
             "common; BN keeps one mean and one variance per channel.",
    },
    explanation="One channel is one feature seen at H*W positions, so BatchNorm2d pools axes (0, 2, 3) and keeps "
                "C means, C variances, and one gamma and beta per channel.",
)

register_question(
    "bnlayer_values_per_statistic",
    answer=32 * 14 * 14,
    kind="count",
    wrong={
        32: "32 counts only the samples, as if every position had its own statistics. BatchNorm2d pools the "
            "batch and all 14 x 14 positions of a channel.",
        64 * 14 * 14: "64 * 14 * 14 is the number of values in one sample (all channels and positions): that is "
                      "what layer normalization averages over. BN averages one channel over all samples and "
                      "positions.",
        32 * 64 * 14 * 14: "That is the size of the whole tensor; BN keeps separate statistics per channel, so "
                           "divide by the 64 channels.",
        32 * 64: "32 * 64 mixes the batch and the channels; BN pools the batch and the positions of one channel.",
        14 * 14: "14 * 14 counts the positions of one sample; the statistics are over the whole batch as well.",
    },
    explanation="Each channel's mean pools N * H * W = 32 * 14 * 14 = 6272 values.",
)

register_question(
    "bnlayer_bias_before_bn",
    answer="b",
    kind="choice",
    choices={
        "a": "The linear bias is useful: it shifts the features before they are normalized.",
        "b": "The linear bias is redundant: the mean subtraction removes it, the output does not depend on it, "
             "its gradient is zero, and beta plays its role.",
        "c": "The linear bias is redundant because BN divides by the standard deviation.",
        "d": "The linear bias makes BN unstable and must be removed to get correct outputs.",
    },
    wrong={
        "a": "Any constant added to a feature raises its batch mean by the same constant, so subtracting the "
             "mean removes it again: the shift never reaches the output.",
        "c": "Dividing by the standard deviation removes a common *scale*; a constant shift does not change the "
             "standard deviation. It is the mean subtraction that cancels the bias.",
        "d": "The outputs are correct with the bias too (it cancels exactly); removing it only saves "
             "parameters and work.",
    },
    explanation="x - mean(x) is unchanged when a constant is added to every x, so the bias has no effect and "
                "receives zero gradient; beta after the normalization takes over its role.",
)
