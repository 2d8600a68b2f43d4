"""The case page shows an activity that keeps failing, with its attempt and last error, as the
engine reports it (a stack of its own: its document store is broken on purpose)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from base.engine import DevServer
from tests.conftest import Stack, running_stack
from tests.e2e.helpers import PARTNER, act, start_case
from tests.web.conftest import add_staff, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def own_stack(
    dev_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with running_stack(dev_server, tmp_path_factory.mktemp("failing")) as s:
        add_staff(s.settings.database_url)
        yield s


async def _wait_for(check, what: str, seconds: float = 60):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"never saw {what}"
        await asyncio.sleep(0.5)


async def test_an_activity_that_keeps_failing_is_shown_with_its_attempts(
    own_stack: Stack,
) -> None:
    case = await start_case(own_stack)
    documents = Path(own_stack.settings.documents_dir)
    shutil.rmtree(documents, ignore_errors=True)
    documents.write_text("not a folder: every render fails until it is one again")
    step = asyncio.create_task(
        act(own_stack, f"hub_member:{PARTNER}", case["id"], "accept-invitation")
    )
    async with httpx.AsyncClient(base_url=own_stack.base_url, timeout=30) as browser:
        await sign_in(browser, "office")

        async def failing() -> re.Match[str] | None:
            html = (await browser.get(f"/cases/{case['id']}")).text
            return re.search(r"<td>render_agreement</td><td>(\d+)</td><td>([^<]*)</td>", html)

        shown = await _wait_for(failing, "render_agreement failing on the case page")
        assert int(shown.group(1)) >= 2 and shown.group(2)  # its attempt and its last error
        documents.unlink()  # the store is back: the next attempt renders the draft
        r = await step
        assert r.status_code == 200 and r.json()["state"] == "legal_review", r.text
        html = (await browser.get(f"/cases/{case['id']}")).text
        assert "No activity is failing" in html
