"""The staff pages benchmark runs once in quick mode on SQLite, so it does not rot (figures
not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def line(out: str, *parts: str) -> str:
    return next((row for row in out.splitlines() if all(p in row for p in parts)), "")


def test_pages_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "pages.py"), "--quick", "--sqlite-only"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "SQLite: 2000 cases built" in out
    for name in (
        "GET /v1/cases?state=signing",
        "GET /cases?state=signing (page)",
        "GET /v1/cases?no filter",
        "GET /cases?no filter (page)",
        "GET /cases?scenario=joint_service&overdue=yes (page)",
        "GET /v1/cases/{id}",
        "GET /cases/{id} (page)",
    ):
        row = line(out, name)
        assert "p50" in row and "p95" in row, (name, out)
    assert out.count("ratio page/JSON: p50") == 4
    assert "target: page within 2 x its JSON call:" in out
    assert "PostgreSQL: skipped (--sqlite-only)" in out
