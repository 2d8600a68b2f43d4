"""Logs: one JSON object per line with the case and workflow ids; the same warning repeated
collapsed into one line with a count."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

import worker
from base import logs
from base.engine import free_port
from base.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, FakeClock]]:
    out, clock = io.StringIO(), FakeClock()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.Collapse(seconds=60, clock=clock))
    logger = logging.getLogger("dihflow.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out, clock
    logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_is_json_with_the_case_of_its_activity(captured) -> None:  # type: ignore[no-untyped-def]
    logger, out, _ = captured
    logger.info("rendered %s", "v2", extra={"temporal_activity": {"workflow_id": "case-c-42"}})
    token = logs.CASE_ID.set("c-7")
    try:
        logger.info("step sent")
    finally:
        logs.CASE_ID.reset(token)
    logger.info("no case here")
    first, second, third = lines(out)
    assert first["message"] == "rendered v2" and first["level"] == "info"
    assert first["case_id"] == "c-42" and first["workflow_id"] == "case-c-42"
    assert second["case_id"] == "c-7" and "workflow_id" not in second
    assert "case_id" not in third and str(third["at"]).endswith("+00:00")


def test_the_same_warning_repeated_is_one_line_with_a_count(captured) -> None:  # type: ignore[no-untyped-def]
    logger, out, clock = captured
    for attempt in range(100):
        clock.now = attempt * 0.5  # 50 s of retries
        logger.warning("engine at %s not reachable; retrying in %.1f s", "x:7233", attempt)
    logger.warning("something else")
    logger.info("info is never collapsed")
    logger.info("info is never collapsed")
    assert [line["message"] for line in lines(out)] == [
        "engine at x:7233 not reachable; retrying in 0.0 s",
        "something else",
        "info is never collapsed",
        "info is never collapsed",
    ]
    clock.now = 61.0  # the window has passed: the next one says how many were held back
    logger.warning("engine at %s not reachable; retrying in %.1f s", "x:7233", 10)
    last = lines(out)[-1]
    assert last["repeated"] == 99 and "retrying in 10.0 s" in str(last["message"])


def test_core_messages_differing_only_in_numbers_collapse(captured) -> None:  # type: ignore[no-untyped-def]
    _, out, clock = captured
    core = logging.getLogger(logs.CORE_LOGGER)
    handler = logging.getLogger("dihflow.test-logs").handlers[0]
    core.addHandler(handler)
    try:
        for n in range(5):
            core.warning(f"poll failed after {n} attempts, retrying in {n * 100} ms")
    finally:
        core.removeHandler(handler)
    assert len(lines(out)) == 1


async def test_a_worker_without_its_engine_writes_one_line_however_often_it_retries(
    captured,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    logger, out, _ = captured
    monkeypatch.setattr(worker, "log", logger)
    monkeypatch.setattr(worker, "CONNECT_RETRY_FIRST", 0.001)
    monkeypatch.setattr(worker, "CONNECT_RETRY_MAX", 0.001)
    tries = 0
    real = __import__("base.engine", fromlist=["connect"]).connect

    async def counted(settings: Settings, address: str | None = None):  # type: ignore[no-untyped-def]
        nonlocal tries
        tries += 1
        return await real(settings, address)

    monkeypatch.setattr("base.engine.connect", counted)
    settings = Settings().replace(temporal_address=f"127.0.0.1:{free_port()}")
    stop = asyncio.Event()
    waiting = asyncio.ensure_future(worker.connect_when_reachable(settings, stop))
    while tries < 6:
        assert not waiting.done()
        await asyncio.sleep(0.01)
    stop.set()
    assert await waiting is None
    said = lines(out)
    assert len(said) == 1 and "is not reachable" in str(said[0]["message"])
