"""The Temporal dev server stopped (SIGTERM) and killed (SIGKILL) mid-lifecycle, then restarted
on the same SQLite file and port: the API and a running worker reconnect by themselves, a worker
started while the server is away waits for it, every case completes with its full timeline,
the store holds what each workflow holds, and nothing is doubled.

Steps are caught in flight deterministically: the test holds the store's write lock, sends the
steps, waits until each case has an activity started (blocked on the lock), stops the server,
then lets go of the lock, so the activities finish while the server is away and their results
cannot be reported. While it is down, the API must answer a step or a new case with a 503
problem+json, and go on serving reads and a retried start that took from the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dihflow.engine import DevServer, free_port
from tests.conftest import Stack
from tests.e2e.helpers import start_case
from tests.faults.harness import (
    PARTNER_MEMBER,
    STEPS_PER_CASE,
    Step,
    activities_started,
    assert_closed,
    assert_store_consistent,
    assert_store_matches_workflow,
    fault_stack,
    lifecycle,
    post_case,
    settle,
    store_writes_held,
)

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
    ) -> None:
        """Stop the server while the ``in_flight`` steps (by case id) are carried out, check
        the answers while it is down, restart it and see each interrupted step through."""
        with store_writes_held(self.stack.settings.database_url):
            sent = {cid: asyncio.ensure_future(s.send()) for cid, s in in_flight.items()}
            await activities_started(self.stack, list(in_flight))
            stop_server(self.dev, how)
        await answers_while_down(self.stack, self.waiting, self.waiting_key, waiting_step)
        if while_down is not None:
            await while_down()
        await self.dev.start()
        back = time.monotonic()
        for cid, step in in_flight.items():
            await settle(step, await sent[cid], self.answers)
        print(f"after the restart, the interrupted steps took {time.monotonic() - back:.1f} s")

    async def run(self, build: Callable[[], Awaitable[Step]]) -> None:
        step = await build()
        await settle(step, await step.send(), self.answers)


async def test_dev_server_stopped_and_killed_mid_lifecycle_cases_complete(
    tmp_path: Path,
) -> None:
    dev = DevServer(tmp_path / "temporal" / "temporal.db", free_port(), None)
    await dev.start()
    try:
        async with fault_stack(dev, tmp_path, rate_limit=0) as faults:
            stack, workers = faults.stack, faults.workers
            first_worker = workers.spawn()
            moving = [c["id"] for c in await asyncio.gather(*(start_case(stack) for _ in range(3)))]
            started = await post_case(stack, "waiting-case")
            assert started.status_code == 201, started.text
            waiting = started.json()["id"]
            ids = [*moving, waiting]
            steps = {cid: lifecycle(stack, cid) for cid in ids}
            outages = Outages(dev, stack, waiting, "waiting-case")

            async def replace_worker() -> None:
                workers.kill(first_worker)
                log = tmp_path / f"worker-{len(workers.procs)}.log"
                worker = workers.spawn()
                deadline = time.monotonic() + 60
                while "is not reachable" not in log.read_text():
                    assert worker.poll() is None, f"the new worker exited: {log.read_text()}"
                    assert time.monotonic() < deadline, "the new worker never tried the engine"
                    await asyncio.sleep(0.1)

            # SIGTERM while three cases render their drafts; the fourth waits for its partner.
            # The one worker (and the API) ride it out.
            await outages.during(
                signal.SIGTERM, {c: await steps[c][0]() for c in moving}, await steps[waiting][0]()
            )
            assert first_worker.poll() is None and len(workers.procs) == 1
            await asyncio.gather(*(outages.run(steps[c][1]) for c in moving))
            for number in (0, 1):
                await outages.run(steps[waiting][number])

            # SIGKILL while three cases record a signature; the fourth waits in signing. The
            # worker is replaced while the server is down: the new one waits for it.
            await outages.during(
                signal.SIGKILL,
                {c: await steps[c][2]() for c in moving},
                await steps[waiting][2](),
                while_down=replace_worker,
            )
            await outages.run(steps[waiting][2])

            for number in range(3, STEPS_PER_CASE):
                await asyncio.gather(*(outages.run(steps[c][number]) for c in ids))
            print("non-200 answers:", outages.answers)
            second_worker = workers.procs[-1]
            assert second_worker.poll() is None and len(workers.procs) == 2
            await assert_closed(stack, ids)
            assert_store_consistent(stack.settings, ids)
            await assert_store_matches_workflow(stack.settings, ids)
    finally:
        dev.stop()
