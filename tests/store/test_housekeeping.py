"""Expired idempotency keys are purged: by ``store.housekeeping.purge``, which the worker's
outbox dispatcher runs on a schedule (at its start, then hourly)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from activities.dispatcher import OutboxDispatcher
from store.db import session_scope
from store.housekeeping import IDEMPOTENCY_KEEP, purge
from store.models import IdempotencyRecord
from tests.factories import settings_for


def add_keys(url: str, now: datetime) -> None:
    with session_scope(url) as session:
        for key, age in (("old", IDEMPOTENCY_KEEP + timedelta(minutes=1)), ("new", timedelta())):
            session.add(
                IdempotencyRecord(
                    principal_id="p-1",
                    key=key,
                    route="cases",
                    request_sha256="0" * 64,
                    resource_id=f"c-{key}",
                    created_at=now - age,
                )
            )


def keys(url: str) -> list[str]:
    with session_scope(url) as session:
        return sorted(r.key for r in session.exec(select(IdempotencyRecord)))


def test_purge_deletes_only_expired_keys(store_url: str) -> None:
    now = datetime.now(UTC)
    add_keys(store_url, now)
    assert purge(store_url, now) == 1
    assert keys(store_url) == ["new"]
    assert purge(store_url, now) == 0


async def test_the_dispatcher_purges_on_its_schedule(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, pdf_converter="off")
    from store.db import migrate

    migrate(settings.database_url)
    add_keys(settings.database_url, datetime.now(UTC))
    dispatcher = OutboxDispatcher(settings, client=None, converters=1).start()  # type: ignore[arg-type]
    try:
        for _ in range(200):
            if keys(settings.database_url) == ["new"]:
                break
            await asyncio.sleep(0.05)
        assert keys(settings.database_url) == ["new"]
    finally:
        await dispatcher.stop()
