"""`dihflow dev` supervises the engine it starts: a dead dev server is started again (and the
stack gives up with a message after the configured number of restarts), and a dev server left
running by a killed earlier run is stopped by the next start."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from base.engine import free_port

DIHFLOW = str(Path(sys.executable).with_name("dihflow"))
STARTUP = 120.0  # seconds: the dev server, migrations and the worker on a loaded machine


class Stack:
    """One `dihflow dev` process, its output read line by line on a thread."""

    def __init__(self, var_dir: Path, restarts: int = 3) -> None:
        self.var_dir = var_dir
        self.api_port, self.temporal_port = free_port(), free_port()
        env = os.environ | {
            "DIHFLOW_VAR_DIR": str(var_dir),
            "DIHFLOW_API_PORT": str(self.api_port),
            "DIHFLOW_DEV_ENGINE_RESTARTS": str(restarts),
            "DIHFLOW_PDF_CONVERTER": "off",
        }
        env.pop("DIHFLOW_TEMPORAL_ADDRESS", None)
        self.proc = subprocess.Popen(
            [DIHFLOW, "dev", "--no-ui", "--temporal-port", str(self.temporal_port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = STARTUP) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never printed; output so far:\n" + "\n".join(self.seen))

    def rest(self) -> list[str]:
        """What the stack printed and nobody waited for yet (its reader given time to finish)."""
        self.reader.join(timeout=10)
        left = []
        while not self.lines.empty():
            left.append(self.lines.get())
        return left

    def engine_pid(self) -> int:
        return int(json.loads((self.var_dir / "temporal.pid").read_text())["pid"])

    def ready(self) -> bool:
        try:
            return (
                httpx.get(f"http://127.0.0.1:{self.api_port}/readyz", timeout=5).status_code == 200
            )
        except httpx.HTTPError:
            return False

    def end(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        state = self.var_dir / "temporal.pid"
        if state.exists():  # a test that failed half-way leaves no engine behind
            try:
                os.killpg(self.engine_pid(), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[list[Stack]]:
    made: list[Stack] = []
    yield made
    for stack in made:
        stack.end()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z"


def _wait_until(predicate, timeout: float = STARTUP) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_dead_engine_is_restarted_then_the_stack_gives_up_with_a_message(
    tmp_path: Path, stacks: list[Stack]
) -> None:
    stack = Stack(tmp_path / "var", restarts=1)
    stacks.append(stack)
    stack.wait_for("API:")
    first = stack.engine_pid()
    os.killpg(first, signal.SIGKILL)
    stack.wait_for("starting it again")
    stack.wait_for("is back on")
    assert stack.engine_pid() != first
    assert _wait_until(stack.ready), "the API never became ready on the restarted engine"

    os.killpg(stack.engine_pid(), signal.SIGKILL)  # one more death than it restarts
    line = stack.wait_for("dihflow dev stops")
    assert "2 times" in line and "temporal.log" in line
    code = stack.proc.wait(timeout=60)
    assert code == 1, f"exit {code}; output:\n" + "\n".join(stack.seen + stack.rest())
    assert not (tmp_path / "var" / "temporal.pid").exists()


def test_an_engine_left_by_a_killed_run_is_stopped_by_the_next_start(
    tmp_path: Path, stacks: list[Stack]
) -> None:
    var = tmp_path / "var"
    crashed = Stack(var)
    stacks.append(crashed)
    crashed.wait_for("API:")
    left = crashed.engine_pid()
    os.kill(crashed.proc.pid, signal.SIGKILL)  # the stack only; its engine has its own group
    crashed.proc.wait()
    assert _alive(left), "the engine should outlive a kill -9 of its stack"

    again = Stack(var)
    stacks.append(again)
    assert f"(pid {left})" in again.wait_for("an earlier run left running")
    assert not _alive(left)
    again.wait_for("API:")
    assert _wait_until(again.ready)

    os.killpg(again.proc.pid, signal.SIGTERM)  # SIGTERM stops everything, cleanly
    again.wait_for("stopped")
    assert again.proc.wait(timeout=60) == 0
    assert not (var / "temporal.pid").exists()
