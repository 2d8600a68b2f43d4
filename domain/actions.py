"""Human steps: their payloads, who may take them, and what they do to a case.

One place decides, for the workflow's validators and the API alike:

- ``allowed_actions(facts, caller)``: the actions this caller can take now (lifecycle events
  enabled now, filtered by the permission rules below);
- ``check_action(facts, action, caller, payload)``: raises ``ActionRefused`` with the status of
  DESIGN.md's precedence (409 not enabled for anyone, 403 not this caller's, 422 bad body);
- ``apply_action(...)``: changes the facts and returns the timeline events and the effects
  (render a draft, issue a link) that the workflow then carries out through activities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.cases import (
    CLIENT,
    HUB_ROLES,
    SYSTEM,
    Caller,
    CaseFacts,
    Deliverable,
    Invitation,
    Review,
    Role,
    TaskSpec,
)
from domain.errors import ActionRefused
from domain.lifecycle import enabled_event_names, fire

SHA256 = r"^[0-9a-f]{64}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoPayload(_Payload):
    pass


class Reason(_Payload):
    reason: str = Field(min_length=1, max_length=2000)


class OptionalReason(_Payload):
    reason: str = Field(default="", max_length=2000)


class InvitePartners(_Payload):
    hub_ids: list[str] = Field(min_length=1, max_length=20)


class ReviseDraft(_Payload):
    scope: str | None = Field(default=None, min_length=1, max_length=5000)
    tasks: list[TaskSpec] | None = Field(default=None, min_length=1, max_length=50)


class RequestChanges(_Payload):
    comments: str = Field(min_length=1, max_length=5000)


class Sign(_Payload):
    document_sha256: str = Field(pattern=SHA256)
    signer_name: str = Field(default="", max_length=200)


class SubmitDeliverable(_Payload):
    summary: str = Field(min_length=1, max_length=5000)


class DeliverableDecision(_Payload):
    hub_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=2000)


class GiveReview(_Payload):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=5000)


class ExtendDeadline(_Payload):
    deadline: Literal["partnering", "review"]
    days: int = Field(ge=1, le=365)


PAYLOADS: dict[str, type[_Payload]] = {
    "invite_partners": InvitePartners,
    "accept_invitation": NoPayload,
    "decline_invitation": OptionalReason,
    "close_partnering": NoPayload,
    "reject_request": Reason,
    "revise_draft": ReviseDraft,
    "approve_draft": NoPayload,
    "request_changes": RequestChanges,
    "sign": Sign,
    "decline_to_sign": Reason,
    "submit_deliverable": SubmitDeliverable,
    "accept_deliverable": DeliverableDecision,
    "reject_deliverable": DeliverableDecision,
    "review": GiveReview,
    "cancel": Reason,
    "extend_deadline": ExtendDeadline,
}
ACTIONS = tuple(PAYLOADS)


def kebab(name: str) -> str:
    return name.replace("_", "-")


def snake(name: str) -> str:
    return name.replace("-", "_")


# -- who may take an action (beyond the lifecycle saying it is enabled) -----------------------
def _is_lead(f: CaseFacts, c: Caller) -> bool:
    return c.role in HUB_ROLES and c.hub_id == f.lead_hub_id


def _signer_party(f: CaseFacts, c: Caller) -> str | None:
    """The party this caller signs for, if it may sign (only signatories and the client link)."""
    if c.role == Role.hub_signatory and c.hub_id in f.party_hub_ids:
        return c.hub_id
    if c.role == "link" and c.party == CLIENT:
        return CLIENT
    return None


def _may_sign(f: CaseFacts, c: Caller) -> bool:
    party = _signer_party(f, c)
    return party is not None and party in f.unsigned


def _has_pending_invitation(f: CaseFacts, c: Caller) -> bool:
    inv = f.invitation(c.hub_id) if c.role in HUB_ROLES else None
    return inv is not None and inv.status == "pending"


def _owes_deliverable(f: CaseFacts, c: Caller) -> bool:
    d = f.deliverable(c.hub_id) if c.role in HUB_ROLES else None
    return d is not None and d.status in ("pending", "rejected")


RULES: dict[str, Callable[[CaseFacts, Caller], bool]] = {
    "invite_partners": _is_lead,
    "accept_invitation": _has_pending_invitation,
    "decline_invitation": _has_pending_invitation,
    "close_partnering": _is_lead,
    "reject_request": lambda f, c: c.role == Role.back_office,
    "revise_draft": _is_lead,
    "approve_draft": lambda f, c: c.role == Role.legal,
    "request_changes": lambda f, c: c.role == Role.legal,
    "sign": _may_sign,
    "decline_to_sign": _may_sign,
    "submit_deliverable": _owes_deliverable,
    "accept_deliverable": _is_lead,
    "reject_deliverable": _is_lead,
    "review": lambda f, c: c.role == "link" and c.party == CLIENT,
    "cancel": lambda f, c: _is_lead(f, c) or c.role == Role.back_office,
    "extend_deadline": lambda f, c: c.role == Role.back_office,
}
assert set(RULES) == set(PAYLOADS), "every action needs a permission rule"


def permitted(facts: CaseFacts, action: str, caller: Caller) -> bool:
    if caller.role == "link" and caller.link_action != action:
        return False  # a link token is good for its one action only
    return RULES[action](facts, caller)


def allowed_actions(facts: CaseFacts, caller: Caller) -> list[str]:
    """Kebab-case actions ``caller`` can take now: enabled by the lifecycle and permitted."""
    enabled = [e for e in enabled_event_names(facts) if e in PAYLOADS]
    return [kebab(a) for a in enabled if permitted(facts, a, caller)]


def parse_payload(action: str, body: dict[str, Any] | None) -> _Payload:
    try:
        return PAYLOADS[action].model_validate(body or {})
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors()
        ]
        raise ActionRefused(
            "Invalid request body",
            f"the body of {kebab(action)} is not valid",
            status=422,
            errors=errors,
        ) from None


def check_action(
    facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any] | None
) -> _Payload:
    """Raise ``ActionRefused`` unless ``caller`` may take ``action`` now; return the payload."""
    if action not in PAYLOADS:
        raise ActionRefused(
            "Unknown action",
            f"{kebab(action)!r} is not an action; known actions: "
            + ", ".join(kebab(a) for a in ACTIONS),
            status=404,
        )
    mine = allowed_actions(facts, caller)
    if action not in enabled_event_names(facts):
        raise ActionRefused(
            "Action not allowed now",
            f"{kebab(action)} is not possible while the case is {facts.state}",
            status=409,
            allowed_actions=mine,
        )
    if not permitted(facts, action, caller):
        raise ActionRefused(
            "Not your action",
            f"{kebab(action)} is possible now but not for this caller",
            status=403,
            allowed_actions=mine,
        )
    payload = parse_payload(action, body)
    _check_payload_against_facts(facts, action, payload)
    return payload


def _check_payload_against_facts(facts: CaseFacts, action: str, payload: _Payload) -> None:
    if isinstance(payload, Sign):
        current = facts.draft.sha256 if facts.draft else None
        if payload.document_sha256 != current:
            raise ActionRefused(
                "Not the current draft",
                f"the signature is over {payload.document_sha256}, but the current draft "
                f"(version {facts.draft.version if facts.draft else 0}) has SHA-256 {current}",
                status=409,
                current_sha256=current,
            )
    if isinstance(payload, DeliverableDecision):
        d = facts.deliverable(payload.hub_id)
        if d is None or d.status != "submitted":
            raise ActionRefused(
                "No deliverable to decide",
                f"hub {payload.hub_id!r} has no submitted deliverable",
                status=422,
                errors=[{"field": "hub_id", "message": "no submitted deliverable from this hub"}],
            )
        if action == "reject_deliverable" and not payload.reason:
            raise ActionRefused(
                "Invalid request body",
                "a rejected deliverable needs a reason",
                status=422,
                errors=[{"field": "reason", "message": "required when rejecting"}],
            )
    if isinstance(payload, ExtendDeadline) and payload.deadline not in facts.deadlines:
        raise ActionRefused(
            "Invalid request body",
            f"the case has no {payload.deadline} deadline to extend",
            status=422,
            errors=[
                {
                    "field": "deadline",
                    "message": "running deadlines: " + (", ".join(facts.deadlines) or "none"),
                }
            ],
        )
    if isinstance(payload, ReviseDraft) and payload.tasks is not None:
        _check_tasks(facts, payload.tasks)
    if isinstance(payload, InvitePartners):
        bad = [h for h in payload.hub_ids if h == facts.lead_hub_id]
        if bad:
            raise ActionRefused(
                "Invalid request body",
                "the lead hub cannot invite itself",
                status=422,
                errors=[{"field": "hub_ids", "message": "the lead hub cannot be invited"}],
            )


def _check_tasks(facts: CaseFacts, tasks: list[TaskSpec]) -> None:
    parties = set(facts.party_hub_ids)
    errors = [
        {"field": f"tasks.{i}.hub_id", "message": f"{t.hub_id!r} is not a party hub of this case"}
        for i, t in enumerate(tasks)
        if t.hub_id not in parties
    ]
    total = sum(t.cost_share_pct for t in tasks)
    if abs(total - 100) > 0.01:
        errors.append({"field": "tasks", "message": f"cost shares sum to {total:g}, not 100"})
    if errors:
        raise ActionRefused(
            "Invalid request body", "the tasks do not fit this case", status=422, errors=errors
        )


# -- what an action does --------------------------------------------------------------------
@dataclass
class Outcome:
    """What ``apply_action`` produced: events to record and effects for the workflow to run."""

    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)

    def event(self, type: str, actor: str, **data: Any) -> None:
        self.events.append((type, actor, data))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def default_tasks(facts: CaseFacts) -> list[TaskSpec]:
    """Equal cost shares over the party hubs (the last one takes the rounding remainder)."""
    hubs = facts.party_hub_ids
    share = round(100 / len(hubs), 2)
    tasks = [
        TaskSpec(
            hub_id=h, description=f"Contribution to: {facts.scope}"[:2000], cost_share_pct=share
        )
        for h in hubs
    ]
    tasks[-1] = tasks[-1].model_copy(
        update={"cost_share_pct": round(100 - share * (len(hubs) - 1), 2)}
    )
    return tasks


def apply_action(
    facts: CaseFacts, action: str, caller: Caller, payload: _Payload, now: datetime
) -> Outcome:
    """Take ``action`` (already checked) on ``facts`` in place.

    Each branch fires the lifecycle event before changing the facts its guards read.
    """
    out = Outcome()
    who = caller.actor
    if isinstance(payload, InvitePartners):
        known = {i.hub_id for i in facts.invitations if i.status in ("pending", "accepted")}
        new = [h for h in dict.fromkeys(payload.hub_ids) if h not in known]
        facts.invitations = [i for i in facts.invitations if i.hub_id not in new] + [
            Invitation(hub_id=h) for h in new
        ]
        fire(facts, action)
        facts.deadlines.setdefault("partnering", _iso(now + timedelta(days=facts.partnering_days)))
        out.event("partners_invited", who, hub_ids=new, deadline=facts.deadlines["partnering"])
    elif action in ("accept_invitation", "decline_invitation"):
        inv = facts.invitation(caller.hub_id)
        assert inv is not None
        fire(facts, action)  # guards read the facts as they were: fire before changing them
        inv.status = "accepted" if action == "accept_invitation" else "declined"
        out.event(f"invitation_{inv.status}", who, hub_id=inv.hub_id)
        if not any(i.status == "pending" for i in facts.invitations) and facts.partner_ids:
            _close_partnering(facts, "partners_confirmed", SYSTEM, out)
    elif action == "close_partnering":
        _close_partnering(facts, action, who, out)
    elif action in ("reject_request", "cancel"):
        assert isinstance(payload, Reason)
        before = facts.state
        facts.end_reason = payload.reason
        fire(facts, action)
        out.event(
            "request_rejected" if action == "reject_request" else "cancelled",
            who,
            state_before=before,
        )
    elif isinstance(payload, ReviseDraft):
        if payload.scope is not None:
            facts.scope = payload.scope
        if payload.tasks is not None:
            facts.tasks = payload.tasks
        fire(facts, action)
        out.event(
            "draft_revised",
            who,
            scope_changed=payload.scope is not None,
            tasks_changed=payload.tasks is not None,
        )
        out.effects.append("render_draft")
    elif action == "approve_draft":
        assert facts.draft is not None
        fire(facts, action)
        out.event("draft_approved", who, version=facts.draft.version, sha256=facts.draft.sha256)
        out.effects.append("issue_link:sign")
    elif isinstance(payload, RequestChanges):
        assert facts.draft is not None
        facts.changes_requested = payload.comments
        fire(facts, action)
        out.event("changes_requested", who, version=facts.draft.version)
    elif isinstance(payload, Sign):
        party = _signer_party(facts, caller)
        assert party is not None and facts.draft is not None
        fire(facts, action)
        facts.signatures[party] = payload.document_sha256
        out.event(
            "signed", who, party=party, version=facts.draft.version, sha256=payload.document_sha256
        )
        if not facts.unsigned:
            fire(facts, "all_signed")
            for d in facts.deliverables:
                d.status, d.summary, d.reason = "pending", "", ""
            out.event(
                "agreement_executed", SYSTEM, version=facts.draft.version, sha256=facts.draft.sha256
            )
    elif action == "decline_to_sign":
        assert isinstance(payload, Reason) and facts.draft is not None
        party = _signer_party(facts, caller)
        facts.changes_requested = payload.reason
        fire(facts, action)
        out.event("signature_declined", who, party=party, version=facts.draft.version)
    elif isinstance(payload, SubmitDeliverable):
        owed = facts.deliverable(caller.hub_id)
        assert owed is not None
        fire(facts, action)
        owed.status, owed.summary, owed.reason = "submitted", payload.summary, ""
        out.event("deliverable_submitted", who, hub_id=owed.hub_id)
    elif isinstance(payload, DeliverableDecision):
        decided = facts.deliverable(payload.hub_id)
        assert decided is not None
        accepted = action == "accept_deliverable"
        fire(facts, action)
        decided.status, decided.reason = (
            ("accepted", "") if accepted else ("rejected", payload.reason)
        )
        out.event(f"deliverable_{decided.status}", who, hub_id=decided.hub_id)
        if all(x.status == "accepted" for x in facts.deliverables):
            fire(facts, "delivery_complete")
            facts.deadlines["review"] = _iso(now + timedelta(days=facts.review_days))
            out.event("delivery_completed", SYSTEM, review_deadline=facts.deadlines["review"])
            out.effects.append("issue_link:review")
    elif isinstance(payload, GiveReview):
        facts.review = Review(rating=payload.rating, comment=payload.comment)
        fire(facts, action)
        facts.outcome = "completed"
        out.event("reviewed", who, rating=payload.rating)
        out.event("closed", SYSTEM, outcome=facts.outcome)
    elif isinstance(payload, ExtendDeadline):
        current = datetime.fromisoformat(facts.deadlines[payload.deadline])
        facts.deadlines[payload.deadline] = _iso(max(current, now) + timedelta(days=payload.days))
        fire(facts, action)
        out.event(
            "deadline_extended",
            who,
            deadline=payload.deadline,
            until=facts.deadlines[payload.deadline],
        )
    else:  # pragma: no cover - every action above has a branch
        raise AssertionError(f"no effect for {action}")
    _clear_deadlines_if_ended(facts)
    return out


def _clear_deadlines_if_ended(facts: CaseFacts) -> None:
    """An ended case waits for nothing: no timer, and never overdue."""
    if not facts.is_open:
        facts.deadlines.clear()


def _close_partnering(facts: CaseFacts, event: str, actor: str, out: Outcome) -> None:
    for inv in facts.invitations:
        if inv.status == "pending":
            inv.status = "lapsed"
    fire(facts, event)
    facts.deadlines.pop("partnering", None)
    facts.deliverables = [Deliverable(hub_id=h) for h in facts.partner_ids]
    out.event("partnering_closed", actor, partner_ids=facts.partner_ids)
    out.effects.append("render_draft")


def on_deadline(facts: CaseFacts, name: str) -> Outcome:
    """A deadline timer fired: lapse invitations, expire the case or close without review."""
    out = Outcome()
    facts.deadlines.pop(name, None)
    if name == "partnering" and facts.state == "partnering":
        if facts.partner_ids:
            _close_partnering(facts, "partnering_lapsed", SYSTEM, out)
        else:
            for inv in facts.invitations:
                if inv.status == "pending":
                    inv.status = "lapsed"
            fire(facts, "partnering_lapsed")
            out.event("expired", SYSTEM, reason="no partner confirmed by the partnering deadline")
    elif name == "review" and facts.state == "review":
        fire(facts, "review_window_closed")
        facts.outcome = "no_review"
        out.event("closed", SYSTEM, outcome=facts.outcome)
    _clear_deadlines_if_ended(facts)
    return out
