"""The case lifecycles, one python-statemachine declaration per scenario.

The workflow asks them what is legal (validators, ``allowed_actions``) and applies their
events; the API asks the same declarations, restored from the stored state. Events whose name
is an action (see ``domain.actions``) are human steps; the others are taken by the system
(automatic progress, timers). State values follow DESIGN.md's contract:

- joint service: requested → partnering → drafting → legal_review → signing → delivery →
  review → closed;
- co-development: requested (the proposal) → partnering → drafting → legal_review → signing →
  development → pilot → review → closed;
- matchmaking: requested → matching → introducing → meeting → [drafting → legal_review →
  signing (the NDA)] → follow_up → review → closed;

each with rejected, cancelled and expired as other endings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from statemachine import State, StateChart

from domain.cases import CaseFacts
from domain.pending import waiting_on


def _never_raises(guard: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A guard that raises would count as *enabled* in python-statemachine's
    ``enabled_events`` (it lists an event whose guard fails with an error): here a guard's
    error reads as False, and the event fails at once in ``fire`` instead of being offered."""

    @wraps(guard)
    def safe(self: Any) -> bool:
        try:
            return bool(guard(self))
        except Exception:
            return False

    return safe


class Guards:
    """Named, side-effect-free predicates over the case facts (shared by every lifecycle).

    They never raise (see ``_never_raises``)."""

    model: Any

    @property
    def facts(self) -> CaseFacts:
        return self.model  # type: ignore[no-any-return]

    @_never_raises
    def invitation_pending(self) -> bool:
        return any(i.status == "pending" for i in self.facts.invitations)

    @_never_raises
    def has_partner(self) -> bool:
        return bool(self.facts.partner_ids)

    @_never_raises
    def changes_requested(self) -> bool:
        return bool(self.facts.changes_requested)

    @_never_raises
    def signature_missing(self) -> bool:
        return bool(self.facts.unsigned)

    @_never_raises
    def deliverable_open(self) -> bool:
        return any(d.status in ("pending", "rejected") for d in self.facts.deliverables)

    @_never_raises
    def deliverable_submitted(self) -> bool:
        return any(d.status == "submitted" for d in self.facts.deliverables)

    @_never_raises
    def all_delivered(self) -> bool:
        return all(d.status == "accepted" for d in self.facts.deliverables)

    @_never_raises
    def consent_pending(self) -> bool:
        return any(not i.settled for i in self.facts.introductions)

    @_never_raises
    def introductions_settled(self) -> bool:
        return all(i.settled for i in self.facts.introductions)

    @_never_raises
    def has_match(self) -> bool:
        return bool(self.facts.matched_hub_ids)

    @_never_raises
    def meeting_recorded(self) -> bool:
        return bool(self.facts.meetings)

    @_never_raises
    def has_deadline(self) -> bool:
        return bool(self.facts.deadlines)

    @_never_raises
    def someone_pending(self) -> bool:
        return bool(waiting_on(self.facts))

    @_never_raises
    def peer_review_missing(self) -> bool:
        return any(h not in self.facts.peer_reviews for h in self.facts.party_hub_ids)

    # the quality review (patch ``quality-review``): a survey and peer reviews
    @_never_raises
    def quality_review(self) -> bool:
        return self.facts.quality_review

    @_never_raises
    def survey_missing(self) -> bool:
        return self.facts.survey_missing

    @_never_raises
    def peer_review_owed(self) -> bool:
        return self.facts.peer_reviews_owed

    @_never_raises
    def reviews_outstanding(self) -> bool:
        f = self.facts
        if not f.quality_review:
            return self.peer_review_missing()
        return f.survey_missing or f.peer_reviews_owed


class _Lifecycle(Guards, StateChart):  # type: ignore[misc]
    allow_event_without_transition = False
    catch_errors_as_events = False


