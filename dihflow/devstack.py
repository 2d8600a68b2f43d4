"""``dihflow dev``: the embedded stack in one process tree.

The Temporal dev server (child process, state in ``var/temporal.db``, Web UI), one worker and
the API, with a SQLite store and documents under ``var/``. Ctrl-C (or SIGTERM) stops all of it:
the API drains its requests, the worker gets ``graceful_shutdown_timeout`` to finish its
activities; the next start finds every case where it was.

The stack supervises the engine it starts: a dev server that dies is started again on the same
state file (``DIHFLOW_DEV_ENGINE_RESTARTS`` times; after that ``dihflow dev`` stops with a
message naming the server's log), and a dev server left running by an earlier run that was
killed (``kill -9`` spares the server's own process group) is found by its state file and
stopped before a new one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from api.app import create_app
from base.engine import DevServer, connect
from base.settings import Settings
from dihflow.seed import ensure_dev_keys, seed_demo_network
from worker import build_worker, start_dispatcher


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the stack stops as one."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_dev(
    settings: Settings, temporal_port: int, say: Callable[[str], None], ui: bool = True
) -> None:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    server = DevServer(
        settings.var_dir / "temporal.db",
        port=temporal_port,
        ui_port=settings.temporal_ui_port if ui else None,
    )
    left = server.stop_leftover()
    if left is not None:
        say(f"stopped the Temporal dev server an earlier run left running (pid {left})")
    say(f"starting the Temporal dev server on {server.address} ...")
    await server.start()
    failure: list[str] = []
    try:
        settings = settings.replace(temporal_address=server.address, dev_pages=True)
        new_hubs = seed_demo_network(settings.database_url)
        if new_hubs:
            say(f"seeded the demo network: {new_hubs} hubs")
        keys = ensure_dev_keys(settings.database_url, settings.var_dir / "dev-keys.json")
        say(f"dev API keys (also in {settings.var_dir / 'dev-keys.json'}):")
        for k in keys:
            if "key" in k:
                say(f"  {k['role']:<14} {k['hub'] or '':<14} {k['key']}")
        say(f"staff accounts for the pages at {settings.public_url}/sign-in:")
        for k in keys:
            if "username" in k:
                say(f"  {k['role']:<14} {k['username']:<14} password {k['password']}")
        client = await connect(settings)
        api = _Server(
            uvicorn.Config(
                create_app(settings),
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
            )
        )
        with ThreadPoolExecutor(max_workers=16) as executor:
            async with build_worker(client, settings, executor):
                dispatcher = start_dispatcher(client, settings)  # mail, webhooks, PDFs
                api_task = asyncio.create_task(api.serve())
                if ui:
                    say(f"Temporal Web UI: http://127.0.0.1:{settings.temporal_ui_port}")
                say(f"API: {settings.public_url}  (Ctrl-C stops everything)")
                stop_task = asyncio.create_task(stop.wait())
                watch = asyncio.create_task(
                    supervise(server, settings.dev_engine_restarts, say, stop, failure)
                )
                await asyncio.wait({api_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
                watch.cancel()
                api.should_exit = True
                await api_task
                stop_task.cancel()
                await dispatcher.stop()
    finally:
        server.stop()
        say("stopped")
        if failure:  # also over a shutdown that the dead engine cut short
            raise EngineLost(failure[0])


class EngineLost(RuntimeError):
    """The embedded engine died more often than the stack restarts it."""


async def supervise(
    server: DevServer,
    restarts: int,
    say: Callable[[str], None],
    stop: asyncio.Event,
    failure: list[str],
    every: float = 0.5,
) -> None:
    """Start the dev server again when it dies, at most ``restarts`` times; then stop the stack
    (``failure`` gets the reason)."""
    tries = 0
    while not stop.is_set():
        await asyncio.sleep(every)
        code = server.exited()
        if code is None:
            continue
        log = server.db_file.with_suffix(".log")
        if tries >= restarts:
            failure.append(
                f"the Temporal dev server exited (code {code}) {tries + 1} times; "
                f"dihflow dev stops. See {log}"
            )
            stop.set()
            return
        tries += 1
        say(
            f"the Temporal dev server exited (code {code}); starting it again on "
            f"{server.db_file} (restart {tries} of {restarts})"
        )
        try:
            await server.start()
        except Exception as exc:  # the next round counts it as one more death
            say(f"the Temporal dev server did not start: {exc}")
        else:
            say(f"the Temporal dev server is back on {server.address}")
