"""CollaborationCaseWorkflow: one durable workflow per case (workflow id ``case-<id>``).

Updates
    ``open_case``      records the request (sent with the start: update-with-start), so the
                       API answers 201 only once the case is in the store.
    one per action     every action of ``domain.actions`` is an update of the same snake_case
                       name (``accept_invitation``, ``sign``, ...), handled by one dynamic
                       handler whose validator asks the lifecycle and the permission rules.
    ``attach_executed_copy``  records the executed copy signed elsewhere (stored by the API)
                       as an ``executed_copy_attached`` event; the case stays where it is.
Queries
    ``facts``          the case as the workflow holds it (diagnostics; reads use the store).
Timers
    every entry of ``facts.deadlines`` (partnering deadline, review window): a
    ``wait_condition`` against the earliest one; when it passes, ``domain.steps.on_deadline``.

What a step does is decided in ``domain.steps`` (an ``Outcome``: events, effects, notices); the
workflow carries each ``Effect`` out with the activity that does it (dispatch by ``match`` in
``_carry_out``; activities called by reference, their payloads in ``activities.payloads``):

=================================  ===============================  ===========================
state the step reaches             effect                           activity
=================================  ===============================  ===========================
matching (the case opens)          ``RankCandidates``               ``rank_candidates``
requested/partnering (a joint      ``RankCandidates`` (suggested    ``rank_candidates``
service opens)                     partners; patch below)
drafting (partnering closed,       ``RenderDraft``, then            ``render_agreement``
draft revised, NDA requested)      ``draft_ready``: legal_review
signing (draft approved)           ``IssueLink(sign, party)``       ``project_step`` (its token
introducing (candidates selected)  ``IssueLink(consent,             and its mail in the step's
                                   local_player, hub)``             projection)
review (delivery done, outcome     ``IssueLink(review, party)``
recorded)
delivery, development, follow_up   ``ExecuteAgreement``             ``produce_executed_agreement``
(the last signature)                                                (run loop, off the lock)
closed (co-development, pilot      ``PublishService``               ``publish_service``
succeeded)
the same state (``nudge``)         ``IssueLink(..., again=True)``   ``project_step`` (the same
                                                                    link, mailed again)
any (every step)                   its events, notices, webhooks    ``project_step``
=================================  ===============================  ===========================

Every accepted step is projected by ONE activity, ``project_step`` (patch
``one-projection``): the case row, its timeline events, a signature, link tokens, and the
outbox rows of its mail and webhook deliveries, in one store transaction, before the update
returns; the outbox dispatcher sends them after commit. Search attributes are upserted only
when the state or the overdue flag changes. After the last signature the executed copy is made
by the run loop without the case's lock (later steps go on meanwhile), from the case as signed,
then its event is chained and projected under the lock with its PDF queued for the outbox's
converters.

Cases started before that patch keep their path for the whole run: ``record_case``, then
``queue_webhooks`` (patch ``webhooks``), ``notify`` and ``issue_link`` per step; the executed
copy (patch ``executed-agreement``) made by the run loop once the step has returned (patch
``executed-after-step``), later steps queueing behind it on the case's lock.
A joint service opened since patch ``joint-service-suggestions`` ranks suggested partners
with the same effect and activity as the matchmaking start (no lifecycle step; kept in
``facts.candidates``); one opened before it has none.
Versioning: guard control-flow changes with ``workflow.patched("<id>")`` and keep the saved
histories under ``tests/workflows/histories`` replaying (see README).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.documents import DocumentActivities
    from activities.executed import ExecutedActivities
    from activities.messages import MessageActivities
    from activities.payloads import (
        ExecutedCopy,
        ExecuteInput,
        LinkInput,
        LinkSpec,
        NotifyInput,
        ProjectInput,
        QueueWebhooksInput,
        RecordInput,
        RenderInput,
        SignatureInput,
    )
    from activities.projection import ProjectionActivities
    from activities.records import RecordActivities
    from activities.webhooks import WebhookActivities
    from base.search import SA_OVERDUE, SA_STATE
    from domain.actions import Sign, check_action, check_external_copy, repeated_signature
    from domain.cases import (
        SYSTEM,
        ActionRequest,
        ActionResult,
        AttachCopyRequest,
        Caller,
        CaseFacts,
        CaseStart,
        Role,
        Scenario,
    )
    from domain.errors import ActionRefused
    from domain.lifecycle import fire
    from domain.outcomes import (
        ExecuteAgreement,
        IssueLink,
        Notice,
        Outcome,
        PublishService,
        RankCandidates,
        RenderDraft,
        link_purpose,
    )
    from domain.steps import apply_action, attach_external_copy, is_overdue, on_deadline
    from domain.timeline import TimelineEvent, chain_event


# Retry policies by purpose (today with the same spacing: 1 s, doubling, at most 30 s apart,
# no attempt limit — each activity is idempotent and a case waits rather than fail a step).
STORE_RETRY = RetryPolicy(  # the read model, rankings, catalogues, webhook queueing
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
DOCUMENT_RETRY = RetryPolicy(  # rendering drafts and the executed copy
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
MESSAGE_RETRY = RetryPolicy(  # links and notices (each keyed, so sent once)
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Producing the executed copy may convert it to PDF with LibreOffice (bounded at 60 s inside);
# it heartbeats while LibreOffice works, so a lost worker is noticed in seconds, not minutes.
EXECUTE_TIMEOUT = timedelta(seconds=120)
EXECUTE_HEARTBEAT = timedelta(seconds=10)
# Patch: a step's effects, then ONE projection (``project_step``, an activity) in place of
# record_case + queue_webhooks + notify (+ issue_link); search attributes upserted only when one
# changes; the executed copy made off the case's lock, its PDF left to the outbox.
ONE_PROJECTION = "one-projection"
# Patch: cases opened from now end with the quality review (``domain.steps``: a survey by the
# client or local player, peer reviews between the party hubs, review reminders); the facts
# carry the flag, so the case keeps its path across continue-as-new and replays.
QUALITY_REVIEW = "quality-review"
# Patch: a joint service opens with suggested partners, ranked by the matchmaking start's own
# ``RankCandidates`` effect (``rank_candidates``, ``domain.matching``) and kept in
# ``facts.candidates``; advice only (no lifecycle step, no event of its own: the opening
# step's projection stores them). Cases opened before it open without.
JOINT_SERVICE_SUGGESTIONS = "joint-service-suggestions"


def _refusal(exc: ActionRefused) -> ApplicationError:
    return ApplicationError(exc.detail, exc.to_dict(), type="ActionRefused", non_retryable=True)


def _step_failed(detail: str) -> ApplicationError:
    """A step that cannot be carried out: the update fails (the case stays as it was) instead
    of the workflow task retrying for ever, as an ``assert`` or any other exception would."""
    return ApplicationError(detail, type="StepFailed", non_retryable=True)


def _copy_data(copy: ExecutedCopy, chain: int) -> dict[str, object]:
    """The ``executed_copy_produced`` event's data: the copy by id and hashes, and from chain
    version 2 the certificate too (older cases' events stay as they were)."""
    data: dict[str, object] = {
        "document_id": copy.document_id,
        "sha256": copy.sha256,
        "pdf_sha256": copy.pdf_sha256,
    }
    if chain >= 2:
        data["certificate_id"] = copy.certificate_id
        data["certificate_sha256"] = copy.certificate_sha256
    return data


@workflow.defn(name="CollaborationCase")
class CollaborationCaseWorkflow:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self.start = start
        self.facts: CaseFacts = start.facts
        self.lock = asyncio.Lock()
        self.steps = 0
        self.execute_at: str | None = None  # the executed copy is due (the event's time)
        self.execute_facts: CaseFacts | None = None  # the case as signed (one-projection path)
        given = workflow.info().typed_search_attributes  # as the start (or last run) set them
        # search attributes as last set: upserted again only when one changes
        self.upserted: tuple[str | None, bool | None] = (given.get(SA_STATE), given.get(SA_OVERDUE))

    # -- run: open the case, then sleep until a step or the earliest deadline ---------------
    @workflow.run
    async def run(self, start: CaseStart) -> CaseFacts:
        async with self.lock:
            await self._open()
        while self.facts.is_open:
            seen = self.steps
            timeout = self._until_next_deadline()
            try:
                await workflow.wait_condition(partial(self._stepped_since, seen), timeout=timeout)
            except TimeoutError:
                async with self.lock:
                    await self._fire_due_deadlines()
            await self._execute_when_due()
            if workflow.info().is_continue_as_new_suggested() or (
                workflow.info().get_current_history_length() > self.start.history_limit
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    self.start.model_copy(update={"facts": self.facts, "invited_hub_ids": []})
                )
        await self._execute_when_due()  # the case may have ended right after the last signature
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.facts

    def _stepped_since(self, seen: int) -> bool:
        return self.steps != seen or self.execute_at is not None

    async def _execute_when_due(self) -> None:
        if self.execute_at is None:
            return
        if self.execute_facts is not None:  # one-projection: the next step does not wait
            await self._execute_off_lock()
            return
        async with self.lock:
            executed_at, self.execute_at = self.execute_at, None
            work = self.facts.model_copy(deep=True)
            await self._execute_agreement(work, executed_at)
            self.facts = self.start.facts = work

    def _until_next_deadline(self) -> timedelta | None:
        if not self.facts.deadlines:
            return None
        earliest = min(datetime.fromisoformat(d) for d in self.facts.deadlines.values())
        return max(earliest - workflow.now(), timedelta(seconds=1))

    async def _fire_due_deadlines(self) -> None:
        now = workflow.now()
        for name, at in sorted(self.facts.deadlines.items(), key=lambda kv: kv[1]):
            if datetime.fromisoformat(at) <= now and self.facts.is_open:
                work = self.facts.model_copy(deep=True)
                await self._carry_out(work, on_deadline(work, name, now), None)

    # -- opening ----------------------------------------------------------------------------
    @workflow.update(name="open_case")
    async def open_case(self) -> ActionResult:
        async with self.lock:
            await self._open()
        return self._result()

    async def _open(self) -> None:
        if self.facts.seq > 0:
            return
        work = self.facts.model_copy(deep=True)
        # Patch: the quality review (survey, peer reviews, reminders) for cases opened from now.
        work.quality_review = workflow.patched(QUALITY_REVIEW)
        out = Outcome()
        out.event(
            "case_requested",
            self.start.requested_by.actor,
            scenario=work.scenario.value,
            lead_hub_id=work.lead_hub_id,
        )
        if self.start.invited_hub_ids:
            # The request's invitations are the lead's, whoever filed it (a hub or the back
            # office): checked as the lead hub, recorded under the requester.
            as_lead = Caller(
                principal_id=self.start.requested_by.principal_id,
                role=Role.hub_member,
                hub_id=work.lead_hub_id,
            )
            try:
                payload = check_action(
                    work, "invite_partners", as_lead, {"hub_ids": self.start.invited_hub_ids}
                )
            except ActionRefused as exc:
                raise _refusal(exc) from None
            more = apply_action(
                work, "invite_partners", self.start.requested_by, payload, workflow.now()
            )
            out.events.extend(more.events)
            out.notices.extend(more.notices)
        if work.scenario == Scenario.matchmaking or (
            work.scenario == Scenario.joint_service and workflow.patched(JOINT_SERVICE_SUGGESTIONS)
        ):
            out.effects.append(RankCandidates())
        await self._carry_out(work, out, None)

    # -- human steps ------------------------------------------------------------------------
    @workflow.update(dynamic=True)
    async def action(self, name: str, args: Sequence[RawValue]) -> ActionResult:
        request = self._decode(args)
        async with self.lock:
            await self._open()  # a step may arrive in the same activation as the start
            if self._repeated_signature(name, request):
                return self._result(changed=False)
            # Work on a copy: a step that fails half-way leaves the case as it was.
            work = self.facts.model_copy(deep=True)
            try:  # re-check inside the lock: another step may have run since the validator
                payload = check_action(work, name, request.caller, request.body)
                out = apply_action(work, name, request.caller, payload, workflow.now())
            except ActionRefused as exc:
                raise _refusal(exc) from None
            except Exception as exc:  # never let a handler wedge the workflow (TEMPORAL.md)
                workflow.logger.exception("step %s failed", name)
                raise _step_failed(f"{name} could not be applied") from exc
            signature = None
            if isinstance(payload, Sign) and work.draft is not None:
                signature = SignatureInput(
                    party=out.events[0].data["party"],
                    document_id=work.draft.document_id,
                    document_sha256=payload.document_sha256,
                    principal_id=request.caller.principal_id,
                    signer_name=payload.signer_name,
                    ip=request.ip,
                    user_agent=request.user_agent,
                    signed_at=workflow.now().isoformat(),
                )
            await self._carry_out(work, out, signature)
        return self._result()

    @action.validator
    def validate_action(self, name: str, args: Sequence[RawValue]) -> None:
        request = self._decode(args)
        if self.facts.seq == 0 or self._repeated_signature(name, request):
            return  # not opened yet: the handler opens the case, then checks inside the lock
        try:
            check_action(self.facts, name, request.caller, request.body)
        except ActionRefused as exc:
            raise _refusal(exc) from None

    # -- the executed copy signed elsewhere: a document, recorded on the timeline -------------
    @workflow.update(name="attach_executed_copy")
    async def attach_executed_copy(self, request: AttachCopyRequest) -> ActionResult:
        async with self.lock:
            work = self.facts.model_copy(deep=True)
            try:  # re-check inside the lock, as for a step
                if not check_external_copy(work, request.caller, request.sha256):
                    return self._result(changed=False)  # this copy is recorded already
            except ActionRefused as exc:
                raise _refusal(exc) from None
            out = attach_external_copy(work, request.caller, request.document_id, request.sha256)
            await self._carry_out(work, out, None)
        return self._result()

    @attach_executed_copy.validator
    def validate_attach_executed_copy(self, request: AttachCopyRequest) -> None:
        try:
            check_external_copy(self.facts, request.caller, request.sha256)
        except ActionRefused as exc:
            raise _refusal(exc) from None

    @workflow.query(name="facts")
    def query_facts(self) -> CaseFacts:
        return self.facts

    def _decode(self, args: Sequence[RawValue]) -> ActionRequest:
        if len(args) != 1:
            raise ApplicationError("an action takes one ActionRequest", non_retryable=True)
        value = workflow.payload_converter().from_payload(args[0].payload, ActionRequest)
        return value  # type: ignore[no-any-return]

    def _repeated_signature(self, name: str, request: ActionRequest) -> bool:
        return repeated_signature(self.facts, name, request.caller, request.body)

    # -- carrying out an outcome: effects through activities, then one projection -----------
    async def _carry_out(
        self, work: CaseFacts, out: Outcome, signature: SignatureInput | None
    ) -> None:
        """Run the effects, chain and record the events, then make ``work`` the case."""
        one = workflow.patched(ONE_PROJECTION)
        links: list[LinkSpec] = []
        for effect in out.effects:
            match effect:
                case RenderDraft():
                    await self._render_draft(work, out)
                case IssueLink() if one:
                    links.append(self._link(work, effect))  # written by the projection
                case IssueLink():
                    await self._issue_link(work, effect)
                case RankCandidates():
                    await self._rank_candidates(work, out)
                case PublishService():
                    await self._publish_service(work, out)
                case ExecuteAgreement():
                    pass  # once the step is recorded, below
        events: list[TimelineEvent] = []
        at = workflow.now().isoformat()
        for step_event in out.events:
            event = chain_event(
                work.seq,
                work.head_hash,
                step_event.type,
                step_event.actor,
                at,
                step_event.data,
                work.chain_key,
            )
            work.seq, work.head_hash = event.seq, event.hash
            events.append(event)
        if one:
            await self._project(work, events, signature, links, out.notices)
            if any(isinstance(e, ExecuteAgreement) for e in out.effects):
                self.execute_at = at  # made by the run loop, off the lock
                self.execute_facts = work.model_copy(deep=True)
            self.facts = self.start.facts = work
            self._upsert_changed_search_attributes(work)
            self.steps += 1
            return
        await workflow.execute_activity_method(
            RecordActivities.record_case,
            RecordInput(facts=work, events=events, signature=signature),
            start_to_close_timeout=self._timeout,
            retry_policy=STORE_RETRY,
        )
        if workflow.patched("webhooks") and events:
            await self._queue_webhooks(work, events)
        executes = any(isinstance(e, ExecuteAgreement) for e in out.effects)
        if executes and workflow.patched("executed-agreement"):
            # after the step is recorded: the last signature is in the store, and the
            # timeline head is the agreement_executed event
            if workflow.patched("executed-after-step"):
                self.execute_at = at  # made by the run loop once this step has returned
            else:
                await self._execute_agreement(work, at)
        self.facts = self.start.facts = work  # the start's own copy would stay in memory
        workflow.upsert_search_attributes(
            [SA_STATE.value_set(work.state), SA_OVERDUE.value_set(is_overdue(work))]
        )
        self.steps += 1
        await self._send_notices(work, out.notices)

    async def _project(
        self,
        work: CaseFacts,
        events: list[TimelineEvent],
        signature: SignatureInput | None = None,
        links: Sequence[LinkSpec] = (),
        notices: Sequence[Notice] = (),
        pdf_document_ids: Sequence[str] = (),
    ) -> None:
        """The step's one projection: case row, events, signature, links and the outbox (the
        mail, the webhook deliveries to the concerned hubs' subscriptions, PDFs to make), in
        one store transaction. A regular activity, not a local one: measured, a local one
        saves the engine about 70 ms of CPU per case, but a step whose worker dies after the
        projection committed then waits on workflow-task timeouts and sticky queues to be
        taken up again (a fault test did not recover within 50 s), where an activity is
        retried by any worker after its own timeout (bench/RESULTS.md)."""
        concerned = [
            work.lead_hub_id,
            *(i.hub_id for i in work.invitations),
            *(i.hub_id for i in work.introductions),
        ]
        await workflow.execute_activity_method(
            ProjectionActivities.project_step,
            ProjectInput(
                facts=work,
                events=events,
                signature=signature,
                links=list(links),
                notices=list(notices),
                hub_ids=list(dict.fromkeys(concerned)),
                pdf_document_ids=list(pdf_document_ids),
            ),
            start_to_close_timeout=self._timeout,
            retry_policy=STORE_RETRY,
        )

    def _upsert_changed_search_attributes(self, work: CaseFacts) -> None:
        values = (work.state, is_overdue(work))
        if values != self.upserted:
            workflow.upsert_search_attributes(
                [SA_STATE.value_set(values[0]), SA_OVERDUE.value_set(values[1])]
            )
            self.upserted = values

    def _link(self, f: CaseFacts, link: IssueLink) -> LinkSpec:
        """The link the projection stores and mails (its token derived from the purpose)."""
        if f.external(link.party) is None:  # no such party: refuse the step, never wedge
            raise _step_failed(f"case {f.case_id} has no {link.party} to send a link to")
        version = f.draft.version if f.draft else 0
        return LinkSpec(
            action=link.action,
            party=link.party,
            subject=link.subject,
            purpose=link_purpose(link.action, link.party, version, link.subject),
            expires_at=(workflow.now() + timedelta(days=f.link_days)).isoformat(),
            again=link.again,
            note=link.note,
        )

    async def _execute_off_lock(self) -> None:
        """The executed copy from the case as signed, while later steps go on; then, under
        the lock, one event naming it, projected with its PDF queued for the converters."""
        assert self.execute_at is not None and self.execute_facts is not None
        signed, executed_at = self.execute_facts, self.execute_at
        version = signed.draft.version if signed.draft else 0
        try:
            copy = await workflow.execute_activity_method(
                ExecutedActivities.produce_executed_agreement,
                ExecuteInput(facts=signed, executed_at=executed_at, pdf=False),
                start_to_close_timeout=max(self._timeout, EXECUTE_TIMEOUT),
                heartbeat_timeout=EXECUTE_HEARTBEAT,
                retry_policy=DOCUMENT_RETRY,
            )
            type_: str = "executed_copy_produced"
            data = _copy_data(copy, signed.chain)
            pdfs = [copy.document_id] if copy.pdf_sha256 is None else []
        except ActivityError:  # only a non-retryable failure: never wedge the case on it
            workflow.logger.exception("the executed copy of version %s failed", version)
            type_, data, pdfs = "executed_copy_failed", {"version": version}, []
        async with self.lock:
            self.execute_at = self.execute_facts = None
            work = self.facts.model_copy(deep=True)
            event = chain_event(
                work.seq,
                work.head_hash,
                type_,
                SYSTEM,
                workflow.now().isoformat(),
                data,
                work.chain_key,
            )
            work.seq, work.head_hash = event.seq, event.hash
            await self._project(work, [event], pdf_document_ids=pdfs)
            self.facts = self.start.facts = work

    async def _execute_agreement(self, work: CaseFacts, executed_at: str) -> None:
        """The executed copy (signed version + signature certificate, .docx and PDF), then
        one more event naming it by id and hash, recorded like any step's."""
        version = work.draft.version if work.draft else 0
        try:
            copy = await workflow.execute_activity_method(
                ExecutedActivities.produce_executed_agreement,
                ExecuteInput(facts=work, executed_at=executed_at),
                start_to_close_timeout=max(self._timeout, EXECUTE_TIMEOUT),
                heartbeat_timeout=EXECUTE_HEARTBEAT,
                retry_policy=DOCUMENT_RETRY,
            )
            type_: str = "executed_copy_produced"
            data = _copy_data(copy, work.chain)
        except ActivityError:  # only a non-retryable failure: never wedge the case on it
            workflow.logger.exception("the executed copy of version %s failed", version)
            type_, data = "executed_copy_failed", {"version": version}
        event = chain_event(
            work.seq,
            work.head_hash,
            type_,
            SYSTEM,
            workflow.now().isoformat(),
            data,
            work.chain_key,
        )
        work.seq, work.head_hash = event.seq, event.hash
        await workflow.execute_activity_method(
            RecordActivities.record_case,
            RecordInput(facts=work, events=[event]),
            start_to_close_timeout=self._timeout,
            retry_policy=STORE_RETRY,
        )
        if workflow.patched("webhooks"):
            await self._queue_webhooks(work, [event])

    async def _queue_webhooks(self, work: CaseFacts, events: list[TimelineEvent]) -> None:
        """Hand the recorded events to the subscribed hubs' webhooks. Only queues: each
        delivery runs in its own workflow, so a receiver that is down never slows the case."""
        concerned = [
            work.lead_hub_id,
            *(i.hub_id for i in work.invitations),
            *(i.hub_id for i in work.introductions),
        ]
        await workflow.execute_activity_method(
            WebhookActivities.queue_webhooks,
            QueueWebhooksInput(
                case_id=work.case_id, events=events, hub_ids=list(dict.fromkeys(concerned))
            ),
            start_to_close_timeout=self._timeout,
            retry_policy=STORE_RETRY,
        )

    async def _render_draft(self, work: CaseFacts, out: Outcome) -> None:
        version = work.draft.version + 1 if work.draft else 1
        draft = await workflow.execute_activity_method(
            DocumentActivities.render_agreement,
            RenderInput(facts=work, version=version, issued_on=workflow.now().isoformat()),
            start_to_close_timeout=self._timeout,
            retry_policy=DOCUMENT_RETRY,
        )
        work.draft = draft
        work.signatures = {}  # signatures over an earlier version are void
        work.changes_requested = ""
        fire(work, "draft_ready")
        out.event(
            "draft_rendered",
            SYSTEM,
            version=version,
            document_id=draft.document_id,
            sha256=draft.sha256,
        )

    async def _issue_link(self, f: CaseFacts, link: IssueLink) -> None:
        """One-time link for an external party, e.g. ``IssueLink("sign", "client")`` or
        ``IssueLink("consent", "local_player", "fjord-ai")`` (consent to one introduction)."""
        version = f.draft.version if f.draft else 0
        who = f.external(link.party)
        if who is None:  # the case has no such party: refuse the step, never wedge the case
            raise _step_failed(f"case {f.case_id} has no {link.party} to send a link to")
        await workflow.execute_activity_method(
            MessageActivities.issue_link,
            LinkInput(
                case_id=f.case_id,
                action=link.action,
                party=link.party,
                subject=link.subject,
                purpose=link_purpose(link.action, link.party, version, link.subject),
                expires_at=(workflow.now() + timedelta(days=f.link_days)).isoformat(),
                title=f.title,
                recipient_name=who.contact_name or who.name,
                recipient_email=who.email,
                document_id=f.draft.document_id if f.draft else None,
                again_key=f"nudge:{f.seq}" if link.again else None,
                note=link.note,
            ),
            start_to_close_timeout=self._timeout,
            retry_policy=MESSAGE_RETRY,
        )

    async def _rank_candidates(self, work: CaseFacts, out: Outcome) -> None:
        work.candidates = await workflow.execute_activity_method(
            RecordActivities.rank_candidates,
            work,
            start_to_close_timeout=self._timeout,
            retry_policy=STORE_RETRY,
        )
        if work.scenario != Scenario.matchmaking:
            return  # a joint service's suggested partners: advice, the case stays where it is
        fire(work, "candidates_ranked")
        out.event(
            "candidates_ranked",
            SYSTEM,
            ranking=[{"hub_id": c.hub_id, "score": c.score} for c in work.candidates],
        )

    async def _publish_service(self, work: CaseFacts, out: Outcome) -> None:
        await workflow.execute_activity_method(
            RecordActivities.publish_service,
            work,
            start_to_close_timeout=self._timeout,
            retry_policy=STORE_RETRY,
        )
        out.event("service_published", SYSTEM, hub_ids=work.party_hub_ids)

    async def _send_notices(self, work: CaseFacts, notices: list[Notice]) -> None:
        if not notices:
            return
        await workflow.execute_activity_method(
            MessageActivities.notify,
            NotifyInput(
                case_id=work.case_id,
                title=work.title,
                state=work.state,
                key_prefix=f"{work.case_id}:{work.seq}",
                notices=notices,
                link_days=work.link_days,
            ),
            start_to_close_timeout=self._timeout,
            retry_policy=MESSAGE_RETRY,
        )

    @property
    def _timeout(self) -> timedelta:
        return timedelta(seconds=self.start.activity_timeout_seconds)

    def _result(self, changed: bool = True) -> ActionResult:
        return ActionResult(
            state=self.facts.state, outcome=self.facts.outcome, seq=self.facts.seq, changed=changed
        )
