"""Companion package of *Normalize & Drop*: reference NumPy implementations of
batch normalization and dropout, checked against PyTorch.

The modules at this level are the subject a learner studies, the layers and their math, and
nothing else: batch normalization (:mod:`.batchnorm`, read it first; its fast kernel is the
private :mod:`._batchnorm_fast`; :mod:`.batchnorm_graph` is the node-by-node version), batch
renormalization, synchronized (multi-process) and ghost batch norm, layer/group/instance and RMS
normalization, dropout and its variants (DropPath, DropBlock), folding BN into weights, Welford's
statistics and gradient checks; ``_layer``, ``_standardize`` and ``_validate`` are the private
kernels they share. Everything else lives in a folder named for what it is: :mod:`.experiments` (models, data, training loops for the chapters), :mod:`.notebook` (what a
chapter's first cell imports), :mod:`.tools` (benchmark, parity, chapter runner) and
:mod:`.exercises` (auto-graded exercises and the grading command).

Names follow PyTorch (``num_features``, ``eps``, ``momentum``, ``affine``,
``track_running_stats``; dropout's ``p`` is the drop probability) and functions follow
the ``*_forward(...) -> (out, cache)`` / ``*_backward(dout, cache)`` pattern.
"""
from ._validate import CallOrderError
from .alpha_dropout import (
    AlphaDropout,
    FeatureAlphaDropout,
    alpha_dropout_backward,
    alpha_dropout_forward,
    feature_alpha_dropout_backward,
    feature_alpha_dropout_forward,
)
from .batchnorm import (
    BatchNorm,
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    batch_norm_backward,
    batch_norm_forward,
    batch_stats,
)
from .batchnorm_graph import batch_norm_backward_graph, batch_norm_forward_graph
from .batchrenorm import BatchRenorm, batch_renorm_backward, batch_renorm_forward
from .dropblock import drop_block_backward, drop_block_forward
from .dropconnect import dropconnect_backward, dropconnect_forward
from .dropout import (
    Dropout,
    dropout_backward,
    dropout_forward,
    keep_mask,
    original_dropout_backward,
    original_dropout_forward,
)
from .droppath import drop_path_backward, drop_path_forward
from .ghostbatchnorm import ghost_batch_norm_backward, ghost_batch_norm_forward
from .gradcheck import numerical_gradient, rel_error
from .groupnorm import GroupNorm, group_norm_backward, group_norm_forward
from .instancenorm import (
    InstanceNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    instance_norm_backward,
    instance_norm_forward,
)
from .layernorm import LayerNorm, layer_norm_backward, layer_norm_forward
from .rmsnorm import RMSNorm, rms_norm_backward, rms_norm_forward
from .structured_dropout import (
    Dropout1d,
    Dropout2d,
    Dropout3d,
    locked_dropout_backward,
    locked_dropout_forward,
    spatial_dropout_backward,
    spatial_dropout_forward,
)
from .syncbatchnorm import (
    SyncBatchNorm,
    sync_batch_norm_backward,
    sync_batch_norm_comm_bytes,
    sync_batch_norm_forward,
)

__version__ = "0.1.0"

__all__ = [
    "AlphaDropout",
    "BatchNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "BatchRenorm",
    "CallOrderError",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "FeatureAlphaDropout",
    "GroupNorm",
    "InstanceNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "RMSNorm",
    "SyncBatchNorm",
    "alpha_dropout_backward",
    "alpha_dropout_forward",
    "batch_norm_backward",
    "batch_norm_backward_graph",
    "batch_norm_forward",
    "batch_norm_forward_graph",
    "batch_renorm_backward",
    "batch_renorm_forward",
    "batch_stats",
    "drop_block_backward",
    "drop_block_forward",
    "drop_path_backward",
    "drop_path_forward",
    "dropconnect_backward",
    "dropconnect_forward",
    "dropout_backward",
    "dropout_forward",
    "feature_alpha_dropout_backward",
    "feature_alpha_dropout_forward",
    "ghost_batch_norm_backward",
    "ghost_batch_norm_forward",
    "group_norm_backward",
    "group_norm_forward",
    "instance_norm_backward",
    "instance_norm_forward",
    "keep_mask",
    "layer_norm_backward",
    "layer_norm_forward",
    "locked_dropout_backward",
    "locked_dropout_forward",
    "numerical_gradient",
    "original_dropout_backward",
    "original_dropout_forward",
    "rel_error",
    "rms_norm_backward",
    "rms_norm_forward",
    "spatial_dropout_backward",
    "spatial_dropout_forward",
    "sync_batch_norm_backward",
    "sync_batch_norm_comm_bytes",
    "sync_batch_norm_forward",
]
