"""Importing hubs in headless Chromium on the real stack: upload a file, read the preview of
its problems, confirm, find the new hub in the registry. axe-core finds no serious or
critical violation; screenshots under ``var/test-output/web/``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.hubs import load_demo_network
from domain.registry import to_csv
from tests.conftest import Stack
from tests.web.conftest import assert_accessible, open_signed_in, screenshots

pytestmark = pytest.mark.e2e


def _file(tag: str) -> bytes:
    """Two new hubs with modest profiles (they win no ranking other tests read) and one row
    with an unknown service code."""
    base = load_demo_network()[0]
    hubs = [
        base.model_copy(
            update={
                "id": f"{tag}-{i}",
                "name": f"Imported {tag} {i}",
                "services": ["awareness_training"],
                "ai_subfields": [],
                "sectors": [],
                "description": "A small training hub.",
            }
        )
        for i in range(3)
    ]
    lines = "".join(to_csv(hubs)).splitlines()
    lines[3] = lines[3].replace("awareness_training", "awareness_training;levitation", 1)
    return ("\n".join(lines) + "\n").encode()


async def test_back_office_imports_hubs_from_a_file_after_a_preview_of_its_problems(
    stack: Stack, staff: dict[str, str], browser: Any
) -> None:
    tag = f"imp{uuid.uuid4().hex[:6]}"
    page = await open_signed_in(browser, stack, staff, "back_office")
    try:
        await page.goto("/hubs")
        await page.get_by_label("File of hubs (.csv or .json)").set_input_files(
            {"name": "hubs.csv", "mimeType": "text/csv", "buffer": _file(tag)}
        )
        await page.get_by_role("button", name="Check the file").click()
        await page.wait_for_url("**/hubs/import/preview")
        problems = page.get_by_role("table")
        assert "unknown service code 'levitation'" in await problems.inner_text()
        row = await problems.locator("tbody tr").first.inner_text()
        assert row.split("\t")[:3] == ["4", "12 (services)", f"{tag}-2"]
        assert await page.get_by_role("button", name="Import 2 hubs").is_visible()
        await assert_accessible(page)
        await screenshots(page, "hubs-import-preview")

        await page.get_by_role("button", name="Import 2 hubs").click()
        await page.wait_for_url("**/hubs?imported=*")
        status = await page.get_by_role("status").inner_text()
        assert "Imported: 2 new hubs, 0 changed, 0 unchanged, 1 row left out." in status
        await page.get_by_label("Name, city or description").fill(tag)
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url(f"**/hubs?text={tag}*")
        assert await page.locator("table tbody tr").count() == 2
        await assert_accessible(page)
        await screenshots(page, "hubs-imported")
        r = await stack.http.get(f"/v1/hubs/{tag}-2", headers=stack.auth("back_office"))
        assert r.status_code == 404  # the rejected row was left out
    finally:
        await page.context.close()
