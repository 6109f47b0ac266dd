"""Exercises of the chapter ``book/fact_check.ipynb`` (Fact check: what popular explanations get wrong).

Every question asks for the verdict on one claim, always with the same four letters, so that the reader
can predict each verdict before seeing the demonstration. Each wrong letter has a hint saying why that
verdict does not fit this claim.
"""
from ..registry import register_question

__all__ = ["VERDICTS"]

#: The five verdicts, with the same letters in every question of the chapter.
VERDICTS = {"a": "true", "b": "false", "c": "disputed", "d": "misleading", "e": "unsupported"}
_LETTER = {v: k for k, v in VERDICTS.items()}

#: The hint for "unsupported" where a question gives none: every other claim has been tested.
SETTLED = ("There is evidence on this claim: the demonstration above or the cited literature settles it, "
           "so it is not merely unsupported.")


def _verdict(name, verdict, hints, explanation):
    """Register one verdict question; ``hints`` maps each wrong verdict (a word) to its hint.

    The hint for "unsupported" may be left out (then :data:`SETTLED` is used).
    """
    if verdict != "unsupported" and "unsupported" not in hints:
        hints = {**hints, "unsupported": SETTLED}
    if set(hints) != set(VERDICTS.values()) - {verdict}:
        raise ValueError(f"{name}: give a hint for each of the wrong verdicts")
    register_question(name, answer=_LETTER[verdict], kind="choice", choices=dict(VERDICTS),
                      wrong={_LETTER[v]: h for v, h in hints.items()}, explanation=explanation)


NO_DEBATE = ("There is nothing to debate here: {}.")

_verdict(
    "fact_two_sample_arithmetic", "false",
    {"true": "Redo the arithmetic: two values a and b deviate from their mean by ±(a - b)/2, the biased variance "
             "is (a - b)²/4, so every normalized value is ±1 (up to eps). ±0.71 = ±1/√2 is what dividing by m - 1 "
             "instead of m gives.",
     "disputed": NO_DEBATE.format("the formula divides the sum of squares by m, and the arithmetic has one result"),
     "misleading": "It is not a half-truth: the numbers are wrong, and they do not even agree with each other (a "
                   "smaller variance would make |x̂| larger than 1, not smaller)."},
    "With two samples every normalized value is ±1 (up to eps); ±1/√2 comes from the unbiased variance, which BN "
    "does not use for normalizing.",
)

_verdict(
    "fact_output_standardized", "misleading",
    {"true": "Only the normalized value x̂ has mean 0 and variance 1, and only over the training batch. The output "
             "y = γ x̂ + β has mean β and standard deviation |γ|, and in evaluation mode not even x̂ is standardized.",
     "false": "Not entirely false: at initialization (γ = 1, β = 0) and in training mode each batch's output is "
              "standardized. The claim turns that special case into a rule.",
     "disputed": NO_DEBATE.format("the mean and variance of the output follow from the layer's equations")},
    "x̂ is standardized per batch in training mode; the output has mean β and scale |γ|, which are learned so that "
    "the layer can undo the standardization where that helps.",
)

_verdict(
    "fact_gaussian", "false",
    {"true": "BN subtracts a mean and divides by a standard deviation: an affine map, which moves and stretches a "
             "distribution without changing its shape. A skewed input stays exactly as skewed.",
     "disputed": NO_DEBATE.format("an increasing affine map leaves skewness and kurtosis unchanged"),
     "misleading": "There is no sense in which the output becomes Gaussian. (Ioffe and Szegedy argue that the input "
                   "Wu + b of a nonlinearity is closer to Gaussian than a ReLU output, a reason for where to put BN, "
                   "not something BN does.)"},
    "Normalization is affine per feature, so the shape of each feature's distribution is unchanged.",
)

_verdict(
    "fact_running_stats_unused", "true",
    {"false": "Look at the demonstration: replacing the running statistics by garbage leaves every training-mode "
              "output unchanged. In training mode the layer normalizes with the batch statistics only.",
     "disputed": NO_DEBATE.format("this is how the PyTorch and Keras layers are defined and behave"),
     "misleading": "For standard BN this is exactly right. Variants such as batch renormalization do use running "
                   "statistics during training, but they are different layers."},
    "In training mode BN normalizes with batch statistics and only updates the running ones; they are read only in "
    "evaluation mode.",
)

