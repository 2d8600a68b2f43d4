"""SIGTERM stops a process gracefully: a worker finishes the activity it is running (within its
graceful shutdown time) before it exits, and an API process answers the request it holds."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from base.engine import DevServer
from store.db import session_scope
from store.models import Webhook, WebhookDelivery
from tests.e2e.helpers import PARTNER, act, start_case
from tests.faults.harness import fault_stack
from tests.receiver import Receiver, receiving

pytestmark = pytest.mark.e2e
ANSWER_AFTER = 3.0  # seconds the receiver takes: the worker is stopped meanwhile


@pytest.fixture
def slow_receiver() -> Iterator[Receiver]:
    with receiving(200, delay=ANSWER_AFTER) as r:
        yield r


async def test_a_stopped_worker_finishes_its_activity_first(
    dev_server: DevServer, tmp_path: Path, slow_receiver: Receiver
) -> None:
    async with fault_stack(dev_server, tmp_path) as faults:
        stack, workers = faults.stack, faults.workers
        with session_scope(stack.settings.database_url) as session:
            session.add(
                Webhook(
                    id="wh-slow",
                    hub_id=PARTNER,
                    url=slow_receiver.url(),
                    event_types=["*"],
                    secret="s",
                )
            )
        worker = workers.spawn()
        case = await start_case(stack)  # its first event is delivered to the slow receiver
        assert await asyncio.to_thread(slow_receiver.arrived.wait, 60), "no delivery arrived"
        worker.send_signal(signal.SIGTERM)  # mid-delivery
        code = await asyncio.to_thread(worker.wait, 60)
        assert code == 0
        with session_scope(stack.settings.database_url) as session:
            tried = [
                (d.status, d.attempts)
                for d in session.exec(
                    select(WebhookDelivery).where(
                        WebhookDelivery.case_id == case["id"],
                        WebhookDelivery.webhook_id == "wh-slow",
                    )
                )
                if d.attempts
            ]
        # what the stopping worker had started, it finished: delivered at the first attempt,
        # not cut off and retried
        assert tried and all(t == ("delivered", 1) for t in tried), tried


async def test_a_stopped_api_answers_the_request_it_holds(
    dev_server: DevServer, tmp_path: Path
) -> None:
    async with fault_stack(dev_server, tmp_path, api_process=True) as faults:
        stack, workers, api = faults.stack, faults.workers, faults.api
        assert api is not None and api.proc is not None
        first = workers.spawn()
        case = await start_case(stack)
        workers.kill(first)  # no worker: the next step waits for one
        step = asyncio.ensure_future(
            act(stack, f"hub_member:{PARTNER}", case["id"], "accept-invitation")
        )
        await asyncio.sleep(1.0)  # time for the request to reach the API and wait on the engine
        api.proc.send_signal(signal.SIGTERM)
        workers.spawn()  # a worker comes back: the held step completes
        r = await step
        assert r.status_code == 200, r.text
        # uvicorn drains, then ends by the signal it was sent (it raises it again once done)
        assert await asyncio.to_thread(api.proc.wait, 60) in (0, -signal.SIGTERM)
        assert (await read_from_store(stack, case["id"])) == "legal_review"


async def read_from_store(stack, case_id: str) -> str:  # type: ignore[no-untyped-def]
    from store.models import Case

    with session_scope(stack.settings.database_url) as session:
        row = session.get(Case, case_id)
        assert row is not None
        return row.state
