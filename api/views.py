"""Response models and how a stored case becomes one (for a given caller)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from activities.notify import read_outbox
from api.action_docs import action_path, schema_ref
from base.settings import Settings
from domain.actions import allowed_actions, snake
from domain.cases import HUB_ROLES, Caller, Role
from domain.dossier import EXECUTED_TEMPLATE
from store import framework as framework_rows
from store.db import as_utc
from store.models import Case, TimelineEntry
from store.queries import ListedCase, case_facts, documents, hub_names, signatures


class HubRef(BaseModel):
    id: str
    name: str


class PartyView(BaseModel):
    hub_id: str
    name: str
    role: str  # lead, partner, invited (pending), declined, lapsed
    # bound by the framework agreement in force? None while no edition is in force; False
    # flags a party whose agreement is rendered with the standalone terms
    framework_bound: bool | None = None


class FrameworkRef(BaseModel):
    """The framework agreement edition in force, and the case's hubs it does not bind."""

    edition_id: str
    label: str
    unbound_hub_ids: list[str]


class DocumentView(BaseModel):
    id: str
    version: int
    template: str
    template_version: str
    sha256: str
    size: int
    created_at: datetime
    download_url: str
    # the executed copy's PDF: made when first asked for (unless made in the background)
    pdf_url: str | None = None


class SignatureView(BaseModel):
    party: str
    document_id: str
    document_sha256: str
    signed_at: datetime


class DeliverableView(BaseModel):
    id: str
    hub_id: str
    title: str
    due: str
    status: str
    summary: str
    reason: str
    file: dict[str, Any] | None
    reminders: int
    submitted_at: str = ""
    accepted_at: str = ""


class LinkView(BaseModel):
    """A one-time link as sent to an external party (dev outbox of the embedded default)."""

    action: str
    url: str
    sent_at: str


class SuggestedPartner(BaseModel):
    """A hub the matching ranked for a joint service when it opened (``domain.matching``, the
    model of ``POST /v1/matches`` and of the matchmaking start): advice for the lead, who may
    invite any hub."""

    hub_id: str
    name: str
    score: float = Field(description="out of 100")
    components: dict[str, float] = Field(description="each score component, in [0, 1]")
    reasons: list[str]
    invited: bool = Field(description="already invited (whatever the invitation's status)")


class CaseSummary(BaseModel):
    id: str
    scenario: str
    state: str
    outcome: str | None
    title: str
    lead_hub_id: str
    next_deadline: datetime | None
    created_at: datetime
    updated_at: datetime


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class ActionView(BaseModel):
    """One step the caller can take: where to send it and the schema of its body."""

    action: str
    path: str = Field(description="POST here, the body a JSON object of `body_schema`")
    body_schema: str = Field(description="the body's schema in this OpenAPI document")


class CaseView(CaseSummary):
    need: str
    scope: str
    lead_hub: HubRef
    client: dict[str, str] | None
    local_player: dict[str, str] | None
    parties: list[PartyView]
    deadlines: dict[str, str]
    draft: dict[str, Any] | None
    changes_requested: str
    review_comments: list[dict[str, Any]]
    signing_order: str
    documents: list[DocumentView]
    signatures: list[SignatureView]
    awaiting_signatures: list[str]
    deliverables: list[DeliverableView]
    overdue: bool
    co_development: dict[str, Any] | None
    matchmaking: dict[str, Any] | None
    review: dict[str, Any] | None
    quality: dict[str, Any] | None = None  # the quality review (cases opened since it exists)
    suggested_partners: list[SuggestedPartner] = Field(
        default=[],
        description="a joint service's partners suggested by the matching when it opened, best "
        "first; shown to the lead hub and the network staff",
    )
    end_reason: str
    allowed_actions: list[str] = Field(
        description="the steps this caller can take now; `actions` says how to take each"
    )
    actions: list[ActionView]
    links: list[LinkView]
    seq: int
    head_hash: str
    framework_agreement: FrameworkRef | None = None


class TimelineEventView(BaseModel):
    seq: int
    type: str
    actor: str
    at: str
    data: dict[str, Any]
    prev: str
    hash: str


class Timeline(BaseModel):
    case_id: str
    head_hash: str
    chain: int = 1  # the chain version: 2 binds every event hash to case_id (domain.timeline)
    items: list[TimelineEventView]


