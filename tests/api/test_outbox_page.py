"""The embedded default's dev outbox page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from activities.notify import Message, OutboxNotifier
from api.app import create_app
from tests.factories import settings_for


def _app(tmp_path: Path, dev_pages: bool):  # type: ignore[no-untyped-def]
    settings = settings_for(tmp_path, secret_key="s", dev_pages=dev_pages)
    OutboxNotifier(settings.outbox_dir).send(
        Message(
            key="c-1:link:sign:v1:client",
            case_id="c-1",
            to_name="Ana",
            to_email="ana@client.example",
            subject="[c-1] Please sign the agreement",
            template="link",
            context={"requested_by": "Tagus", "request": "sign", "title": "T", "expires_at": "x"},
            link="http://127.0.0.1:8000/l/abc",
            action="sign",
        ),
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
    )
    return create_app(settings, run_migrations=False)


async def test_outbox_page_lists_messages_in_the_embedded_default(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path, dev_pages=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/dev/outbox")
    assert r.status_code == 200
    assert "Please sign the agreement" in r.text and 'href="http://127.0.0.1:8000/l/abc"' in r.text


async def test_outbox_page_does_not_exist_outside_the_embedded_default(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path, dev_pages=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/dev/outbox")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_outbox_page_is_refused_to_another_machine_without_a_back_office_session(
    tmp_path: Path,
) -> None:
    transport = httpx.ASGITransport(
        app=_app(tmp_path, dev_pages=True), client=("203.0.113.7", 40000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/dev/outbox")
    assert r.status_code in (303, 401), r.status_code  # sent to sign in, never the page
    assert "/l/abc" not in r.text
