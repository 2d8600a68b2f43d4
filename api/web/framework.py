"""The framework agreement's pages (back office; the legal helpdesk reads them too):

- ``/framework``: the editions, where each stands;
- ``/framework/{id}``: the consultation — every clause with its threaded comments and the
  amendments proposed to it with their tallies;
- ``/framework/{id}/consolidation``: each amendment with its tally, the form to accept or
  reject it with a reason, and the button that publishes the final version;
- ``/framework/{id}/register``: who is bound, since when, until when.

A form acts through the same code as ``/v1/framework-agreements`` (the workflow decides).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep
from api.problems import ApiError
from api.routes.framework import take_step
from api.web.auth import BackOfficeDep, PageError, StaffDep
from api.web.render import page
from base.settings import Settings
from domain.errors import DomainError
from domain.framework_lifecycle import enabled_actions
from store import framework as rows
from store.db import get_engine
from store.queries import hub_names

router = APIRouter(include_in_schema=False)


def _edition(session: Session, edition_id: str) -> rows.FrameworkEdition:
    row = session.get(rows.FrameworkEdition, edition_id)
    if row is None:
        raise PageError(404, f"No framework agreement edition {edition_id}.", "Not found")
    return row


@router.get("/framework", response_class=HTMLResponse)
def editions_page(request: Request, session: SessionDep, staff: StaffDep) -> HTMLResponse:
    editions = rows.editions(session)
    counts = {e.id: len(rows.parties(session, e.id)) for e in editions}
    return page(request, "framework_editions.html", {"editions": editions, "counts": counts})


def _consultation(session: Session, edition_id: str) -> dict[str, Any]:
    edition = _edition(session, edition_id)
    clauses = rows.clauses(session, edition_id, "draft")
    comments = rows.comments(session, edition_id, 0, 100_000)
    amendments = rows.amendments(session, edition_id, 0, 10_000)
    by_clause: dict[str, list[Any]] = defaultdict(list)
    replies: dict[int, list[Any]] = defaultdict(list)
    for c in comments:
        (replies[c.parent_id] if c.parent_id else by_clause[c.clause]).append(c)
    amended: dict[str, list[Any]] = defaultdict(list)
    for a in amendments:
        amended[a.clause].append(a)
    ids = {c.hub_id for c in comments} | {a.hub_id for a in amendments}
    return {
        "edition": edition,
        "clauses": clauses,
        "comments": by_clause,
        "replies": replies,
        "amendments": amended,
        "names": hub_names(session, sorted(ids)),
        "comment_count": len(comments),
        "amendment_count": len(amendments),
    }


@router.get("/framework/{edition_id}", response_class=HTMLResponse)
def consultation_page(
    request: Request, edition_id: str, session: SessionDep, staff: StaffDep
) -> HTMLResponse:
    return page(request, "framework_consultation.html", _consultation(session, edition_id))


def _consolidation(session: Session, edition_id: str, staff: Any) -> dict[str, Any]:
    edition = _edition(session, edition_id)
    amendments = rows.amendments(session, edition_id, 0, 10_000)
    clauses = {c.number: c for c in rows.clauses(session, edition_id, "draft")}
    allowed = enabled_actions(edition) if staff.role == "back_office" else []
    return {
        "edition": edition,
        "amendments": amendments,
        "clauses": clauses,
        "names": hub_names(session, sorted({a.hub_id for a in amendments})),
        "can_decide": "decide_amendment" in allowed,
        "can_publish": "publish_final" in allowed,
        "undecided": sum(1 for a in amendments if a.decision is None),
    }


@router.get("/framework/{edition_id}/consolidation", response_class=HTMLResponse)
def consolidation_page(
    request: Request, edition_id: str, session: SessionDep, staff: StaffDep
) -> HTMLResponse:
    context = _consolidation(session, edition_id, staff)
    done = request.query_params.get("done", "")
    if done in ("decided", "published"):
        context["done"] = done
    return page(request, "framework_consolidation.html", context)


async def _act(
    request: Request, staff: Any, edition_id: str, action: str, body: dict[str, Any]
) -> Response:
    settings: Settings = request.app.state.settings
    session = Session(get_engine(settings.database_url))
    try:
        _edition(session, edition_id)
        await take_step(session, request.app.state.temporal, staff.caller, edition_id, action, body)
    except (ApiError, DomainError) as exc:
        extra = getattr(exc, "extra", None) or {}
        message = exc.detail
        errors = extra.get("errors") or []
        if errors:
            message += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        context = _consolidation(session, edition_id, staff) | {"error": message}
        return page(request, "framework_consolidation.html", context, exc.status)
    finally:
        session.close()
    done = "published" if action == "publish_final" else "decided"
    url = f"/framework/{quote(edition_id)}/consolidation?done={done}"
    return RedirectResponse(url, status_code=303)


@router.post("/framework/{edition_id}/amendments/{amendment_id}/decision")
async def decide(
    request: Request, edition_id: str, amendment_id: int, staff: BackOfficeDep
) -> Response:
    form = await request.form()
    body = {
        "amendment_id": amendment_id,
        "decision": str(form.get("decision", "")),
        "reason": str(form.get("reason", "")).strip(),
    }
    return await _act(request, staff, edition_id, "decide_amendment", body)


@router.post("/framework/{edition_id}/final-version")
async def publish(request: Request, edition_id: str, staff: BackOfficeDep) -> Response:
    return await _act(request, staff, edition_id, "publish_final", {})


@router.get("/framework/{edition_id}/register", response_class=HTMLResponse)
def register_page(
    request: Request, edition_id: str, session: SessionDep, staff: StaffDep
) -> HTMLResponse:
    edition = _edition(session, edition_id)
    parties = rows.parties(session, edition_id)
    bound = rows.bound_hub_ids(session, edition_id)
    names = hub_names(session, [p.hub_id for p in parties])
    return page(
        request,
        "framework_register.html",
        {"edition": edition, "parties": parties, "bound": bound, "names": names},
    )
