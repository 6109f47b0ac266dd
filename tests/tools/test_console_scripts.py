"""The console scripts declared in pyproject.toml: each entry point imports, has --help, and runs as ``python -m``."""
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def test_every_tool_has_a_console_script_named_for_what_it_does():
    assert set(SCRIPTS) == {"nd-grade-notebooks", "nd-benchmark", "nd-parity-table", "nd-run-chapters", "nd-editions", "nd-pdf"}
    for target in SCRIPTS.values():
        module = target.split(":")[0]
        assert module.startswith(("companion.tools.", "companion.exercises.")), target


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_entry_point_imports_and_prints_help(name, capsys):
    module, func = SCRIPTS[name].split(":")
    main = getattr(importlib.import_module(module), func)
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {name}"), out[:200]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_module_runs_with_python_dash_m(name):
    module = SCRIPTS[name].split(":")[0]
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert f"usage: {name}" in done.stdout
