"""Worker crashes: `kill -9` the worker subprocess mid-lifecycle; nothing is lost or doubled.

The API runs in this process; workers are `python -m worker` subprocesses against the session
dev server (see ``tests/faults/harness.py``). Every step of every case is exposed to kills, and
one test kills the worker while it makes the executed copy after the last signature.
"""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

import pytest

from base.engine import DevServer
from tests.conftest import Stack
from tests.e2e.helpers import start_case
from tests.faults.harness import (
    LAST_SIGNATURE,
    STEPS_PER_CASE,
    Driver,
    activities_started,
    api_and_workers,
    assert_closed,
    assert_store_consistent,
    engine,
    lifecycle,
    settle,
    store_writes_held,
)

pytestmark = pytest.mark.e2e


# -- the tests ----------------------------------------------------------------------------
async def test_worker_killed_mid_lifecycle_loses_nothing(
    dev_server: DevServer, tmp_path: Path
) -> None:
    rng = random.Random(7)
    candidates = [(case, number) for case in range(3) for number in range(STEPS_PER_CASE)]
    kill_at = set(rng.sample(candidates, 3))
    async with api_and_workers(dev_server, tmp_path) as (stack, workers):
        workers.spawn()
        cases = await asyncio.gather(*(start_case(stack) for _ in range(3)))
        ids = [c["id"] for c in cases]
        driver = Driver(stack, workers, kill_at, rng)
        await asyncio.gather(*(driver.drive(i, cid) for i, cid in enumerate(ids)))
        print("kills:", driver.kills, "non-200 answers:", driver.answers)
        assert len(driver.kills) == 3, driver.kills
        assert len(workers.procs) == 4
        assert all(p.returncode == -signal.SIGKILL for p in workers.procs[:3])
        await assert_closed(stack, ids)
        assert_store_consistent(stack.settings, ids)


async def test_two_workers_one_killed_the_other_finishes_every_case(
    dev_server: DevServer, tmp_path: Path
) -> None:
    async with api_and_workers(dev_server, tmp_path) as (stack, workers):
        first, second = workers.spawn(), workers.spawn()
        cases = await asyncio.gather(*(start_case(stack) for _ in range(4)))
        ids = [c["id"] for c in cases]
        driver = Driver(stack, workers, set(), random.Random(7))

        async def kill_early() -> None:
            await asyncio.sleep(0.2)  # the first steps of the cases are in flight
            workers.kill(first)

        await asyncio.gather(kill_early(), *(driver.drive(i, cid) for i, cid in enumerate(ids)))
        print("non-200 answers:", driver.answers)
        assert first.returncode == -signal.SIGKILL
        assert second.poll() is None and len(workers.procs) == 2  # no new worker was started
        await assert_closed(stack, ids)
        assert_store_consistent(stack.settings, ids)


async def executed_copy_attempts(stack: Stack, case_id: str) -> int:
    """The attempt that made the case's executed copy (the history keeps the last one)."""
    history = (
        await (await engine(stack.settings)).get_workflow_handle(f"case-{case_id}").fetch_history()
    )
    scheduled = {
        e.event_id
        for e in history.events
        if e.activity_task_scheduled_event_attributes.activity_type.name
        == "produce_executed_agreement"
    }
    return max(
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    )


async def test_worker_killed_while_making_the_executed_copy_loses_nothing(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """The copy is caught in flight: once the last signature has answered, the store's write
    lock is held, so the copy's activity is running (its write waiting) when the worker dies."""
    async with api_and_workers(dev_server, tmp_path) as (stack, workers):
        first = workers.spawn()
        cid = (await start_case(stack))["id"]
        driver = Driver(stack, workers, set(), random.Random(7))
        await driver.drive(0, cid, range(LAST_SIGNATURE))
        client_sign = await lifecycle(stack, cid)[LAST_SIGNATURE]()
        answer = await client_sign.send()
        assert answer.status_code == 200, answer.text
        with store_writes_held(stack.settings.database_url):
            await activities_started(stack, [cid], activity_type="produce_executed_agreement")
            workers.kill(first)
        second = workers.spawn()
        await settle(client_sign, answer, driver.answers)  # until the copy is made
        await driver.drive(0, cid, range(LAST_SIGNATURE + 1, STEPS_PER_CASE))
        assert first.returncode == -signal.SIGKILL and second.poll() is None
        await assert_closed(stack, [cid])
        assert_store_consistent(stack.settings, [cid])
        assert await executed_copy_attempts(stack, cid) >= 2  # made again by the second worker
