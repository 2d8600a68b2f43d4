"""The case page and its action forms without an engine (in-process API over a SQLite store):
refusals come from the same checks as the JSON API, before anything reaches a workflow."""

from __future__ import annotations

import re

import httpx
import pytest

from api.app import create_app
from base.settings import Settings
from store.db import session_scope
from store.models import Case
from tests.api.conftest import store_signing_case
from tests.web.conftest import csrf_of, sign_in

CASE = "c-webpage01"


@pytest.fixture
async def offline(web_settings: Settings):  # type: ignore[no-untyped-def]
    """The pages with the engine unreachable (nothing listens on its address)."""
    store_signing_case(web_settings.database_url, CASE, "Cork <script>alert(1)</script> audit")
    settings = web_settings.replace(temporal_address="127.0.0.1:9")
    app = create_app(settings, run_migrations=False)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _state(settings: Settings) -> tuple[str, int]:
    with session_scope(settings.database_url) as session:
        case = session.get(Case, CASE)
        assert case is not None
        return case.state, case.seq


async def test_the_case_page_reads_from_the_store_with_the_engine_down(
    offline: httpx.AsyncClient,
) -> None:
    await sign_in(offline, "office")
    page = await offline.get(f"/cases/{CASE}")
    assert page.status_code == 200
    assert "Engine unreachable" in page.text
    assert "Cork &lt;script&gt;alert(1)&lt;/script&gt; audit" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "The hash chain verifies: 1 events" in page.text
    assert 'aria-current="step">signing' in page.text
    assert f'action="/cases/{CASE}/actions/cancel"' in page.text  # the back office may cancel
    assert f"/workflows/case-{CASE}" in page.text


async def test_a_legal_account_cannot_cancel_a_case(
    offline: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(offline, "counsel")
    page = await offline.get(f"/cases/{CASE}")
    assert f'action="/cases/{CASE}/actions/cancel"' not in page.text  # no form offered
    before = _state(web_settings)
    refused = await offline.post(
        f"/cases/{CASE}/actions/cancel",
        data={"csrf_token": csrf_of(page.text), "reason": "not mine to cancel"},
    )
    assert refused.status_code == 403
    assert "Cancel was not taken" in refused.text and "not for this caller" in refused.text
    assert _state(web_settings) == before


async def test_an_action_posted_without_its_csrf_token_is_refused(
    offline: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(offline, "office")
    before = _state(web_settings)
    refused = await offline.post(f"/cases/{CASE}/actions/cancel", data={"reason": "no token"})
    assert refused.status_code == 403 and "security token" in refused.text
    assert _state(web_settings) == before


async def test_a_bad_form_is_a_422_naming_the_field_and_changes_nothing(
    offline: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(offline, "office")
    token = csrf_of((await offline.get(f"/cases/{CASE}")).text)
    before = _state(web_settings)
    refused = await offline.post(
        f"/cases/{CASE}/actions/cancel", data={"csrf_token": token, "reason": "  "}
    )
    assert refused.status_code == 422 and "reason:" in refused.text
    assert _state(web_settings) == before


async def test_an_unknown_case_is_a_404_page(offline: httpx.AsyncClient) -> None:
    await sign_in(offline, "office")
    page = await offline.get("/cases/c-nothere", headers={"accept": "text/html"})
    assert page.status_code == 404 and "There is no case" in page.text


async def test_the_csv_export_refuses_a_bad_filter_with_a_page(offline: httpx.AsyncClient) -> None:
    await sign_in(offline, "office")
    refused = await offline.get("/cases.csv?state=nowhere")
    assert refused.status_code == 422 and "state" in refused.text
    listed = await offline.get("/cases?country=portugal")
    assert listed.status_code == 422 and "two-letter" in listed.text


async def test_the_list_pages_with_a_cursor_keeping_its_filter(
    offline: httpx.AsyncClient, web_settings: Settings
) -> None:
    for i in range(30):
        store_signing_case(web_settings.database_url, f"c-page{i:04d}", f"Paged olive {i}")
    await sign_in(offline, "office")
    first = await offline.get("/cases?text=olive&sort=oldest")
    assert first.text.count('href="/cases/c-page') == 25
    assert "c-page0000" in first.text and "c-page0025" not in first.text  # oldest first
    found = re.search(r'href="(/cases\?[^"]*cursor=[^"]+)" rel="next"', first.text)
    assert found, "no link to the next page"
    nxt = found.group(1).replace("&amp;", "&")
    assert "text=olive" in nxt and "sort=oldest" in nxt
    second = await offline.get(nxt)
    assert second.text.count('href="/cases/c-page') == 5 and "c-page0029" in second.text
    assert 'rel="next"' not in second.text and "First page" in second.text
