"""Rendering the staff pages: one jinja2 environment (autoescape on: a ``<script>`` in a case
title is text), the layout's context, the HTML error pages and the security headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.problems import problem
from api.web.auth import PageError, SignInRequired, current_staff, sign_in_url

log = logging.getLogger("dihflow.api")
WEB_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "web"
STATIC = WEB_TEMPLATES / "static"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(WEB_TEMPLATES)),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The layout's navigation: (path, label, roles that see it).
NAV = [
    ("/cases", "Cases", ("back_office", "legal")),
    ("/legal", "Legal queue", ("back_office", "legal")),
    ("/templates", "Templates", ("back_office", "legal")),
    ("/hubs", "Hubs", ("back_office",)),
    ("/network", "Network", ("back_office",)),
    ("/framework", "Framework agreement", ("back_office", "legal")),
]

# Every page: no framing, scripts and styles from this site only, forms post here only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _ago(moment: datetime | None, now: datetime | None = None) -> str:
    """A duration as people say it: '3 d 4 h', '5 h 10 min', '12 min'."""
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    return duration(seconds)


def duration(seconds: int) -> str:
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _when(moment: datetime | str | None) -> str:
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ").replace("-", " ")


def _show(value: Any) -> str:
    """A timeline value as text: lists joined, mappings as ``key: value``."""
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


env.filters["show"] = _show
env.filters["ago"] = _ago
env.filters["when"] = _when
env.filters["words"] = _words


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A rendered page. Templates extend ``layout.html``; ``staff`` is whoever is signed in
    (None on the sign-in and error pages before sign-in)."""
    staff = getattr(request.state, "staff", None)
    token = staff.csrf_token if staff else ""

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))

    nav = [(path, label) for path, label, roles in NAV if staff and staff.role in roles]
    html = env.get_template(template).render(
        request=request,
        staff=staff,
        nav=nav,
        path=request.url.path,
        csrf_field=csrf_field,
        **(context or {}),
    )
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def error_page(
    request: Request,
    status: int,
    detail: str,
    title: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    title = title or HTTPStatus(status).phrase
    if status == 503:
        headers = {"Retry-After": "5", **(headers or {})}
    return page(
        request, "error.html", {"status": status, "title": title, "detail": detail}, status, headers
    )


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/v1/") or path.startswith("/docs") or path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """The pages' assets and error handling (after ``api.problems.install``, so a browser
    gets an HTML page where an API client gets problem+json)."""
    app.mount("/web-static", StaticFiles(directory=str(STATIC)), name="web-static")

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> HTMLResponse:
        return error_page(request, exc.status, exc.detail, exc.title, exc.headers)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(sign_in_url(exc.next_url), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if _wants_html(request):
            if getattr(request.state, "staff", None) is None:
                try:  # the layout shows who is signed in, even on a page that is not there
                    await current_staff(request)
                except SignInRequired:
                    pass
            if exc.status_code == 404:
                detail = (
                    "There is no page at this address. Check the link, or start from the cases."
                )
            return error_page(request, exc.status_code, detail)
        response: JSONResponse = problem(
            exc.status_code, detail, headers=getattr(exc, "headers", None)
        )
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        if _wants_html(request):
            return error_page(
                request, 500, "Something went wrong on our side; it has been logged. Try again."
            )
        return problem(500, "an internal error occurred; it has been logged")
