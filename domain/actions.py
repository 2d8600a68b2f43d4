"""Human steps: their payloads and who may take them (what they *do* is in ``domain.steps``).

One place decides, for the workflow's validators and the API alike:

- ``allowed_actions(facts, caller)``: the actions this caller can take now (lifecycle events
  enabled now, filtered by the permission rules below);
- ``check_action(facts, action, caller, payload)``: raises ``ActionRefused`` with the status of
  DESIGN.md's precedence (404 unknown, 409 not enabled for anyone, 403 not this caller's,
  422 bad body) and returns the validated payload.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from domain.agreements import cost_share_error
from domain.cases import (
    CLIENT,
    EXTERNAL_PARTIES,
    HUB_ROLES,
    LOCAL_PLAYER,
    Caller,
    CaseFacts,
    FileRef,
    Role,
    Scenario,
    TaskSpec,
    lead_positions,
    one_line,
)
from domain.errors import ActionRefused
from domain.hubs import HubProfile
from domain.lifecycle import enabled_event_names
from domain.outcomes import LINK_ALTERNATIVES

SHA256 = r"^[0-9a-f]{64}$"
HUB_ID = r"^[a-z0-9][a-z0-9-]{1,63}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoPayload(_Payload):
    pass


class Reason(_Payload):
    reason: str = Field(min_length=1, max_length=2000)


class OptionalReason(_Payload):
    reason: str = Field(default="", max_length=2000)


class HubIds(_Payload):
    hub_ids: list[str] = Field(min_length=1, max_length=20)


class InvitePartners(HubIds):
    pass


class SelectCandidates(HubIds):
    pass


class ReviseDraft(_Payload):
    scope: str | None = Field(default=None, min_length=1, max_length=5000)
    tasks: list[TaskSpec] | None = Field(default=None, min_length=1, max_length=50)


class RequestChanges(_Payload):
    comments: str = Field(min_length=1, max_length=5000)


class Sign(_Payload):
    document_sha256: str = Field(pattern=SHA256)
    signer_name: Annotated[str, AfterValidator(one_line)] = Field(default="", max_length=200)


class SubmitDeliverable(_Payload):
    summary: str = Field(min_length=1, max_length=5000)
    deliverable_id: str | None = Field(default=None, max_length=40)
    file: FileRef | None = None  # set by the API from an uploaded file, never by a client


class DeliverableDecision(_Payload):
    deliverable_id: str | None = Field(default=None, max_length=40)
    hub_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=2000)


class GiveReview(_Payload):
    """The review of a case's client or local player (through its link; in co-development
    before the quality review, each hub's). Cases with the quality review (patch
    ``quality-review``) take the survey: ``quality``, ``timeliness``, ``communication`` and
    ``value`` (1-5) and ``would_recommend``; cases started before it take one ``rating``."""

    rating: int | None = Field(default=None, description="1-5; cases before the survey", ge=1, le=5)
    quality: int | None = Field(default=None, description="1-5", ge=1, le=5)
    timeliness: int | None = Field(default=None, description="1-5", ge=1, le=5)
    communication: int | None = Field(default=None, description="1-5", ge=1, le=5)
    value: int | None = Field(default=None, description="1-5: value for money", ge=1, le=5)
    would_recommend: bool | None = None
    comment: str = Field(default="", max_length=5000)


SURVEY_FIELDS = ("quality", "timeliness", "communication", "value", "would_recommend")


class GivePeerReview(_Payload):
    """A party hub's peer review: a partner reviews the collaboration (the lead hub), the
    lead reviews each partner, naming it in ``hub_id`` when it has more than one."""

    hub_id: str | None = Field(default=None, pattern=HUB_ID, description="the hub reviewed")
    reliability: int = Field(description="1-5", ge=1, le=5)
    contribution: int = Field(description="1-5", ge=1, le=5)
    would_collaborate_again: bool
    comment: str = Field(default="", max_length=5000)


class ExtendDeadline(_Payload):
    deadline: str = Field(min_length=1, max_length=80, description="a running deadline's name")
    days: int = Field(ge=1, le=365)


class CompletePilot(_Payload):
    success: bool
    summary: str = Field(default="", max_length=5000)


class RecordMeeting(_Payload):
    hub_id: str = Field(pattern=HUB_ID)
    held_on: date
    notes: str = Field(default="", max_length=5000)


class Nudge(_Payload):
    note: str = Field(default="", max_length=2000, description="added to the reminder sent")


class RecordOutcome(_Payload):
    result: Literal["collaboration_agreed", "further_talks", "no_fit"]
    summary: str = Field(default="", max_length=5000)


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
    "complete_pilot": CompletePilot,
    "select_candidates": SelectCandidates,
    "consent": NoPayload,
    "decline_consent": OptionalReason,
    "record_meeting": RecordMeeting,
    "request_nda": NoPayload,
    "skip_nda": NoPayload,
    "record_outcome": RecordOutcome,
    "review": GiveReview,
    "peer_review": GivePeerReview,
    "cancel": Reason,
    "extend_deadline": ExtendDeadline,
    "nudge": Nudge,
}
ACTIONS = tuple(PAYLOADS)


def kebab(name: str) -> str:
    return name.replace("_", "-")


def snake(name: str) -> str:
    return name.replace("-", "_")


# -- who may take an action (beyond the lifecycle saying it is enabled) -----------------------
def _is_lead(f: CaseFacts, c: Caller) -> bool:
    return c.role in HUB_ROLES and c.hub_id == f.lead_hub_id


def signer_party(f: CaseFacts, c: Caller) -> str | None:
    """The party this caller signs for, if it may sign (only signatories and external links)."""
    if c.role == Role.hub_signatory and c.hub_id in f.signers:
        return c.hub_id
    if c.role == "link" and c.party in EXTERNAL_PARTIES and c.party in f.signers:
        return c.party
    return None


def repeated_signature(
    facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any] | None
) -> bool:
    """The same signature twice: answered like the first (200), recording nothing. Checked
    before the lifecycle, since the last signature moves the case on."""
    if action != "sign" or facts.draft is None:
        return False
    party = signer_party(facts, caller)
    sha = (body or {}).get("document_sha256")
    return party is not None and sha == facts.draft.sha256 == facts.signatures.get(party)


def signing_authority(
    profile: HubProfile, representative_id: str | None, template: str, on: date
) -> str | None:
    """Why the representative may not sign ``template`` for the hub on ``on``; None when it may."""
    people = {r.id: r for r in profile.representatives}
    rep = people.get(representative_id or "")
    if rep is None:
        return f"this key is not tied to an authorised representative of {profile.name}"
    gap = rep.gap(template, on)
    if gap is None and rep.delegated_by:
        delegator = people.get(rep.delegated_by)
        if delegator is None:
            return f"{rep.name}'s delegation comes from no current representative"
        gap = delegator.gap(template, on)
        if gap is not None:
            gap = f"delegated by {delegator.name}, whose mandate does not hold: {gap}"
    return gap


def signer_name(
    profile: HubProfile, representative_id: str | None, template: str, on: date, action: str
) -> str:
    """The representative signing (or declining) for the hub on ``on``: its name, or a 403
    naming why it holds no mandate for ``template`` (checked by the API, which has the hub's
    registry entry; the workflow's facts do not carry people)."""
    why = signing_authority(profile, representative_id, template, on)
    if why is not None:
        raise ActionRefused(
            "Not an authorised representative",
            f"cannot {action.replace('_', ' ')} for {profile.name}: {why}",
            status=403,
            allowed_actions=[],
        )
    return next(r.name for r in profile.representatives if r.id == representative_id)


def _may_sign(f: CaseFacts, c: Caller) -> bool:
    """A party still to sign; in a sequential round, only the next one in signing order."""
    party = signer_party(f, c)
    if party is None or party not in f.unsigned:
        return False
    return f.signing_order == "parallel" or party == f.unsigned[0]


def _has_pending_invitation(f: CaseFacts, c: Caller) -> bool:
    inv = f.invitation(c.hub_id) if c.role in HUB_ROLES else None
    return inv is not None and inv.status == "pending"


def _owes_deliverable(f: CaseFacts, c: Caller) -> bool:
    if c.role not in HUB_ROLES:
        return False
    return any(d.hub_id == c.hub_id and d.status in ("pending", "rejected") for d in f.deliverables)


def consent_side(f: CaseFacts, c: Caller) -> tuple[str, str] | None:
    """(candidate hub, side) whose consent this caller gives, if one is pending."""
    if c.role in HUB_ROLES:
        intro = f.introduction(c.hub_id)
        if intro is not None and intro.hub_consent == "pending":
            return intro.hub_id, "hub"
    if c.role == "link" and c.party == LOCAL_PLAYER:
        intro = f.introduction(c.subject)
        if intro is not None and intro.player_consent == "pending":
            return intro.hub_id, "player"
    return None


def _may_review(f: CaseFacts, c: Caller) -> bool:
    if f.scenario == Scenario.co_development:
        return (
            c.role in HUB_ROLES and c.hub_id in f.party_hub_ids and c.hub_id not in f.peer_reviews
        )
    party = CLIENT if f.scenario == Scenario.joint_service else LOCAL_PLAYER
    return c.role == "link" and c.party == party


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
    "complete_pilot": _is_lead,
    "select_candidates": _is_lead,
    "consent": lambda f, c: consent_side(f, c) is not None,
    "decline_consent": lambda f, c: consent_side(f, c) is not None,
    "record_meeting": _is_lead,
    "request_nda": _is_lead,
    "skip_nda": _is_lead,
    "record_outcome": _is_lead,
    "review": _may_review,
    "peer_review": lambda f, c: c.role in HUB_ROLES and bool(f.reviews_owed(c.hub_id)),
    "cancel": lambda f, c: _is_lead(f, c) or c.role == Role.back_office,
    "extend_deadline": lambda f, c: c.role == Role.back_office,
    "nudge": lambda f, c: c.role == Role.back_office,
}
assert set(RULES) == set(PAYLOADS), "every action needs a permission rule"


