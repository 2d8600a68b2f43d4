"""The indicators benchmark runs once in quick mode on SQLite, so it does not rot (figures not
asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.bench
def test_indicators_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "indicators.py"), "--quick", "--sqlite-only"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "SQLite: 2000 ended cases built" in out
    for line in (
        "network indicators p50",
        "hub indicators",
        "reading the same rows raw",
        "whole report",
        "KPI export",
    ):
        assert f"SQLite: {line}" in out, (line, out)
