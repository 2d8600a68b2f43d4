"""A deployment's shape on one machine: PostgreSQL, two `dihflow api` processes and two workers
on one engine. Cases are driven through both APIs while a worker is killed; rate limits and
idempotency keys hold across the API processes; nothing is lost or duplicated."""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from base.engine import DevServer, free_port
from domain.cases import Role
from store.keys import create_key
from tests.conftest import Stack
from tests.e2e.helpers import CLIENT, PARTNER, start_case
from tests.faults.harness import (
    ApiProcess,
    Driver,
    Workers,
    assert_closed,
    assert_store_consistent,
    fault_stack,
)

pytestmark = pytest.mark.e2e
RATE_LIMIT = 150  # per key and minute, counted in the store by both API processes


async def test_two_apis_two_workers_on_postgres_lose_and_double_nothing(
    dev_server: DevServer, tmp_path: Path, own_postgres: str
) -> None:
    async with fault_stack(
        dev_server, tmp_path, database_url=own_postgres, api_process=True, rate_limit=RATE_LIMIT
    ) as faults:
        first_api, workers = faults.stack, faults.workers
        # the second API process: the same settings on another port
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = workers.env | {"DIHFLOW_API_PORT": str(port), "DIHFLOW_PUBLIC_URL": url}
        others = Workers(env, workers.logs)
        try:
            await ApiProcess(others, url).start()
            async with httpx.AsyncClient(base_url=url, timeout=90) as http:
                second_api = Stack(url, first_api.settings, first_api.keys, http)
                await _drive_both(first_api, second_api, workers)
                await _idempotency_is_shared(first_api, second_api)
                await _rate_limit_is_shared(first_api, second_api)
        finally:
            others.kill_all()


async def _drive_both(first: Stack, second: Stack, workers: Workers) -> None:
    doomed, survivor = workers.spawn(), workers.spawn()
    cases = [await start_case(first), await start_case(second), await start_case(first)]
    ids = [c["id"] for c in cases]
    rng = random.Random(11)
    drivers = [
        Driver(api, workers, set(), rng) for api in (first, second, second)
    ]  # each case through one API, the second and third through the other process

    async def kill_one_worker() -> None:
        await asyncio.sleep(0.3)  # the cases' first steps are in flight
        workers.kill(doomed)

    await asyncio.gather(
        kill_one_worker(),
        *(d.drive(i, cid) for i, (d, cid) in enumerate(zip(drivers, ids, strict=True))),
    )
    assert doomed.returncode == -signal.SIGKILL and survivor.poll() is None
    await assert_closed(first, ids)
    await assert_closed(second, ids)  # both processes read the same store
    assert_store_consistent(first.settings, ids)


async def _idempotency_is_shared(first: Stack, second: Stack) -> None:
    body = {
        "scenario": "joint_service",
        "title": "Idempotent across processes",
        "need": "One case, however many API processes the retry reaches.",
        "client": CLIENT,
        "invited_hub_ids": [PARTNER],
    }
    key = {"Idempotency-Key": f"cluster-{uuid.uuid4().hex}"}
    headers = first.auth("hub_member:tagus-ai") | key
    one = await first.http.post("/v1/cases", json=body, headers=headers)
    two = await second.http.post("/v1/cases", json=body, headers=headers)
    assert one.status_code == 201 and two.status_code == 201, (one.text, two.text)
    assert one.json()["id"] == two.json()["id"]
    other = await second.http.post("/v1/cases", json=body | {"title": "changed"}, headers=headers)
    assert other.status_code == 422  # the same key with another body, seen by the other process


async def _rate_limit_is_shared(first: Stack, second: Stack) -> None:
    """Requests alternate between the processes. Counted apart, each would allow RATE_LIMIT in a
    minute, so the first 429 could come only after 2 x RATE_LIMIT requests; counted together it
    comes after RATE_LIMIT (before 2 x RATE_LIMIT even if a minute turns over meanwhile)."""
    key = create_key(first.settings.database_url, Role.back_office, None)
    auth = {"Authorization": f"Bearer {key}"}
    for n in range(2 * RATE_LIMIT + 10):
        api = (first, second)[n % 2]
        r = await api.http.get("/v1/hubs", headers=auth)
        if r.status_code == 429:
            assert n < 2 * RATE_LIMIT
            assert "Retry-After" in r.headers
            return
        assert r.status_code == 200, r.text
    raise AssertionError("no 429: each API process counted the key's requests on its own")
