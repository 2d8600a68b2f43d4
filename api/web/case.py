"""The Case page: where a case stands, its lifecycle, parties, documents (with a diff between
versions), deliverables, reviews, the verified timeline, what the engine says of it, and a form
for each action the signed-in staff member may take now.

Actions are posted to ``/cases/{id}/actions/{action}`` and go through ``api.steps.
perform_action``, the code behind ``POST /v1/cases/{id}/actions/{action}``: the workflow takes
the step (single writer), the page only asks. A refused step re-renders the page with the
reason and the API's status (403/409/422); a taken one redirects back with a notice.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.deps import TemporalClients
from api.problems import ApiError
from api.routes.cases import deliverable_file, document_file
from api.steps import perform_action, workflow_id
from api.views import case_view
from api.web.auth import PageError, Staff, StaffDep
from api.web.diagram import diagram
from api.web.diff import paragraphs, text_diff
from api.web.forms import action_form, body_from_form
from api.web.render import page
from api.web.status import partners, waiting_on
from base.settings import Settings
from documents.files import files_for
from domain.actions import ACTIONS, snake
from domain.cases import CLIENT, LOCAL_PLAYER, CaseFacts
from domain.errors import DomainError
from domain.timeline import TimelineEvent, verify_chain
from store.db import as_utc, get_engine
from store.models import Case, Document, Principal, StaffAccount
from store.queries import case_facts, hub_names, timeline, visible_case

router = APIRouter(include_in_schema=False)
ENGINE_TIMEOUT_SECONDS = 3.0  # the page does not wait longer for the engine's view


def _case(session: Session, staff: Staff, case_id: str) -> Case:
    case = visible_case(session, case_id, staff.caller)
    if case is None:
        raise PageError(404, f"There is no case {case_id!r}.", "No such case")
    return case


def _parties(facts: CaseFacts, names: dict[str, str]) -> list[dict[str, str]]:
    """Each party: what it is in the case, its invitation and its signature of the draft."""
    current = facts.draft.sha256 if facts.draft else None
    signers = facts.signers if facts.draft else []

    def signature(party: str) -> str:
        if party not in signers:
            return "—"
        return "signed" if current and facts.signatures.get(party) == current else "not yet"

    rows = [
        {
            "name": names.get(facts.lead_hub_id, facts.lead_hub_id),
            "role": "lead hub",
            "invitation": "—",
            "signature": signature(facts.lead_hub_id),
        }
    ]
    for inv in facts.invitations:
        due = inv.deadline[:16].replace("T", " ")
        due = f" (answer due {due} UTC)" if inv.status == "pending" and due else ""
        rows.append(
            {
                "name": names.get(inv.hub_id, inv.hub_id),
                "role": "partner hub" if inv.status == "accepted" else "invited hub",
                "invitation": inv.status + due + (f": {inv.reason}" if inv.reason else ""),
                "signature": signature(inv.hub_id),
            }
        )
    for intro in facts.introductions:
        rows.append(
            {
                "name": names.get(intro.hub_id, intro.hub_id),
                "role": "matched hub" if intro.mutual else "candidate hub",
                "invitation": f"hub consent {intro.hub_consent}, "
                f"local player consent {intro.player_consent}",
                "signature": signature(intro.hub_id),
            }
        )
    for party, who, role in (
        (CLIENT, facts.client, "client"),
        (LOCAL_PLAYER, facts.local_player, "local player"),
    ):
        if who is not None:
            rows.append(
                {
                    "name": f"{who.name} ({who.country})",
                    "role": role,
                    "invitation": "by one-time link",
                    "signature": signature(party),
                }
            )
    return rows


def _timeline(session: Session, case_id: str, key: str | None) -> tuple[list[Any], list[str]]:
    """The events and the chain's breaks (``key``: ``CaseFacts.chain_key``)."""
    rows = timeline(session, case_id)
    events = [TimelineEvent(**r.model_dump(exclude={"case_id"})) for r in rows]
    return events, verify_chain(events, key)


def actor_names(session: Session, events: list[TimelineEvent]) -> dict[str, str]:
    """Who each timeline actor is, in words: the chain names principals by id only (no
    personal data in hashed content); the page looks them up for the reader."""
    ids = {e.actor.removeprefix("principal:") for e in events if e.actor.startswith("principal:")}
    if not ids:
        return {}
    names: dict[str, str] = {}
    for account in session.exec(select(StaffAccount).where(col(StaffAccount.id).in_(ids))):
        names[account.id] = f"{account.display_name} ({account.role.replace('_', ' ')})"
    principals = list(session.exec(select(Principal).where(col(Principal.id).in_(ids))))
    hubs = hub_names(session, [p.hub_id for p in principals if p.hub_id])
    for p in principals:
        hub = f"{hubs.get(p.hub_id, p.hub_id)}, " if p.hub_id else ""
        names[p.id] = f"{hub}{p.role.replace('_', ' ')} key"
    return {f"principal:{k}": v for k, v in names.items()}


def _diff(
    session: Session, settings: Settings, case_id: str, old_id: str, new_id: str
) -> dict[str, Any]:

    docs = [session.get(Document, d) for d in (old_id, new_id)]
    if any(d is None or d.case_id != case_id for d in docs):
        return {"error": "Choose two documents of this case to compare."}
    old, new = docs
    assert old is not None and new is not None
    try:
        lines = text_diff(
            paragraphs(files_for(settings).local_path(old.path)),
            paragraphs(files_for(settings).local_path(new.path)),
        )
    except (OSError, ValueError, KeyError):
        return {"error": "One of these documents is not a readable .docx in the document store."}
    return {
        "old": old,
        "new": new,
        "lines": lines,
        "changed": any(x.kind != "same" and x.kind != "gap" for x in lines),
    }