_verdict(
    "fact_single_sample", "misleading",
    {"true": "Inference is very often batched (evaluation loops, servers that group requests). The real reason for "
             "running statistics is that a prediction must not depend on which other samples share its batch.",
     "false": "Not wholly false: a single sample is one case where batch statistics are impossible. The claim gives "
              "a special case as the reason.",
     "disputed": NO_DEBATE.format("eval mode makes each output independent of the batch, which is measurable")},
    "Evaluation mode makes every output a function of its own input only, whatever the batch size.",
)

_verdict(
    "fact_ics", "disputed",
    {"true": "Reducing internal covariate shift was the original motivation, but injecting a shift after every BN "
             "layer hardly hurts training (Santurkar et al.), and other explanations compete. The mechanism is open.",
     "false": "Nobody has shown that the distribution of layer inputs plays no role at all; there are several "
              "competing explanations and none is settled. That is a dispute, not a refutation.",
     "misleading": "The question is not a half-truth with an agreed correction: what makes BN work is still argued "
                   "about in the research literature, which is what we call disputed."},
    "That BN helps is established; why is not: internal covariate shift, a smoother loss landscape, larger stable "
    "learning rates and a decoupling of weight length and direction have all been proposed.",
)

_verdict(
    "fact_higher_lr", "true",
    {"false": "The demonstration shows it: at a learning rate where the plain network fails, the BN network trains.",
     "disputed": "That BN tolerates much larger learning rates is well established (Ioffe and Szegedy; Bjorck et "
                 "al.); *why* BN helps is disputed, this observation is not.",
     "misleading": "It is true as stated. There is still a largest stable learning rate, it is just much higher."},
    "BN makes much larger learning rates stable, one of its best-documented effects.",
)

_verdict(
    "fact_gamma_regularizes", "unsupported",
    {"true": "Nothing shows that γ is the source. The random part of BN, the noise of the batch statistics, is "
             "there without any γ; Luo et al. derive a penalty from that noise which acts on γ, so γ is where it "
             "lands, not where it comes from.",
     "false": "Nothing refutes it either: that γ is deterministic proves nothing, since deterministic terms such "
              "as weight decay regularize too. There is simply no evidence for the claim.",
     "disputed": "There is no dispute between competing bodies of evidence here: there is no evidence for the "
                 "claim at all.",
     "misleading": "It is not a half-truth with an agreed correction: no evidence shows that γ is the source, and "
                   "none rules it out."},
    "No evidence shows that BN's regularization comes from γ: the measurable noise comes from the batch "
    "statistics, and the penalty Luo et al. derive from it merely acts on γ. Not refuted either.",
)

_verdict(
    "fact_gradients", "misleading",
    {"true": "At initialization, deep plain BN networks have *exploding* gradients, growing geometrically with "
             "depth (Yang et al. 2019); the demonstration shows it. BN keeps the forward activations at a fixed "
             "scale, not the gradients.",
     "false": "Not entirely false: BN keeps activations at a fixed scale, and the BN network of the demonstration does "
              "not suffer the vanishing gradients of the plain one.",
     "disputed": "The explosion at initialization is proved and measured, not argued about. The claim overstates a "
                 "partial truth: misleading."},
    "BN fixes the scale of the forward activations, but at initialization the gradients of deep plain BN networks "
    "explode with depth, which residual connections deal with in practice.",
)

_verdict(
    "fact_essential", "false",
    {"true": "Deep residual networks have been trained without any normalization to accuracies that match their "
             "BN counterparts (Fixup) or beat them (NFNets), and Transformers use layer normalization instead.",
     "disputed": "That deep networks train well without BN has been demonstrated, repeatedly; it is not a matter of "
                 "opinion.",
     "misleading": "As a universal statement it is simply false. BN remains very useful, but it is not essential."},
    "BN is one way to make deep networks trainable, not the only one.",
)

_verdict(
    "fact_overhead", "false",
    {"true": "γ and β are 2C numbers. The cost is in reducing every channel over the batch (and positions) to a mean "
             "and variance, and in normalizing every activation, forward and backward; dropping γ and β does not "
             "make the layer cheaper.",
     "disputed": NO_DEBATE.format("the cost of each part can be timed"),
     "misleading": "The scale-and-shift does cost one pass over the activations, but only a minor part of the "
                   "layer's time; the claim puts the cost in the wrong place, which makes it false."},
    "BN's cost is activation-sized work (statistics and normalization, forward and backward); the parameters are "
    "negligible.",
)

