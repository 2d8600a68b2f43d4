"""The indicators on the back office's network and hub pages, from the seeded history of
``tests/store/history.py`` (in-process app over a SQLite store; one browser check with axe)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from base.settings import Settings
from domain.cases import Role
from store.keys import create_key
from tests.store.history import TAGUS, seed_history
from tests.web.conftest import sign_in

JANUARY = "from=2026-01-01&to=2026-01-31"


def _row(html: str, label: str) -> str:
    return html[html.index(f">{label}<") :].split("</tr>", 1)[0]


async def test_network_page_shows_the_periods_indicators_with_their_n(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    seed_history(web_settings.database_url)
    await sign_in(web, "office")

    html = (await web.get(f"/network?{JANUARY}")).text

    assert "Cases that ended from 2026-01-01 to 2026-01-31: 8." in html
    assert '4.0 <span class="muted">(n=3)</span>' in _row(html, "Quality (client survey, of 5)")
    assert "80.0 %" in _row(html, "Milestones on time") and "(n=5)" in _row(
        html, "Milestones on time"
    )
    assert "2.5 d" in _row(html, "Days to collect the signatures")
    assert "60.0 %" in _row(html, "Repeat collaborations")


async def test_hub_page_shows_the_hubs_own_indicators(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    seed_history(web_settings.database_url)
    await sign_in(web, "office")

    html = (await web.get(f"/hubs/{TAGUS}?{JANUARY}")).text

    assert "Cases that ended from 2026-01-01 to 2026-01-31: 5." in html
    assert "4.67" in _row(html, "Peer reliability (of 5)")


async def test_too_few_reviews_show_a_dash_not_a_score(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    seed_history(web_settings.database_url)
    await sign_in(web, "office")

    html = (await web.get("/hubs/spree-trust?from=2026-01-01&to=2026-01-31")).text

    row = _row(html, "Peer reliability (of 5)")
    assert "—" in row and "(n=1)" in row


@pytest.mark.parametrize("query", ["from=2026-02-01&to=2026-01-01", "from=yesterday"])
async def test_a_bad_period_falls_back_to_the_last_year_saying_so(
    web: httpx.AsyncClient, web_settings: Settings, query: str
) -> None:
    await sign_in(web, "office")

    page = await web.get(f"/network?{query}")

    assert page.status_code == 200 and 'role="alert"' in page.text
    assert "showing the last year" in page.text


async def test_indicators_api_reads_the_same_figures(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    seed_history(web_settings.database_url)
    key = create_key(web_settings.database_url, Role.back_office, None)
    got: dict[str, Any] = (
        await web.get(f"/v1/indicators?{JANUARY}", headers={"Authorization": f"Bearer {key}"})
    ).json()
    assert got["cases"]["total"] == 8 and got["on_time"] == {"rate": 0.8, "n": 5}


async def test_indicator_pages_pass_axe_in_a_browser(
    web: httpx.AsyncClient, web_settings: Settings, browser: Any
) -> None:
    """The pages of the in-process app, served to Chromium through a route handler."""
    from tests.web.conftest import assert_accessible, screenshots

    seed_history(web_settings.database_url)
    await sign_in(web, "office")
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()

    async def serve(route: Any) -> None:
        answer = await web.request(route.request.method, route.request.url)
        await route.fulfill(
            status=answer.status_code, headers=dict(answer.headers), body=answer.content
        )

    await page.route("http://testserver/**", serve)
    try:
        for name, path in (
            ("network-indicators", "/network"),
            ("hub-indicators", f"/hubs/{TAGUS}"),
        ):
            await page.goto(f"http://testserver{path}?{JANUARY}")
            table = page.get_by_role("table", name="Delivery and partnering")
            assert "80.0 %" in await table.inner_text() or name == "hub-indicators"
            await assert_accessible(page)
            await screenshots(page, name)
    finally:
        await context.close()


async def test_network_report_over_the_api_in_html_and_docx(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    import io

    import docx

    seed_history(web_settings.database_url)
    auth = {"Authorization": f"Bearer {create_key(web_settings.database_url, Role.legal, None)}"}

    html = await web.get(f"/v1/reports/network?{JANUARY}", headers=auth)
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.count('src="data:image/png;base64,') == 4
    word = await web.get(f"/v1/reports/network?{JANUARY}&format=docx", headers=auth)
    assert word.headers["content-disposition"] == (
        'attachment; filename="network-report-2026-01-01-to-2026-01-31.docx"'
    )
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs)
    assert "Cases that ended from 2026-01-01 to 2026-01-31: 8." in text


async def test_case_page_shows_the_survey_the_peer_reviews_and_who_still_owes_one(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    from domain.cases import Invitation, PeerReview, Survey
    from domain.timeline import chain_event
    from store.db import session_scope
    from store.records import project_case
    from tests.store.test_store import make_facts

    facts = make_facts(
        "c-quality1",
        state="review",
        quality_review=True,
        invitations=[Invitation(hub_id="po-valley-ai", status="accepted")],
        survey=Survey(
            quality=5, timeliness=4, communication=4, value=3, would_recommend=True, comment="Good"
        ),
        hub_reviews=[
            PeerReview(
                reviewer="po-valley-ai",
                subject=TAGUS,
                reliability=5,
                contribution=4,
                would_collaborate_again=True,
            )
        ],
    )
    event = chain_event(0, facts.head_hash, "reviewed", "system", "2026-01-02T00:00:00+00:00", {})
    facts.seq, facts.head_hash = event.seq, event.hash
    with session_scope(web_settings.database_url) as session:
        project_case(session, facts, [event])
    await sign_in(web, "office")

    html = (await web.get("/cases/c-quality1")).text

    assert "Quality survey (client)" in html and "“Good”" in html
    assert "reliability 5 / 5, contribution 4 / 5" in html
    assert "on Po Valley" in html and "not given yet" in html  # the lead's review of its partner
