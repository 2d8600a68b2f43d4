"""The benchmarks run once in quick mode, so the scripts do not rot (figures not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.bench
def test_documents_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "documents.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "documents/s" in run.stdout and "ratio dihflow/raw throughput" in run.stdout
    assert "same inputs give the same bytes: True" in run.stdout


@pytest.mark.bench
def test_projection_benchmark_runs_in_quick_mode() -> None:
    """It projects a saved case's real inputs; a retried projection adding anything fails it."""
    run = subprocess.run(
        [sys.executable, str(BENCH / "projection.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "12 projections per case" in run.stdout
    assert "outbox rows per case: 15.0" in run.stdout
    assert "CPU per case: p50" in run.stdout


@pytest.mark.bench
def test_engine_settings_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "engine_settings.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-5000:]
    assert "eager activities on : engine" in run.stdout
    assert "eager activities off: engine" in run.stdout
    assert "median engine CPU per workflow: eager on" in run.stdout