def link_actions(link_action: str | None) -> tuple[str, ...]:
    if link_action is None:
        return ()
    return (link_action, *LINK_ALTERNATIVES.get(link_action, ()))


def permitted(facts: CaseFacts, action: str, caller: Caller) -> bool:
    if caller.role == "link" and action not in link_actions(caller.link_action):
        return False  # a link token is good for its one request only
    return RULES[action](facts, caller)


def allowed_actions(
    facts: CaseFacts, caller: Caller, enabled: list[str] | None = None
) -> list[str]:
    """Kebab-case actions ``caller`` can take now: enabled by the lifecycle (``enabled``, when
    the caller has just asked it) and permitted."""
    if enabled is None:
        enabled = enabled_event_names(facts)
    return [kebab(a) for a in enabled if a in PAYLOADS and permitted(facts, a, caller)]


def _invalid(detail: str, *errors: tuple[str, str]) -> ActionRefused:
    return ActionRefused(
        "Invalid request body",
        detail,
        status=422,
        errors=[{"field": f, "message": m} for f, m in errors],
    )


def parse_payload(action: str, body: dict[str, Any] | None) -> _Payload:
    try:
        return PAYLOADS[action].model_validate(body or {})
    except ValidationError as exc:
        errors = [
            (".".join(str(p) for p in err["loc"]) or "body", err["msg"]) for err in exc.errors()
        ]
        raise _invalid(f"the body of {kebab(action)} is not valid", *errors) from None


