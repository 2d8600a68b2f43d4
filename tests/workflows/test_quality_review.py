"""The quality review in the case workflow (patch ``quality-review``), under the time-skipping
server with stand-in activities: a case opened today takes the survey and the peer reviews,
with reminders inside the review window; a case opened by the code before the patch closes on
the client's one rating."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from domain.cases import Caller, CaseFacts, CaseStart, Deliverable, Invitation
from tests.workflows import test_deadlines
from tests.workflows.test_deadlines import (
    LEAD,
    PARTNER,
    StandIns,
    _facts,
    _run,
    _start,
    _step,
)
from workflows import WORKFLOWS
from workflows.case import QUALITY_REVIEW

env = test_deadlines.env  # the module's time-skipping server (a fixture)
CLIENT_LINK = Caller(principal_id="p-link", role="link", party="client", link_action="review")
SURVEY = {"quality": 4, "timeliness": 5, "communication": 4, "value": 4, "would_recommend": True}
PEER = {"reliability": 4, "contribution": 4, "would_collaborate_again": True}


def _in_review(seq: int = 0, **overrides: object) -> CaseFacts:
    return _facts(
        state="review",
        seq=seq,
        invitations=[Invitation(hub_id=PARTNER.hub_id or "", status="accepted")],
        **overrides,
    )


async def test_delivery_done_opens_the_review_with_reminders_until_the_window_closes(
    env: WorkflowEnvironment,
) -> None:
    facts = _facts(
        state="delivery",
        seq=1,
        quality_review=True,
        invitations=[Invitation(hub_id=PARTNER.hub_id or "", status="accepted")],
        deliverables=[Deliverable(hub_id=PARTNER.hub_id or "", id="d1", status="submitted")],
    )

    async def steps(handle: WorkflowHandle) -> None:
        result = await _step(handle, "accept_deliverable", LEAD, deliverable_id="d1")
        assert result.state == "review"
        await _step(handle, "peer_review", PARTNER, **PEER)
        await env.sleep(timedelta(days=31))  # reminders on days 7, 14, 21, 28; closed on 30

    result, acts = await _run(env, CaseStart(facts=facts, requested_by=LEAD), steps)
    assert result.state == "closed" and result.outcome == "completed"  # one review came in
    assert acts.event_types.count("reminder_sent") == 4 and acts.event_types[-1] == "closed"
    reminded = {n.to for n in acts.notices if n.template == "reminder"}
    assert reminded == {"client", LEAD.hub_id}  # the partner has reviewed
    assert [link.action for link in acts.links] == ["review"]


async def test_case_opened_today_closes_once_every_review_is_in(env: WorkflowEnvironment) -> None:
    now = await env.get_current_time()
    facts = _in_review(deadlines={"review": (now + timedelta(days=30)).isoformat()})

    async def steps(handle: WorkflowHandle) -> None:
        assert (await _step(handle, "review", CLIENT_LINK, **SURVEY)).state == "review"
        assert (await _step(handle, "peer_review", PARTNER, **PEER)).state == "review"
        assert (await _step(handle, "peer_review", LEAD, **PEER)).state == "closed"

    result, acts = await _run(env, CaseStart(facts=facts, requested_by=LEAD), steps)
    assert result.quality_review and result.survey is not None and len(result.hub_reviews) == 2
    assert acts.event_types[-4:] == ["reviewed", "peer_reviewed", "peer_reviewed", "closed"]


async def test_case_opened_before_the_patch_closes_on_one_rating(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = await env.get_current_time()
    facts = _in_review(deadlines={"review": (now + timedelta(days=30)).isoformat()})
    real_patched = workflow.patched
    monkeypatch.setattr(
        workflow, "patched", lambda pid: False if pid == QUALITY_REVIEW else real_patched(pid)
    )
    acts, queue = StandIns(), f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=acts.all,
        workflow_runner=UnsandboxedWorkflowRunner(),  # so the monkeypatched patched() runs
    ):
        handle = await _start(env.client, CaseStart(facts=facts, requested_by=LEAD), queue)
        result = await _step(handle, "review", CLIENT_LINK, rating=5)
        final = await handle.result()
    assert result.state == "closed" and not final.quality_review and final.review is not None
    history = await handle.fetch_history()
    assert all(QUALITY_REVIEW.encode() not in e.SerializeToString() for e in history.events)
