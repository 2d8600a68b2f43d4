"""The joint-service lifecycle, declared once with python-statemachine.

The workflow asks it what is legal (validators, ``allowed_actions``) and applies its events;
the API asks the same declaration, restored from the stored state. Events whose name is an
action (see ``domain.actions``) are human steps; the others are taken by the system
(automatic progress, timers).

States follow DESIGN.md: requested → partnering → drafting → legal_review → signing →
delivery → review → closed, with rejected, cancelled and expired as other endings.
"""

from __future__ import annotations

from typing import Any

from statemachine import State, StateChart

from domain.cases import CaseFacts


class JointServiceLifecycle(StateChart):
    allow_event_without_transition = False
    catch_errors_as_events = False

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
    review = in_review.to(closed)
    cancel = (
        requested.to(cancelled)
        | partnering.to(cancelled)
        | drafting.to(cancelled)
        | legal_review.to(cancelled)
        | signing.to(cancelled)
        | delivery.to(cancelled)
        | in_review.to(cancelled)
    )
    extend_deadline = partnering.to.itself() | in_review.to.itself()

    # system steps
    partners_confirmed = partnering.to(drafting, cond="has_partner")
    partnering_lapsed = partnering.to(expired, unless="has_partner") | partnering.to(
        drafting, cond="has_partner"
    )
    draft_ready = drafting.to(legal_review)
    all_signed = signing.to(delivery, unless="signature_missing")
    delivery_complete = delivery.to(in_review, cond="all_delivered")
    review_window_closed = in_review.to(closed)

    # -- guards: named, side-effect-free predicates over the case facts ----------------------
    @property
    def facts(self) -> CaseFacts:
        return self.model  # type: ignore[no-any-return]

    def invitation_pending(self) -> bool:
        return any(i.status == "pending" for i in self.facts.invitations)

    def has_partner(self) -> bool:
        return bool(self.facts.partner_ids)

    def changes_requested(self) -> bool:
        return bool(self.facts.changes_requested)

    def signature_missing(self) -> bool:
        return bool(self.facts.unsigned)

    def deliverable_open(self) -> bool:
        return any(d.status in ("pending", "rejected") for d in self.facts.deliverables)

    def all_delivered(self) -> bool:
        return all(d.status == "accepted" for d in self.facts.deliverables)

    def deliverable_submitted(self) -> bool:
        return any(d.status == "submitted" for d in self.facts.deliverables)


LIFECYCLES: dict[str, type[StateChart]] = {"joint_service": JointServiceLifecycle}


def lifecycle_for(facts: CaseFacts) -> Any:
    """The lifecycle of ``facts.scenario``, positioned at ``facts.state`` (no entry actions run)."""
    try:
        chart = LIFECYCLES[facts.scenario]
    except KeyError:
        raise ValueError(f"no lifecycle for scenario {facts.scenario!r}") from None
    return chart(model=facts, start_value=facts.state)


def enabled_event_names(facts: CaseFacts) -> list[str]:
    """The events the lifecycle would take now, guards included (snake_case names)."""
    return [event.id for event in lifecycle_for(facts).enabled_events()]


def fire(facts: CaseFacts, event: str) -> str:
    """Apply ``event`` to ``facts`` (updates ``facts.state``) and return the new state.

    Raises ``statemachine.exceptions.TransitionNotAllowed`` when the event is not legal now.
    """
    chart = lifecycle_for(facts)
    chart.send(event)
    return facts.state
