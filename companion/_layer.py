"""What the companion's layer classes share with ``torch.nn.Module``: train/eval modes, calling a
layer runs its forward pass, and the per-channel parameters of a normalization layer."""
import numpy as np

from ._validate import (
    CallOrderError,
    check_array,
    check_channels,
    check_eps,
    check_momentum,
    check_param,
    check_positive_int,
)


class Layer:
    """Base of the companion's layers: ``train()``/``eval()`` return the layer; ``layer(x)`` is ``layer.forward(x)``."""

    training = True
    _cache = None

    def train(self, mode=True):
        """Switch to training mode (``mode=False``: evaluation mode); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode; returns the layer."""
        return self.train(False)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _last_cache(self):
        """The cache of the last forward call; backward before any forward is an error."""
        if self._cache is None:
            raise CallOrderError("backward() called before forward(): run a forward pass on a batch first")
        return self._cache


class NormLayer(Layer):
    """Shared set-up of the per-channel normalization layers (``BatchNorm``, ``BatchRenorm``).

    Validates ``num_features``, ``eps``, ``momentum`` and ``dtype``, and creates ``weight`` (ones)
    and ``bias`` (zeros) of shape ``(num_features,)`` when ``affine``, else sets them to None.
    """

    def __init__(self, num_features, eps, momentum, affine, dtype):
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = bool(affine)
        self.dtype = np.dtype(dtype)
        if self.dtype.type not in (np.float16, np.float32, np.float64):
            raise TypeError(f"dtype must be a floating dtype, got {self.dtype}")
        self.weight = np.ones(self.num_features, self.dtype) if self.affine else None
        self.bias = np.zeros(self.num_features, self.dtype) if self.affine else None
        self.num_batches_tracked = 0
        self.training = True
        self.dweight = self.dbias = None
        self._cache = None

    def _check_call(self, x):
        """Check a forward call: ``x`` is ``(N, C, ...)`` with ``C = num_features``, and the layer's
        ``weight``, ``bias``, ``momentum`` and ``eps`` are still valid (they are public attributes). Returns ``eps``."""
        check_array(x, "x", min_ndim=2)
        check_channels(x, "x", self.num_features)
        if self.affine:
            check_param(self.weight, "weight", (self.num_features,))
            check_param(self.bias, "bias", (self.num_features,))
        check_momentum(self.momentum)
        return check_eps(self.eps)

    def _keep_param_grads(self, dweight, dbias):
        """Store the parameter gradients of a backward pass as ``dweight``/``dbias`` (None without ``affine``)."""
        self.dweight, self.dbias = (dweight, dbias) if self.affine else (None, None)

    def _momentum_factor(self):
        """Weight of the new batch in the running averages: ``momentum``, or ``1 / batches seen`` if None."""
        return 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
