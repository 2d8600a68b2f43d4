"""The executed copy is made after the last signature's step has returned, and the next step
does not wait for it (patch ``one-projection``; the saved histories keep the older ways): on the
real dev server, with stand-in activities and an executed copy that takes as long as the test
wants."""

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
from base.engine import DevServer
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


async def test_the_executed_copy_holds_neither_the_last_signature_nor_the_next_step(
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

        # a step sent meanwhile does not wait for the copy
        submitted = await asyncio.wait_for(
            _step(handle, "submit_deliverable", PARTNER, summary="Pilot model"), 30
        )
        assert submitted.seq == last.seq + 1
        assert acts.event_types[-2:] == ["agreement_executed", "deliverable_submitted"]
        acts.release.set()
        deadline = asyncio.get_running_loop().time() + 30
        while "executed_copy_produced" not in acts.event_types:
            assert asyncio.get_running_loop().time() < deadline, acts.event_types
            await asyncio.sleep(0.05)
        # recorded once made, chained after what happened meanwhile; its PDF left to the outbox
        produced = acts.records[-1]
        assert [e.type for e in produced.events] == ["executed_copy_produced"]
        assert produced.events[0].seq == last.seq + 2
        assert acts.pdfs == [f"{start.facts.case_id}-v1-executed"]
        await _step(handle, "cancel", LEAD, reason="test over")
        facts = await handle.result()
    assert isinstance(facts, CaseFacts) and facts.state == "cancelled"
    assert len(acts.executed) == 1
    assert acts.executed[0].pdf is False
    assert acts.executed[0].facts.seq == last.seq  # made from the case as signed
