"""The open-cases benchmark runs once in quick mode, so it does not rot (figures not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_open_cases_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "open_cases.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for variant in ("runner sandbox, worker cache 10,", "runner unsandboxed, worker cache 21,"):
        assert f"{variant} 20 open cases:" in out, out
    lines = out.splitlines()
    assert sum("cases/s (concurrency" in row and "CPU per case" in row for row in lines) == 2, out
    assert sum(row.startswith("  worker RSS") and "KB per open case" in row for row in lines) == 2
    assert sum(row.startswith("  server RSS") and "KB per open case" in row for row in lines) == 2
    assert any("on a cached case p50" in row and "on an evicted case p50" in row for row in lines)
    assert "summary (memory: KB per open case; CPU: worker ms per opened case" in out
    assert "target <= 50 KB worker memory per idle open case (unsandboxed, all cached):" in out
