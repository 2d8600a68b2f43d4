"""Limits every API process shares: request bodies (413) and requests per key (429).

The rate window lives in the store (``rate_window``), so several API processes behind one
address count together; a fixed one-minute window keeps that to one upsert per request, made in
the transaction that looked the key up. A key's spent windows are deleted as its next one
opens.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import ApiError, problem
from base.settings import Settings
from store.models import RateWindow

WINDOW_SECONDS = 60
clock = time.time  # the windows' clock (tests pin it)


def count_request(session: Session, limit: int, principal_id: str) -> None:
    """Count one request for ``principal_id`` and commit; 429 with Retry-After past ``limit``
    (0: no limit, nothing written)."""
    if limit <= 0:
        return
    now = clock()
    window = int(now // WINDOW_SECONDS)
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    statement = (
        insert(RateWindow)
        .values(principal_id=principal_id, window=window, count=1)
        .on_conflict_do_update(
            index_elements=["principal_id", "window"],
            set_={"count": RateWindow.__table__.c.count + 1},  # type: ignore[attr-defined]
        )
        .returning(RateWindow.__table__.c.count)  # type: ignore[attr-defined]
    )
    if postgres:
        # A count is worth less than a WAL flush per request: should the server crash, the
        # last fraction of a second of counts is lost, which a rate limit can afford (this
        # transaction only; case data still waits for the flush).
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    count = session.execute(statement).scalar_one()
    if count == 1:
        # the key's first request of this window: its earlier windows are spent (one indexed
        # delete a minute per active key keeps the table to about one row per key)
        session.execute(
            delete(RateWindow).where(
                RateWindow.__table__.c.principal_id == principal_id,  # type: ignore[attr-defined]
                RateWindow.__table__.c.window < window,  # type: ignore[attr-defined]
            )
        )
    session.commit()
    if count > limit:
        retry = int((window + 1) * WINDOW_SECONDS - now) + 1
        raise ApiError(
            429,
            f"more than {limit} requests a minute with this key; retry in {retry} s",
            title="Too Many Requests",
            headers={"Retry-After": str(retry)},
        )


class BodyTooLarge(StarletteHTTPException):
    """The body grew past the limit while it arrived (an HTTP exception, so that FastAPI's
    body parsing passes it on instead of calling it a malformed body)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """Hold every request body to its limit, whatever it declares (413, problem+json).

    A declared ``Content-Length`` over the limit is refused before anything is read; a chunked
    body (no length) is counted as its chunks arrive, and the read that crosses the limit
    raises ``BodyTooLarge``: nothing past the limit is read or kept. Multipart uploads
    (deliverable files) have their own, larger limit.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = (
            self.settings.upload_max_bytes + (1 << 16)
            if multipart
            else self.settings.body_max_bytes
        )
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:  # a route that answered before reading everything
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            413, f"the request body is larger than {limit} bytes", "Payload Too Large"
        )
        await response(scope, receive, send)
