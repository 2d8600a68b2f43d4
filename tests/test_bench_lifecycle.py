"""The lifecycle benchmark: its reading of a case's shape, and one quick run (K = 1, 2) so it
does not rot (figures not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

BENCH = Path(__file__).resolve().parent.parent / "bench"
HISTORIES = Path(__file__).resolve().parent / "workflows" / "histories"
sys.path.insert(0, str(BENCH))

from floor_case import DRAFT_RENDER, MINIMAL_STEP, minimal_segments  # noqa: E402
from lifecycle import count_updates_and_activities, shape, tally  # noqa: E402


def test_the_shape_of_a_case_is_read_from_its_history() -> None:
    history = WorkflowHistory.from_json(
        "case", (HISTORIES / "joint_service_executed_after_step.json").read_text()
    )
    segments = shape(history)
    updates = [s.update for s in segments if s.update]
    assert updates[0] == "open_case" and updates[-1] == "review"
    assert updates.count("sign") == 3
    # the executed copy is made by the run loop, between the last signature and the next step
    loop = [i for i, s in enumerate(segments) if not s.update]
    assert len(loop) == 1 and segments[loop[0] - 1].update == "sign"
    assert segments[loop[0]].activities[0] == "produce_executed_agreement"
    render = [s for s in segments if "render_agreement" in s.activities]
    assert [s.update for s in render] == ["accept_invitation"]
    scheduled = sum(
        1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
    )
    assert count_updates_and_activities(segments) == (len(updates), scheduled)


def test_the_engine_work_of_a_case_is_tallied_from_its_history() -> None:
    history = WorkflowHistory.from_json(
        "case", (HISTORIES / "joint_service_executed_after_step.json").read_text()
    )
    counts = tally(history)
    kinds = [e.WhichOneof("attributes") for e in history.events]
    assert counts["events"] == len(history.events)
    assert counts["tasks"] == kinds.count("workflow_task_scheduled_event_attributes") > 1
    assert counts["activities"] == kinds.count("activity_task_scheduled_event_attributes") > 0
    # a test worker's tasks after the first come from its sticky queue; none were lost
    assert counts["unsticky"] == counts["lost"] == 0


def test_the_minimal_floor_has_the_human_steps_of_a_case() -> None:
    history = WorkflowHistory.from_json(
        "case", (HISTORIES / "joint_service_executed_after_step.json").read_text()
    )
    segments = shape(history)
    least = minimal_segments(segments)
    # every update of the case, in order (this saved history predates the peer reviews: the
    # quick run below checks a live case's 11)
    assert [s.update for s in least] == [s.update for s in segments if s.update]
    # one local activity that does nothing per step, and the one draft render
    assert all(s.activities[0] == MINIMAL_STEP and s.local == s.activities for s in least)
    assert sum(len(s.activities) for s in least) == len(least) + 1
    assert [s.update for s in least if DRAFT_RENDER in s.activities] == ["accept_invitation"]


@pytest.mark.bench
def test_lifecycle_benchmark_runs_in_quick_mode() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "lifecycle.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-5000:]
    out = run.stdout
    lines = out.splitlines()
    assert "shape of a case: 11 updates," in out and "(run loop): produce_executed_agreement" in out
    for k in (1, 2):
        for kind in ("minimal", "floor", "ours"):
            assert any(row.startswith(f"K={k} {kind}: ") and "step p50" in row for row in lines)
        assert any(row.startswith(f"K={k} ours/floor: throughput") for row in lines), out
        assert any(row.startswith(f"K={k} ours/minimal: CPU per case") for row in lines), out
    assert "shape of the minimal floor: open_case: minimal_step; " in out
    least = next(r for r in lines if r.startswith("shape of the minimal floor: "))
    assert least.count("minimal_step") == 11 and least.count("peer_review: ") == 2, least
    cpu = [row for row in lines if row.startswith("  CPU per case")]
    assert len(cpu) == 6 and all("document rendering" in row for row in cpu), out
    assert sum("HTTP layer (API process)" in row for row in cpu) == 2, out
    history = [row for row in lines if row.startswith("  history per case: ")]
    assert len(history) == 6, out
    # the minimal floor runs no regular activity; ours one per step and a few more
    assert all(row.endswith(" 0.0 activities") for row in history[0::3]), history
    assert all(not row.endswith(" 0.0 activities") for row in history[2::3]), history
    assert "summary (cases/s; step latency in ms; CPU per case in ms, without the drivers):" in out
