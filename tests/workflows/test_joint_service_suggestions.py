"""A joint service opens with suggested partners (patch ``joint-service-suggestions``): the
matchmaking start's ``RankCandidates`` effect and ``rank_candidates`` activity, its ranking kept
in ``facts.candidates``, no lifecycle step. A case opened by the code before the patch finishes
on today's code without suggestions. On the real dev server, stand-in activities.

The previous code is today's workflow with ``workflow.patched("joint-service-suggestions")``
answering False without recording a marker: what the code before the patch did (it never
asked).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from base.engine import DevServer
from domain.cases import ActionResult, Candidate, CaseFacts, CaseStart
from tests.workflows.test_deadlines import LEAD, PARTNER, StandIns, _facts, _start, _step
from worker import sandbox_runner
from workflows import WORKFLOWS
from workflows.case import JOINT_SERVICE_SUGGESTIONS

RANKED = [
    Candidate(
        hub_id="fjord-ai",
        score=61.5,
        reasons=["offers test-before-invest for computer vision"],
        components={"coverage": 1.0, "text": 0.4},
    ),
    Candidate(hub_id="spree-trust", score=40.2, reasons=["works with computer vision"]),
]


class Ranking(StandIns):
    """Stand-ins that remember what each ranking was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.ranked_for: list[CaseFacts] = []

    @activity.defn(name="rank_candidates")
    async def rank_candidates(self, facts: CaseFacts) -> list[Candidate]:
        self.ranked_for.append(facts)
        return RANKED


@pytest.fixture
async def client(dev_server: DevServer) -> AsyncIterator[Client]:
    yield await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


def _joint_service() -> CaseStart:
    facts = _facts(
        created_at=datetime.now(UTC).isoformat(),
        wanted_services=["trustworthy_ai_assessment"],
        wanted_technologies=["computer_vision"],
    )
    return CaseStart(facts=facts, invited_hub_ids=[PARTNER.hub_id or ""], requested_by=LEAD)


async def _markers(handle) -> bool:  # type: ignore[no-untyped-def]
    history = await handle.fetch_history()
    return any(JOINT_SERVICE_SUGGESTIONS.encode() in e.SerializeToString() for e in history.events)


async def test_a_joint_service_opens_with_suggested_partners(client: Client) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    acts = Ranking()
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=acts.all,
        workflow_runner=sandbox_runner(),
    ):
        handle = await _start(client, _joint_service(), queue)
        await handle.execute_update("open_case", result_type=ActionResult)
        opened = await handle.query("facts", result_type=CaseFacts)
        await _step(handle, "cancel", LEAD, reason="test over")
        facts = await handle.result()
    # ranked once, for the case as it opened (its needs, the invitation already made)
    assert len(acts.ranked_for) == 1
    asked = acts.ranked_for[0]
    assert asked.wanted_technologies == ["computer_vision"]
    assert [i.hub_id for i in asked.invitations] == [PARTNER.hub_id]
    assert opened.candidates == RANKED and facts.candidates == RANKED
    # advice, not a step: the case is where the invitation put it, no ranking event
    assert opened.state == "partnering"
    assert acts.event_types[:2] == ["case_requested", "partners_invited"]
    assert "candidates_ranked" not in acts.event_types
    assert acts.records[0].facts.candidates == RANKED  # stored by the opening step
    assert await _markers(handle)


async def test_a_joint_service_opened_on_the_previous_code_finishes_on_todays(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    real_patched = workflow.patched

    def before_the_patch(patch_id: str) -> bool:
        return False if patch_id == JOINT_SERVICE_SUGGESTIONS else real_patched(patch_id)

    old = Ranking()
    monkeypatch.setattr(workflow, "patched", before_the_patch)
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=old.all,
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_cached_workflows=0,
    ):
        handle = await _start(client, _joint_service(), queue)
        accepted = await _step(handle, "accept_invitation", PARTNER)
    monkeypatch.undo()
    assert accepted.state == "legal_review" and old.ranked_for == []

    # today's code replays the opening without a ranking and takes the next steps
    new = Ranking()
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=new.all,
        workflow_runner=sandbox_runner(),
    ):
        await _step(handle, "cancel", LEAD, reason="test over")
        facts = await handle.result()
    assert facts.state == "cancelled" and facts.candidates == []
    assert new.ranked_for == [] and new.event_types == ["cancelled"]
    assert not await _markers(handle)  # the case stayed on the path it opened on