class JointServiceLifecycle(_Lifecycle):
    requested = State(initial=True)
    partnering = State()
    drafting = State()
    legal_review = State()
    signing = State()
    delivery = State()
    in_review = State(value="review")
    closed = State(final=True)
    rejected = State(final=True)
    cancelled = State(final=True)
    expired = State(final=True)

    # human steps (actions)
    invite_partners = requested.to(partnering) | partnering.to.itself()
    accept_invitation = partnering.to.itself(cond="invitation_pending")
    decline_invitation = partnering.to.itself(cond="invitation_pending")
    close_partnering = partnering.to(drafting, cond="has_partner")
    reject_request = requested.to(rejected)
    revise_draft = (
        drafting.to.itself(cond="changes_requested")
        | legal_review.to(drafting)
        | signing.to(drafting)
    )
    approve_draft = legal_review.to(signing)
    request_changes = legal_review.to(drafting)
    sign = signing.to.itself(cond="signature_missing")
    decline_to_sign = signing.to(drafting)
    submit_deliverable = delivery.to.itself(cond="deliverable_open")
    accept_deliverable = delivery.to.itself(cond="deliverable_submitted")
    reject_deliverable = delivery.to.itself(cond="deliverable_submitted")
    review = in_review.to(closed, unless="quality_review") | in_review.to.itself(
        cond="survey_missing"
    )
    peer_review = in_review.to.itself(cond="peer_review_owed")
    cancel = cancelled.from_.any()  # from every open (non-final) state
    extend_deadline = (
        partnering.to.itself(cond="has_deadline")
        | signing.to.itself(cond="has_deadline")
        | delivery.to.itself(cond="has_deadline")
        | in_review.to.itself(cond="has_deadline")
    )
    nudge = (
        partnering.to.itself(cond="someone_pending")
        | signing.to.itself(cond="someone_pending")
        | delivery.to.itself(cond="someone_pending")
        | in_review.to.itself(cond="someone_pending")
    )

    # system steps
    partners_confirmed = partnering.to(drafting, cond="has_partner", unless="invitation_pending")
    partnering_lapsed = partnering.to(expired, unless="has_partner") | partnering.to(
        drafting, cond="has_partner"
    )
    draft_ready = drafting.to(legal_review)
    all_signed = signing.to(delivery, unless="signature_missing")
    signing_lapsed = signing.to(expired)
    delivery_complete = delivery.to(in_review, cond="all_delivered")
    reviews_complete = in_review.to(closed, cond="quality_review", unless="reviews_outstanding")
    review_window_closed = in_review.to(closed)


class CoDevelopmentLifecycle(_Lifecycle):
    requested = State(initial=True)
    partnering = State()
    drafting = State()
    legal_review = State()
    signing = State()
    development = State()
    pilot = State()
    in_review = State(value="review")
    closed = State(final=True)
    rejected = State(final=True)
    cancelled = State(final=True)
    expired = State(final=True)

    invite_partners = requested.to(partnering) | partnering.to.itself()
    accept_invitation = partnering.to.itself(cond="invitation_pending")
    decline_invitation = partnering.to.itself(cond="invitation_pending")
    close_partnering = partnering.to(drafting, cond="has_partner")
    reject_request = requested.to(rejected)
    revise_draft = (
        drafting.to.itself(cond="changes_requested")
        | legal_review.to(drafting)
        | signing.to(drafting)
    )
    approve_draft = legal_review.to(signing)
    request_changes = legal_review.to(drafting)
    sign = signing.to.itself(cond="signature_missing")
    decline_to_sign = signing.to(drafting)
    submit_deliverable = development.to.itself(cond="deliverable_open")
    accept_deliverable = development.to.itself(cond="deliverable_submitted")
    reject_deliverable = development.to.itself(cond="deliverable_submitted")
    complete_pilot = pilot.to(in_review)
    review = in_review.to.itself(cond="peer_review_missing", unless="quality_review")
    peer_review = in_review.to.itself(cond="peer_review_owed")
    cancel = cancelled.from_.any()  # from every open (non-final) state
    extend_deadline = (
        partnering.to.itself(cond="has_deadline")
        | signing.to.itself(cond="has_deadline")
        | development.to.itself(cond="has_deadline")
        | in_review.to.itself(cond="has_deadline")
    )
    nudge = (
        partnering.to.itself(cond="someone_pending")
        | signing.to.itself(cond="someone_pending")
        | development.to.itself(cond="someone_pending")
        | in_review.to.itself(cond="someone_pending")
    )

    partners_confirmed = partnering.to(drafting, cond="has_partner", unless="invitation_pending")
    partnering_lapsed = partnering.to(expired, unless="has_partner") | partnering.to(
        drafting, cond="has_partner"
    )
    draft_ready = drafting.to(legal_review)
    all_signed = signing.to(development, unless="signature_missing")
    signing_lapsed = signing.to(expired)
    delivery_complete = development.to(pilot, cond="all_delivered")
    reviews_complete = in_review.to(closed, unless="reviews_outstanding")
    review_window_closed = in_review.to(closed)


