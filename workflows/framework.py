"""FrameworkAgreementWorkflow: one durable workflow per framework agreement edition
(workflow id ``framework-<edition id>``).

Updates
    ``open_edition``   sent with the start (update-with-start): the draft's clauses are taken
                       from the framework template, hashed and projected, so the API answers
                       201 once the edition is in the store.
    one per action     ``comment``, ``propose_amendment``, ``vote``, ``extend_deadline``,
                       ``decide_amendment``, ``publish_final``, ``sign``, ``give_notice``: one
                       dynamic handler whose validator asks ``domain.framework.check_request``
                       (the lifecycle, the deadline, membership, the final hash); a refusal
                       leaves no trace in history.
Queries
    ``edition``        the edition as the workflow holds it (diagnostics; reads use the store).
Timers
    the consultation deadline (``wait_condition`` against it; an extension moves it): the
    consultation closes; each withdrawal's effective date: the withdrawal takes effect.

Every accepted step is projected by ``project_framework`` (rows, the edition's hash-chained
events and, at entry into force, a notice to every hub and the webhook deliveries through the
outbox) before the update returns. History is bounded: the run continues as new, carrying the
edition, past ``history_limit`` events (or when the engine suggests it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.framework import (
        DraftInput,
        DraftResult,
        FinalInput,
        FinalResult,
        FrameworkActivities,
        FrameworkProjectInput,
    )
    from domain.framework import (
        DEFAULT_CONSULTATION_DAYS,
        DEFAULT_NOTICE_DAYS,
        DEFAULT_QUORUM,
        SYSTEM,
        Edition,
        FrameworkRefused,
        FrameworkRequest,
        FrameworkResult,
        Step,
        apply_request,
        check_request,
        close_consultation,
        open_edition,
        publish_final,
        repeat_data,
        withdrawals_take_effect,
    )

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
ACTIVITY_TIMEOUT = timedelta(seconds=60)
HISTORY_LIMIT = 2000  # events before the run continues as new


class FrameworkStart(BaseModel):
    """How an edition starts (and, with ``edition`` set, how a continued run resumes)."""

    edition_id: str
    label: str
    quorum: int = DEFAULT_QUORUM
    notice_days: int = DEFAULT_NOTICE_DAYS
    consultation_days: int = DEFAULT_CONSULTATION_DAYS
    opened_by: str = SYSTEM
    history_limit: int = HISTORY_LIMIT
    edition: Edition | None = None


def _refusal(exc: FrameworkRefused) -> ApplicationError:
    return ApplicationError(exc.detail, exc.to_dict(), type="ActionRefused", non_retryable=True)


def _summary(edition: Edition) -> Edition:
    """The edition without its lists: what the projection's edition row needs."""
    final = edition.final.model_copy(update={"clauses": []}) if edition.final else None
    return edition.model_copy(
        update={"clauses": [], "comments": [], "amendments": [], "parties": {}, "final": final}
    )


