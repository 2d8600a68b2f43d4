"""Link pages are private: never cached nor sent on as a referrer, and the access log never
shows a token."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import Draft
from store.db import session_scope
from store.models import Case
from store.records import derive_link_token, ensure_link
from tests.api.conftest import store_signing_case
from tests.factories import settings_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = settings_for(tmp_path)
    seed_demo_network(s.database_url)
    store_signing_case(s.database_url, "c-private", "Private")
    with session_scope(s.database_url) as session:  # its current draft is version 2
        case = session.get(Case, "c-private")
        assert case is not None
        draft = Draft(
            version=2,
            document_id="c-private-v2",
            sha256="a" * 64,
            template="t",
            template_version="1",
        )
        case.facts = case.facts | {"draft": draft.model_dump()}
        session.add(case)
    return s


def _link(settings: Settings, purpose: str) -> str:
    token = derive_link_token(settings.secret_key, "c-private", purpose)
    with session_scope(settings.database_url) as session:
        expires = datetime.now(UTC) + timedelta(days=3)
        ensure_link(session, token, "c-private", "sign", "client", purpose, expires)
    return token


@pytest.mark.parametrize("path", ["/l/{token}", "/v1/links/{token}", "/l/nope"])
async def test_link_answers_are_neither_cached_nor_referred(settings: Settings, path: str) -> None:
    token = _link(settings, "sign:v2:client")
    transport = httpx.ASGITransport(app=create_app(settings, run_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get(path.format(token=token))
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"


async def test_a_link_for_a_replaced_version_is_gone(settings: Settings) -> None:
    stale, current = _link(settings, "sign:v1:client"), _link(settings, "sign:v2:client")
    transport = httpx.ASGITransport(app=create_app(settings, run_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        api = await client.post(f"/v1/links/{stale}", json={"document_sha256": "0" * 64})
        page = await client.get(f"/l/{stale}")
        fine = await client.get(f"/v1/links/{current}")
    assert api.status_code == page.status_code == 410
    assert "version 1" in api.json()["detail"] and "replaced" in page.text
    assert fine.status_code == 200 and fine.json()["document"]["version"] == 2


def test_access_log_lines_show_no_link_token(settings: Settings) -> None:
    create_app(settings, run_migrations=False)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/l/s3cr3t-token?x=1", "1.1", 200),
        None,
    )
    logger = logging.getLogger("uvicorn.access")
    assert all(f.filter(record) for f in logger.filters)
    assert "s3cr3t-token" not in record.getMessage()
    assert "/l/<token>?x=1" in record.getMessage()
