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
from starlette.types import ASGIApp, Receive, Scope, Send

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


class BodyLimit:
    """Refuse a declared body larger than the limit before reading it (413, problem+json).
    Multipart uploads (deliverable files) have their own, larger limit."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length", b"")
            multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
            limit = (
                self.settings.upload_max_bytes + (1 << 16)
                if multipart
                else self.settings.body_max_bytes
            )
            if declared.isdigit() and int(declared) > limit:
                response = problem(
                    413, f"the request body is larger than {limit} bytes", "Payload Too Large"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
