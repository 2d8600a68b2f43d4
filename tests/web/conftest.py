"""Fixtures for the staff pages.

- ``web_settings`` / ``web``: an API process without the engine (ASGI, in-process) over a fresh
  SQLite store seeded with the demo network, and ``sign_in(web, username)`` for it;
- ``staff``: a back-office and a legal account in the session's real ``stack``;
- ``browser``: headless Debian Chromium driven by Playwright (never a downloaded browser);
  ``open_signed_in(browser, stack, role)`` gives a page signed in as that role;
- ``assert_accessible(page)``: axe-core (npm, ``node_modules``) finds no serious or critical
  violation; ``screenshots(page, name)`` saves the page at 1280 px and at phone width under
  ``var/test-output/web/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from base.settings import Settings
from dihflow.seed import seed_demo_network
from store.db import session_scope
from store.staff import create_account
from tests.browser import chromium, skip_without
from tests.conftest import Stack

ROOT = Path(__file__).resolve().parent.parent.parent
OUTPUT = ROOT / "var" / "test-output" / "web"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a long test password 1"
USERS = {"back_office": "office", "legal": "counsel"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def add_staff(database_url: str) -> dict[str, str]:
    """A back-office and a legal account with PASSWORD; role -> username."""
    with session_scope(database_url) as session:
        for role, username in USERS.items():
            create_account(session, username, role, f"Test {role}", PASSWORD)
    return dict(USERS)


# -- in-process -----------------------------------------------------------------------------
@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    settings = Settings().replace(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        outbox_dir=tmp_path / "outbox",
        documents_dir=tmp_path / "documents",
        secret_key="s" * 64,
    )
    seed_demo_network(settings.database_url)
    add_staff(settings.database_url)
    return settings


@pytest.fixture
async def web(web_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(web_settings, run_migrations=False)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    """Sign in as a browser does: open the form (its token cookie), post it."""
    form = await client.get("/sign-in")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
    assert token
    return await client.post(
        "/sign-in",
        data={"username": username, "password": password, "sign_in_token": token.group(1)},
    )


# -- the real stack and a browser -----------------------------------------------------------
@pytest.fixture(scope="session")
def staff(stack: Stack) -> dict[str, str]:
    return add_staff(stack.settings.database_url)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def open_signed_in(browser: Any, stack: Stack, staff: dict[str, str], role: str) -> Any:
    """A new browser context (1280 px wide) signed in as ``role``; lands on the cases list.
    The pages' Content-Security-Policy is bypassed so that the test can inject axe-core."""
    context = await browser.new_context(
        base_url=stack.base_url, viewport=DESKTOP, bypass_csp=True, accept_downloads=True
    )
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.get_by_label("Username").fill(staff[role])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/cases")
    return page


async def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    if not AXE.exists():
        skip_without("axe-core is not installed (`make test` runs npm install from package.json)")
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    violations = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations on {page.url}: {bad}"


async def screenshots(page: Any, name: str) -> None:
    """The page at 1280 px and at phone width, full length, under var/test-output/web/."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(OUTPUT / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(OUTPUT / f"{name}-phone.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)