def check_action(
    facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any] | None
) -> _Payload:
    """Raise ``ActionRefused`` unless ``caller`` may take ``action`` now; return the payload."""
    check_allowed(facts, action, caller)
    return check_body(facts, action, caller, body)


def is_executed(facts: CaseFacts) -> bool:
    """Every party has signed the current draft (the agreement is executed)."""
    return facts.draft is not None and not facts.unsigned


def check_external_copy(facts: CaseFacts, caller: Caller, sha256: str | None) -> bool:
    """May ``caller`` attach the executed copy signed elsewhere with this SHA-256 (``None``:
    whatever the file, asked before it is read)? True when it is new, False when this very
    copy is attached already; ``ActionRefused`` otherwise (409 before every party has signed
    here or when another copy is attached, 403 but for the lead hub)."""
    if not is_executed(facts):
        raise ActionRefused(
            "Not executed yet",
            "the agreement is not executed yet: every party signs it here first",
            status=409,
            allowed_actions=allowed_actions(facts, caller),
        )
    if not _is_lead(facts, caller):
        raise ActionRefused(
            "Not your attachment", "only the lead hub attaches the executed copy", status=403
        )
    if sha256 is not None and facts.external_copy_sha256 not in (None, sha256):
        version = facts.draft.version if facts.draft else 0
        raise ActionRefused(
            "Another copy attached",
            f"an executed copy is already attached for version {version} "
            f"(SHA-256 {facts.external_copy_sha256})",
            status=409,
            allowed_actions=allowed_actions(facts, caller),
        )
    return facts.external_copy_sha256 is None


def check_body(
    facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any] | None
) -> _Payload:
    """The body half of ``check_action`` (422, or 409 for a signature over another draft), for
    a request whose ``check_allowed`` has just passed on the same facts."""
    payload = parse_payload(action, body)
    _check_payload_against_facts(facts, action, payload, caller)
    return payload


def check_allowed(facts: CaseFacts, action: str, caller: Caller) -> None:
    """The body-free part of ``check_action``: 404 unknown, 409 not now, 403 not yours.

    Asks the lifecycle once and runs this action's permission rule once; the caller's whole
    ``allowed_actions`` (every rule) is worked out only for a refusal, which lists them.
    """
    if action not in PAYLOADS:
        raise ActionRefused(
            "Unknown action",
            f"{kebab(action)!r} is not an action; known actions: "
            + ", ".join(kebab(a) for a in ACTIONS),
            status=404,
        )
    enabled = enabled_event_names(facts)
    if action not in enabled:
        raise ActionRefused(
            "Action not allowed now",
            f"{kebab(action)} is not possible while the case is {facts.state}",
            status=409,
            allowed_actions=allowed_actions(facts, caller, enabled),
        )
    if not permitted(facts, action, caller):
        raise ActionRefused(
            "Not your action",
            f"{kebab(action)} is possible now but not for this caller",
            status=403,
            allowed_actions=allowed_actions(facts, caller, enabled),
        )


