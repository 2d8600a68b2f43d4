"""The back office and the legal helpdesk at work in a real browser, on the real stack: the
list with its filters in the URL and its CSV, a case page, steps taken from the page forms."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack
from tests.e2e.helpers import LEAD, PARTNER, act, start_case
from tests.web.conftest import assert_accessible, open_signed_in, screenshots

pytestmark = pytest.mark.e2e


async def _api_list(stack: Stack, **params: str) -> list[dict[str, Any]]:
    """Every case of a filter through GET /v1/cases, page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {}) | {"limit": "100"}
        r = await stack.http.get("/v1/cases", params=query, headers=stack.auth("back_office"))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _same_list(rows: list[dict[str, str]], items: list[dict[str, Any]]) -> None:
    assert [(r["id"], r["state"], r["title"], r["lead_hub_id"]) for r in rows] == [
        (i["id"], i["state"], i["title"], i["lead_hub_id"]) for i in items
    ]


async def test_back_office_filters_opens_a_case_extends_a_deadline_and_exports(
    stack: Stack, staff: dict[str, str], browser: Any
) -> None:
    tag = f"wb{uuid.uuid4().hex[:8]}"
    waiting = await start_case(
        stack, title=f"Weld seam inspection {tag} <script>window.xss=1</script>"
    )
    drafted = await start_case(stack, title=f"Weld seam inspection {tag} second site")
    r = await act(stack, f"hub_member:{PARTNER}", drafted["id"], "accept-invitation")
    assert r.status_code == 200 and r.json()["state"] == "legal_review", r.text

    page = await open_signed_in(browser, stack, staff, "back_office")
    await assert_accessible(page)
    await screenshots(page, "cases")
    await page.get_by_label("Title contains").fill(tag)
    await page.get_by_label("State", exact=True).select_option("partnering")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r"/cases\?.*state=partnering"))
    rows = page.locator("table tbody tr")
    assert await rows.count() == 1
    assert "<script>window.xss=1</script>" in await rows.first.inner_text()  # shown as text
    assert await page.evaluate("window.xss") is None  # never run

    await page.reload()  # the filter lives in the URL
    assert await page.get_by_label("Title contains").input_value() == tag
    assert await page.get_by_label("State", exact=True).input_value() == "partnering"
    assert await rows.count() == 1
    assert "tagus" in (await rows.first.inner_text()).lower()  # the lead hub's name
    counts = await page.get_by_role("list", name="Cases per state").inner_text()
    assert "all: 2" in counts and "partnering: 1" in counts and "legal review: 1" in counts
    await assert_accessible(page)
    await screenshots(page, "cases-filtered")

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Export this list as CSV").click()
    exported = _csv(Path(await (await download.value).path()).read_text())
    _same_list(exported, await _api_list(stack, text=tag, state="partnering"))
    assert len(exported) == 1
    whole = await page.request.get(f"/cases.csv?text={tag}")  # the session's cookie goes along
    _same_list(_csv(await whole.text()), await _api_list(stack, text=tag))
    assert len(_csv(await whole.text())) == 2

    await rows.first.get_by_role("link").click()
    await page.wait_for_url(f"**/cases/{waiting['id']}")
    await assert_accessible(page)
    await screenshots(page, "case-partnering")
    timeline = page.locator("section[aria-labelledby=timeline-h] tbody tr")
    before = await timeline.count()
    assert (
        "hash chain verifies"
        in await page.locator("section[aria-labelledby=timeline-h]").inner_text()
    )
    form = page.locator(f"form[action='/cases/{waiting['id']}/actions/extend-deadline']")
    await form.get_by_label("Deadline").select_option("partnering")
    await form.get_by_label("Days").fill("5")
    await form.get_by_role("button", name="Extend deadline").click()
    await page.wait_for_url("**done=extend-deadline**")
    assert "Done: extend deadline" in await page.get_by_role("status").first.inner_text()
    assert await timeline.count() == before + 1
    assert "deadline extended" in await timeline.first.inner_text()
    events = (
        await stack.http.get(
            f"/v1/cases/{waiting['id']}/timeline", headers=stack.auth("back_office")
        )
    ).json()["items"]
    assert (
        events[-1]["type"] == "deadline_extended" and events[-1]["data"]["deadline"] == "partnering"
    )

    await page.goto(f"/cases/{drafted['id']}")
    doc_id = f"{drafted['id']}-v1"
    async with page.expect_download() as download:
        await page.get_by_role("link", name=f"Download {doc_id}").click()
    content = Path(await (await download.value).path()).read_bytes()
    assert (
        hashlib.sha256(content).hexdigest()
        in await page.locator("section[aria-labelledby=documents-h]").inner_text()
    )
    await assert_accessible(page)
    await screenshots(page, "case-legal-review")
    await page.context.close()


async def test_legal_requests_changes_then_approves_the_next_version(
    stack: Stack, staff: dict[str, str], browser: Any
) -> None:
    case = await start_case(stack, title=f"Sensor analytics for olive mills {uuid.uuid4().hex[:6]}")
    cid = case["id"]
    r = await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
    assert r.status_code == 200 and r.json()["state"] == "legal_review", r.text

    page = await open_signed_in(browser, stack, staff, "legal")
    await page.goto(f"/cases/{cid}")
    actions = page.locator("section[aria-labelledby=actions-h]")
    assert await actions.locator("form").count() == 2  # approve, request changes; no cancel
    assert await actions.get_by_role("button", name="Cancel").count() == 0
    form = page.locator(f"form[action='/cases/{cid}/actions/request-changes']")
    await form.get_by_label("Comments").fill("Name the data controller <b>in clause 4</b>.")
    await form.get_by_role("button", name="Request changes").click()
    await page.wait_for_url("**done=request-changes**")
    header = page.locator("section#top")
    assert "drafting" in await header.inner_text()
    reviews = await page.locator("section[aria-labelledby=reviews-h]").inner_text()
    assert "Name the data controller <b>in clause 4</b>." in reviews
    assert await actions.locator("form").count() == 0  # drafting: the lead hub's move
    await screenshots(page, "case-drafting")

    r = await act(
        stack,
        f"hub_member:{LEAD}",
        cid,
        "revise-draft",
        {"scope": "Data audit; the controller is named."},
    )
    assert r.status_code == 200 and r.json()["draft"]["version"] == 2, r.text
    await page.reload()
    await page.get_by_role("button", name="Show the differences").click()
    diff = page.get_by_role("region", name="Text differences")
    added = " ".join(await diff.locator("ins").all_inner_texts())
    assert "the controller is named" in added
    await assert_accessible(page)
    await screenshots(page, "case-diff")

    await (
        page.locator(f"form[action='/cases/{cid}/actions/approve-draft']")
        .get_by_role("button", name="Approve draft")
        .click()
    )
    await page.wait_for_url("**done=approve-draft**")
    assert "signing" in await page.locator("section#top").inner_text()
    case_now = (await stack.http.get(f"/v1/cases/{cid}", headers=stack.auth("legal"))).json()
    assert case_now["state"] == "signing" and case_now["draft"]["version"] == 2
    await page.context.close()
