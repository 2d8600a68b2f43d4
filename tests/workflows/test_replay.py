"""Saved histories of real runs replay against today's workflow code.

A change to the workflow's control flow without a ``workflow.patched`` guard makes these fail
with a non-determinism error; see README "Versioning workflows".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import sandbox_runner
from workflows import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_cover_the_main_and_side_paths() -> None:
    names = {p.stem for p in HISTORIES}
    assert {
        "joint_service_completed",
        "joint_service_executed_after_step",  # the executed copy made once the step returned
        "joint_service_cancelled",
        "joint_service_changes_requested",
        "co_development_published",
        "matchmaking_with_nda",
        "matchmaking_declined",
        # patch quality-review: the survey and the peer reviews
        "joint_service_completed_quality_review",
        "co_development_published_quality_review",
        "matchmaking_with_nda_quality_review",
        # patch joint-service-suggestions: a joint service opens with suggested partners
        "joint_service_completed_suggestions",
        "joint_service_suggested_partners",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"case-{path.stem}", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(strict=True),
    )
    await replayer.replay_workflow(history)


async def test_replay_detects_an_unguarded_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard works: an extra activity inserted without a patch fails the replay.

    Unsandboxed here only so the monkeypatched method is the one that runs.
    """
    from temporalio import workflow
    from temporalio.worker import UnsandboxedWorkflowRunner

    from workflows import case as case_module

    original = case_module.CollaborationCaseWorkflow._render_draft

    async def render_twice(self, work, out):  # type: ignore[no-untyped-def]
        await workflow.execute_activity(
            "record_case", None, start_to_close_timeout=case_module.timedelta(seconds=5)
        )
        await original(self, work, out)

    monkeypatch.setattr(case_module.CollaborationCaseWorkflow, "_render_draft", render_twice)
    path = next(p for p in HISTORIES if p.stem == "joint_service_completed")
    history = WorkflowHistory.from_json("case-replay-guard", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