class MatchmakingLifecycle(_Lifecycle):
    requested = State(initial=True)
    matching = State()
    introducing = State()
    meeting = State()
    drafting = State()
    legal_review = State()
    signing = State()
    follow_up = State()
    in_review = State(value="review")
    closed = State(final=True)
    rejected = State(final=True)
    cancelled = State(final=True)
    expired = State(final=True)

    reject_request = requested.to(rejected)
    select_candidates = matching.to(introducing) | introducing.to.itself()
    consent = introducing.to.itself(cond="consent_pending")
    decline_consent = introducing.to.itself(cond="consent_pending")
    record_meeting = meeting.to.itself()
    request_nda = meeting.to(drafting, cond="meeting_recorded")
    skip_nda = meeting.to(follow_up, cond="meeting_recorded")
    revise_draft = (
        drafting.to.itself(cond="changes_requested")
        | legal_review.to(drafting)
        | signing.to(drafting)
    )
    approve_draft = legal_review.to(signing)
    request_changes = legal_review.to(drafting)
    sign = signing.to.itself(cond="signature_missing")
    decline_to_sign = signing.to(drafting)
    record_outcome = follow_up.to(in_review)
    review = in_review.to(closed, unless="quality_review") | in_review.to.itself(
        cond="survey_missing"
    )
    peer_review = in_review.to.itself(cond="peer_review_owed")
    cancel = cancelled.from_.any()  # from every open (non-final) state
    extend_deadline = (
        introducing.to.itself(cond="has_deadline")
        | signing.to.itself(cond="has_deadline")
        | in_review.to.itself(cond="has_deadline")
    )
    nudge = (
        introducing.to.itself(cond="someone_pending")
        | signing.to.itself(cond="someone_pending")
        | in_review.to.itself(cond="someone_pending")
    )

    candidates_ranked = requested.to(matching)
    introductions_done = introducing.to(
        meeting, cond=["introductions_settled", "has_match"]
    ) | introducing.to(matching, cond="introductions_settled", unless="has_match")
    introductions_lapsed = introducing.to(meeting, cond="has_match") | introducing.to(
        expired, unless="has_match"
    )
    draft_ready = drafting.to(legal_review)
    all_signed = signing.to(follow_up, unless="signature_missing")
    signing_lapsed = signing.to(expired)
    reviews_complete = in_review.to(closed, cond="quality_review", unless="reviews_outstanding")
    review_window_closed = in_review.to(closed)


LIFECYCLES: dict[str, type[StateChart]] = {
    "joint_service": JointServiceLifecycle,
    "co_development": CoDevelopmentLifecycle,
    "matchmaking": MatchmakingLifecycle,
}


ALL_STATES = tuple(sorted({state.value for chart in LIFECYCLES.values() for state in chart.states}))


def lifecycle_for(facts: CaseFacts) -> Any:
    """The lifecycle of ``facts.scenario``, positioned at ``facts.state`` (no entry actions run)."""
    try:
        chart = LIFECYCLES[facts.scenario]
    except KeyError:
        raise ValueError(f"no lifecycle for scenario {facts.scenario!r}") from None
    return chart(model=facts, start_value=facts.state)


