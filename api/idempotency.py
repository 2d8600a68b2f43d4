"""``Idempotency-Key`` for creating POSTs: the same key and body give the first response.

Keys are scoped to the principal and kept ``KEEP`` (24 h); a key reused with another body (or
on another route) is a 422. The record is written before the resource is created and names
its id, so a retry after a crash creates the same resource (e.g. the same case workflow id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.problems import ApiError
from domain.digests import sha256_hex
from domain.timeline import canonical_json
from store.db import as_utc
from store.housekeeping import IDEMPOTENCY_KEEP
from store.models import IdempotencyRecord, utcnow

KEEP = IDEMPOTENCY_KEEP  # past it a key starts afresh; the worker purges such keys hourly


def request_hash(body: Any) -> str:
    return sha256_hex(canonical_json({"body": body}))


def claim(
    session: Session, principal_id: str, key: str, route: str, body: Any, new_id: str
) -> tuple[str, bool]:
    """The resource id this key stands for, and whether it was seen before."""
    sha = request_hash(body)
    existing = session.get(IdempotencyRecord, (principal_id, key))
    if existing is not None and as_utc(existing.created_at) < utcnow() - KEEP:  # type: ignore[operator]
        session.delete(existing)  # expired: the key starts afresh
        session.commit()
        existing = None
    if existing is None:
        session.add(
            IdempotencyRecord(
                principal_id=principal_id,
                key=key,
                route=route,
                request_sha256=sha,
                resource_id=new_id,
            )
        )
        try:
            session.commit()
            return new_id, False
        except IntegrityError:  # a concurrent request with the same key won
            session.rollback()
            existing = session.get(IdempotencyRecord, (principal_id, key))
            assert existing is not None
    if existing.request_sha256 != sha or existing.route != route:
        raise ApiError(
            422,
            "this Idempotency-Key was used with another request",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
        )
    return existing.resource_id, True
