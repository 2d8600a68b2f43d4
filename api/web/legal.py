"""The legal queue: drafts waiting for the helpdesk, oldest first, and the review page of one
with the template and version, the variables, the diff from the previous version, the comment
rounds and the approve / request-changes forms.

Both forms send the step through ``api.steps.perform_action``, the JSON API's own path (the
workflow decides; the page never writes case state), and the forms shown are those
``allowed_actions`` gives the signed-in account: the legal helpdesk acts, the back office
reads.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.drafts import document_diff, variables_diff
from api.problems import ApiError
from api.steps import perform_action
from api.web.auth import PageError, StaffDep
from api.web.render import env, page
from documents.files import files_for
from domain.actions import allowed_actions
from domain.errors import DomainError
from store.insights import QueueItem, legal_queue, queue_item
from store.models import Document
from store.queries import visible_case

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Variables as JSON text, accents kept (jinja's tojson writes them as \u escapes); the page
# escapes the text like any other.
env.filters["json_text"] = lambda value: json.dumps(value, ensure_ascii=False)
REVIEW_ACTIONS = ("approve-draft", "request-changes")
DONE = {
    "approve-draft": "Draft approved: the parties are asked to sign it.",
    "request-changes": "Changes requested: the case went back to drafting.",
}


@router.get("/legal", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, staff: StaffDep) -> HTMLResponse:
    items = legal_queue(session)
    done = request.query_params.get("done", "")
    return page(
        request,
        "legal_queue.html",
        {"items": items, "done": DONE.get(done, ""), "done_case": request.query_params.get("case")},
    )


def _item(session: SessionDep, case_id: str) -> QueueItem:
    item = queue_item(session, case_id)
    if item is None:
        raise PageError(
            404,
            "This case has no draft waiting for legal review (it may have been decided "
            "already). The queue lists the drafts that are.",
            "Not in the queue",
        )
    return item


def _review(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: StaffDep,
    item: QueueItem,
    error: str = "",
    comments: str = "",
    status: int = 200,
) -> HTMLResponse:
    diff, diff_error = [], ""
    changes = []
    if item.previous is not None:
        try:
            diff = document_diff(settings.documents_dir, item.previous, item.draft)
        except OSError:
            diff_error = "A version's file is missing from the document store: no diff."
        old = dict((item.previous.variables or {}).get("context", {}))
        changes = variables_diff(old, item.variables)
    allowed = [a for a in allowed_actions(item.facts, staff.caller) if a in REVIEW_ACTIONS]
    return page(
        request,
        "legal_review.html",
        {
            "item": item,
            "diff": diff,
            "diff_error": diff_error,
            "changes": changes,
            "allowed": allowed,
            "error": error,
            "comments": comments,
        },
        status=status,
    )


@router.get("/legal/{case_id}", response_class=HTMLResponse)
def review_page(
    case_id: str, request: Request, session: SessionDep, settings: SettingsDep, staff: StaffDep
) -> HTMLResponse:
    return _review(request, session, settings, staff, _item(session, case_id))


@router.post("/legal/{case_id}/{action}", response_model=None)
async def review_action(
    case_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    staff: StaffDep,
) -> Response:
    if action not in REVIEW_ACTIONS:
        raise PageError(404, f"There is no review step {action!r}.", "Unknown step")
    form = await request.form()
    comments = str(form.get("comments") or "").strip()
    case = visible_case(session, case_id, staff.caller)
    if case is None:
        raise PageError(404, "There is no such case.", "Case not found")
    body = {"comments": comments} if action == "request-changes" else {}
    try:
        await perform_action(
            session,
            temporal,
            case,
            action,
            staff.caller,
            body,
            ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", "")[:300],
        )
    except (ApiError, DomainError) as exc:
        message = exc.detail
        errors = (getattr(exc, "extra", None) or {}).get("errors") or []
        if errors:
            message += ": " + "; ".join(
                f"{e.get('field') or 'comments'}: {e['message']}" for e in errors
            )
        session.rollback()
        return _review(
            request,
            session,
            settings,
            staff,
            _item(session, case_id),
            message,
            comments,
            status=exc.status,
        )
    return RedirectResponse(f"/legal?done={action}&case={quote(case_id)}", status_code=303)


@router.get("/legal/{case_id}/documents/{doc_id}", response_model=None)
def draft_file(
    case_id: str, doc_id: str, session: SessionDep, settings: SettingsDep, staff: StaffDep
) -> FileResponse:
    """A draft version's .docx, for reading it whole before deciding."""
    doc = session.get(Document, doc_id)
    if doc is None or doc.case_id != case_id:
        raise PageError(404, "This case has no such document.", "Document not found")
    path = files_for(settings).local_path(doc.path)
    if not path.is_file():
        raise PageError(404, "The document's file is missing from the store.", "File missing")
    return FileResponse(
        path, media_type=DOCX, filename=f"{doc.id}.docx", headers={"X-Document-SHA256": doc.sha256}
    )
