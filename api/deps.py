"""Dependencies: settings, a store session, the Temporal client, and the calling principal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from api.limits import count_request
from api.problems import ApiError, problem, store_busy, store_busy_problem
from base.settings import Settings
from domain.cases import Caller, Role
from store.db import get_engine
from store.records import principal_for_key

# The dependencies that do no I/O are coroutines: FastAPI runs a plain function dependency in
# the thread pool, one thread hop per dependency per request.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request. It takes a connection on first use, in the route's thread;
    closing it gives the connection back at once, on the event loop (a short rollback). Closing
    it through the thread pool made the connection wait for a free thread, and under load the
    threads were all waiting for connections: the API stalled."""
    session = Session(get_engine(request.app.state.settings.database_url))
    try:
        yield session
    finally:
        session.close()


class TemporalClients:
    """One client per process, connected on first use (reads work with Temporal down)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    from base.engine import connect

                    try:
                        self._client = await asyncio.wait_for(connect(self.settings), 10)
                    except Exception as exc:
                        raise ApiError(503, "the workflow engine is not reachable now") from exc
        return self._client


async def get_temporal(request: Request) -> TemporalClients:
    """The process's Temporal connection, opened on first use: a route checks what it can
    from the store first, so a refused step answers the same with the engine down."""
    return request.app.state.temporal  # type: ignore[no-any-return]


def authenticate(settings: Settings, authorization: str) -> Caller:
    """The caller an ``Authorization`` header names, counted against its rate limit; 401/429."""
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "send an API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with Session(get_engine(settings.database_url)) as session:  # one connection for both
        principal = principal_for_key(session, key.strip())
        if principal is None:
            raise ApiError(
                401, "the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        caller = Caller(
            principal_id=principal.id, role=Role(principal.role), hub_id=principal.hub_id
        )
        count_request(session, settings.rate_limit_per_minute, principal.id)
    return caller


class AuthenticateFirst:
    """Authenticate ``/v1/`` requests (but the link routes, whose token is in the path) before
    anything reads their body, so a request without a valid key is a 401 whatever it sends."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith("/v1/")
            and not path.startswith("/v1/links/")
        ):
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            try:
                caller = await run_in_threadpool(authenticate, self.settings, header)
            except ApiError as exc:
                await problem(exc.status, exc.detail, exc.title, **exc.extra)(scope, receive, send)
                return
            except SQLAlchemyError as exc:  # outside the app: its handlers do not see this
                if not store_busy(exc):
                    raise
                await store_busy_problem()(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


async def get_caller(request: Request) -> Caller:
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:  # a route outside /v1/ that still wants a key
        caller = await run_in_threadpool(
            authenticate, request.app.state.settings, request.headers.get("authorization", "")
        )
    return caller


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
TemporalDep = Annotated[TemporalClients, Depends(get_temporal)]
