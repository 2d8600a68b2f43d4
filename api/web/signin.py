"""Signing in and out of the staff pages.

The sign-in form carries its own CSRF token (a random value in a short-lived cookie and in the
form; both must match), so another site cannot sign a browser in to an account of its choosing.
An API key is never a password here: a hub key typed in either field is refused.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.web.auth import (
    SIGN_IN_COOKIE,
    PageError,
    SignInRequired,
    StaffDep,
    clear_session_cookie,
    current_staff,
    safe_next,
    session_id_of,
    set_session_cookie,
)
from api.web.render import error_page, page
from base.settings import Settings
from store.db import get_engine
from store.records import KEY_PREFIX, principal_for_key
from store.staff import (
    Throttled,
    authenticate_staff,
    close_session,
    drop_ended_sessions,
    open_session,
)

router = APIRouter(include_in_schema=False)


def _form(
    request: Request, next_url: str, status: int = 200, error: str = "", username: str = ""
) -> HTMLResponse:
    token = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request,
        "sign_in.html",
        {"next": next_url, "error": error, "username": username, "sign_in_token": token},
        status,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=3600,
        path="/sign-in",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/", response_class=HTMLResponse)
def home() -> Response:
    return RedirectResponse("/cases", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str = "") -> Response:
    if session_id_of(request):
        try:  # already signed in: straight on
            await current_staff(request)
            return RedirectResponse(safe_next(next), status_code=303)
        except SignInRequired:
            pass
    return _form(request, safe_next(next))


def _is_api_key(settings: Settings, *values: str) -> bool:
    candidates = [v.strip() for v in values if v.strip().startswith(f"{KEY_PREFIX}_")]
    if not candidates:
        return False
    with Session(get_engine(settings.database_url)) as session:
        return any(principal_for_key(session, v) is not None for v in candidates)


def _sign_in(
    settings: Settings, username: str, password: str, address: str
) -> tuple[str, str] | Throttled | None:
    """(session id, role) for a good sign-in, ``Throttled``, or None."""
    now = datetime.now(UTC)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        found = authenticate_staff(session, username, password, address, now)
        if not isinstance(found, Throttled) and found is not None:
            drop_ended_sessions(session, now)  # sign-ins are rare: tidy up here
            session_id, _ = open_session(
                session, found, now, timedelta(hours=settings.session_max_hours)
            )
            session.commit()
            return session_id, found.role
        session.commit()
        return found


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    form = await request.form()
    username = str(form.get("username") or "")[:200]
    password = str(form.get("password") or "")[:300]
    next_url = safe_next(str(form.get("next") or ""))
    sent, kept = str(form.get("sign_in_token") or ""), request.cookies.get(SIGN_IN_COOKIE, "")
    if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        return error_page(
            request,
            403,
            "The sign-in form was out of date. Nothing was changed: open the sign-in page "
            "again and sign in.",
            "Form refused",
        )
    if await run_in_threadpool(_is_api_key, settings, username, password):
        return _form(
            request,
            next_url,
            401,
            "An API key cannot sign in to the pages. Ask the back office for a staff account.",
        )
    address = request.client.host if request.client else ""
    found = await run_in_threadpool(_sign_in, settings, username, password, address)
    if isinstance(found, Throttled):
        minutes = max(1, round(found.retry_after / 60))
        raise PageError(
            429,
            f"Too many failed sign-ins for this account or from this address. Wait about "
            f"{minutes} minute{'s' if minutes != 1 else ''} and try again.",
            "Too many tries",
            headers={"Retry-After": str(found.retry_after)},
        )
    if found is None:
        return _form(
            request,
            next_url,
            401,
            "The username or password is wrong, or the account is disabled.",
            username,
        )
    session_id, _role = found
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, settings, session_id)
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request, staff: StaffDep) -> Response:
    session_id = session_id_of(request)
    settings: Settings = request.app.state.settings

    def close() -> None:
        with Session(get_engine(settings.database_url)) as session:
            close_session(session, session_id or "")
            session.commit()

    await run_in_threadpool(close)
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session_cookie(response, request)
    return response
