"""Companion package of *Normalize & Drop*: reference NumPy implementations of
batch normalization and dropout, checked against PyTorch.

Names follow PyTorch (``num_features``, ``eps``, ``momentum``, ``affine``,
``track_running_stats``; dropout's ``p`` is the drop probability) and functions follow
the ``*_forward(...) -> (out, cache)`` / ``*_backward(dout, cache)`` pattern.
"""
from ._validate import CallOrderError
from .batchnorm import BatchNorm, batch_norm_backward, batch_norm_forward, batch_stats
from .batchnorm_graph import batch_norm_backward_graph, batch_norm_forward_graph
from .dropout import (
    Dropout,
    dropout_backward,
    dropout_forward,
    keep_mask,
    original_dropout_backward,
    original_dropout_forward,
)
from .gradcheck import numerical_gradient, rel_error

__version__ = "0.1.0"

__all__ = [
    "BatchNorm",
    "CallOrderError",
    "Dropout",
    "batch_norm_backward",
    "batch_norm_backward_graph",
    "batch_norm_forward",
    "batch_norm_forward_graph",
    "batch_stats",
    "dropout_backward",
    "dropout_forward",
    "keep_mask",
    "numerical_gradient",
    "original_dropout_backward",
    "original_dropout_forward",
    "rel_error",
]
