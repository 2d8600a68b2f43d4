"""PostgreSQL connections dropped under the stack: a projection write whose connection is
terminated is retried and the read model ends as the workflow holds the case; every connection
of the database dropped between requests, and the next request (key check, rate limit, read,
step) still succeeds.

The timing is made, not hoped for: another connection holds a row lock on the case, so the
projection's ``UPDATE`` of that row waits; the test finds the waiting backend by the lock it
waits on, terminates it, then lets go of the lock.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import psycopg
import pytest

from base.engine import DevServer
from base.settings import Settings
from tests.e2e.helpers import start_case
from tests.faults.harness import (
    STEPS_PER_CASE,
    assert_closed,
    assert_store_consistent,
    assert_store_matches_workflow,
    engine,
    fault_stack,
    lifecycle,
    settle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


async def backend_blocked_by(url: str, holder_pid: int) -> tuple[int, str]:
    """The backend waiting on a lock ``holder_pid`` holds, and its statement."""
    deadline = time.monotonic() + 20
    with psycopg.connect(plain(url), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                (holder_pid,),
            ).fetchone()
            if row is not None:
                return int(row[0]), str(row[1])
            assert time.monotonic() < deadline, "no write came to wait on the case row"
            await asyncio.sleep(0.05)


def terminate(url: str, pid: int | None = None) -> int:
    """Terminate one backend, or every backend of the database but this one; how many."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        if pid is not None:
            row = conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
            return 1 if row and row[0] else 0
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        return int(row[0]) if row else 0


def requests_counted(url: str) -> int:
    """Requests counted against every key's rate limit so far."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(sum(count), 0) FROM rate_window").fetchone()
        return int(row[0]) if row else 0


def dropped_mid_write(tmp_path: Path) -> int:
    """Activity attempts the worker saw fail on a terminated connection."""
    failures = (tmp_path / "worker-0.log").read_text().split("Completing activity as failed")
    return sum("AdminShutdown" in failure for failure in failures[1:])


async def record_attempts(settings: Settings, case_id: str) -> list[int]:
    """The attempt numbers of every projection run in the case's history (``record_case``, or
    ``project_step``; the latter's markers too, had it run as a local activity)."""
    client = await engine(settings)
    history = await client.get_workflow_handle(f"case-{case_id}").fetch_history()
    names = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and names[e.activity_task_started_event_attributes.scheduled_event_id]
        in ("record_case", "project_step")
    ]
    for e in history.events:
        marker = e.marker_recorded_event_attributes
        if e.HasField("marker_recorded_event_attributes") and "data" in marker.details:
            data = json.loads(marker.details["data"].payloads[0].data)
            if data.get("activity_type") == "project_step":
                attempts.append(int(data["attempt"]))
    return attempts


async def test_projection_connection_terminated_then_every_connection_dropped(
    dev_server: DevServer, tmp_path: Path, own_postgres: str
) -> None:
    async with fault_stack(dev_server, tmp_path, database_url=own_postgres) as faults:
        stack = faults.stack
        faults.workers.spawn()
        cid = (await start_case(stack))["id"]
        steps = lifecycle(stack, cid)

        # the projection of accept-invitation waits on the case row; its connection is dropped
        accept = await steps[0]()
        with psycopg.connect(plain(own_postgres)) as holder:
            holder.execute('SELECT id FROM "case" WHERE id = %s FOR NO KEY UPDATE', (cid,))
            sent = asyncio.ensure_future(accept.send())
            pid, statement = await backend_blocked_by(own_postgres, holder.info.backend_pid)
            assert statement.lstrip().upper().startswith('UPDATE "CASE"'), statement
            assert terminate(own_postgres, pid) == 1
            holder.rollback()
        r = await sent
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "legal_review"
        assert max(await record_attempts(stack.settings, cid)) >= 2  # retried, then stored
        assert dropped_mid_write(tmp_path) == 1
        await assert_store_matches_workflow(stack.settings, [cid])

        # every connection (the API's, the worker's) dropped before each request that follows;
        # each request checks its key and counts against its rate limit on a fresh connection
        counted, slow = requests_counted(own_postgres), list[tuple[str, int]]()
        for number in range(1, STEPS_PER_CASE):
            step = await steps[number]()
            assert terminate(own_postgres) > 0
            r = await step.send()
            # a dead pooled connection shows as a 500 (as it did before pre-ping); a 504 is
            # only a slow machine (the executed copy's PDF): the step is then seen through
            assert r.status_code in (200, 504), (step.name, r.text)
            await settle(step, r, slow)
        assert requests_counted(own_postgres) >= counted + STEPS_PER_CASE - 1
        # no activity lost its connection again: pooled connections are checked before use
        assert dropped_mid_write(tmp_path) == 1
        print("slow steps:", slow)
        await assert_closed(stack, [cid])
        assert_store_consistent(stack.settings, [cid])
        await assert_store_matches_workflow(stack.settings, [cid])
