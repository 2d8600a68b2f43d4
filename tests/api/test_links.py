"""One-time links: unknown, expired and used tokens are refused, on the JSON route and the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from base.settings import Settings
from dihflow.seed import seed_demo_network
from store.db import session_scope
from store.records import derive_link_token, ensure_link
from tests.api.conftest import store_signing_case
from tests.factories import settings_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = settings_for(tmp_path)
    seed_demo_network(s.database_url)
    store_signing_case(s.database_url, "c-links", "Links")
    return s


def _link(settings: Settings, purpose: str, expires: datetime, used: bool = False) -> str:
    token = derive_link_token(settings.secret_key, "c-links", purpose)
    with session_scope(settings.database_url) as session:
        row = ensure_link(session, token, "c-links", "sign", "client", purpose, expires)
        if used:
            row.used_at = datetime.now(UTC)
    return token


@pytest.mark.parametrize(
    ("expires_in", "used", "status", "words"),
    [
        (timedelta(days=-1), False, 410, "expired"),
        (timedelta(days=3), True, 410, "used already"),
    ],
    ids=["expired", "used"],
)
async def test_spent_link_is_refused_on_both_routes(
    settings: Settings, expires_in: timedelta, used: bool, status: int, words: str
) -> None:
    token = _link(settings, f"sign:{words}", datetime.now(UTC) + expires_in, used)
    transport = httpx.ASGITransport(app=create_app(settings, run_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        api = await client.get(f"/v1/links/{token}")
        posted = await client.post(f"/v1/links/{token}", json={"document_sha256": "0" * 64})
        page = await client.get(f"/l/{token}")
    assert api.status_code == posted.status_code == page.status_code == status
    assert (
        words in api.json()["detail"] and api.headers["content-type"] == "application/problem+json"
    )
    assert words in page.text and "cannot be used" in page.text


async def test_unknown_link_is_404(settings: Settings) -> None:
    transport = httpx.ASGITransport(app=create_app(settings, run_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/v1/links/nope")).status_code == 404
        assert (await client.get("/l/nope")).status_code == 404


async def test_a_link_page_told_to_wait_says_when_to_try_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As every 503 of the API: the page says why and ``Retry-After`` says when."""
    from api.pages import links as pages
    from api.problems import ApiError

    async def busy(*args: object, **kwargs: object) -> None:
        raise ApiError(503, "the case is still completing its previous step; retry in a moment")

    monkeypatch.setattr(pages, "act_by_link", busy)
    token = _link(settings, "sign:wait", datetime.now(UTC) + timedelta(days=3))  # no version
    transport = httpx.ASGITransport(app=create_app(settings, run_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        form = {"choice": "sign", "confirm": "yes", "document_sha256": "0" * 64}
        page = await client.post(f"/l/{token}", data=form)
    assert page.status_code == 503 and page.headers["retry-after"] == "2"
    assert "still completing its previous step" in page.text
