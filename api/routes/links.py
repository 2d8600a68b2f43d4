"""One-time links for external parties (the client): what is asked, the document, doing it.

A token allows one action on one case, is stored hashed, and is refused after use or expiry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import col

from api.action_docs import link_body
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


class PrivateRoute(APIRoute):
    """A route whose answers carry a link token's page or data: never cached, never sent on
    as a referrer (the token is in the URL)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def private(request: Request) -> Response:
            response = await handler(request)
            response.headers.update(PRIVATE_HEADERS)
            return response

        return private


PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
TOKEN_IN_PATH = re.compile(r"(/l/|/v1/links/)[^/?\s]+")


class RedactLinkTokens(logging.Filter):
    """Access log lines show ``/l/<token>`` instead of the token (a log is read by more
    people than the link was meant for)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_PATH.sub(r"\1<token>", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def redact_link_tokens(logger_name: str = "uvicorn.access") -> None:
    """Install ``RedactLinkTokens`` on the access log (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
        logger.addFilter(RedactLinkTokens())


router = APIRouter(prefix="/v1/links", tags=["links"], route_class=PrivateRoute)
VERSIONED = re.compile(r"^[a-z_]+:v(\d+):")
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
    version = link_version(link.purpose)
    draft = case_facts(case).draft
    if version is not None and (draft is None or draft.version != version):
        raise ApiError(
            410,
            f"this link was for version {version} of the agreement, which has been replaced; "
            "use the link sent for the current version",
            title="Link replaced",
        )
    return link, case


def link_version(purpose: str) -> int | None:
    """The draft version a link is bound to (``sign:v2:client``), None for links about no
    version."""
    match = VERSIONED.match(purpose)
    return int(match.group(1)) if match else None


def claim_link(session: Any, link: LinkToken) -> datetime:
    """Mark the link used, atomically: of two requests with one link only one gets past this
    (the other is a 410), whatever they do at the same moment. Returns the claim's time."""
    now = utcnow()
    claimed = session.execute(
        update(LinkToken)
        .where(col(LinkToken.token_hash) == link.token_hash, col(LinkToken.used_at).is_(None))
        .values(used_at=now)
    ).rowcount
    session.commit()
    if claimed != 1:
        raise ApiError(410, "this link has been used already", title="Link used")
    return now


def release_link(session: Any, link: LinkToken, claimed_at: datetime) -> None:
    """Give the link back after the step it was claimed for was refused or failed."""
    session.rollback()
    session.execute(
        update(LinkToken)
        .where(col(LinkToken.token_hash) == link.token_hash, col(LinkToken.used_at) == claimed_at)
        .values(used_at=None)
    )
    session.commit()


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


LINK_BODY = link_body()


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
    claimed_at = claim_link(session, link)
    try:
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
    except BaseException:
        release_link(session, link, claimed_at)
        raise
    session.expire_all()
    refreshed = session.get(Case, case.id)
    assert refreshed is not None
    return link_info(session, link, refreshed, token)
