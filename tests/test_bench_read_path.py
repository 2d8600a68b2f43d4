"""The read-path benchmark runs once in quick mode on SQLite, so it does not rot (figures not
asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def line(out: str, *parts: str) -> str:
    return next((row for row in out.splitlines() if all(p in row for p in parts)), "")


@pytest.mark.bench
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
    for name in (
        "GET /v1/cases/{id}",
        "list state=",
        "list hub=",
        "list own",
        "list text=cork",
        "list text=alentejo",
    ):
        for concurrency in ("c=1 ", "c=8 "):
            row = line(out, name, concurrency)
            assert all(f in row for f in ("p50", "p95", "p99", "req/s")), (name, out)
    for name in ("GET /v1/cases/{id} [rate limit]", "list own cases (tagus-ai member) [rate"):
        assert "req/s" in line(out, name, "c=8 "), out
    stages = ("authenticate (key", "authenticate + rate-limit", "GET one case:", "signing: query")
    for stage in stages:
        assert line(out, stage).rstrip().endswith("ms"), out
    assert "target: list p95 <= 30 ms for indexed filters:" in out
    assert "PostgreSQL: skipped (--sqlite-only)" in out
