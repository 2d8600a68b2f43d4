"""One-time links for external parties (the client): what is asked, the document, doing it.

A token allows one action on one case, is stored hashed, and is refused after use or expiry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.problems import ApiError
from api.routes.cases import ERRORS, document_file
from api.steps import perform_action
from api.uploads import read_json_body
from domain.actions import PAYLOADS, kebab, link_actions, snake
from domain.cases import Caller
from store.db import as_utc
from store.models import Case, LinkToken, utcnow
from store.queries import case_facts, hub_names
from store.records import find_link

router = APIRouter(prefix="/v1/links", tags=["links"])
LINK_ERRORS = {**ERRORS, 410: ERRORS[404]}


class LinkDocument(BaseModel):
    id: str
    version: int
    sha256: str
    download_url: str


class LinkInfo(BaseModel):
    case_id: str
    title: str
    action: str
    also_allowed: list[str]
    party: str
    party_name: str
    subject: str | None
    subject_name: str
    asked_by: str
    state: str
    expires_at: datetime
    document: LinkDocument | None
    fields: dict[str, Any]
    survey: bool = False  # a review link of a case with the quality survey


def usable_link(session: Any, token: str) -> tuple[LinkToken, Case]:
    link = find_link(session, token)
    if link is None:
        raise ApiError(404, "this link is not known")
    if link.used_at is not None:
        raise ApiError(410, "this link has been used already", title="Link used")
    if as_utc(link.expires_at) <= utcnow():  # type: ignore[operator]
        raise ApiError(
            410, "this link has expired; ask the lead hub for a new one", title="Link expired"
        )
    case = session.get(Case, link.case_id)
    assert case is not None
    return link, case


def link_caller(link: LinkToken) -> Caller:
    return Caller(
        principal_id=f"link-{link.token_hash[:12]}",
        role="link",
        party=link.party,
        link_action=link.action,
        subject=link.subject,
    )


def link_info(session: Any, link: LinkToken, case: Case, token: str) -> LinkInfo:
    facts = case_facts(case)
    names = hub_names(session, [facts.lead_hub_id, link.subject or ""])
    lead = names.get(facts.lead_hub_id, facts.lead_hub_id)
    who = facts.external(link.party)
    doc = None
    if facts.draft is not None:
        doc = LinkDocument(
            id=facts.draft.document_id,
            version=facts.draft.version,
            sha256=facts.draft.sha256,
            download_url=f"/v1/links/{token}/document",
        )
    return LinkInfo(
        case_id=case.id,
        title=case.title,
        action=kebab(link.action),
        also_allowed=[kebab(a) for a in link_actions(link.action)[1:]],
        party=link.party,
        party_name=who.name if who else link.party,
        subject=link.subject,
        subject_name=names.get(link.subject or "", ""),
        asked_by=lead,
        state=case.state,
        expires_at=as_utc(link.expires_at),  # type: ignore[arg-type]
        document=doc,
        fields=PAYLOADS[link.action].model_json_schema(),
        survey=link.action == "review" and facts.quality_review,
    )


@router.get("/{token}", response_model=LinkInfo, responses=LINK_ERRORS)
def get_link(token: str, session: SessionDep) -> LinkInfo:
    """What the link asks, by whom, and the document to read first."""
    link, case = usable_link(session, token)
    return link_info(session, link, case, token)


@router.get("/{token}/document", response_class=FileResponse, responses=LINK_ERRORS)
def get_link_document(token: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    link, case = usable_link(session, token)
    facts = case_facts(case)
    if facts.draft is None:
        raise ApiError(404, "there is no document to read for this link")
    return document_file(session, settings, case.id, facts.draft.document_id)


LINK_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}}
        },
    }
}


@router.post("/{token}", response_model=LinkInfo, responses=LINK_ERRORS, openapi_extra=LINK_BODY)
async def use_link(
    token: str,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    action: Annotated[str | None, Query(max_length=40)] = None,
) -> LinkInfo:
    """Do what the link asks (e.g. sign with the document's SHA-256, or give the review), the
    body a JSON object; ``?action=`` picks the alternative the link also allows
    (``decline-to-sign``, ``decline-consent``). The token is checked before the body is read:
    an unknown or spent link answers 404 or 410 whatever the body."""
    return await act_by_link(session, client, request, token, action, None)


async def act_by_link(
    session: Any,
    client: Any,
    request: Request,
    token: str,
    action: str | None,
    body: dict[str, Any] | None,
) -> LinkInfo:
    """``body`` None: the request's JSON body, read once the link and the action are allowed
    (no pooled connection is held while it arrives)."""
    link, case = usable_link(session, token)
    chosen = snake(action) if action else link.action
    if chosen not in link_actions(link.action):
        allowed = [kebab(a) for a in link_actions(link.action)]
        raise ApiError(403, f"this link allows only: {', '.join(allowed)}", allowed_actions=allowed)
    if body is None:
        session.close()
        body = await read_json_body(request)
    await perform_action(
        session,
        client,
        case,
        chosen,
        link_caller(link),
        body,
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:300],
    )
    link.used_at = utcnow()
    session.add(link)
    session.commit()
    session.expire_all()
    refreshed = session.get(Case, case.id)
    assert refreshed is not None
    return link_info(session, link, refreshed, token)
