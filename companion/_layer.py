"""What the companion's layer classes share with ``torch.nn.Module``: train/eval modes, calling a
layer runs its forward pass, ``state_dict()``/``load_state_dict()`` with PyTorch's keys, and the
per-channel parameters of a normalization layer."""
from collections import OrderedDict, namedtuple

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

#: What :meth:`Layer.load_state_dict` returns, as ``torch.nn.Module.load_state_dict`` does.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _as_numpy(value):
    """A state-dict value as a NumPy array: torch tensors are detached and copied to the CPU."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Layer:
    """Base of the companion's layers: ``train()``/``eval()`` return the layer; ``layer(x)`` is ``layer.forward(x)``.

    ``state_dict()`` and ``load_state_dict()`` use the keys of the matching ``torch.nn`` module
    (the names in ``_state_names``; an attribute that is None is left out, as torch leaves out a
    parameter or buffer that is None), so a state moves between the two in either direction.
    """

    training = True
    _cache = None
    _state_names = ()

    def state_dict(self):
        """The parameters and buffers, keyed as in ``torch.nn``: an ``OrderedDict`` of NumPy arrays (copies).

        ``num_batches_tracked`` is a 0-d int64 array, as torch's is a 0-d int64 tensor.  To load it
        into a torch module: ``module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})``.
        """
        out = OrderedDict()
        for name in self._state_names:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = np.array(value, dtype=np.int64) if name == "num_batches_tracked" else np.array(value, copy=True)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy parameters and buffers from ``state_dict`` (NumPy arrays or torch tensors, torch's keys).

        Values are cast to the layer's dtype and must have the shape of what they replace.  With
        ``strict`` (the default, as in torch) a missing or unexpected key raises ``KeyError``; a
        shape mismatch always raises ``ValueError`` (torch: ``RuntimeError``).  Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        values = {}
        for name in own:
            if name not in state_dict:
                continue
            value = _as_numpy(state_dict[name])
            if value.shape != own[name].shape:
                raise ValueError(
                    f"size mismatch for {name}: copying a value of shape {value.shape} from the state_dict, "
                    f"the shape in the current layer is {own[name].shape}"
                )
            values[name] = value
        for name, value in values.items():  # nothing is changed unless every value fits
            if name == "num_batches_tracked":
                setattr(self, name, int(value))
            else:
                setattr(self, name, value.astype(own[name].dtype, copy=True))
        return IncompatibleKeys(missing, unexpected)

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

    _state_names = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")

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
        if self.momentum is not None:
            return self.momentum
        return 1.0 / self.num_batches_tracked if self.num_batches_tracked else 0.0
