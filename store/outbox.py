"""The outbox: what a step sends, written with the step and sent after commit.

A step's projection adds its rows (``add_message``) in the transaction that records the step;
the dispatcher (``activities/dispatcher.py``) takes due rows (``claim``), sends each, and marks
it (``mark_sent`` / ``mark_retry``). Taking a row pushes its ``next_attempt_at`` out by a lease
instead of holding a lock while it is sent: a dispatcher that dies between sending and marking
leaves the row to come due again when the lease runs out, and it is sent again under the same
message id (at least once; receivers dedupe by it). On PostgreSQL the rows are read with
``FOR UPDATE SKIP LOCKED`` so several dispatchers share the work; everywhere a row is taken by
a conditional update, so two dispatchers never take the same row for the same lease.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.db import as_utc, session_scope
from store.models import OutboxMessage, utcnow

KINDS = ("mail", "webhook", "pdf")
BACKOFF_FIRST_SECONDS, BACKOFF_MAX_SECONDS = 2.0, 300.0
MAX_ATTEMPTS = 25  # about a day and a half of retries at the longest backoff


def message_id(case_id: str, seq: int, kind: str, recipient: str) -> str:
    """The message id of (case, event seq, kind, recipient): the same for a retried step."""
    digest = hashlib.sha256(f"{case_id}:{seq}:{kind}:{recipient}".encode()).hexdigest()
    return f"m-{digest[:32]}"


def add_message(
    session: Session,
    id: str,
    case_id: str,
    seq: int,
    kind: str,
    recipient: str,
    payload: dict[str, Any],
) -> bool:
    """Add the row unless it exists (a retried projection); True when it was new."""
    return add_messages(session, [row(id, case_id, seq, kind, recipient, payload)]) == 1


def row(
    id: str, case_id: str, seq: int, kind: str, recipient: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """An outbox row's values, for ``add_messages``."""
    assert kind in KINDS, kind
    return dict(id=id, case_id=case_id, seq=seq, kind=kind, recipient=recipient, payload=payload)


def add_messages(session: Session, rows: list[dict[str, Any]]) -> int:
    """Add the rows (``row``) that do not exist yet (a retried projection finds them), each by
    ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (one compiled statement, no read first,
    no ORM object). How many were new."""
    if not rows:
        return 0
    now = utcnow()
    values = [
        {"status": "pending", "attempts": 0, "last_error": "", **r} | _times(now) for r in rows
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(OutboxMessage.id))  # a row that existed returns nothing
    )
    connection = session.connection()  # Core: one compiled statement, cached, per row
    return sum(len(connection.execute(statement, v).all()) for v in values)


def _times(now: datetime) -> dict[str, datetime]:
    return {"next_attempt_at": now, "created_at": now}


@dataclass(frozen=True)
class Claimed:
    """A row taken for sending (a plain copy: no session attached)."""

    id: str
    case_id: str
    seq: int
    kind: str
    recipient: str
    payload: dict[str, Any]
    attempts: int


def claim(url: str, limit: int, lease: timedelta, now: datetime | None = None) -> list[Claimed]:
    """Take up to ``limit`` due rows, oldest first, for ``lease``."""
    now = now or utcnow()
    with session_scope(url) as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(col(OutboxMessage.next_attempt_at))
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.exec(query).all()
        if not rows:
            return []
        # one conditional update for the batch: a row another dispatcher took meanwhile no
        # longer matches, and RETURNING says which rows this one took
        result = session.execute(
            update(OutboxMessage)  # type: ignore[call-overload]
            .where(
                col(OutboxMessage.id).in_([row.id for row in rows]),
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + lease)
            .returning(col(OutboxMessage.id), col(OutboxMessage.attempts))
            .execution_options(synchronize_session=False)
        )
        attempts = dict(result.all())
        return [
            Claimed(
                row.id,
                row.case_id,
                row.seq,
                row.kind,
                row.recipient,
                dict(row.payload),
                attempts[row.id],
            )
            for row in rows
            if row.id in attempts
        ]


def mark_sent(url: str, id: str) -> None:
    mark_sent_many(url, [id])


def mark_sent_many(url: str, ids: list[str]) -> int:
    """Mark the rows sent, in one statement (the dispatcher marks what it sent meanwhile in
    one go); rows already marked or given up are left as they are. The number marked."""
    if not ids:
        return 0
    with session_scope(url) as session:
        result = session.exec(
            update(OutboxMessage)  # type: ignore[call-overload]
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == "pending")
            .values(status="sent", sent_at=utcnow(), last_error="")
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: doubling from 2 s, at most 5 min."""
    return timedelta(
        seconds=min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    )


def mark_retry(url: str, id: str, error: str, give_up: bool = False) -> None:
    """Record a failed attempt: due again after ``backoff``, or ``failed`` for good (told to
    give up, or after ``MAX_ATTEMPTS``)."""
    with session_scope(url) as session:
        row = session.get(OutboxMessage, id)
        if row is None or row.status != "pending":
            return
        row.last_error = error[:500]
        if give_up or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.next_attempt_at = utcnow() + backoff(row.attempts)
        session.add(row)


def next_due(url: str) -> datetime | None:
    """When the earliest pending row comes due (None: nothing pending)."""
    with session_scope(url) as session:
        first = session.exec(
            select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
        ).one()
    return as_utc(first)


def summary(session: Session) -> dict[str, dict[str, int]]:
    """Rows by kind and status, e.g. ``{"mail": {"pending": 2, "sent": 40}}``."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.exec(
        select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
            col(OutboxMessage.kind), col(OutboxMessage.status)
        )
    ).all()
    for kind, status, n in rows:
        counts.setdefault(kind, {})[status] = n
    return counts


def listing(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """Pending and failed rows first (oldest due first), then the latest sent."""
    unsent = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.status) != "sent")
        .order_by(col(OutboxMessage.next_attempt_at))
        .limit(limit)
    ).all()
    sent = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == "sent")
        .order_by(col(OutboxMessage.sent_at).desc())
        .limit(max(limit - len(unsent), 0))
    ).all()
    return [*unsent, *sent]
