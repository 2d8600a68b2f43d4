"""The client's link page in a real browser (headless Chromium driven by Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium
from tests.conftest import Stack
from tests.e2e.helpers import LEAD, PARTNER, act, outbox, page_token, read, start_case

pytestmark = pytest.mark.e2e


@pytest.fixture
async def browser():  # type: ignore[no-untyped-def]
    async with chromium() as launched:
        yield launched


async def test_client_signs_on_the_link_page_in_a_browser(
    stack: Stack, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    case = await start_case(stack)
    cid = case["id"]
    await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
    sha = (await act(stack, "legal", cid, "approve-draft")).json()["draft"]["sha256"]
    for hub in (LEAD, PARTNER):
        await act(stack, f"hub_signatory:{hub}", cid, "sign", {"document_sha256": sha})
    link = next(m for m in (await outbox(stack, cid)) if m["action"] == "sign")
    assert page_token(link)

    page = await browser.new_page()
    await page.goto(link["link"])
    assert await page.title() == f"{case['title']} · AI DIH Network"
    assert sha in await page.inner_text("main")
    async with page.expect_download() as download:
        await page.click("text=.docx")
    assert (await (await download.value).path()).stat().st_size > 10_000

    await page.fill("#signer_name", "Ana Ribeiro")
    await page.click("button[value=sign]")  # the box is not ticked: the browser refuses to send
    assert await page.locator("[role=status]").count() == 0
    await page.check("input[name=confirm]")
    await page.click("button[value=sign]")
    await page.wait_for_selector("[role=status]")
    assert "signature is recorded" in await page.inner_text("[role=status]")
    await page.screenshot(path=str(tmp_path / "signed.png"), full_page=True)

    assert (await read(stack, f"hub_member:{LEAD}", cid))["state"] == "delivery"
    await page.goto(link["link"])  # a used link says so
    assert "cannot be used" in await page.inner_text("h1")


async def test_client_answers_the_quality_survey_without_javascript(stack: Stack, browser) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.helpers import link_token, post_form
    from tests.web.conftest import assert_accessible, screenshots

    case = await start_case(stack)
    cid = case["id"]
    await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
    sha = (await act(stack, "legal", cid, "approve-draft")).json()["draft"]["sha256"]
    for hub in (LEAD, PARTNER):
        await act(stack, f"hub_signatory:{hub}", cid, "sign", {"document_sha256": sha})
    token = await link_token(stack, cid, "sign")
    await post_form(
        stack, token, choice="sign", document_sha256=sha, signer_name="Ana", confirm="yes"
    )
    await act(stack, f"hub_member:{PARTNER}", cid, "submit-deliverable", {"summary": "PoC"})
    r = await act(stack, f"hub_member:{LEAD}", cid, "accept-deliverable", {"hub_id": PARTNER})
    assert r.json()["state"] == "review", r.text
    url = f"{stack.base_url}/l/{await link_token(stack, cid, 'review')}"

    # the form as a screen reader and axe-core see it (axe needs script; the page does not)
    checked = await browser.new_context(bypass_csp=True)
    page = await checked.new_page()
    await page.goto(url)
    assert await page.get_by_role("group", name="Timeliness: were the dates kept?").count() == 1
    await assert_accessible(page)
    await screenshots(page, "link-survey")
    await checked.close()

    plain = await browser.new_context(java_script_enabled=False)
    page = await plain.new_page()
    await page.goto(url)
    for name, score in (("quality", 5), ("timeliness", 4), ("communication", 4)):
        await page.check(f"input[name={name}][value='{score}']")
    await page.check("input[name=would_recommend][value=yes]")
    await page.click("button[value=review]")  # `value` unanswered: the browser keeps the form
    assert await page.locator("[role=status]").count() == 0
    await page.check("input[name=value][value='3']")
    await page.fill("#comment", "Useful pilot")
    await page.click("button[value=review]")
    await page.wait_for_selector("[role=status]")
    assert "Thank you for your review" in await page.inner_text("[role=status]")
    await plain.close()

    survey = (await read(stack, f"hub_member:{LEAD}", cid))["quality"]["survey"]
    assert (survey["quality"], survey["value"], survey["would_recommend"]) == (5, 3, True)
    assert survey["comment"] == "Useful pilot"
