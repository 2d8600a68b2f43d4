"""The open-cases benchmark runs once in quick mode, so it does not rot (figures not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
VARIANTS = ("unsandboxed, worker cache 5", "floor-sandbox, worker cache 11")


@pytest.mark.bench
def test_open_cases_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "open_cases.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    lines = out.splitlines()
    for variant in VARIANTS:
        assert f"runner {variant}, 10 open cases:" in out, out
    assert sum("cases/s (concurrency" in row and "CPU per case" in row for row in lines) == 2
    assert sum(row.startswith("  worker RSS") and "KB per open case" in row for row in lines) == 2
    assert sum(row.startswith("  server RSS") and "KB per open case" in row for row in lines) == 2
    steps = [row for row in lines if row.startswith("  step accept-invitation")]
    assert len(steps) == 1, out  # none for the floor, whose workflow takes no steps
    assert "on an evicted case p50" in steps[0] and "replay:" in steps[0], out
    assert "summary (memory: KB per open case; CPU: worker ms per opened case" in out
    target = "target <= 50 KB worker memory per idle open case (floor-sandbox, all cached):"
    assert target in out, out
