"""Deadline timers of the case workflow under the time-skipping test server.

Days of deadlines pass in well under a second of test time. The activities are stand-ins
registered under the real names (workflow logic only; the end-to-end tests run the real ones).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.payloads import (
    ExecutedCopy,
    ExecuteInput,
    LinkInput,
    LinkResult,
    LinkSpec,
    NotifyInput,
    ProjectInput,
    ProjectResult,
    QueueWebhooksInput,
    QueueWebhooksResult,
    RecordInput,
    RenderInput,
)
from base.engine import find_binary
from base.search import SEARCH_ATTRIBUTES
from domain.cases import (
    ActionRequest,
    ActionResult,
    Caller,
    Candidate,
    CaseFacts,
    CaseStart,
    ClientInfo,
    Deliverable,
    Draft,
    Invitation,
    Role,
)
from domain.outcomes import Notice
from domain.steps import is_overdue
from tests.factories import make_facts
from worker import sandbox_runner
from workflows import WORKFLOWS

LEAD = Caller(principal_id="p-lead", role=Role.hub_member, hub_id="tagus-ai")
PARTNER = Caller(principal_id="p-partner", role=Role.hub_member, hub_id="po-valley-ai")


class StandIns:
    """Activities by name that remember what the workflow asked of them."""

    def __init__(self) -> None:
        self.records: list[RecordInput] = []
        self.links: list[LinkInput | LinkSpec] = []
        self.notices: list[Notice] = []
        self.published: list[str] = []
        self.executed: list[ExecuteInput] = []
        self.pdfs: list[str] = []  # executed copies whose PDF the outbox is to make

    @activity.defn(name="record_case")
    async def record_case(self, data: RecordInput) -> None:
        self.records.append(data)

    @activity.defn(name="project_step")
    async def project_step(self, data: ProjectInput) -> ProjectResult:
        """The one projection of a step (patch ``one-projection``): records, links, notices."""
        self.records.append(
            RecordInput(facts=data.facts, events=data.events, signature=data.signature)
        )
        self.links.extend(data.links)
        self.notices.extend(data.notices)
        self.pdfs.extend(data.pdf_document_ids)
        return ProjectResult(messages=len(data.notices) + len(data.links))

    @activity.defn(name="render_agreement")
    async def render_agreement(self, data: RenderInput) -> Draft:
        return Draft(
            version=data.version,
            document_id=f"{data.facts.case_id}-v{data.version}",
            sha256=f"{data.version:064x}",
            template="specific_collaboration_agreement",
            template_version="1",
        )

    @activity.defn(name="issue_link")
    async def issue_link(self, data: LinkInput) -> LinkResult:
        self.links.append(data)
        return LinkResult(token_hash_prefix="x", delivered_to="outbox")

    @activity.defn(name="notify")
    async def notify(self, data: NotifyInput) -> int:
        self.notices.extend(data.notices)
        return len(data.notices)

    @activity.defn(name="rank_candidates")
    async def rank_candidates(self, facts: CaseFacts) -> list[Candidate]:
        return [Candidate(hub_id="fjord-ai", score=3.0, reasons=["offers testing"])]

    @activity.defn(name="publish_service")
    async def publish_service(self, facts: CaseFacts) -> None:
        self.published.append(facts.case_id)

    @activity.defn(name="queue_webhooks")
    async def queue_webhooks(self, data: QueueWebhooksInput) -> QueueWebhooksResult:
        return QueueWebhooksResult(queued=0, started=0)

    @activity.defn(name="produce_executed_agreement")
    async def produce_executed_agreement(self, data: ExecuteInput) -> ExecutedCopy:
        self.executed.append(data)
        version = data.facts.draft.version if data.facts.draft else 0
        return ExecutedCopy(
            version=version,
            document_id=f"{data.facts.case_id}-v{version}-executed",
            sha256="e" * 64,
            certificate_id=f"{data.facts.case_id}-v{version}-certificate",
            certificate_sha256="c" * 64,
            pdf_skipped="stand-in",
        )

    @property
    def all(self) -> list:  # type: ignore[type-arg]
        return [
            self.project_step,
            self.record_case,
            self.render_agreement,
            self.issue_link,
            self.notify,
            self.rank_candidates,
            self.publish_service,
            self.queue_webhooks,
            self.produce_executed_agreement,
        ]

    @property
    def event_types(self) -> list[str]:
        return [e.type for r in self.records for e in r.events]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    # the time-skipping server learns custom search attributes through the operator service
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={
                k.name: IndexedValueType.ValueType(k.indexed_value_type.value)
                for k in SEARCH_ATTRIBUTES
            },
        )
    )
    yield environment
    await environment.shutdown()


def _facts(**overrides: object) -> CaseFacts:
    base: dict[str, object] = dict(
        case_id=f"t-{uuid.uuid4().hex[:8]}",
        lead_hub_id="tagus-ai",
        start_date="2026-01-01",
        end_date="2026-06-30",
        created_at=datetime.now(UTC).isoformat(),
    )
    return make_facts(**(base | overrides))


async def _start(client: Client, start: CaseStart, queue: str) -> WorkflowHandle:
    return await client.start_workflow(
        "CollaborationCase",
        start,
        id=f"case-{start.facts.case_id}",
        task_queue=queue,
        result_type=CaseFacts,
    )


async def _run(env: WorkflowEnvironment, start: CaseStart, steps) -> tuple[CaseFacts, StandIns]:  # type: ignore[no-untyped-def]
    acts = StandIns()
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=acts.all,
        workflow_runner=sandbox_runner(),
    ):
        handle = await _start(env.client, start, queue)
        try:
            await steps(handle)
            facts = await handle.result()
        except BaseException:
            # A case left running keeps timers due on a queue nobody polls, and the
            # time-skipping server does not skip time past them: every later test of the
            # module would wait in real time. End it so one failure stays one failure.
            with contextlib.suppress(RPCError):
                await handle.terminate(reason="test failed")
            raise
    return facts, acts


async def _facts_of(handle: WorkflowHandle) -> CaseFacts:
    """The case's facts; the test server's own query deadline may pass while the worker is
    still catching up on the events of a long skip (seen on a loaded machine), so ask again."""
    for _ in range(2):
        try:
            return await handle.query("facts", result_type=CaseFacts)
        except RPCError as exc:
            if exc.status != RPCStatusCode.DEADLINE_EXCEEDED:
                raise
    return await handle.query("facts", result_type=CaseFacts)


async def _step(handle: WorkflowHandle, name: str, caller: Caller, **body: object) -> ActionResult:
    return await handle.execute_update(
        name, ActionRequest(caller=caller, body=dict(body)), result_type=ActionResult
    )


async def test_partnering_deadline_without_answer_expires_the_case(
    env: WorkflowEnvironment,
) -> None:
    start = CaseStart(facts=_facts(), invited_hub_ids=["po-valley-ai"], requested_by=LEAD)

    async def steps(handle: WorkflowHandle) -> None:
        await env.sleep(timedelta(days=15))

    facts, acts = await _run(env, start, steps)
    assert facts.state == "expired"
    assert facts.invitations[0].status == "lapsed"
    assert acts.event_types[-1] == "expired"


async def test_partnering_deadline_with_a_partner_moves_on_to_legal_review(
    env: WorkflowEnvironment,
) -> None:
    start = CaseStart(
        facts=_facts(), invited_hub_ids=["po-valley-ai", "spree-trust"], requested_by=LEAD
    )

    async def steps(handle: WorkflowHandle) -> None:
        result = await _step(handle, "accept_invitation", PARTNER)
        assert result.state == "partnering"  # spree-trust has not answered yet
        await env.sleep(timedelta(days=15))
        facts = await _facts_of(handle)
        assert facts.state == "legal_review"
        assert [i.status for i in facts.invitations] == ["accepted", "lapsed"]
        await _step(handle, "cancel", LEAD, reason="test over")

    facts, acts = await _run(env, start, steps)
    assert "partnering_closed" in acts.event_types and "draft_rendered" in acts.event_types


async def test_review_window_closing_without_review_closes_as_no_review(
    env: WorkflowEnvironment,
) -> None:
    now = await env.get_current_time()
    facts = _facts(
        state="review",
        seq=1,
        deadlines={"review": (now + timedelta(days=30)).isoformat()},
    )
    start = CaseStart(facts=facts, requested_by=LEAD)

    async def steps(handle: WorkflowHandle) -> None:
        await env.sleep(timedelta(days=31))

    result, acts = await _run(env, start, steps)
    assert result.state == "closed" and result.outcome == "no_review"
    assert acts.event_types == ["closed"]


async def test_back_office_extends_the_partnering_deadline(env: WorkflowEnvironment) -> None:
    start = CaseStart(facts=_facts(), invited_hub_ids=["po-valley-ai"], requested_by=LEAD)
    office = Caller(principal_id="p-office", role=Role.back_office)

    async def steps(handle: WorkflowHandle) -> None:
        await _step(handle, "extend_deadline", office, deadline="partnering", days=10)
        await env.sleep(timedelta(days=15))
        facts = await _facts_of(handle)
        assert facts.state == "partnering"  # 14 + 10 days: not yet
        await env.sleep(timedelta(days=10))

    facts, _ = await _run(env, start, steps)
    assert facts.state == "expired"


def _signing_facts(now: datetime, **overrides: object) -> CaseFacts:
    """A joint-service case whose draft was just approved: three parties still to sign."""
    draft = Draft(
        version=1,
        document_id="d-v1",
        sha256="ab" * 32,
        template="specific_collaboration_agreement",
        template_version="1",
    )
    base: dict[str, object] = dict(
        state="signing",
        seq=5,
        draft=draft,
        invitations=[Invitation(hub_id="po-valley-ai", status="accepted")],
        reminder_days=2,
        signing_days=7,
        deadlines={
            "signing": (now + timedelta(days=7)).isoformat(),
            "signing_reminder": (now + timedelta(days=2)).isoformat(),
        },
    )
    return _facts(**(base | overrides))


async def test_signing_reminders_every_n_days_then_the_round_expires(
    env: WorkflowEnvironment,
) -> None:
    now = await env.get_current_time()
    start = CaseStart(facts=_signing_facts(now), requested_by=LEAD)

    async def steps(handle: WorkflowHandle) -> None:
        await env.sleep(timedelta(days=8))

    facts, acts = await _run(env, start, steps)
    assert facts.state == "expired"
    assert acts.event_types == ["reminder_sent", "reminder_sent", "reminder_sent", "expired"]
    reminded = [n.to for n in acts.notices if n.template == "reminder"]
    assert reminded == ["tagus-ai", "po-valley-ai", "client"] * 3  # days 2, 4 and 6
    client = [n for n in acts.notices if n.to == "client" and n.template == "reminder"]
    assert all(n.link_action == "sign" and n.link_purpose == "sign:v1:client" for n in client)


async def test_overdue_deliverable_is_flagged_and_reminded_until_accepted(
    env: WorkflowEnvironment,
) -> None:
    due = (await env.get_current_time() + timedelta(days=3)).date().isoformat()
    facts = _facts(
        state="delivery",
        seq=9,
        reminder_days=2,
        invitations=[Invitation(hub_id="po-valley-ai", status="accepted")],
        deliverables=[Deliverable(id="d1", hub_id="po-valley-ai", title="Model", due=due)],
        deadlines={"deliverable:d1": f"{due}T23:59:59+00:00"},
    )
    start = CaseStart(facts=facts, requested_by=LEAD)
    partner = Caller(principal_id="p-partner", role=Role.hub_member, hub_id="po-valley-ai")

    async def steps(handle: WorkflowHandle) -> None:
        await env.sleep(timedelta(days=7))  # due day + reminders two days apart
        facts = await _facts_of(handle)
        assert is_overdue(facts) and facts.deliverables[0].reminders >= 2
        await _step(handle, "submit_deliverable", partner, summary="late but done")
        await _step(handle, "accept_deliverable", LEAD, deliverable_id="d1")
        facts = await _facts_of(handle)
        assert not is_overdue(facts) and facts.state == "review"
        await _step(handle, "cancel", LEAD, reason="test over")

    _, acts = await _run(env, start, steps)
    assert acts.event_types.count("deliverable_overdue") >= 2
    assert {n.to for n in acts.notices if n.template == "reminder"} == {"po-valley-ai"}


async def test_long_case_continues_as_new_with_its_facts(env: WorkflowEnvironment) -> None:
    """Hundreds of reminders do not grow one history without end."""
    now = await env.get_current_time()
    start = CaseStart(
        facts=_signing_facts(now, signing_days=200, reminder_days=1),
        requested_by=LEAD,
        history_limit=60,
    )
    start.facts.deadlines["signing"] = (now + timedelta(days=200)).isoformat()
    start.facts.deadlines["signing_reminder"] = (now + timedelta(days=1)).isoformat()

    async def steps(handle: WorkflowHandle) -> None:
        await env.sleep(timedelta(days=30))
        facts = await _facts_of(handle)
        assert facts.state == "signing" and facts.seq >= 5 + 25
        latest = await env.client.get_workflow_handle(handle.id).describe()
        assert latest.run_id != handle.first_execution_run_id  # continued as new
        await _step(handle, "cancel", LEAD, reason="test over")

    facts, acts = await _run(env, start, steps)
    assert facts.state == "cancelled"
    events = [e for r in acts.records for e in r.events]
    assert [e.seq for e in events] == list(range(6, 6 + len(events)))  # one unbroken chain


async def test_unanswered_invitation_lapses_and_the_lead_may_invite_others(
    env: WorkflowEnvironment,
) -> None:
    start = CaseStart(
        facts=_facts(invitation_days=3), invited_hub_ids=["po-valley-ai"], requested_by=LEAD
    )

    async def steps(handle: WorkflowHandle) -> None:
        await env.sleep(timedelta(days=4))
        facts = await _facts_of(handle)
        assert facts.state == "partnering" and facts.invitations[0].status == "lapsed"
        result = await _step(handle, "invite_partners", LEAD, hub_ids=["spree-trust"])
        assert result.state == "partnering"
        await _step(handle, "cancel", LEAD, reason="test over")

    _, acts = await _run(env, start, steps)
    assert "invitation_lapsed" in acts.event_types
    lapsed = [n for n in acts.notices if n.template == "deadline"]
    assert [n.to for n in lapsed] == ["tagus-ai"]
    assert {n.to for n in acts.notices if n.template == "invitation"} == {
        "po-valley-ai",
        "spree-trust",
    }


async def test_matchmaking_introductions_without_answers_expire_the_case(
    env: WorkflowEnvironment,
) -> None:
    player = ClientInfo(name="Start-up", country="PT", email="s@startup.example")
    start = CaseStart(
        facts=_facts(scenario="matchmaking", client=None, local_player=player, invitation_days=5),
        requested_by=LEAD,
    )

    async def steps(handle: WorkflowHandle) -> None:
        opened = await handle.execute_update("open_case", result_type=ActionResult)
        assert opened.state == "matching"
        facts = await _facts_of(handle)
        assert facts.candidates[0].hub_id == "fjord-ai"
        await _step(handle, "select_candidates", LEAD, hub_ids=["fjord-ai"])
        await env.sleep(timedelta(days=6))

    facts, acts = await _run(env, start, steps)
    assert facts.state == "expired"
    assert facts.introductions[0].hub_consent == "declined"
    assert [link.action for link in acts.links] == ["consent"]
    assert acts.event_types[-2:] == ["introductions_settled", "expired"]
