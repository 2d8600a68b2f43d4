"""The worker: polls the task queue and runs the case workflows and their activities.

``python worker.py`` or ``dihflow worker`` (needs ``DIHFLOW_TEMPORAL_ADDRESS``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import SandboxImportNotificationPolicy

from activities import activities_for
from dihflow.settings import Settings
from workflows import WORKFLOWS

# Pure project modules and heavy libraries go through the sandbox untouched: re-importing them
# per workflow run costs CPU and memory (see TEMPORAL.md), and python-statemachine cannot be
# imported inside the sandbox at all.
PASSTHROUGH = ("domain", "activities", "pydantic", "pydantic_core", "statemachine", "yaml")
CONNECT_RETRY_FIRST, CONNECT_RETRY_MAX = 0.5, 10.0  # seconds between tries to reach the engine
log = logging.getLogger("dihflow.worker")


def sandbox_runner(strict: bool = False) -> SandboxedWorkflowRunner:
    """The sandbox with our passthrough list; ``strict`` (the replay tests) raises on a module
    passed through by accident and warns on an import made after the workflow loaded."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    if strict:
        restrictions = restrictions.with_import_notification_policy(
            SandboxImportNotificationPolicy.RAISE_ON_UNINTENTIONAL_PASSTHROUGH
            | SandboxImportNotificationPolicy.WARN_ON_DYNAMIC_IMPORT
        )
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(
    client: Client,
    settings: Settings,
    executor: ThreadPoolExecutor,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """The worker for ``settings``; ``interceptors`` let a benchmark time what runs inside."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(settings),
        activity_executor=executor,
        workflow_runner=sandbox_runner(),
        graceful_shutdown_timeout=timedelta(seconds=10),
        max_cached_workflows=settings.max_cached_workflows,
        interceptors=interceptors,
    )


async def connect_when_reachable(settings: Settings, stop: asyncio.Event) -> Client | None:
    """The engine's client, once the engine answers; None if told to stop first.

    A worker may start before its engine does, or while it restarts: it waits instead of
    exiting. Once connected, the SDK rides out later outages by itself (polls are retried).
    An engine that answers but refuses (unknown namespace, bad credentials) is not waited for.
    """
    from dihflow.engine import connect

    if settings.temporal_address is None:
        return await connect(settings)  # says what is missing; nothing to wait for
    delay = CONNECT_RETRY_FIRST
    while not stop.is_set():
        try:
            return await connect(settings)
        except RuntimeError as exc:  # the transport: nothing answers at the address yet
            log.warning(
                "the workflow engine at %s is not reachable (%s); retrying in %.1f s",
                settings.temporal_address,
                str(exc).split(":", 1)[0],
                delay,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, CONNECT_RETRY_MAX)
    return None


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    from store.db import migrate

    migrate(settings.database_url)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect_when_reachable(settings, stop)
    if client is None:
        return
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, settings, executor)
        async with worker:
            await stop.wait()


def main() -> None:
    atexit.register(gc.collect)  # see TEMPORAL.md: avoids an abort at interpreter exit
    asyncio.run(run_worker(Settings.from_env()))


if __name__ == "__main__":
    main()
