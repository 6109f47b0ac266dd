"""Shared test fixture: a seeded generator.

The torch devices to compare on are not a fixture: parity tests parametrize over
``companion.tools.oracle.torch_devices()`` (``cpu``, plus ``cuda`` when available).
"""
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20241121)