@workflow.defn(name="FrameworkAgreement")
class FrameworkAgreementWorkflow:
    @workflow.init
    def __init__(self, start: FrameworkStart) -> None:
        self.start = start
        self.edition: Edition | None = start.edition
        self.lock = asyncio.Lock()
        self.steps = 0

    @workflow.run
    async def run(self, start: FrameworkStart) -> Edition:
        async with self.lock:
            await self._open()
        while True:
            seen = self.steps
            try:
                await workflow.wait_condition(
                    partial(self._stepped_since, seen), timeout=self._until_next_timer()
                )
            except TimeoutError:
                async with self.lock:
                    await self._fire_timers()
            info = workflow.info()
            if info.is_continue_as_new_suggested() or (
                info.get_current_history_length() > self.start.history_limit
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.start.model_copy(update={"edition": self.edition}))

    def _stepped_since(self, seen: int) -> bool:
        return self.steps != seen

    def _until_next_timer(self) -> timedelta | None:
        edition = self.edition
        if edition is None:
            return None
        due: list[datetime] = []
        if edition.state == "consultation":
            due.append(datetime.fromisoformat(edition.deadline))
        withdrawal = edition.next_withdrawal()
        if withdrawal is not None:
            due.append(withdrawal)
        if not due:
            return None
        return max(min(due) - workflow.now(), timedelta(seconds=1))

    async def _fire_timers(self) -> None:
        assert self.edition is not None
        now = workflow.now()
        work = self.edition.model_copy(deep=True)
        closed = close_consultation(work, now)
        if closed.events:
            await self._project(work, closed)
        work = self.edition.model_copy(deep=True)
        effective = withdrawals_take_effect(work, now)
        if effective.events:
            due = {e.data["hub_id"] for e in effective.events}
            await self._project(work, effective, parties=[work.parties[h] for h in due])

    # -- opening ----------------------------------------------------------------------------
    @workflow.update(name="open_edition")
    async def open_edition(self) -> FrameworkResult:
        async with self.lock:
            await self._open()
        assert self.edition is not None
        return FrameworkResult(state=self.edition.state, seq=self.edition.seq)

    async def _open(self) -> None:
        if self.edition is not None:
            return
        start, now = self.start, workflow.now()
        draft: DraftResult = await workflow.execute_activity_method(
            FrameworkActivities.draft_framework_clauses,
            DraftInput(
                edition_id=start.edition_id,
                label=start.label,
                quorum=start.quorum,
                opened_at=now.isoformat(),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        try:
            edition, step = open_edition(
                start.edition_id,
                start.label,
                draft.members,
                draft.clauses,
                now,
                consultation_days=start.consultation_days,
                quorum=start.quorum,
                notice_days=start.notice_days,
                actor=start.opened_by,
            )
        except FrameworkRefused as exc:
            raise _refusal(exc) from None
        await self._project(edition, step, clauses={"draft": edition.clauses})

    # -- human steps ------------------------------------------------------------------------
    @workflow.update(dynamic=True)
    async def action(self, name: str, args: Sequence[RawValue]) -> FrameworkResult:
        request = self._decode(name, args)
        async with self.lock:
            await self._open()
            assert self.edition is not None
            work = self.edition.model_copy(deep=True)
            now = workflow.now()
            try:  # re-check inside the lock: another step may have run since the validator
                if check_request(work, request, now):
                    data = repeat_data(work, request)
                    return FrameworkResult(state=work.state, seq=work.seq, changed=False, data=data)
                if request.action == "publish_final":
                    step, data = await self._publish_final(work, request, now)
                else:
                    step, data = apply_request(work, request, now)
            except FrameworkRefused as exc:
                raise _refusal(exc) from None
            except ApplicationError:
                raise
            except Exception as exc:  # never let a handler wedge the workflow (TEMPORAL.md)
                workflow.logger.exception("step %s failed", name)
                raise ApplicationError(
                    f"{name} could not be applied", type="StepFailed", non_retryable=True
                ) from exc
            await self._project_request(work, request, step, data)
        return FrameworkResult(state=work.state, seq=work.seq, data=data)

    @action.validator
    def validate_action(self, name: str, args: Sequence[RawValue]) -> None:
        request = self._decode(name, args)
        if self.edition is None:
            return  # not opened yet: the handler opens it, then checks inside the lock
        try:
            check_request(self.edition, request, workflow.now())
        except FrameworkRefused as exc:
            raise _refusal(exc) from None

    def _decode(self, name: str, args: Sequence[RawValue]) -> FrameworkRequest:
        if len(args) != 1:
            raise ApplicationError("an action takes one FrameworkRequest", non_retryable=True)
        value = workflow.payload_converter().from_payload(args[0].payload, FrameworkRequest)
        if value.action != name:
            raise ApplicationError(f"the request is for {value.action}, not {name}")
        return value  # type: ignore[no-any-return]

    async def _publish_final(
        self, work: Edition, request: FrameworkRequest, now: datetime
    ) -> tuple[Step, dict[str, object]]:
        final: FinalResult = await workflow.execute_activity_method(
            FrameworkActivities.render_framework_final,
            FinalInput(edition=work, at=now.isoformat()),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        step = publish_final(work, final.sha256, final.document_id, now, actor=request.actor)
        return step, {"sha256": final.sha256, "document_id": final.document_id}

    async def _project_request(
        self, work: Edition, request: FrameworkRequest, step: Step, data: dict[str, object]
    ) -> None:
        match request.action:
            case "comment":
                await self._project(work, step, comments=[work.comments[-1]])
            case "propose_amendment" | "vote" | "decide_amendment":
                number = int(data["amendment_id"])  # type: ignore[call-overload]
                await self._project(work, step, amendments=[work.amendment(number)])
            case "publish_final":
                assert work.final is not None
                await self._project(work, step, clauses={"final": work.final.clauses})
            case "sign" | "give_notice":
                assert request.hub_id is not None
                party = work.parties[request.hub_id]
                await self._project(work, step, parties=[party], signer_name=request.signer_name)
            case _:
                await self._project(work, step)

    @workflow.query(name="edition")
    def query_edition(self) -> Edition | None:
        return self.edition

    # -- projection -------------------------------------------------------------------------
    async def _project(self, work: Edition, step: Step, **items: object) -> None:
        """Project the step, then make ``work`` the edition."""
        data = FrameworkProjectInput(edition=_summary(work), events=step.events, **items)  # type: ignore[arg-type]
        await workflow.execute_activity_method(
            FrameworkActivities.project_framework,
            data,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        self.edition = work
        self.steps += 1
