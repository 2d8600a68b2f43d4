"""Who is signed in to the staff pages, and what a page requires of them.

A page requires a role by taking one of these dependencies (the check is on the server; a
refused role gets the 403 page, no session gets a redirect to ``/sign-in?next=<this page>``):

    @router.get("/legal")
    def legal_queue(request: Request, staff: StaffDep) -> HTMLResponse: ...   # legal or back office
    @router.post("/hubs/{hub_id}")
    def edit_hub(request: Request, staff: BackOfficeDep) -> HTMLResponse: ... # back office only

``require_role("legal")`` builds a dependency for any other set of roles. Every one of them
also checks the CSRF token on a POST (the form's hidden ``csrf_token`` field, rendered by
``{{ csrf_field() }}`` in the templates): a post without it is a 403 that changes nothing. A
page acts in the workflows as ``staff.caller`` (the staff account's id and role), through the
same code as the JSON API.

The cookie holds the session id and its HMAC-SHA256 (a key derived from ``secret_key``); it is
HttpOnly, SameSite=Lax, Secure when the request came over https, and the session itself lives
in the store (``store.staff``) with its idle and absolute expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from base.settings import Settings
from domain.cases import Caller, Role
from store.db import get_engine
from store.staff import live_session

SESSION_COOKIE = "dihflow_staff"
SIGN_IN_COOKIE = "dihflow_sign_in"  # the sign-in form's CSRF token (double submit)


class PageError(Exception):
    """An error page (HTML) with its status: 403, 404, 409, 422, 429, 503..."""

    def __init__(
        self, status: int, detail: str, title: str = "", headers: dict[str, str] | None = None
    ):
        super().__init__(detail)
        self.status, self.detail, self.title, self.headers = status, detail, title, headers or {}


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str):
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class Staff:
    account_id: str
    username: str
    display_name: str
    role: str  # back_office | legal
    csrf_token: str

    @property
    def caller(self) -> Caller:
        return Caller(principal_id=self.account_id, role=Role(self.role))

    @property
    def back_office(self) -> bool:
        return self.role == Role.back_office


# -- the signed cookie ----------------------------------------------------------------------
def _cookie_key(secret_key: str) -> bytes:
    # its own key: the secret also derives link tokens, and the two must never coincide
    return hmac.new(secret_key.encode(), b"dihflow staff session cookie", hashlib.sha256).digest()


def sign(secret_key: str, value: str) -> str:
    mac = hmac.new(_cookie_key(secret_key), value.encode(), hashlib.sha256).digest()
    return f"{value}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def unsign(secret_key: str, signed: str) -> str | None:
    """The value of a cookie this server signed, or None for anything else."""
    value, _, _ = signed.rpartition(".")
    if not value or not hmac.compare_digest(sign(secret_key, value), signed):
        return None
    return value


def set_session_cookie(
    response: Response, request: Request, settings: Settings, session_id: str
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign(settings.secret_key, session_id),
        max_age=settings.session_max_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def session_id_of(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    return unsign(request.app.state.settings.secret_key, raw) if raw else None


# -- the dependencies -----------------------------------------------------------------------
def here(request: Request) -> str:
    """This page's path and query: where to come back after signing in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _load(settings: Settings, session_id: str) -> Staff | None:
    now = datetime.now(UTC)
    idle = timedelta(minutes=settings.session_idle_minutes)
    with Session(get_engine(settings.database_url)) as session:
        found = live_session(session, session_id, now, idle)
        if session.dirty or session.deleted:  # most page views write nothing
            session.commit()
        if found is None:
            return None
        row, account = found
        return Staff(
            account_id=account.id,
            username=account.username,
            display_name=account.display_name,
            role=account.role,
            csrf_token=row.csrf_token,
        )


async def current_staff(request: Request) -> Staff:
    """The signed-in staff member, or ``SignInRequired`` (a GET comes back here after)."""
    settings: Settings = request.app.state.settings
    session_id = session_id_of(request)
    staff = await run_in_threadpool(_load, settings, session_id) if session_id else None
    if staff is None:
        back = here(request) if request.method == "GET" else "/"
        raise SignInRequired(back)
    request.state.staff = staff
    return staff


async def check_csrf(request: Request, expected: str) -> None:
    form = await request.form()  # starlette keeps it: the route reads the same form again
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise PageError(
            403,
            "The form was missing its security token or it was out of date. Nothing was "
            "changed: go back, reload the page and send the form again.",
            "Form refused",
        )


ROLE_NAMES = {"back_office": "the back office", "legal": "the legal helpdesk"}


def require_role(*roles: str) -> Callable[[Request], Awaitable[Staff]]:
    """A dependency: the signed-in staff member if their role is one of ``roles`` (403 page
    otherwise), with the CSRF token checked on a POST."""

    async def dependency(request: Request) -> Staff:
        staff = await current_staff(request)
        if staff.role not in roles:
            names = " or ".join(ROLE_NAMES.get(r, r) for r in roles)
            raise PageError(403, f"This page is for {names} only.", "Not for your role")
        if request.method == "POST":
            await check_csrf(request, staff.csrf_token)
        return staff

    return dependency


StaffDep = Annotated[Staff, Depends(require_role("back_office", "legal"))]
BackOfficeDep = Annotated[Staff, Depends(require_role("back_office"))]
LegalDep = Annotated[Staff, Depends(require_role("legal"))]


def sign_in_url(next_url: str) -> str:
    return "/sign-in" if next_url in ("", "/") else f"/sign-in?next={quote(next_url, safe='/')}"


def safe_next(next_url: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme): no open redirect."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//"):
        return "/cases"
    if "\\" in next_url or any(ord(c) < 32 for c in next_url):
        return "/cases"
    return next_url
