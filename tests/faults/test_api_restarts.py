"""The API killed (-9) while ``POST /v1/cases`` with an ``Idempotency-Key`` is in flight, then
restarted; the client retries with the same key and body and gets one case: one workflow
``case-<id>`` (one run), one row in the store, the same id on every answer, one
``case_requested`` event.

Two moments of death, each made deterministic: no worker is running yet, so the start waits
on the engine (the workflow exists, its first step is not taken); and with a worker, the
store's write lock held, so the engine has taken the start and its first event is being
recorded when the API dies.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from temporalio.client import WorkflowExecutionStatus

from base.engine import DevServer
from store.db import session_scope
from store.models import Case, IdempotencyRecord
from tests.conftest import Stack
from tests.e2e.helpers import LEAD, act
from tests.faults.harness import (
    activities_started,
    engine,
    fault_stack,
    post_case,
    store_writes_held,
    stored_events,
)

pytestmark = pytest.mark.e2e


async def claimed_case(stack: Stack, key: str) -> str:
    """The case id the key was claimed for, once the engine has its workflow."""
    client = await engine(stack.settings)
    deadline = time.monotonic() + 20
    while True:
        with session_scope(stack.settings.database_url) as session:
            record = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
            found = record.first()
        if found is not None:
            try:
                await client.get_workflow_handle(f"case-{found.resource_id}").describe()
                return found.resource_id
            except Exception:
                pass
        assert time.monotonic() < deadline, "the start never reached the engine"
        await asyncio.sleep(0.05)


async def updates_accepted(stack: Stack, case_id: str) -> int:
    client = await engine(stack.settings)
    history = await client.get_workflow_handle(f"case-{case_id}").fetch_history()
    return sum(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events
    )


async def run_id(stack: Stack, case_id: str) -> str:
    client = await engine(stack.settings)
    return (await client.get_workflow_handle(f"case-{case_id}").describe()).run_id


def assert_one_case(stack: Stack, case_id: str, title: str) -> None:
    with session_scope(stack.settings.database_url) as session:
        rows = session.exec(select(func.count()).select_from(Case).where(Case.title == title))
        assert rows.one() == 1, title
    types = [e.type for e in stored_events(stack.settings.database_url, case_id)]
    assert types.count("case_requested") == 1, types


async def test_api_killed_during_a_start_the_retry_with_the_key_gives_one_case(
    dev_server: DevServer, tmp_path: Any
) -> None:
    async with fault_stack(dev_server, tmp_path, api_process=True, rate_limit=0) as faults:
        stack, api, workers = faults.stack, faults.api, faults.workers
        assert api is not None

        # 1. no worker yet: the start waits on the engine when the API dies
        waiting = asyncio.ensure_future(post_case(stack, "key-waiting", "Waiting"))
        first = await claimed_case(stack, "key-waiting")
        run = await run_id(stack, first)
        api.kill()
        with pytest.raises(httpx.TransportError):
            await waiting
        await api.start()
        # the retry reaches the engine before a worker is up (a process start takes seconds)
        retry = asyncio.ensure_future(post_case(stack, "key-waiting", "Waiting"))
        worker = workers.spawn()
        answers = [await retry, await post_case(stack, "key-waiting", "Waiting")]
        assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
        assert {r.json()["id"] for r in answers} == {first}
        assert await run_id(stack, first) == run
        assert await updates_accepted(stack, first) == 2  # the lost request's, the retry's
        assert_one_case(stack, first, "Waiting")

        # 2. the engine took the start and records its first event when the API dies
        workers.kill(worker)  # the start waits on the engine, then a worker takes it up
        recording = asyncio.ensure_future(post_case(stack, "key-recording", "Recording"))
        second = await claimed_case(stack, "key-recording")
        with store_writes_held(stack.settings.database_url):
            workers.spawn()
            await activities_started(stack, [second])
            run = await run_id(stack, second)
            api.kill()
        with pytest.raises(httpx.TransportError):
            await recording
        await api.start()
        answers = [await post_case(stack, "key-recording", "Recording") for _ in range(2)]
        assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
        assert {r.json()["id"] for r in answers} == {second}
        assert await run_id(stack, second) == run
        assert_one_case(stack, second, "Recording")


async def test_retry_with_the_key_after_the_case_ended_starts_nothing(stack: Stack) -> None:
    key, title = f"ended-{time.monotonic_ns()}", f"Ended {time.monotonic_ns()}"
    first = await post_case(stack, key, title)
    assert first.status_code == 201, first.text
    case_id = first.json()["id"]
    cancelled = await act(stack, f"hub_member:{LEAD}", case_id, "cancel", {"reason": "no budget"})
    assert cancelled.status_code == 200, cancelled.text
    client = await engine(stack.settings)
    handle = client.get_workflow_handle(f"case-{case_id}")
    await handle.result()
    run = (await handle.describe()).run_id

    again = await post_case(stack, key, title)
    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["state"]) == (case_id, "cancelled")
    described = await handle.describe()
    assert (described.run_id, described.status) == (run, WorkflowExecutionStatus.COMPLETED)
