"""A tiny convolutional network for the 8x8 digit images, with a choice of normalization and dropout.

The companion's MLPs (:mod:`companion.experiments.training`) see the digits as 64 numbers; the chapters on
normalization variants and structured dropout need feature maps.  :func:`make_convnet` builds

    [Conv2d 3x3 -> Norm -> ReLU (-> Dropout)] x len(channels)     first stride 1, then stride 2
    -> Flatten -> Linear -> Norm -> ReLU -> Linear                  a hidden layer of width ``hidden``

(the hidden layer is left out when ``hidden`` is None) and trains with :func:`companion.experiments.training.train`
like every other model of the book.  With ``norm="batch"`` the convolutional blocks get
``nn.BatchNorm2d`` and the hidden layer ``nn.BatchNorm1d``; with ``norm="group"`` both get
``nn.GroupNorm(num_groups, C)``, which normalizes each sample on its own.
"""
import numbers

__all__ = ["conv_output_size", "make_convnet"]


def conv_output_size(size, stride):
    """Side length after a 3x3 convolution with padding 1: ``(size - 1) // stride + 1``."""
    return (size - 1) // stride + 1


def _check_int(value, name, lowest=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lowest:
        raise ValueError(f"{name} must be an integer >= {lowest}, got {value!r}")
    return int(value)


def make_convnet(channels=(8, 16), hidden=64, *, norm=None, num_groups=4, norm_head=True, dropout=0.0,
                 spatial_dropout=False, image_size=8, in_channels=1, num_classes=10, seed=0):
    """A small convolutional classifier (float32, CPU, training mode).

    Parameters
    ----------
    channels : sequence of int
        Output channels of the convolutional blocks (at least one). The first block keeps the
        spatial size; each later one halves it (stride 2).
    hidden : int or None
        Width of the hidden fully connected layer; None goes straight from the feature maps to
        the class scores.
    norm : None, "batch" or "group"
        Normalization after every convolution (``nn.BatchNorm2d`` or ``nn.GroupNorm``) and after the
        hidden linear layer (``nn.BatchNorm1d`` or ``nn.GroupNorm``). Normalized layers have no bias.
    num_groups : int
        Groups of ``nn.GroupNorm``; must divide every entry of ``channels`` and ``hidden``.
    norm_head : bool
        Normalize the hidden linear layer too (True) or only the convolutional blocks (False).
    dropout : float in [0, 1)
        Drop probability of a dropout layer after every convolutional block's ReLU (0: none).
    spatial_dropout : bool
        Use ``nn.Dropout2d`` (drops whole feature maps) instead of ``nn.Dropout`` (single values).
    image_size : int
        Side length of the square input images.
    in_channels, num_classes : int
    seed : int
        Seed of the weight initialisation.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(N, in_channels, image_size, image_size)`` to class scores ``(N, num_classes)``.
    """
    import torch
    from torch import nn

    channels = tuple(channels)
    if not channels:
        raise ValueError("channels must name at least one convolutional block, got ()")
    channels = tuple(_check_int(c, "every entry of channels") for c in channels)
    if hidden is not None:
        hidden = _check_int(hidden, "hidden")
    if norm not in (None, "batch", "group"):
        raise ValueError(f"norm must be None, 'batch' or 'group', got {norm!r}")
    num_groups = _check_int(num_groups, "num_groups")
    if norm == "group":
        widths = channels + ((hidden,) if hidden is not None and norm_head else ())
        bad = [w for w in widths if w % num_groups]
        if bad:
            raise ValueError(f"num_groups={num_groups} must divide every normalized width, not {bad}")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    image_size = _check_int(image_size, "image_size")
    in_channels = _check_int(in_channels, "in_channels")
    num_classes = _check_int(num_classes, "num_classes")

    def norm_layer(width, two_d):
        if norm == "batch":
            return nn.BatchNorm2d(width) if two_d else nn.BatchNorm1d(width)
        return nn.GroupNorm(num_groups, width)

    torch.manual_seed(seed)
    layers, cin, size = [], in_channels, image_size
    for i, c in enumerate(channels):
        stride = 1 if i == 0 else 2
        layers.append(nn.Conv2d(cin, c, 3, stride=stride, padding=1, bias=norm is None))
        if norm is not None:
            layers.append(norm_layer(c, True))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout) if spatial_dropout else nn.Dropout(dropout))
        cin, size = c, conv_output_size(size, stride)
    layers.append(nn.Flatten())
    features = cin * size * size
    if hidden is not None:
        normed = norm is not None and norm_head
        layers.append(nn.Linear(features, hidden, bias=not normed))
        if normed:
            layers.append(norm_layer(hidden, False))
        layers.append(nn.ReLU())
        features = hidden
    layers.append(nn.Linear(features, num_classes))
    return nn.Sequential(*layers)