# A lifecycle's transitions read once from its class: building a chart binds every guard anew
# (python-statemachine resolves and parses them per instance, about 0.4 ms, three times that
# inside the workflow sandbox), and a step asks the lifecycle several times (the validator, the
# handler, the step's events). The answers are python-statemachine's: the same transitions in
# the same order, a guard as its ``cond``/``unless`` (tests/domain/test_lifecycle_plan.py
# compares both for every state of every lifecycle); a lifecycle whose guards are not plain
# ``Guards`` names is asked through a chart as before.
_Guard = tuple[str, bool]  # a Guards method, the value it must have
_Step = tuple[tuple[str, ...], str, tuple[_Guard, ...]]  # events, target state, guards


def _acts(chart: type[StateChart], specs: Any) -> bool:
    """Would any of these callbacks run (declared, or named by convention and defined on the
    chart or the facts)? The lifecycles have none: a chart that does is asked as a chart."""
    return any(
        not spec.is_convention or hasattr(chart, spec.func) or hasattr(CaseFacts, spec.func)
        for spec in specs
    )


@cache
def _plan(chart: type[StateChart]) -> dict[str, tuple[_Step, ...]] | None:
    """By state value, its transitions in the chart's order; None if a guard is not plain or
    a callback would run."""
    plan: dict[str, tuple[_Step, ...]] = {}
    for state in chart.states:
        if _acts(chart, state.enter) or _acts(chart, state.exit):
            return None
        steps = []
        for transition in state.transitions:
            hooks = (transition.validators, transition.before, transition.on, transition.after)
            if any(_acts(chart, specs) for specs in hooks):
                return None
            guards = []
            for spec in transition.cond:
                name = spec.func
                if not isinstance(name, str) or not callable(getattr(Guards, name, None)):
                    return None
                guards.append((name, bool(spec.expected_value)))
            events = tuple(getattr(e, "id", e) for e in transition.events)
            steps.append((events, transition.target.value, tuple(guards)))
        plan[state.value] = tuple(steps)
    return plan


class _Check(Guards):
    """The guards over one case's facts, each asked at most once."""

    def __init__(self, facts: CaseFacts):
        self.model = facts
        self.seen: dict[str, bool] = {}

    def passes(self, guards: tuple[_Guard, ...]) -> bool:
        for name, wanted in guards:
            value = self.seen.get(name)
            if value is None:
                value = self.seen[name] = bool(getattr(self, name)())
            if value != wanted:
                return False
        return True


def _steps(facts: CaseFacts) -> tuple[_Step, ...] | None:
    try:
        chart = LIFECYCLES[facts.scenario]
    except KeyError:
        raise ValueError(f"no lifecycle for scenario {facts.scenario!r}") from None
    plan = _plan(chart)
    if plan is None or facts.state not in plan:
        return None  # asked through a chart (which says what is wrong with the state)
    return plan[facts.state]


def enabled_event_names(facts: CaseFacts) -> list[str]:
    """The events the lifecycle would take now, guards included (snake_case names)."""
    steps = _steps(facts)
    if steps is None:
        return [event.id for event in lifecycle_for(facts).enabled_events()]
    check, enabled = _Check(facts), {}
    for events, _, guards in steps:
        for event in events:
            if event not in enabled and check.passes(guards):
                enabled[event] = True
    return list(enabled)


def enabled(facts: CaseFacts, event: str) -> bool:
    """Would the lifecycle take ``event`` now? How a step asks whether a system event
    (``all_signed``, ``partners_confirmed``, ...) follows, instead of re-testing its guards."""
    return event in enabled_event_names(facts)


def fire(facts: CaseFacts, event: str) -> str:
    """Apply ``event`` to ``facts`` (updates ``facts.state``) and return the new state.

    Raises ``statemachine.exceptions.TransitionNotAllowed`` when the event is not legal now.
    """
    steps = _steps(facts)
    if steps is not None:
        check = _Check(facts)
        for events, target, guards in steps:
            if event in events and check.passes(guards):
                facts.state = target
                return facts.state
    chart = lifecycle_for(facts)  # not legal now: the chart raises as it always did
    chart.send(event)
    return facts.state
