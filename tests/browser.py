"""Headless Debian Chromium for the browser tests, driven by Playwright (never a downloaded
browser). Without it a test skips with the reason, or fails when DIHFLOW_REQUIRE_BROWSER is set
(as in CI)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# the closed network refuses Chromium's own connections: turn them off
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_without(reason: str) -> None:
    """Skip the test for ``reason``, or fail it where a browser run is required."""
    if os.environ.get("DIHFLOW_REQUIRE_BROWSER"):
        pytest.fail(reason + " and DIHFLOW_REQUIRE_BROWSER is set")
    pytest.skip(reason)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A launched browser, closed on exit."""
    if not CHROMIUM.exists():
        skip_without(
            "Chromium is not installed (Debian package 'chromium'; `make test` installs it as root)"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()
