"""Shared test fixtures: a seeded generator and the torch devices to compare on."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20241121)
