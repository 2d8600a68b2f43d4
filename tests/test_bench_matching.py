"""The matching benchmark runs once in quick mode, so it does not rot (figures not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.bench
def test_matching_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "matching.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for part in ("indexed lexical + taxonomy", "brute force, same model", "semantic similarity"):
        line = next((row for row in out.splitlines() if part in row), "")
        assert "p50" in line and "p95" in line, out
