"""The chapters' experiments: models, data, training loops and the helpers that measure them.

Nothing here is the subject of the book (that is the layers at the top of :mod:`companion`); these
modules serve one or two chapters' experiments each:

- models and training: :mod:`.training` (MLPs, SGD, ``train``), :mod:`.convnet`, :mod:`.data` (digits);
- measurements: :mod:`.landscape`, :mod:`.hooks`, :mod:`.variance_shift`, :mod:`.saved_tensors`,
  :mod:`.quadratic`, :mod:`.robust` (summaries of chaotic experiments over seeds);
- interventions: :mod:`.noisy_bn`, :mod:`.calibration`, :mod:`.finetune`, :mod:`.mc_dropout`.

Most of them need PyTorch, so nothing is imported here: import the module you use, e.g.
``from companion.experiments.training import make_mlp, train``.
"""
