"""Every error leaves the API as ``application/problem+json``: type, title, status, detail,
plus ``errors: [{field, message}]`` on 422 and ``allowed_actions`` on 409. No stack trace or
internal detail ever reaches a client."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError

log = logging.getLogger("dihflow.api")
PROBLEM = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    allowed_actions: list[str] | None = None
    current_sha256: str | None = None


RETRY_AFTER_SECONDS = 2  # what a 503 asks a client to wait unless it says otherwise


def problem(
    status: int,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The problem+json response; every 503 says when to retry (``Retry-After``)."""
    if status == 503 and "Retry-After" not in (headers or {}):
        headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
    body = {
        "type": f"https://dihflow.example/problems/{status}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class ApiError(Exception):
    """Raised by routes; turned into problem+json."""

    def __init__(self, status: int, detail: str, title: str | None = None, **extra: Any):
        super().__init__(detail)
        self.status, self.detail, self.title, self.extra = status, detail, title, extra


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


STORE_RETRY_AFTER_SECONDS = 1


def store_busy(exc: BaseException) -> bool:
    """A store that is only busy: every pooled connection in use past the pool's wait, or a
    SQLite file whose write lock stayed taken past the busy timeout. Retrying soon works."""
    if isinstance(exc, PoolTimeoutError):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def store_busy_problem() -> JSONResponse:
    return problem(
        503,
        "the store is busy; retry in a moment",
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.detail, exc.title, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.detail, exc.title, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        names = ", ".join(e["field"] for e in errors)
        return problem(422, f"invalid request: {names}", "Invalid request", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(SQLAlchemyError)
    async def _store(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        if store_busy(exc):
            return store_busy_problem()
        log.exception("unhandled store error", exc_info=exc)
        return problem(500, "an internal error occurred; it has been logged")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "an internal error occurred; it has been logged")


# Every operation may answer these; each is declared as problem+json in the OpenAPI schema.
COMMON_ERRORS = {
    "400": "Bad Request",
    "401": "Unauthorized: no or an unknown API key",
    "403": "Forbidden: not this caller's to do",
    "404": "Not Found (also a case that is not the caller's)",
    "405": "Method Not Allowed",
    "409": "Conflict: not possible now (the body lists the allowed actions)",
    "410": "Gone: a used or expired link",
    "413": "Payload Too Large",
    "415": "Unsupported Media Type",
    "422": "Unprocessable Entity: the body names each field",
    "429": "Too Many Requests (see Retry-After)",
    "500": "Internal Server Error",
    "503": "Service Unavailable: the workflow engine is not reachable, or the store is busy "
    "(see Retry-After)",
    "504": "Gateway Timeout: a step was sent but not confirmed in time",
}


def install_openapi(app: FastAPI) -> None:
    """Declare every error response of every operation as ``application/problem+json``."""

    def schema() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components.update(components["Problem"].pop("$defs", {}))
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        from api.action_docs import components as action_components

        components.update(action_components())
        ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for path in spec.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for code, text in COMMON_ERRORS.items():
                    responses[code] = {"description": text, "content": {PROBLEM: ref}}
        app.openapi_schema = spec
        return spec

    app.openapi = schema  # type: ignore[method-assign]
