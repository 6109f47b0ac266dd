"""Shared helpers of the dropout-variant tests: dtypes, error messages, a five-sigma test of keep counts."""
import numpy as np
import pytest

DTYPES = [np.float64, np.float32]


def _raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


def _five_sigma_keep_count(kept, n, p):
    q = 1 - p
    assert abs(kept - n * q) < 5 * np.sqrt(n * q * (1 - q)), (kept, n, p)


class MaskRng(np.random.Generator):
    """A Generator whose ``random(shape)`` returns 1 where ``keep`` is True and 0 elsewhere, so that a companion
    layer draws exactly the keep-mask read from a torch output (``random() >= p`` keeps for any 0 < p <= 1)."""

    def __init__(self, keep):
        super().__init__(np.random.PCG64(0))
        self.keep = np.asarray(keep, dtype=bool)

    def random(self, size=None, dtype=np.float64, out=None):
        return self.keep.reshape(size).astype(np.float64)
