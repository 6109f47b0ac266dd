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
