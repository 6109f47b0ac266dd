"""Exercises of the chapter ``book/pitfalls.ipynb`` (Best practices and pitfalls)."""
import numpy as np
import torch
from torch import nn

from companion.experiments.finetune import finetune_probe, freeze_batchnorm

from ..registry import Mutant, register_code, register_question

__all__ = []


# ------------------------------------------------------------------------------------------ pitfall_freeze_bn
def _bn_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _only_requires_grad(model):
    for bn in _bn_layers(model):
        for p in bn.parameters():
            p.requires_grad_(False)


def _whole_model_eval(model):
    model.eval()


def _only_eval(model):
    for bn in _bn_layers(model):
        bn.eval()


def _batchnorm1d_only(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)


def _freeze_everything(model):
    for p in model.parameters():
        p.requires_grad_(False)
    for bn in _bn_layers(model):
        bn.eval()


def _freeze_cases(rng):
    """Three small classifiers built here (1d and 2d BN, dropout, a BN layer without affine parameters)."""
    cases = []
    torch.manual_seed(int(rng.integers(2**31)))
    mlp = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                        nn.Linear(16, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 4))
    cases.append(dict(model=mlp, X=rng.normal(1.5, 2.0, size=(24, 10)).astype(np.float32),
                      y=rng.integers(0, 4, size=24)))
    torch.manual_seed(int(rng.integers(2**31)))
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 5 * 5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    cases.append(dict(model=cnn, X=rng.normal(-1.0, 3.0, size=(12, 1, 5, 5)).astype(np.float32),
                      y=rng.integers(0, 3, size=12)))
    torch.manual_seed(int(rng.integers(2**31)))
    after = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.BatchNorm1d(8, affine=False), nn.Dropout(0.2),
                          nn.Linear(8, 6), nn.BatchNorm1d(6), nn.Linear(6, 3))
    cases.append(dict(model=after, X=rng.normal(0.5, 1.5, size=(16, 8)).astype(np.float32),
                      y=rng.integers(0, 3, size=16)))
    return cases


register_code(
    "pitfall_freeze_bn",
    signature="pitfall_freeze_bn(model, X, y)",
    returns="(stats_change, affine_change, weight_change)",
    reference=finetune_probe(freeze_batchnorm),
    cases=_freeze_cases,
    rtol=1e-4,
    atol=1e-6,
    time_limit=10.0,
    usage='check("pitfall_freeze_bn", finetune_probe(pitfall_freeze_bn))',
    mutants=[
        Mutant("only_requires_grad",
               "gamma and beta are frozen, but the running statistics still moved: they are buffers, not "
               "parameters, and every forward pass in training mode overwrites them whatever requires_grad says. "
               "Also put each BN layer in evaluation mode (bn.eval()).",
               finetune_probe(_only_requires_grad)),
        Mutant("whole_model_eval",
               "You switched the whole model to evaluation mode. That freezes the running statistics, but gamma "
               "and beta still receive gradients, and every other layer is in evaluation mode too (dropout is "
               "off during fine-tuning). Call eval() on the BN layers only, and set requires_grad=False on their "
               "parameters.",
               finetune_probe(_whole_model_eval)),
        Mutant("only_eval",
               "The running statistics are frozen, but gamma and beta still changed: evaluation mode does not stop "
               "gradients. Also set requires_grad=False on each BN layer's parameters.",
               finetune_probe(_only_eval)),
        Mutant("batchnorm1d_only",
               "One kind of BN layer was missed: the model also contains a BatchNorm2d. Test for every kind, e.g. "
               "isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) or the common base class "
               "nn.modules.batchnorm._BatchNorm.",
               finetune_probe(_batchnorm1d_only)),
        Mutant("freeze_everything",
               "The BN layers are frozen, but so is every other layer: nothing is left to fine-tune. Set "
               "requires_grad=False only on the parameters of the BN layers.",
               finetune_probe(_freeze_everything)),
    ],
    explanation="Evaluation mode froze the running statistics, requires_grad=False froze gamma and beta, and "
                "the rest of the network still learned.",
)


# --------------------------------------------------------------------------------- pitfall_momentum_one_step
_BATCH_MEAN = 2.0
register_question(
    "pitfall_momentum_one_step",
    answer=0.99 * _BATCH_MEAN,
    kind="numeric",
    rtol=1e-3,
    wrong={
        0.01 * _BATCH_MEAN: "That is the Keras reading of momentum 0.99 (keep 99% of the old value). PyTorch's "
                            "momentum is the weight of the *new batch*: new = (1 - 0.99) * 0 + 0.99 * 2.",
        _BATCH_MEAN: "The running mean does not jump all the way to the batch mean: 1% of the old value 0 "
                     "remains, new = 0.01 * 0 + 0.99 * 2.",
        0.1 * _BATCH_MEAN: "0.2 is what PyTorch's default momentum 0.1 gives. With momentum=0.99 the new batch gets "
                           "the weight 0.99.",
    },
    explanation="PyTorch updates running_mean = (1 - momentum) * running_mean + momentum * batch_mean = "
                "0.01 * 0 + 0.99 * 2 = 1.98: with momentum 0.99 the running mean is essentially the last batch's.",
)


# --------------------------------------------------------------------------------- pitfall_what_stops_stats
register_question(
    "pitfall_what_stops_stats",
    answer="c",
    kind="choice",
    choices={
        "a": "setting requires_grad=False on the layer's weight and bias",
        "b": "running the forward pass inside torch.no_grad()",
        "c": "calling layer.eval() before the forward pass",
        "d": "leaving the layer's parameters out of the optimizer",
    },
    wrong={
        "a": "requires_grad only concerns gradients of parameters. The running statistics are buffers that the "
             "forward pass itself overwrites in training mode.",
        "b": "no_grad switches off gradient bookkeeping, nothing else: a training-mode forward pass inside it still "
             "uses batch statistics and still updates the running ones.",
        "d": "The optimizer never touches the running statistics; the forward pass in training mode does.",
    },
    explanation="Only evaluation mode makes the layer read its running statistics instead of updating them.",
)
