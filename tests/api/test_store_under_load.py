"""The API under load: a slow client holds no pooled connection while its body arrives, a busy
store answers 503 with Retry-After (problem+json), and a step the engine does not confirm in
time a 504, never a 500."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

import api.deps
import api.routes.cases
from api.app import create_app
from api.problems import ApiError, problem, store_busy_problem
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import Caller, Role
from store.db import get_engine, session_scope
from store.keys import create_key
from tests.api.conftest import store_signing_case
from tests.factories import settings_for

CASE = "c-slow"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = settings_for(tmp_path)
    seed_demo_network(s.database_url)
    store_signing_case(s.database_url, CASE, "Slow bodies")
    return s


def parked_request(
    app: FastAPI, path: str, key: str
) -> tuple[asyncio.Task[None], asyncio.Event, asyncio.Event]:
    """A POST whose body never comes: the task, an event set once the app asks for the body,
    and one that, once set, makes the client go away."""
    asked, leave = asyncio.Event(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        asked.set()
        await leave.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        return None

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"api"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"20"),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("api", 80),
    }
    return asyncio.create_task(app(scope, receive, send)), asked, leave


async def test_a_step_whose_body_is_slow_to_arrive_holds_no_store_connection(
    settings: Settings,
) -> None:
    app = create_app(settings, run_migrations=False)
    key = create_key(settings.database_url, Role.back_office, None)
    parked = [parked_request(app, f"/v1/cases/{CASE}/actions/cancel", key) for _ in range(4)]
    try:
        await asyncio.wait_for(asyncio.gather(*(asked.wait() for _, asked, _ in parked)), 30)
        # every request is inside the route, waiting for its body
        assert get_engine(settings.database_url).pool.checkedout() == 0  # type: ignore[attr-defined]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api"
        ) as client:
            r = await client.get(f"/v1/cases/{CASE}", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and r.json()["state"] == "signing"
    finally:
        for _, _, leave in parked:
            leave.set()
        for task, _, _ in parked:
            with contextlib.suppress(Exception):
                await task


async def test_reads_outnumbering_threads_and_connections_all_complete(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads and one connection for six reads at once: each read gives its connection
    back as it ends. Giving it back through the thread pool deadlocked here (the threads
    waited for the connection, the connection for a thread) until the pool's timeout."""
    key = create_key(settings.database_url, Role.back_office, None)
    small = create_engine(
        settings.database_url,
        connect_args={"check_same_thread": False},
        pool_size=1,
        max_overflow=0,
        pool_timeout=3,
    )
    monkeypatch.setattr(api.deps, "get_engine", lambda url: small)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens, limiter.total_tokens = limiter.total_tokens, 2
    app = create_app(settings, run_migrations=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api"
        ) as client:
            answers = await asyncio.gather(
                *(
                    client.get(f"/v1/cases/{CASE}", headers={"Authorization": f"Bearer {key}"})
                    for _ in range(6)
                )
            )
    finally:
        limiter.total_tokens = tokens
        small.dispose()
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers]
    assert small.pool.checkedout() == 0  # type: ignore[attr-defined]


def _raises(exc: Exception) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


BUSY = [
    PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached, connection timed out"),
    OperationalError("SELECT 1", {}, Exception("database is locked")),
]


@pytest.mark.parametrize("error", BUSY, ids=["pool-exhausted", "sqlite-locked"])
@pytest.mark.parametrize("where", ["route", "authentication"])
async def test_a_busy_store_answers_503_with_retry_after(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, error: Exception, where: str
) -> None:
    key = create_key(settings.database_url, Role.back_office, None)
    if where == "route":
        monkeypatch.setattr(api.routes.cases, "visible_case", _raises(error))
    else:
        monkeypatch.setattr(api.deps, "principal_for_key", _raises(error))
    app = create_app(settings, run_migrations=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        r = await client.get(f"/v1/cases/{CASE}", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["Retry-After"] == "1"
    assert "store is busy" in r.json()["detail"]


def test_every_503_says_when_to_retry_and_only_503s_do() -> None:
    assert problem(503, "the workflow engine is not reachable now").headers["retry-after"] == "2"
    assert store_busy_problem().headers["retry-after"] == "1"  # its own, kept
    assert "retry-after" not in problem(409, "the case has ended").headers


async def test_any_other_store_error_is_a_500_that_says_nothing_of_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_key(settings.database_url, Role.back_office, None)
    failure = OperationalError("SELECT secret FROM t", {}, Exception("no such column: secret"))
    monkeypatch.setattr(api.routes.cases, "visible_case", _raises(failure))
    app = create_app(settings, run_migrations=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://api"
    ) as client:
        r = await client.get(f"/v1/cases/{CASE}", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 500 and "secret" not in r.text
    assert r.headers["content-type"] == "application/problem+json"


class _Handle:
    def __init__(self, error: Exception):
        self.error = error

    async def execute_update(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


class _Engine:
    """Stands in for the process's Temporal clients: every update fails with ``error``."""

    def __init__(self, error: Exception):
        self.error = error

    async def get(self) -> Any:
        return self

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Handle(self.error)


@pytest.mark.parametrize("error", [WorkflowUpdateRPCTimeoutOrCancelledError(), TimeoutError()])
async def test_a_step_the_engine_does_not_confirm_in_time_is_a_504(
    settings: Settings, error: Exception
) -> None:
    from api.steps import perform_action
    from store.models import Case

    caller = Caller(principal_id="p-back-office", role=Role.back_office, hub_id=None)
    with session_scope(settings.database_url) as session:
        case = session.get(Case, CASE)
        assert case is not None
        with pytest.raises(ApiError) as refused:
            body = {"reason": "The client withdrew"}
            await perform_action(session, _Engine(error), case, "cancel", caller, body)  # type: ignore[arg-type]
    assert refused.value.status == 504
    assert "not confirmed in time" in refused.value.detail
