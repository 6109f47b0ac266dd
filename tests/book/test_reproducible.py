"""The reproducibility gate: every chapter's stored outputs also hold under another CPU configuration.

nbval (configured in pyproject.toml) re-executes every chapter on this machine's own configuration.
Here each chapter is re-executed once more in a separate pytest run with
``companion.tools.chapters.REPRO_ENV``: PyTorch's portable kernels (``ATEN_CPU_CAPABILITY=default``), one
thread, MKL capped at AVX2. A chapter whose printed numbers depend on the instruction set or the
thread count (a chaotic experiment reported by one run's digits) fails here, as it would on a
reader's laptop.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from companion.tools.chapters import REPRO_ENV

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapters_to_check():
    assert len(CHAPTERS) >= 17


def _run_batch(chapters, tmp_path):
    """Re-run ``chapters`` through nbval in ONE pytest process under REPRO_ENV (one process start and one
    plugin load instead of one per chapter); return ``{chapter name: failure text or None}``."""
    env = {**os.environ, **REPRO_ENV}
    env.pop("PYTEST_XDIST_WORKER", None)
    report = tmp_path / "gate.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:randomly", f"--junitxml={report}",
           *[str(c.relative_to(ROOT)) for c in chapters]]
    proc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if not report.is_file():
        pytest.fail(f"the gate's pytest run wrote no report (exit {proc.returncode}):\n{proc.stdout[-6000:]}"
                    f"\n{proc.stderr[-3000:]}", pytrace=False)
    results = {c.name: None for c in chapters}
    seen = set()
    for case in ET.parse(report).getroot().iter("testcase"):
        where = {case.get("file", ""), case.get("classname", "")}
        name = next((c.name for c in chapters if where & {f"book/{c.name}", f"book.{c.stem}.ipynb", f"book.{c.stem}"}),
                    None)
        if name is None:
            continue
        seen.add(name)
        for bad in list(case.iter("failure")) + list(case.iter("error")):
            text = f"{case.get('name')}: {bad.get('message', '')}\n{(bad.text or '')[-3000:]}"
            text = re.sub(r"#x1B\[[0-9;]*m|\x1b\[[0-9;]*m", "", text)  # nbval's colours
            results[name] = (results[name] or "") + text + "\n"
    for name in set(results) - seen:
        results[name] = f"no test of {name} ran in the gate's pytest run:\n{proc.stdout[-3000:]}"
    return results


def _check(results, chapter):
    failure = results[chapter.name]
    assert failure is None, (f"{chapter.name} differs under {REPRO_ENV} (see CONTRIBUTING.md, "
                             f"'Reproducible on the reader's machine'):\n{failure[-6000:]}")


# Two classes, alternate chapters each: `pytest -n 2 --dist loadscope` sends each class to its own worker,
# so the gate's two re-runs share both cores instead of queueing on one.
HALF_A, HALF_B = CHAPTERS[0::2], CHAPTERS[1::2]


@pytest.fixture(scope="class")
def gate_results(request, tmp_path_factory):
    """The batch of the requesting class (its ``HALF``), run once per class."""
    return _run_batch(request.cls.HALF, tmp_path_factory.mktemp("gate"))


class TestPortableKernelsOneThreadA:
    HALF = HALF_A

    @pytest.mark.parametrize("chapter", HALF_A, ids=[p.name for p in HALF_A])
    def test_chapter_outputs_hold(self, gate_results, chapter):
        _check(gate_results, chapter)


class TestPortableKernelsOneThreadB:
    HALF = HALF_B

    @pytest.mark.parametrize("chapter", HALF_B, ids=[p.name for p in HALF_B])
    def test_chapter_outputs_hold(self, gate_results, chapter):
        _check(gate_results, chapter)


def test_the_two_halves_cover_every_chapter_once():
    assert sorted(HALF_A + HALF_B) == CHAPTERS
