"""Response models and how a stored case becomes one (for a given caller)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel
from sqlmodel import Session

from activities.notify import read_outbox
from base.settings import Settings
from domain.actions import allowed_actions
from domain.cases import Caller, Role
from domain.dossier import EXECUTED_TEMPLATE
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


class LinkView(BaseModel):
    """A one-time link as sent to an external party (dev outbox of the embedded default)."""

    action: str
    url: str
    sent_at: str


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
    end_reason: str
    allowed_actions: list[str]
    links: list[LinkView]
    seq: int
    head_hash: str


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


def case_view(session: Session, case: Case, caller: Caller, settings: Settings) -> CaseView:
    facts = case_facts(case)
    ids = [
        facts.lead_hub_id,
        *(i.hub_id for i in facts.invitations),
        *(i.hub_id for i in facts.introductions),
    ]
    names = hub_names(session, ids)
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
    is_lead = caller.hub_id == facts.lead_hub_id and caller.role != "link"
    insider = is_lead or caller.role in (Role.back_office, Role.legal)
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
        end_reason=facts.end_reason,
        allowed_actions=allowed_actions(facts, caller),
        links=links,
        seq=case.seq,
        head_hash=case.head_hash,
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
        items=[TimelineEventView(**r.model_dump(exclude={"case_id"})) for r in rows],
    )
