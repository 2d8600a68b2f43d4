"""The registry-import benchmark runs once in quick mode on SQLite, so it does not rot (figures
not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.bench
def test_registry_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "registry.py"), "--quick", "--sqlite-only"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "SQLite: JSON, 500 new hubs" in out and "500 hubs created" in out
    assert "500 unchanged" in out and "50 updated, 450 unchanged" in out
    assert "baseline, upsert_hub one at a time" in out
