"""The Temporal dev server stopped (SIGTERM) and killed (SIGKILL) mid-lifecycle, then restarted
on the same SQLite file and port: the API and a running worker reconnect by themselves, a worker
started while the server is away waits for it, every case completes with its full timeline,
the store holds what each workflow holds, and nothing is doubled.

Steps are caught in flight deterministically: the test holds the store's write lock, sends the
steps, waits until each case has an activity started (blocked on the lock), stops the server,
then lets go of the lock, so the activities finish while the server is away and their results
cannot be reported. While it is down, the API must answer a step or a new case with a 503
problem+json, and go on serving reads and a retried start that took from the store.

After the second outage the store is ahead of the engine: the worker killed while the server
was away had stored a step it could never report. A worker that validates updates but runs no
activity holds that window open while the next step is sent: the answer must be a 503 with
Retry-After, not a refusal that contradicts the case the caller reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from temporalio.worker import Worker

from base.engine import DevServer, free_port
from tests.conftest import Stack
from tests.e2e.helpers import start_case
from tests.faults.harness import (
    PARTNER_MEMBER,
    STEPS_PER_CASE,
    Step,
    Workers,
    activities_started,
    assert_closed,
    assert_store_consistent,
    assert_store_matches_workflow,
    engine,
    fault_stack,
    lifecycle,
    post_case,
    settle,
    store_writes_held,
)
from worker import sandbox_runner
from workflows import WORKFLOWS

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


def stop_server(dev: DevServer, how: signal.Signals) -> None:
    assert dev.process is not None
    os.killpg(dev.process.pid, how)
    dev.process.wait(30)


async def answers_while_down(stack: Stack, waiting: str, waiting_key: str, step: Step) -> None:
    """A step and a new case are 503 problem+json; reads from the store carry on, and so does
    a retried start that took (answered from the store)."""
    started = time.monotonic()
    r, new_case, retried, case, timeline, listing, ready = await asyncio.gather(
        step.send(),
        post_case(stack, "while-down"),
        post_case(stack, waiting_key),
        stack.http.get(f"/v1/cases/{waiting}", headers=stack.auth("back_office")),
        stack.http.get(f"/v1/cases/{waiting}/timeline", headers=stack.auth(PARTNER_MEMBER)),
        stack.http.get("/v1/cases", headers=stack.auth(PARTNER_MEMBER)),
        stack.http.get("/readyz"),
    )
    print(f"while down, a step answered {r.status_code} in {time.monotonic() - started:.1f} s")
    for answer in (r, new_case):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == PROBLEM and answer.json()["status"] == 503
        assert answer.headers["retry-after"] == "2", answer.headers
    assert "not reachable" in r.json()["detail"], r.text
    assert (retried.status_code, retried.json()["id"]) == (201, waiting), retried.text
    assert ready.status_code == 503 and ready.json()["checks"]["temporal"] == "unreachable"
    assert case.status_code == 200 and timeline.status_code == 200 and listing.status_code == 200
    assert waiting in {c["id"] for c in listing.json()["items"]}


@dataclass
class Outages:
    dev: DevServer
    stack: Stack
    waiting: str  # a case no step is sent to during an outage
    waiting_key: str  # the Idempotency-Key it was started with
    answers: list[tuple[str, int]] = field(default_factory=list)

    async def during(
        self,
        how: signal.Signals,
        in_flight: dict[str, Step],
        waiting_step: Step,
        while_down: Callable[[], Awaitable[None]] | None = None,
        once_back: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Stop the server while the ``in_flight`` steps (by case id) are carried out, check
        the answers while it is down (and run ``while_down``), restart it (and run
        ``once_back``) and see each interrupted step through."""
        with store_writes_held(self.stack.settings.database_url):
            sent = {cid: asyncio.ensure_future(s.send()) for cid, s in in_flight.items()}
            await activities_started(self.stack, list(in_flight))
            stop_server(self.dev, how)
        await asyncio.gather(
            answers_while_down(self.stack, self.waiting, self.waiting_key, waiting_step),
            while_down() if while_down is not None else asyncio.sleep(0),
        )
        await self.dev.start()
        if once_back is not None:
            await once_back()
        back = time.monotonic()
        for cid, step in in_flight.items():
            await settle(step, await sent[cid], self.answers)
        print(f"after the restart, the interrupted steps took {time.monotonic() - back:.1f} s")

    async def run(self, build: Callable[[], Awaitable[Step]]) -> None:
        step = await build()
        await settle(step, await step.send(), self.answers)


