"""The reproducibility gate: every chapter's stored outputs also hold under another CPU configuration.

nbval (configured in pyproject.toml) re-executes every chapter on this machine's own configuration.
Here each chapter is re-executed once more in a separate pytest run with
``companion.tools.chapters.REPRO_ENV``: PyTorch's portable kernels (``ATEN_CPU_CAPABILITY=default``), one
thread, MKL capped at AVX2. A chapter whose printed numbers depend on the instruction set or the
thread count (a chaotic experiment reported by one run's digits) fails here, as it would on a
reader's laptop.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion.tools.chapters import REPRO_ENV

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapters_to_check():
    assert len(CHAPTERS) >= 17


def _check(chapter):
    env = {**os.environ, **REPRO_ENV}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:randomly", str(chapter.relative_to(ROOT))]
    proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, (f"{chapter.name} differs under {REPRO_ENV} (see CONTRIBUTING.md, "
                                  f"'Reproducible on the reader's machine'):\n{proc.stdout[-6000:]}")


# Two classes, alternate chapters each: `pytest -n 2 --dist loadscope` sends each class to its own worker,
# so the gate's re-runs share both cores instead of queueing on one.
class TestPortableKernelsOneThreadA:
    @pytest.mark.parametrize("chapter", CHAPTERS[0::2], ids=[p.name for p in CHAPTERS[0::2]])
    def test_chapter_outputs_hold(self, chapter):
        _check(chapter)


class TestPortableKernelsOneThreadB:
    @pytest.mark.parametrize("chapter", CHAPTERS[1::2], ids=[p.name for p in CHAPTERS[1::2]])
    def test_chapter_outputs_hold(self, chapter):
        _check(chapter)
