"""The read-path benchmark runs once in quick mode on SQLite, so it does not rot (figures not
asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_read_path_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "read_path.py"), "--quick", "--sqlite-only"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "SQLite: 2000 cases built" in out
    for name in ("GET /v1/cases/{id}", "list state=signing", "list own cases", "list text="):
        line = next((row for row in out.splitlines() if name in row), "")
        assert "p50" in line and "p95" in line and "p99" in line and "req/s" in line, out
    assert "target: list p95 <= 30 ms for indexed filters:" in out
    assert "PostgreSQL: skipped (--sqlite-only)" in out
