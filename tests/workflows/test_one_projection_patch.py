"""A case started by a worker on the previous code path (before patch ``one-projection``)
finishes on a worker of today's code: it replays the old steps and keeps their path, while a
case started today takes one projection per step. On the real dev server, stand-in activities.

The previous code is today's workflow with ``workflow.patched("one-projection")`` answering
False without recording a marker: exactly what the code before the patch did (it never asked).
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

from activities.payloads import ProjectInput, ProjectResult, RecordInput
from base.engine import DevServer
from domain.cases import CaseFacts, CaseStart
from tests.workflows.test_deadlines import LEAD, PARTNER, StandIns, _signing_facts, _start, _step
from tests.workflows.test_executed_after_step import (
    CLIENT_LINK,
    LEAD_SIGNATORY,
    PARTNER_SIGNATORY,
    SHA,
)
from worker import sandbox_runner
from workflows import WORKFLOWS
from workflows.case import ONE_PROJECTION


class Counted(StandIns):
    """Stand-ins that count the calls of each projection path."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}

    @activity.defn(name="record_case")
    async def record_case(self, data: RecordInput) -> None:
        self.calls["record_case"] = self.calls.get("record_case", 0) + 1
        return await super().record_case(data)

    @activity.defn(name="project_step")
    async def project_step(self, data: ProjectInput) -> ProjectResult:
        self.calls["project_step"] = self.calls.get("project_step", 0) + 1
        return await super().project_step(data)


@pytest.fixture
async def client(dev_server: DevServer) -> AsyncIterator[Client]:
    yield await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


def _counted() -> tuple[Counted, list]:  # type: ignore[type-arg]
    acts = Counted()
    return acts, acts.all


async def test_a_case_started_on_the_previous_code_finishes_on_todays(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    start = CaseStart(facts=_signing_facts(datetime.now(UTC)), requested_by=LEAD)
    real_patched = workflow.patched

    def before_the_patch(patch_id: str) -> bool:
        return False if patch_id == ONE_PROJECTION else real_patched(patch_id)

    # the previous code: two signatures recorded by record_case, queue_webhooks and notify
    old, old_activities = _counted()
    monkeypatch.setattr(workflow, "patched", before_the_patch)
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=old_activities,
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_cached_workflows=0,
    ):
        handle = await _start(client, start, queue)
        await _step(handle, "sign", LEAD_SIGNATORY, document_sha256=SHA)
        await _step(handle, "sign", PARTNER_SIGNATORY, document_sha256=SHA)
    monkeypatch.undo()
    assert old.calls == {"record_case": 2}

    # today's code replays those steps and takes the rest on the same (old) path
    new, new_activities = _counted()
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=new_activities,
        workflow_runner=sandbox_runner(),
    ):
        last = await _step(handle, "sign", CLIENT_LINK, document_sha256=SHA, signer_name="Ana")
        assert last.state == "delivery"
        await _step(handle, "submit_deliverable", PARTNER, summary="Pilot model")
        await _step(handle, "cancel", LEAD, reason="test over")
        facts = await handle.result()
    assert isinstance(facts, CaseFacts) and facts.state == "cancelled"
    assert "project_step" not in new.calls and new.calls["record_case"] >= 3
    assert new.event_types[-1] == "cancelled" and len(new.executed) == 1
    history = await handle.fetch_history()
    # no marker of the patch: the case stayed on the path it started on
    assert all(ONE_PROJECTION.encode() not in e.SerializeToString() for e in history.events)


async def test_a_case_started_today_takes_one_projection_per_step(client: Client) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    start = CaseStart(facts=_signing_facts(datetime.now(UTC)), requested_by=LEAD)
    acts, activities = _counted()
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=sandbox_runner(),
    ):
        handle = await _start(client, start, queue)
        await _step(handle, "sign", LEAD_SIGNATORY, document_sha256=SHA)
        await _step(handle, "sign", PARTNER_SIGNATORY, document_sha256=SHA)
        await _step(handle, "cancel", LEAD, reason="test over")
        await handle.result()
    assert acts.calls == {"project_step": 3}
    history = await handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled == ["project_step"] * 3  # one activity per step
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    # three steps (signing, signing, cancelled): the first sets them, the third changes them
    assert sum("DihflowState" in fields for fields in upserts) == 2
