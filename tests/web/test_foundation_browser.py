"""The sign-in page and the layout in a real browser: keyboard, accessibility, both widths."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack
from tests.web.conftest import (
    DESKTOP,
    assert_accessible,
    open_signed_in,
    screenshots,
)

pytestmark = pytest.mark.e2e


async def test_sign_in_page_and_layout_are_accessible_at_both_widths(
    stack: Stack, staff: dict[str, str], browser: Any
) -> None:
    context = await browser.new_context(base_url=stack.base_url, viewport=DESKTOP, bypass_csp=True)
    page = await context.new_page()
    await page.goto("/cases")  # not signed in: sent to sign in, and back after
    assert "/sign-in?next=/cases" in page.url
    await assert_accessible(page)
    await screenshots(page, "sign-in")
    await page.keyboard.press("Tab")  # the skip link comes first and is visible on focus
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await page.get_by_label("Username").fill(staff["back_office"])
    await page.get_by_label("Password").fill("a wrong password")
    await page.get_by_role("button", name="Sign in").click()
    assert "wrong" in await page.get_by_role("alert").inner_text()
    await assert_accessible(page)
    await context.close()

    page = await open_signed_in(browser, stack, staff, "legal")
    nav = page.get_by_role("navigation", name="Main")
    assert await nav.get_by_role("link", name="Cases").get_attribute("aria-current") == "page"
    assert await nav.get_by_role("link", name="Hubs").count() == 0  # back office only
    await assert_accessible(page)
    await page.goto("/no-such-page")
    assert "no page at this address" in await page.get_by_role("alert").inner_text()
    await assert_accessible(page)
    await screenshots(page, "not-found")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/sign-in")
    await page.context.close()
