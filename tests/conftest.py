"""Shared test fixture: a seeded generator.

The torch devices to compare on are not a fixture: parity tests parametrize over
``companion.tools.oracle.torch_devices()`` (``cpu``, plus ``cuda`` when available).
"""
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20241121)


#: The test modules that open the built website (tests/book/_site.py builds it once per run, under a file lock).
SITE_MODULES = ("tests/book/test_site", "tests/book/test_pdf")


def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadscope``, the modules that use the built site are one unit of work, run by one worker.

    Split between two workers, they started together (xdist hands out the largest modules first), and
    one worker sat idle for the minute or more that the other spent building the site. As one unit,
    the site is built once, by the worker that then uses it, while the other runs the rest.
    """
    if config.getoption("dist", None) != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SiteTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if nodeid.startswith(SITE_MODULES):
                return "the built website"
            return super()._split_scope(nodeid)

    return SiteTogether(config, log)
