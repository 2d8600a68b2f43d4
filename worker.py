"""The worker: polls the task queue and runs the case workflows and their activities.

``python worker.py`` or ``dihflow worker`` (needs ``DIHFLOW_TEMPORAL_ADDRESS``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import importlib.abc
import importlib.machinery
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import CodeType, ModuleType
from typing import ClassVar

from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import SandboxImportNotificationPolicy

from activities import activities_for
from activities.dispatcher import OutboxDispatcher
from base import logs
from base.settings import Settings
from workflows import WORKFLOWS

# Pure project modules and heavy libraries go through the sandbox untouched: re-importing them
# per workflow run costs CPU and memory (see TEMPORAL.md), and python-statemachine cannot be
# imported inside the sandbox at all.
PASSTHROUGH = ("domain", "activities", "pydantic", "pydantic_core", "statemachine", "yaml")
CONNECT_RETRY_FIRST, CONNECT_RETRY_MAX = 0.5, 10.0  # seconds between tries to reach the engine
log = logging.getLogger("dihflow.worker")
# What the sandbox imports afresh for every workflow run.
SANDBOXED = ("workflows",)


class _CompiledOnce(importlib.machinery.SourceFileLoader):
    """Compiles a module's source once per process, then hands out the same code object.

    The sandbox executes the workflow module anew for every workflow it runs (fresh globals,
    fresh restricted imports: that isolation is the point) and each import compiled, or
    unmarshalled, its own copy of the code: ~40 KB and ~4 ms of CPU per cached workflow for
    ``workflows/case.py``. Code objects are immutable, so one copy serves every run. It also
    pins the code a worker runs to what it loaded first: files replaced under a running worker
    no longer reach the workflows it starts or replays afterwards.
    """

    # by file, for the whole process; two workflow threads compiling a file at the same moment
    # both compile it, and either copy serves
    compiled: ClassVar[dict[str, CodeType]] = {}

    def get_code(self, fullname: str) -> CodeType:
        code = self.compiled.get(self.path)
        if code is None:
            code = super().get_code(fullname)
            assert code is not None, f"no code for {fullname}"
            self.compiled[self.path] = code
        return code


class _CompiledOnceFinder(importlib.abc.MetaPathFinder):
    """Finds the ``SANDBOXED`` modules as usual, then loads them with ``_CompiledOnce``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in SANDBOXED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _CompiledOnce(spec.loader.name, spec.loader.path)
        return spec


def compile_workflows_once() -> None:
    """Install ``_CompiledOnceFinder`` (once) ahead of the standard finders."""
    if not any(isinstance(f, _CompiledOnceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _CompiledOnceFinder())


def sandbox_restrictions(strict: bool = False) -> SandboxRestrictions:
    """Our passthrough list; ``strict`` (the replay tests) raises on a module passed through by
    accident and warns on an import made after the workflow loaded."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    if strict:
        restrictions = restrictions.with_import_notification_policy(
            SandboxImportNotificationPolicy.RAISE_ON_UNINTENTIONAL_PASSTHROUGH
            | SandboxImportNotificationPolicy.WARN_ON_DYNAMIC_IMPORT
        )
    return restrictions


def sandbox_runner(strict: bool = False) -> SandboxedWorkflowRunner:
    """The workers' runner: the sandbox with ``sandbox_restrictions``, workflow code compiled
    once per process."""
    compile_workflows_once()
    return SandboxedWorkflowRunner(restrictions=sandbox_restrictions(strict))


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


def start_dispatcher(
    client: Client, settings: Settings, on_cpu: Callable[[float], None] | None = None
) -> OutboxDispatcher:
    """The outbox dispatcher of this worker process, running until its ``stop`` (``on_cpu``
    is told the CPU seconds of its work in threads: the benchmark counts them)."""
    return OutboxDispatcher(settings, client, on_cpu=on_cpu).start()


async def connect_when_reachable(settings: Settings, stop: asyncio.Event) -> Client | None:
    """The engine's client, once the engine answers; None if told to stop first.

    A worker may start before its engine does, or while it restarts: it waits instead of
    exiting. Once connected, the SDK rides out later outages by itself (polls are retried).
    An engine that answers but refuses (unknown namespace, bad credentials) is not waited for.
    """
    from base.engine import connect

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
    from store.db import migrate, size_pool

    size_pool(settings.db_pool_size, settings.db_max_overflow)
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
        dispatcher = start_dispatcher(client, settings)
        try:
            async with worker:
                await stop.wait()
        finally:
            await dispatcher.stop()


def main() -> None:
    atexit.register(gc.collect)  # see TEMPORAL.md: avoids an abort at interpreter exit
    settings = Settings.from_env()
    logs.configure(settings.log_format, settings.log_level)
    logs.install_runtime(settings.worker_metrics_address)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    from base.process import run_then_leave

    run_then_leave(main)
