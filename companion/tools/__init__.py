"""Tools for authors and instructors, not for the reader: each has a console script (``pyproject.toml``).

- :mod:`.bench` (``nd-benchmark``): times BN and dropout, NumPy vs PyTorch;
- :mod:`.parity` (``nd-parity-table``): the companion-vs-PyTorch parity table;
- :mod:`.oracle`: PyTorch as the oracle, and the one parity rule (``assert_parity``, ``TOLERANCES``);
- :mod:`.machine`: a description of the machine a measurement ran on;
- :mod:`.chapters` (``nd-run-chapters``): executes chapters, checks they reproduce, times them.
"""