def json_response(model: BaseModel) -> Response:
    """``model`` as JSON. It was validated when it was built: a route that returns it this way
    spares FastAPI validating it again (in one more thread hop for a plain ``def`` route)."""
    return Response(model.model_dump_json(), media_type="application/json")


def summary(case: ListedCase) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        scenario=case.scenario,
        state=case.state,
        outcome=case.outcome,
        title=case.title,
        lead_hub_id=case.lead_hub_id,
        next_deadline=as_utc(case.next_deadline),
        created_at=as_utc(case.created_at),  # type: ignore[arg-type]
        updated_at=as_utc(case.updated_at),  # type: ignore[arg-type]
    )


def _framework(session: Session, parties: list[PartyView]) -> FrameworkRef | None:
    """Flag each party hub the framework agreement in force does not bind (none in force:
    nothing to flag)."""
    edition = framework_rows.edition_in_force(session)
    if edition is None:
        return None
    bound = framework_rows.bound_hub_ids(session, edition.id)
    for party in parties:
        party.framework_bound = party.hub_id in bound
    unbound = sorted({p.hub_id for p in parties if not p.framework_bound})
    return FrameworkRef(edition_id=edition.id, label=edition.label, unbound_hub_ids=unbound)


def case_view(session: Session, case: Case, caller: Caller, settings: Settings) -> CaseView:
    facts = case_facts(case)
    left = facts.departed(caller.hub_id) if caller.role in HUB_ROLES else None
    if left is not None:
        return departed_view(session, case, facts, caller.hub_id or "", left)
    ids = [
        facts.lead_hub_id,
        *(i.hub_id for i in facts.invitations),
        *(i.hub_id for i in facts.introductions),
    ]
    is_lead = caller.hub_id == facts.lead_hub_id and caller.role != "link"
    insider = is_lead or caller.role in (Role.back_office, Role.legal)
    suggested = facts.candidates if insider and facts.scenario == "joint_service" else []
    names = hub_names(session, [*ids, *(c.hub_id for c in suggested)])
    parties = [
        PartyView(hub_id=facts.lead_hub_id, name=names.get(facts.lead_hub_id, ""), role="lead")
    ]
    parties += [
        PartyView(
            hub_id=i.hub_id,
            name=names.get(i.hub_id, ""),
            role={"accepted": "partner", "pending": "invited"}.get(i.status, i.status),
        )
        for i in facts.invitations
    ]
    parties += [
        PartyView(
            hub_id=i.hub_id,
            name=names.get(i.hub_id, ""),
            role="matched" if i.mutual else "candidate",
        )
        for i in facts.introductions
    ]
    framework = _framework(session, parties)
    links = []
    # Only in the embedded default (dev outbox, no mail): the lead sees the client's links to
    # pass on by hand. Elsewhere a link reaches its party only, by mail.
    if settings.dev_pages and (is_lead or caller.role == Role.back_office):
        links = [
            LinkView(action=m["action"], url=m["link"], sent_at=m["sent_at"])
            for m in read_outbox(settings.outbox_dir, case.id)
            if m["link"]
        ]
    base = summary(case)
    return CaseView(
        **base.model_dump(),
        need=facts.need,
        scope=facts.scope,
        lead_hub=HubRef(id=facts.lead_hub_id, name=names.get(facts.lead_hub_id, "")),
        client=_external(facts.client, insider),
        local_player=_external(facts.local_player, insider),
        parties=parties,
        framework_agreement=framework,
        deadlines=facts.deadlines,
        draft=facts.draft.model_dump() if facts.draft else None,
        changes_requested=facts.changes_requested,
        review_comments=[c.model_dump() for c in facts.review_comments],
        signing_order=facts.signing_order,
        documents=[
            DocumentView(
                id=d.id,
                version=d.version,
                template=d.template,
                template_version=d.template_version,
                sha256=d.sha256,
                size=d.size,
                created_at=as_utc(d.created_at),  # type: ignore[arg-type]
                download_url=f"/v1/cases/{case.id}/documents/{d.id}",
                pdf_url=f"/v1/cases/{case.id}/documents/{d.id}-pdf"
                if d.template == EXECUTED_TEMPLATE
                else None,
            )
            for d in documents(session, case.id)
        ],
        signatures=[
            SignatureView(
                party=s.party,
                document_id=s.document_id,
                document_sha256=s.document_sha256,
                signed_at=as_utc(s.signed_at),  # type: ignore[arg-type]
            )
            for s in signatures(session, case.id)
        ],
        awaiting_signatures=facts.unsigned if facts.state == "signing" else [],
        deliverables=[DeliverableView(**d.model_dump()) for d in facts.deliverables],
        overdue=case.overdue,
        co_development=_co_development(facts),
        matchmaking=_matchmaking(facts),
        review=facts.review.model_dump() if facts.review else None,
        quality=_quality(facts),
        suggested_partners=[
            SuggestedPartner(
                hub_id=c.hub_id,
                name=names.get(c.hub_id, ""),
                score=c.score,
                components=c.components,
                reasons=c.reasons,
                invited=facts.invitation(c.hub_id) is not None,
            )
            for c in suggested
        ],
        end_reason=facts.end_reason,
        allowed_actions=(allowed := allowed_actions(facts, caller)),
        actions=[
            ActionView(
                action=a, path=action_path(case.id, snake(a)), body_schema=schema_ref(snake(a))
            )
            for a in allowed
        ],
        links=links,
        seq=case.seq,
        head_hash=case.head_hash,
    )