def decided_deliverable(facts: CaseFacts, payload: DeliverableDecision) -> Any:
    if payload.deliverable_id:
        return facts.deliverable_by_id(payload.deliverable_id)
    return next(
        (d for d in facts.deliverables if d.hub_id == payload.hub_id and d.status == "submitted"),
        None,
    )


def _check_payload_against_facts(
    facts: CaseFacts, action: str, payload: _Payload, caller: Caller
) -> None:
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
    elif isinstance(payload, DeliverableDecision):
        d = decided_deliverable(facts, payload)
        if d is None or d.status != "submitted":
            field = "deliverable_id" if payload.deliverable_id else "hub_id"
            raise _invalid("there is no such submitted deliverable", (field, "nothing submitted"))
        if action == "reject_deliverable" and not payload.reason:
            raise _invalid("a rejected deliverable needs a reason", ("reason", "required"))
    elif isinstance(payload, SubmitDeliverable) and payload.deliverable_id:
        d = facts.deliverable_by_id(payload.deliverable_id)
        if d is None or d.hub_id != caller.hub_id or d.status not in ("pending", "rejected"):
            raise _invalid("not an open deliverable of yours", ("deliverable_id", "not open"))
    elif isinstance(payload, ReviseDraft) and payload.tasks is not None:
        _check_tasks(facts, payload.tasks)
    elif isinstance(payload, InvitePartners) and lead_positions(facts.lead_hub_id, payload.hub_ids):
        raise _invalid("the lead hub cannot invite itself", ("hub_ids", "the lead hub"))
    elif isinstance(payload, SelectCandidates) and lead_positions(
        facts.lead_hub_id, payload.hub_ids
    ):
        raise _invalid("the lead hub cannot be its own candidate", ("hub_ids", "the lead hub"))
    elif isinstance(payload, ExtendDeadline) and payload.deadline not in facts.deadlines:
        running = ", ".join(n for n in facts.deadlines if not n.endswith("_reminder")) or "none"
        raise _invalid(
            f"the case has no {payload.deadline} deadline to extend",
            ("deadline", f"running deadlines: {running}"),
        )
    elif isinstance(payload, GiveReview):
        _check_review(facts, payload)
    elif isinstance(payload, GivePeerReview):
        peer_review_subject(facts, payload, caller)
    elif isinstance(payload, RecordMeeting) and payload.hub_id not in facts.matched_hub_ids:
        raise _invalid(
            "a meeting is with a hub that consented on both sides",
            ("hub_id", "matched hubs: " + (", ".join(facts.matched_hub_ids) or "none")),
        )


def _check_review(facts: CaseFacts, p: GiveReview) -> None:
    """The survey on cases with the quality review, one rating on the cases before it."""
    if not facts.quality_review:
        if p.rating is None:
            raise _invalid("a review needs a rating", ("rating", "required (1-5)"))
        return
    missing = [(f, "required") for f in SURVEY_FIELDS if getattr(p, f) is None]
    if p.rating is not None:
        missing.append(("rating", "the survey's four scores replace one rating"))
    if missing:
        raise _invalid("the quality survey is not complete", *missing)


def peer_review_subject(facts: CaseFacts, p: GivePeerReview, caller: Caller) -> str:
    """The hub a peer review is about: ``hub_id``, or the only hub the caller still reviews."""
    owed = facts.reviews_owed(caller.hub_id)
    if p.hub_id is None and len(owed) == 1:
        return owed[0]
    if p.hub_id is None or p.hub_id not in owed:
        raise _invalid(
            "name a hub you still review",
            ("hub_id", "hubs you still review: " + (", ".join(owed) or "none")),
        )
    return p.hub_id


def _check_tasks(facts: CaseFacts, tasks: list[TaskSpec]) -> None:
    parties = set(facts.party_hub_ids)
    errors = [
        (f"tasks.{i}.hub_id", f"{t.hub_id!r} is not a party hub of this case")
        for i, t in enumerate(tasks)
        if t.hub_id not in parties
    ]
    problem = cost_share_error(t.cost_share_pct for t in tasks)
    if problem is not None:
        errors.append(("tasks", problem))
    if errors:
        raise _invalid("the tasks do not fit this case", *errors)