_verdict(
    "fact_memory", "false",
    {"true": "During training the layer keeps an activation-sized tensor (its input, or x̂) for the backward pass: "
             "N (times H x W) times more memory than the per-feature mean and variance.",
     "disputed": NO_DEBATE.format("the tensors saved for backward can be listed and weighed"),
     "misleading": "The per-feature vectors exist, but they are a rounding error next to the activation-sized tensor "
                   "kept for the backward pass: the claim gets the cost wrong by orders of magnitude."},
    "The memory cost of BN in training is one activation-sized tensor per layer kept for backward; the per-channel "
    "vectors are negligible.",
)

_verdict(
    "fact_transformers", "false",
    {"true": "BERT, like the original Transformer, uses layer normalization, which normalizes each token over its "
             "own features and needs no batch statistics.",
     "disputed": NO_DEBATE.format("the architectures are published, and PyTorch's Transformer layer can be inspected"),
     "misleading": "BERT contains no batch normalization layer at all; this is not a half-truth."},
    "Transformers (BERT, GPT) use layer normalization, not batch normalization.",
)

_verdict(
    "fact_dropout_test_scaling", "false",
    {"true": "With p the dropout rate (the drop probability), a unit passes on average (1 - p) x during training, so "
             "the test-time factor is the keep probability 1 - p. Scaling by p is off by p/(1 - p); and with inverted "
             "dropout (every framework) nothing is scaled at test time.",
     "disputed": NO_DEBATE.format("the right factor follows from the expected value of the mask"),
     "misleading": "The rule is right only where p denotes the *keep* probability (the original paper's notation). "
                   "For 'the dropout rate' it is wrong, which is exactly how sources that mix the two conventions "
                   "go astray."},
    "Original dropout scales by the keep probability 1 - p at test time; inverted dropout scales by 1/(1 - p) during "
    "training and does nothing at test time.",
)

_verdict(
    "fact_dropout_off_at_test", "true",
    {"false": "Left on, dropout makes predictions random and, one pass at a time, worse (measured in the pitfalls "
              "chapter).",
     "disputed": NO_DEBATE.format("evaluation mode is the defined, measured behaviour for ordinary predictions"),
     "misleading": "Monte-Carlo dropout keeps dropout on deliberately and averages many passes, but that is a "
                   "different technique; for an ordinary prediction the claim is right."},
    "For ordinary predictions dropout is switched off (eval mode); keeping it on on purpose is Monte-Carlo dropout.",
)

_verdict(
    "fact_dropout_redundant", "misleading",
    {"true": "BN's batch noise regularizes, and Ioffe and Szegedy could drop dropout from their network, but the two "
             "are different kinds of noise; dropout after the last BN layer is common and can help (Li et al.).",
     "false": "Not false either: BN does regularize and sometimes makes dropout unnecessary.",
     "disputed": "When the two clash (dropout before BN shifts the variance BN sees) and how to combine them (dropout "
                 "after the last BN) is well explained by Li et al.; the blanket statement is the problem."},
    "BN can make dropout unnecessary in some networks, and dropout placed before BN can hurt through a variance "
    "shift; placed after the last BN layer, the two combine.",
)

_verdict(
    "fact_alpha_dropout", "true",
    {"false": "The demonstration measures it: mean and variance stay at 0 and 1, where inverted dropout inflates the "
              "variance.",
     "disputed": "It holds by construction: the constants of alpha dropout are chosen to keep mean 0 and variance 1 "
                 "(Klambauer et al.).",
     "misleading": "The claim is stated for inputs with mean 0 and variance 1, the fixed point of SELU networks, and "
                   "for those it holds exactly."},
    "Alpha dropout sets dropped units to SELU's negative saturation value and applies an affine correction chosen "
    "to keep mean 0 and variance 1.",
)

_verdict(
    "fact_bn_placement", "disputed",
    {"true": "The original paper puts BN before the nonlinearity and ResNet follows it, but a systematic benchmark "
             "found the other order slightly better for its network; there is no settled answer.",
     "false": "It is not wrong either: BN before the nonlinearity is a good, widely used choice.",
     "misleading": "The claim takes one side of an open empirical question; that is what we call disputed."},
    "Before and after the nonlinearity both work; the evidence on which is better is mixed and network-dependent.",
)
