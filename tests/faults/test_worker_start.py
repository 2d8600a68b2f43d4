"""A worker started while the engine is away waits for it, and still stops when told to."""

from __future__ import annotations

import asyncio
import logging

import pytest

from base.engine import free_port
from base.settings import Settings
from worker import connect_when_reachable


async def test_worker_waits_for_an_unreachable_engine_and_stops_when_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings().replace(temporal_address=f"127.0.0.1:{free_port()}")  # nobody there
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="dihflow.worker"):
        waiting = asyncio.ensure_future(connect_when_reachable(settings, stop))
        while not caplog.records:
            assert not waiting.done(), "gave up instead of waiting"
            await asyncio.sleep(0.05)
        stop.set()
        assert await waiting is None
    assert "is not reachable" in caplog.records[0].getMessage()


async def test_worker_without_an_engine_address_says_so() -> None:
    with pytest.raises(RuntimeError, match="DIHFLOW_TEMPORAL_ADDRESS"):
        await connect_when_reachable(Settings().replace(temporal_address=None), asyncio.Event())
