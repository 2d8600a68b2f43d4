"""The Temporal dev server stopped (SIGTERM) and killed (SIGKILL) mid-lifecycle, then restarted
on the same SQLite file and port: the worker and the API reconnect by themselves, every case
completes with its full timeline, and nothing is doubled.

Steps are caught in flight deterministically: the test holds the store's write lock, sends the
steps, waits until each case has an activity started (blocked on the lock), stops the server,
then lets go of the lock, so the activities finish while the server is away and their results
cannot be reported. While it is down, the API must answer a step with a 503 problem+json and
go on serving reads from the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import httpx
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
    fault_stack,
    lifecycle,
    settle,
    store_writes_held,
)

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


def stop_server(dev: DevServer, how: signal.Signals) -> None:
    assert dev.process is not None
    os.killpg(dev.process.pid, how)
    dev.process.wait(30)


async def answers_while_down(stack: Stack, waiting: str, step: Step) -> None:
    """A step is a 503 problem+json; reads from the store carry on."""
    case, timeline, listing, start, ready, r = await asyncio.gather(
        stack.http.get(f"/v1/cases/{waiting}", headers=stack.auth("back_office")),
        stack.http.get(f"/v1/cases/{waiting}/timeline", headers=stack.auth(PARTNER_MEMBER)),
        stack.http.get("/v1/cases", headers=stack.auth(PARTNER_MEMBER)),
        stack.http.post(
            "/v1/cases",
            json=_start_body(),
            headers={**stack.auth("hub_member:tagus-ai"), "Idempotency-Key": "while-down"},
        ),
        stack.http.get("/readyz"),
        step.send(),
    )
    print("while down:", r.status_code, r.text, start.status_code, start.text)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == PROBLEM and r.json()["status"] == 503
    assert start.status_code == 503 and start.headers["content-type"] == PROBLEM, start.text
    assert ready.status_code == 503 and ready.json()["checks"]["temporal"] == "unreachable"
    assert case.status_code == 200 and timeline.status_code == 200 and listing.status_code == 200
    assert waiting in {c["id"] for c in listing.json()["items"]}


def _start_body() -> dict[str, Any]:
    from tests.e2e.helpers import CLIENT, PARTNER

    return {
        "scenario": "joint_service",
        "title": "Started while the engine is away",
        "need": "Anything.",
        "client": CLIENT,
        "invited_hub_ids": [PARTNER],
    }


async def outage(
    dev: DevServer,
    stack: Stack,
    how: signal.Signals,
    in_flight: list[Step],
    waiting: tuple[str, Step],
    answers: list[tuple[str, int]],
) -> None:
    """Stop the server while ``in_flight`` steps are being carried out, check the answers
    while it is down, restart it and see each interrupted step through."""
    with store_writes_held(stack.settings.database_url):
        sent = [asyncio.ensure_future(s.send()) for s in in_flight]
        await activities_started(stack, [s.name.split("@")[1] for s in in_flight])
        stop_server(dev, how)
    await answers_while_down(stack, *waiting)
    await dev.start()
    for step, task in zip(in_flight, sent, strict=True):
        await settle(step, await task, answers)


def named(step: Step, cid: str) -> Step:
    step.name = f"{step.name}@{cid}"
    return step


async def test_dev_server_stopped_and_killed_mid_lifecycle_cases_complete(
    tmp_path: Path,
) -> None:
    dev = DevServer(tmp_path / "temporal" / "temporal.db", free_port(), None)
    await dev.start()
    try:
        async with fault_stack(dev, tmp_path, rate_limit=0) as faults:
            stack = faults.stack
            faults.workers.spawn()
            ids = [c["id"] for c in await asyncio.gather(*(start_case(stack) for _ in range(4)))]
            steps = {cid: lifecycle(stack, cid) for cid in ids}
            moving, waiting = ids[:3], ids[3]
            answers: list[tuple[str, int]] = []

            # SIGTERM while three cases render their drafts; the fourth waits for its partner
            first = [named(await steps[c][0](), c) for c in moving]
            await outage(
                dev, stack, signal.SIGTERM, first, (waiting, await steps[waiting][0]()), answers
            )
            for number in range(1, 2):
                await asyncio.gather(*(_run(steps[c][number], answers) for c in moving))
            await _run(steps[waiting][0], answers)
            await _run(steps[waiting][1], answers)

            # SIGKILL while three cases record a signature; the fourth waits in signing
            second = [named(await steps[c][2](), c) for c in moving]
            await outage(
                dev, stack, signal.SIGKILL, second, (waiting, await steps[waiting][2]()), answers
            )
            await _run(steps[waiting][2], answers)

            for number in range(3, STEPS_PER_CASE):
                await asyncio.gather(*(_run(steps[c][number], answers) for c in ids))
            print("non-200 answers:", answers)
            await assert_closed(stack, ids)
            assert_store_consistent(stack.settings, ids)
    finally:
        dev.stop()


async def _run(build: Any, answers: list[tuple[str, int]]) -> httpx.Response:
    step = await build()
    r = await step.send()
    await settle(step, r, answers)
    return r