def departed_view(session: Session, case: Case, facts: Any, hub_id: str, left: str) -> CaseView:
    """What a hub that left the case sees: that it was asked, by whom, and how that ended;
    nothing of the work (drafts, documents, signatures, deliverables, other parties)."""
    names = hub_names(session, [facts.lead_hub_id, hub_id])
    lead = HubRef(id=facts.lead_hub_id, name=names.get(facts.lead_hub_id, ""))
    return CaseView(
        **summary(case).model_dump(),
        need="",
        scope="",
        lead_hub=lead,
        client=None,
        local_player=None,
        parties=[
            PartyView(hub_id=lead.id, name=lead.name, role="lead"),
            PartyView(hub_id=hub_id, name=names.get(hub_id, ""), role=left),
        ],
        deadlines={},
        draft=None,
        changes_requested="",
        review_comments=[],
        signing_order="",
        documents=[],
        signatures=[],
        awaiting_signatures=[],
        deliverables=[],
        overdue=False,
        co_development=None,
        matchmaking=None,
        review=None,
        end_reason="",
        allowed_actions=[],
        actions=[],
        links=[],
        seq=0,
        head_hash="",
    )


def _external(who: Any, insider: bool) -> dict[str, str] | None:
    """An external party: contact details for the lead and the network staff only."""
    if who is None:
        return None
    view = {"name": who.name, "country": who.country}
    if insider:
        view |= {"contact_name": who.contact_name, "email": who.email}
    return view


def _co_development(facts: Any) -> dict[str, Any] | None:
    if facts.scenario != "co_development":
        return None
    return {
        "service_name": facts.service_name,
        "service_description": facts.service_description,
        "ipr_model": facts.ipr_model,
        "background_ip": facts.background_ip,
        "pilot": facts.pilot.model_dump() if facts.pilot else None,
        "peer_reviews": {h: r.model_dump() for h, r in facts.peer_reviews.items()},
    }


def _quality(facts: Any) -> dict[str, Any] | None:
    """The survey, the peer reviews, who still owes one, and the milestones kept on time."""
    if not facts.quality_review:
        return None
    due = [d for d in facts.deliverables if d.due and d.submitted_at]
    on_time = [d for d in due if d.submitted_at[:10] <= d.due]
    return {
        "survey": facts.survey.model_dump() if facts.survey else None,
        "peer_reviews": [r.model_dump() for r in facts.hub_reviews],
        "reviews_owed": {
            hub: facts.reviews_owed(hub)
            for hub in dict.fromkeys(r for r, _ in facts.review_pairs)
            if facts.reviews_owed(hub)
        },
        "milestones_on_time": len(on_time),
        "milestones_submitted": len(due),
    }


def _matchmaking(facts: Any) -> dict[str, Any] | None:
    if facts.scenario != "matchmaking":
        return None
    return {
        "wanted_services": facts.wanted_services,
        "candidates": [c.model_dump() for c in facts.candidates],
        "introductions": [i.model_dump() | {"mutual": i.mutual} for i in facts.introductions],
        "meetings": [m.model_dump() for m in facts.meetings],
        "nda_requested": facts.nda_requested,
        "result": facts.result,
    }


def timeline_view(case: Case, rows: list[TimelineEntry]) -> Timeline:
    return Timeline(
        case_id=case.id,
        head_hash=case.head_hash,
        chain=case_facts(case).chain,
        items=[TimelineEventView(**r.model_dump(exclude={"case_id"})) for r in rows],
    )
