"""Fixtures of the exercise tests: ``scratch_names`` removes the exercises a test registers."""
import pytest

from companion.exercises import registry


@pytest.fixture
def scratch_names():
    """Names registered by a test are removed afterwards."""
    added = []
    yield added
    for name in added:
        registry._REGISTRY.pop(name, None)