async def spawn_while_down(workers: Workers, log: Path) -> subprocess.Popen[bytes]:
    """A worker started while the engine is away: it waits for it instead of exiting."""
    worker = workers.spawn()
    deadline = time.monotonic() + 60
    while "is not reachable" not in (log.read_text() if log.exists() else ""):
        assert worker.poll() is None, f"the new worker exited: {log.read_text()}"
        assert time.monotonic() < deadline, "the new worker never tried the engine"
        await asyncio.sleep(0.1)
    return worker


@contextlib.asynccontextmanager
async def validators_only(stack: Stack) -> AsyncIterator[None]:
    """A worker in this process that runs the workflows (so updates are validated) but no
    activity: whatever an activity is still to report stays unreported meanwhile."""
    client = await engine(stack.settings)
    worker = Worker(
        client,
        task_queue=stack.settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=sandbox_runner(),
    )
    async with worker:
        yield


async def test_dev_server_stopped_and_killed_mid_lifecycle_cases_complete(
    tmp_path: Path,
) -> None:
    dev = DevServer(tmp_path / "temporal" / "temporal.db", free_port(), None)
    await dev.start()
    try:
        async with fault_stack(dev, tmp_path, rate_limit=0) as faults:
            stack, workers = faults.stack, faults.workers
            first = workers.spawn()
            moving = [c["id"] for c in await asyncio.gather(*(start_case(stack) for _ in range(3)))]
            started = await post_case(stack, "waiting-case")
            assert started.status_code == 201, started.text
            waiting = started.json()["id"]
            ids = [*moving, waiting]
            steps = {cid: lifecycle(stack, cid) for cid in ids}
            outages = Outages(dev, stack, waiting, "waiting-case")
            second: list[subprocess.Popen[bytes]] = []

            async def start_second() -> None:
                second.append(await spawn_while_down(workers, tmp_path / "worker-1.log"))

            # SIGTERM while three cases render their drafts; the fourth waits for its partner.
            # The running worker and the API ride it out; a second worker starts meanwhile.
            await outages.during(
                signal.SIGTERM,
                {c: await steps[c][0]() for c in moving},
                await steps[waiting][0](),
                while_down=start_second,
            )
            assert first.poll() is None and second[0].poll() is None
            first.terminate()  # from here on the second worker does all the work
            assert await asyncio.to_thread(first.wait, 30) == 0
            await asyncio.gather(*(outages.run(steps[c][1]) for c in moving))
            for number in (0, 1):
                await outages.run(steps[waiting][number])
            for number in (2, 3, 4):  # the signatures and the executed agreement
                await asyncio.gather(*(outages.run(steps[c][number]) for c in ids))

            # SIGKILL while three cases record a deliverable; the fourth waits in delivery
            submits = {c: await steps[c][5]() for c in moving}

            async def kill_once_stored() -> None:
                """The worker stored the submissions; killed now, it never reports them."""
                for step in submits.values():
                    while not await step.done():
                        await asyncio.sleep(0.1)
                workers.kill(second[0])

            async def next_step_while_behind() -> None:
                """The store shows the deliverable submitted; the workflow does not know yet."""
                accept = await steps[moving[0]][6]()
                async with validators_only(stack):
                    r = await accept.send()
                assert r.status_code == 503, r.text
                assert r.headers["content-type"] == PROBLEM and "retry-after" in r.headers
                assert "previous step" in r.json()["detail"], r.text
                workers.spawn()

            await outages.during(
                signal.SIGKILL,
                submits,
                await steps[waiting][5](),
                while_down=kill_once_stored,
                once_back=next_step_while_behind,
            )
            await outages.run(steps[waiting][5])

            for number in range(6, STEPS_PER_CASE):
                await asyncio.gather(*(outages.run(steps[c][number]) for c in ids))
            print("non-200 answers:", outages.answers)
            assert [p.poll() for p in workers.procs] == [0, -signal.SIGKILL, None]
            await assert_closed(stack, ids)
            assert_store_consistent(stack.settings, ids)
            await assert_store_matches_workflow(stack.settings, ids)
    finally:
        dev.stop()
