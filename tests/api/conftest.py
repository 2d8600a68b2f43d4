"""An API process without the engine: for routes that only read or write the store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import Role
from store.keys import create_key
from tests.factories import settings_for


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    settings = settings_for(tmp_path)
    seed_demo_network(settings.database_url)
    return settings


@pytest.fixture
def keys(api_settings: Settings) -> dict[str, str]:
    url = api_settings.database_url
    return {
        "back_office": create_key(url, Role.back_office, None),
        "legal": create_key(url, Role.legal, None),
        "hub_member": create_key(url, Role.hub_member, "tagus-ai"),
    }


@pytest.fixture
def client_for() -> Callable[[FastAPI], httpx.AsyncClient]:
    def make(app: FastAPI) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")

    return make


@pytest.fixture
async def api(api_settings: Settings, client_for) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with client_for(create_app(api_settings, run_migrations=False)) as client:
        yield client


def store_signing_case(database_url: str, case_id: str, title: str) -> None:
    """A joint-service case in ``signing``, in the store only (no workflow): for routes that
    check a case before they reach the engine."""
    from domain.cases import CaseFacts, ClientInfo
    from domain.timeline import GENESIS, chain_event
    from store.db import session_scope
    from store.records import project_case

    facts = CaseFacts(
        case_id=case_id,
        scenario="joint_service",
        state="signing",
        title=title,
        need="n",
        scope="s",
        lead_hub_id="tagus-ai",
        client=ClientInfo(name="C", country="PT", email="c@c.example"),
        start_date="2026-01-01",
        end_date="2026-06-01",
        partnering_days=14,
        review_days=30,
        created_at="2026-01-01T00:00:00+00:00",
        seq=1,
    )
    event = chain_event(0, GENESIS, "case_requested", "principal:p", facts.created_at, {})
    with session_scope(database_url) as session:
        project_case(session, facts.model_copy(update={"head_hash": event.hash}), [event])
