"""Housekeeping: rows that have served their purpose, deleted on a schedule so tables do not
grow without bound. The worker's outbox dispatcher runs ``purge`` every ``PURGE_SECONDS``
(several workers purging at once delete the same rows: harmless)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete

from store.db import session_scope
from store.models import IdempotencyRecord

IDEMPOTENCY_KEEP = timedelta(hours=24)  # an Idempotency-Key answers its first request this long
PURGE_SECONDS = 3600.0


def purge(database_url: str, now: datetime) -> int:
    """Delete the idempotency keys older than ``IDEMPOTENCY_KEEP``; how many were deleted."""
    with session_scope(database_url) as session:
        result = session.exec(
            delete(IdempotencyRecord).where(  # type: ignore[call-overload]
                col(IdempotencyRecord.created_at) < now - IDEMPOTENCY_KEEP
            )
        )
        return int(result.rowcount or 0)
