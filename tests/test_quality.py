"""The habits the project keeps: ruff clean, mypy --strict clean for src/."""
from __future__ import annotations

import subprocess
import sys

from support import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', *args], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=300)


def test_ruff_is_clean():
    out = run('ruff', 'check', 'src', 'tests', 'examples', 'benchmarks')
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_is_clean():
    out = run('mypy')
    assert out.returncode == 0, out.stdout + out.stderr
