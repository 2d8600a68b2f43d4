"""The external party's link page (``/l/{token}``): what is asked, the document, a form.

The JSON routes under ``/v1/links/`` do the same for integrations; both end in the same
``act_by_link``, so a form post and a JSON post are refused or accepted alike.
"""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.problems import RETRY_AFTER_SECONDS, ApiError
from api.routes.links import (
    PrivateRoute,
    act_by_link,
    get_link_document,
    link_info,
    redact_link_tokens,
    usable_link,
)
from api.web.auth import current_staff
from domain.actions import SURVEY_FIELDS, kebab, link_actions, snake
from domain.errors import DomainError

WEB_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "web"
templates = Jinja2Templates(directory=str(WEB_TEMPLATES))
router = APIRouter(include_in_schema=False, route_class=PrivateRoute)
redact_link_tokens()  # the API's access log (uvicorn's) never shows a link token

DONE = {
    "sign": "Thank you: your signature is recorded against this exact version of the document.",
    "decline-to-sign": "Your answer is recorded: the lead hub will revise the agreement.",
    "consent": "Thank you: your consent is recorded.",
    "decline-consent": "Your answer is recorded: the introduction will not be made.",
    "review": "Thank you for your review.",
}


def _loopback(request: Request) -> bool:
    try:
        return request.client is not None and ip_address(request.client.host).is_loopback
    except ValueError:  # not an IP address (a test client's name)
        return False


def _gone(request: Request, exc: ApiError) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "gone.html", {"detail": exc.detail}, status_code=exc.status
    )


@router.get("/l/{token}", response_class=HTMLResponse)
def link_page(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    try:
        link, case = usable_link(session, token)
    except ApiError as exc:
        return _gone(request, exc)
    info = link_info(session, link, case, token)
    return templates.TemplateResponse(request, "link.html", {"info": info, "token": token})


@router.get("/l/{token}/document")
def link_page_document(token: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    return get_link_document(token, session, settings)


def _form_body(choice: str, form: Any) -> dict[str, Any]:
    """The action's body from the form fields, or a 422 naming the missing field."""
    if choice == "sign":
        if form.get("confirm") != "yes":
            raise ApiError(
                422,
                "tick the box to confirm you read and sign this version",
                errors=[{"field": "confirm", "message": "required"}],
            )
        return {
            "document_sha256": form.get("document_sha256", ""),
            "signer_name": form.get("signer_name", ""),
        }
    if choice == "review" and "rating" not in form:
        return _survey_body(form)
    if choice == "review":
        rating = form.get("rating", "")
        if not str(rating).isdigit():
            raise ApiError(
                422, "choose a rating", errors=[{"field": "rating", "message": "required"}]
            )
        return {"rating": int(rating), "comment": form.get("comment", "")}
    if choice in ("decline-to-sign", "decline-consent"):
        return {"reason": form.get("reason", "")}
    return {}


def _survey_body(form: Any) -> dict[str, Any]:
    """The quality survey's fields; a question left unanswered is left out, so the refusal
    names it."""
    body: dict[str, Any] = {"comment": form.get("comment", "")}
    for name in SURVEY_FIELDS:
        raw = str(form.get(name) or "")
        if name == "would_recommend" and raw in ("yes", "no"):
            body[name] = raw == "yes"
        elif raw.isdigit():
            body[name] = int(raw)
    return body


@router.post("/l/{token}", response_class=HTMLResponse)
async def link_page_post(
    token: str, request: Request, session: SessionDep, client: TemporalDep
) -> HTMLResponse:
    try:  # the token first: an unknown or spent link is refused before its form is read
        link, case = usable_link(session, token)
    except ApiError as exc:
        return _gone(request, exc)
    session.close()  # no pooled connection held while the form arrives
    form = await request.form(max_files=0, max_fields=20)  # the page posts no file
    choice = str(form.get("choice") or link.action.replace("_", "-"))
    try:
        if snake(choice) not in link_actions(link.action):
            allowed = ", ".join(kebab(a) for a in link_actions(link.action))
            raise ApiError(403, f"this link allows only: {allowed}")
        info = await act_by_link(session, client, request, token, choice, _form_body(choice, form))
    except (ApiError, DomainError) as exc:
        status = exc.status
        message = exc.detail
        errors = (getattr(exc, "extra", None) or {}).get("errors") or []
        if errors:
            message += ": " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        session.rollback()
        link, case = usable_link(session, token)
        info = link_info(session, link, case, token)
        return templates.TemplateResponse(
            request,
            "link.html",
            {"info": info, "token": token, "error": message},
            status_code=status,
            # as every 503 of the API: when to try again (a busy store, a step still finishing)
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None,
        )
    return templates.TemplateResponse(
        request, "link.html", {"info": info, "token": token, "done": DONE.get(choice, "Done.")}
    )


@router.get("/dev/outbox", response_class=HTMLResponse)
async def outbox_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The embedded default's outbox: every message the stack would have sent, live link
    tokens included, so only for the machine itself (loopback) or a back-office session."""
    from activities.notify import read_outbox

    if not settings.dev_pages:
        raise ApiError(404, "the dev outbox exists only in the embedded default")
    if not _loopback(request):
        staff = await current_staff(request)  # not signed in: to the sign-in page
        if not staff.back_office:
            raise ApiError(403, "the dev outbox is for the back office")
    return templates.TemplateResponse(
        request, "outbox.html", {"messages": read_outbox(settings.outbox_dir)}
    )
