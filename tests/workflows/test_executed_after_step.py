"""The executed copy is made after the last signature's step has returned, and later steps wait
for it: on the real dev server, with stand-in activities and an executed copy that takes as
long as the test wants."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.payloads import ExecutedCopy, ExecuteInput
from dihflow.engine import DevServer
from domain.cases import Caller, CaseFacts, CaseStart, Role
from tests.workflows.test_deadlines import LEAD, PARTNER, StandIns, _signing_facts, _start, _step
from worker import sandbox_runner
from workflows import WORKFLOWS

SHA = "ab" * 32
LEAD_SIGNATORY = Caller(principal_id="p-lead-sign", role=Role.hub_signatory, hub_id="tagus-ai")
PARTNER_SIGNATORY = Caller(
    principal_id="p-partner-sign", role=Role.hub_signatory, hub_id="po-valley-ai"
)
CLIENT_LINK = Caller(principal_id="link-1", role="link", party="client", link_action="sign")


class HeldExecution(StandIns):
    """``produce_executed_agreement`` starts, then waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name="produce_executed_agreement")
    async def produce_executed_agreement(self, data: ExecuteInput) -> ExecutedCopy:
        self.started.set()
        await self.release.wait()
        return await StandIns.produce_executed_agreement(self, data)


@pytest.fixture
async def client(dev_server: DevServer) -> AsyncIterator[Client]:
    yield await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


async def test_the_last_signature_returns_before_the_executed_copy_and_later_steps_wait(
    client: Client,
) -> None:
    acts = HeldExecution()
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    start = CaseStart(facts=_signing_facts(datetime.now(UTC)), requested_by=LEAD)
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=acts.all,
        workflow_runner=sandbox_runner(),
    ):
        handle = await _start(client, start, queue)
        await _step(handle, "sign", LEAD_SIGNATORY, document_sha256=SHA)
        await _step(handle, "sign", PARTNER_SIGNATORY, document_sha256=SHA)
        last = await asyncio.wait_for(  # without waiting for the executed copy
            _step(handle, "sign", CLIENT_LINK, document_sha256=SHA, signer_name="Ana"), 30
        )

        # the signer has its answer while the executed copy is still being made
        assert last.state == "delivery"
        await asyncio.wait_for(acts.started.wait(), 30)
        assert acts.event_types[-1] == "agreement_executed"

        # a step sent meanwhile is carried out after the copy, in the timeline's order
        submit = asyncio.create_task(
            _step(handle, "submit_deliverable", PARTNER, summary="Pilot model")
        )
        await asyncio.sleep(0.5)
        assert not submit.done()
        acts.release.set()
        submitted = await asyncio.wait_for(submit, 30)
        assert acts.event_types[-3:] == [
            "agreement_executed",
            "executed_copy_produced",
            "deliverable_submitted",
        ]
        assert submitted.seq == last.seq + 2
        await _step(handle, "cancel", LEAD, reason="test over")
        facts = await handle.result()
    assert isinstance(facts, CaseFacts) and facts.state == "cancelled"
    assert len(acts.executed) == 1
    assert acts.executed[0].facts.seq == last.seq  # made from the case as signed
