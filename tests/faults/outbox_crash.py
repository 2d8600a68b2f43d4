"""Processes that die at a chosen point of the outbox's path, for ``test_outbox.py``.

    python -m tests.faults.outbox_crash project   # a worker that dies after a projection commits
    python -m tests.faults.outbox_crash dispatch  # a dispatcher that dies after sending

Both read their settings from the environment (``DIHFLOW_*``) and end with ``os._exit``: no
cleanup runs, as after a ``kill -9``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

from activities.payloads import ProjectInput, ProjectResult

DIED = 137
PROJECT_TIMEOUT = timedelta(seconds=3)


@workflow.defn(name="ProjectOnce")
class ProjectOnce:
    """One projection, as a case step runs it (retried by the engine until it reports)."""

    @workflow.run
    async def run(self, data: ProjectInput) -> ProjectResult:
        return await workflow.execute_activity(
            "project_step",
            data,
            result_type=ProjectResult,
            start_to_close_timeout=PROJECT_TIMEOUT,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200)),
        )


def _dying_projection(settings: Any) -> Any:
    from activities.projection import ProjectionActivities

    real = ProjectionActivities(settings).project_step

    @activity.defn(name="project_step")
    def project_step(data: ProjectInput) -> ProjectResult:
        real(data)  # committed
        os._exit(DIED)  # lost before the engine hears of it

    return project_step


async def _project(settings: Any) -> None:
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from base.engine import connect

    client = await connect(settings)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[ProjectOnce],
            activities=[_dying_projection(settings)],
            activity_executor=executor,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            await asyncio.sleep(120)  # the activity ends the process long before
    os._exit(1)


async def _dispatch(settings: Any) -> None:
    from activities.dispatcher import OutboxDispatcher
    from base.engine import connect
    from store import outbox

    def die(url: str, ids: list[str]) -> int:  # sent, not yet marked
        # the first marking may come after a webhook start alone (rows are marked as a batch of
        # what was sent so far): die once a mail is out too, while the other sends go on
        deadline = time.monotonic() + 30
        while not any(Path(settings.outbox_dir).glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.02)
        os._exit(DIED)

    outbox.mark_sent_many = die  # type: ignore[assignment]
    client = await connect(settings)
    OutboxDispatcher(settings, client, lease=timedelta(seconds=1)).start()
    await asyncio.sleep(120)
    os._exit(1)


def main() -> None:
    from base.settings import Settings

    settings = Settings.from_env()
    run = {"project": _project, "dispatch": _dispatch}[sys.argv[1]]
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
