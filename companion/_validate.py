"""Input checks shared by every layer.

Each check raises a ``TypeError`` or ``ValueError`` whose message names the
argument and says what was expected, so that a reader never has to decode a
traceback from deep inside NumPy.
"""
import numbers

import numpy as np

FLOAT_DTYPES = (np.float16, np.float32, np.float64)


class CallOrderError(RuntimeError, ValueError):
    """A method was called before the call it depends on (e.g. backward before forward).

    It is both a ``RuntimeError`` (as in PyTorch) and a ``ValueError``.
    """


def check_array(x, name, min_ndim=1):
    """Return ``x`` if it is a non-empty floating-point ndarray with at least ``min_ndim`` axes.

    Parameters
    ----------
    x : object
        The value to check.
    name : str
        The argument's name, used in error messages.
    min_ndim : int
        The fewest axes allowed.

    Returns
    -------
    numpy.ndarray
        ``x`` itself (never copied).
    """
    if not isinstance(x, np.ndarray):
        hint = " (call .detach().cpu().numpy() on a torch tensor)" if type(x).__module__.startswith("torch") else ""
        raise TypeError(f"{name} must be a numpy.ndarray of floats, got {type(x).__name__}{hint}")
    if x.dtype.type not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must have a floating dtype (float16, float32 or float64), got {x.dtype}; "
            f"convert it with {name}.astype(np.float64)"
        )
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    return x


def check_channels(x, name, num_features):
    """Check that axis 1 of ``x`` has ``num_features`` entries (batch-first layout ``(N, C, ...)``)."""
    if x.shape[1] != num_features:
        raise ValueError(
            f"{name} has {x.shape[1]} channels on axis 1 (shape {x.shape}), expected num_features={num_features}"
        )


def check_param(value, name, shape):
    """Check an optional per-channel parameter (``weight``, ``bias``, running statistics).

    ``None`` is returned unchanged; anything else must be a floating ndarray of exactly ``shape``.
    """
    if value is None:
        return None
    check_array(value, name)
    if value.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {value.shape}")
    return value


def check_same_shape(dy, name, shape):
    """Check that an upstream gradient has the shape of the forward input."""
    check_array(dy, name)
    if dy.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of the forward input {tuple(shape)}, got {dy.shape}")
    return dy


def check_batch_stats(x):
    """Batch statistics need at least two values per channel (axis 1), as in PyTorch; returns that number."""
    m = x.size // x.shape[1]
    if m < 2:
        raise ValueError(
            f"x: expected more than 1 value per channel when using batch statistics, got input of shape {x.shape} "
            "(a batch of one sample has no batch variance; call .eval() to use the running statistics)"
        )
    return m


def check_mask(mask, shape, dy_shape=None):
    """A dropout keep-mask must be the boolean array of the forward pass, of ``shape``.

    ``shape`` is that of ``dy`` for element-wise dropout; for a mask shared along axes (size 1 there)
    pass ``dy_shape`` too, for the message.
    """
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise TypeError(
            "mask must be the boolean keep-mask returned by the forward pass, got "
            + (f"an array of dtype {mask.dtype}" if isinstance(mask, np.ndarray) else type(mask).__name__)
        )
    if mask.shape != tuple(shape):
        if dy_shape is None or tuple(dy_shape) == tuple(shape):
            raise ValueError(f"mask must have the shape of dy {tuple(shape)}, got {mask.shape}")
        raise ValueError(f"mask must have shape {tuple(shape)} for dy of shape {tuple(dy_shape)}, got {mask.shape}")
    return mask


def check_inplace(inplace, x=None, name="x"):
    """``inplace`` as a bool; with ``inplace=True`` an array ``x``, if given, must be writeable (it is overwritten)."""
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"inplace must be True or False, got {inplace!r}")
    if inplace and x is not None and not x.flags.writeable:
        raise ValueError(f"{name} is read-only, but inplace=True overwrites it: pass a writeable array or inplace=False")
    return bool(inplace)


def check_probability(p, name="p"):
    """Return ``p`` as a float if it is a real number in [0, 1]."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {p!r}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {p}")
    return p


def check_momentum(momentum):
    """``momentum`` must be ``None`` (cumulative average) or a real number in [0, 1]."""
    if momentum is None:
        return None
    return check_probability(momentum, "momentum")


def check_eps(eps):
    """``eps`` must be a finite, non-negative real number."""
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a non-negative real number, got {eps!r}")
    eps = float(eps)
    if not (eps >= 0.0 and np.isfinite(eps)):
        raise ValueError(f"eps must be a finite number >= 0, got {eps}")
    return eps


def check_positive_int(value, name):
    """``value`` must be an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def as_generator(rng):
    """Turn ``rng`` (``None``, an int seed or a ``numpy.random.Generator``) into a Generator."""
    if rng is None or (isinstance(rng, (numbers.Integral, np.random.SeedSequence)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")