def case_context(
    settings: Settings, staff: Staff, case_id: str, diff_from: str = "", diff_to: str = ""
) -> dict[str, Any]:
    """Everything the case page shows that the store knows."""
    with Session(get_engine(settings.database_url)) as session:
        case = _case(session, staff, case_id)
        facts = case_facts(case)
        view = case_view(session, case, staff.caller, settings)
        ids = [facts.lead_hub_id, *(i.hub_id for i in facts.invitations)]
        ids += [i.hub_id for i in facts.introductions] + [d.hub_id for d in facts.deliverables]
        names = hub_names(session, ids)
        events, chain_problems = _timeline(session, case_id, facts.chain_key)
        diff = (
            _diff(session, settings, case_id, diff_from, diff_to) if diff_from and diff_to else None
        )
        steps, edges = diagram(facts.scenario, facts.state)
        return {
            "case": case,
            "facts": facts,
            "view": view,
            "names": names,
            "partners": [names.get(h, h) for h in partners(facts)],
            "waiting_on": waiting_on(facts, names),
            "since": as_utc(case.state_since),
            "parties": _parties(facts, names),
            "events": events,
            "actors": actor_names(session, events),
            "chain_problems": chain_problems,
            "diff": diff,
            "diff_from": diff_from,
            "diff_to": diff_to,
            "steps": steps,
            "edges": edges,
            "forms": [action_form(a, facts) for a in view.allowed_actions],
            "workflow_url": (
                f"{settings.workflow_ui_url}/namespaces/{quote(settings.temporal_namespace)}"
                f"/workflows/{quote(workflow_id(case_id))}"
            ),
            "now": datetime.now(UTC),
        }


async def failing_activities(temporal: TemporalClients, case_id: str) -> dict[str, Any]:
    """Activities of the case's workflow that keep failing (attempt > 1), from the engine;
    ``unreachable`` when the engine does not answer in time (the page shows it, not fails)."""
    try:

        async def ask() -> Any:
            client = await temporal.get()
            return await client.get_workflow_handle(workflow_id(case_id)).describe()

        described = await asyncio.wait_for(ask(), ENGINE_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to ask is "we cannot tell now"
        not_found = "not found" in str(exc).lower()
        return {"unreachable": not not_found, "no_workflow": not_found, "failing": []}
    failing = [
        {
            "type": a.activity_type.name,
            "attempt": a.attempt,
            "error": a.last_failure.message if a.HasField("last_failure") else "",
        }
        for a in described.raw_description.pending_activities
        if a.attempt > 1
    ]
    return {
        "unreachable": False,
        "no_workflow": False,
        "failing": failing,
        "status": described.status.name if described.status else "",
    }


async def _render(
    request: Request, staff: Staff, case_id: str, extra: dict[str, Any], status: int = 200
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    params = request.query_params
    context = await run_in_threadpool(
        case_context, settings, staff, case_id, params.get("from", ""), params.get("to", "")
    )
    context["engine"] = await failing_activities(request.app.state.temporal, case_id)
    done = params.get("done", "")
    if snake(done) in ACTIONS:
        context["done"] = done
    return page(request, "case.html", context | extra, status)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, staff: StaffDep) -> HTMLResponse:
    return await _render(request, staff, case_id, {})


@router.post("/cases/{case_id}/actions/{action}", response_class=HTMLResponse)
async def case_action(request: Request, case_id: str, action: str, staff: StaffDep) -> Response:
    settings: Settings = request.app.state.settings
    form = await request.form()
    session = Session(get_engine(settings.database_url))
    try:
        case = _case(session, staff, case_id)
        facts = case_facts(case)
        body = body_from_form(action, form, facts) if snake(action) in ACTIONS else {}
        await perform_action(
            session,
            request.app.state.temporal,
            case,
            action,
            staff.caller,
            body,
            ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", "")[:300],
        )
    except (ApiError, DomainError) as exc:
        extra = getattr(exc, "extra", None) or {}
        message = exc.detail
        errors = extra.get("errors") or []
        if errors:
            message += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if exc.status == 404:
            raise PageError(404, message, "Not found") from None
        return await _render(
            request, staff, case_id, {"error": message, "failed_action": action}, exc.status
        )
    finally:
        session.close()
    return RedirectResponse(f"/cases/{case_id}?done={quote(action)}#top", status_code=303)


@router.get("/cases/{case_id}/documents/{doc_id}")
def case_document(request: Request, case_id: str, doc_id: str, staff: StaffDep) -> FileResponse:
    settings: Settings = request.app.state.settings
    with Session(get_engine(settings.database_url)) as session:
        _case(session, staff, case_id)
        try:
            return document_file(session, settings, case_id, doc_id)
        except ApiError as exc:
            raise PageError(exc.status, exc.detail) from None


@router.get("/cases/{case_id}/deliverables/{deliverable_id}/file")
def case_deliverable_file(
    request: Request, case_id: str, deliverable_id: str, staff: StaffDep
) -> FileResponse:
    settings: Settings = request.app.state.settings
    with Session(get_engine(settings.database_url)) as session:
        facts = case_facts(_case(session, staff, case_id))
    try:
        return deliverable_file(settings, facts, deliverable_id)
    except ApiError as exc:
        raise PageError(exc.status, exc.detail) from None
