"""GET /metrics: HTTP answers by route template and status, steps by action and result, and the
store's cases and outbox; only for loopback callers or the bearer of the metrics token."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from base.settings import Settings
from domain.cases import Role
from store.keys import create_key
from tests.api.conftest import store_signing_case

pytestmark = pytest.mark.asyncio


async def scrape(api: httpx.AsyncClient, **headers: str) -> dict[tuple[str, frozenset], float]:  # type: ignore[type-arg]
    r = await api.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(series: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return series.get((name, frozenset(labels.items())), 0.0)


async def test_http_answers_are_counted_by_route_template_and_status(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    before = await scrape(api)
    auth = {"Authorization": f"Bearer {keys['back_office']}"}
    assert (await api.get("/v1/hubs/tagus-ai", headers=auth)).status_code == 200
    assert (await api.get("/v1/hubs/tagus-ai")).status_code == 401
    assert (await api.get("/no/such/page/4711")).status_code == 404
    after = await scrape(api)
    route = {"method": "GET", "route": "/v1/hubs/{hub_id}"}
    for status in ("200", "401"):
        delta = value(after, "dihflow_http_requests_total", **route, status=status) - value(
            before, "dihflow_http_requests_total", **route, status=status
        )
        assert delta == 1, status
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, "dihflow_http_requests_total", **unmatched) > value(
        before, "dihflow_http_requests_total", **unmatched
    )
    assert not any("4711" in str(labels) for _, labels in after)  # no path as a label
    assert value(after, "dihflow_http_request_seconds_count", **route) >= 2


async def test_cases_and_refused_steps_are_counted(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    store_signing_case(api_settings.database_url, "case-m1", "Metrics")
    store_signing_case(api_settings.database_url, "case-m2", "Metrics")
    before = await scrape(api)
    key = create_key(api_settings.database_url, Role.hub_member, "tagus-ai")
    r = await api.post(
        "/v1/cases/case-m1/actions/approve-draft",
        json={},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 409
    after = await scrape(api)
    assert value(after, "dihflow_cases_started_total", scenario="joint_service") == 2
    assert value(after, "dihflow_cases_open", state="signing") == 2
    refused = {"action": "approve_draft", "result": "refused"}
    assert (
        value(after, "dihflow_steps_total", **refused)
        - value(before, "dihflow_steps_total", **refused)
        == 1
    )
    assert value(after, "dihflow_outbox_oldest_pending_seconds") == 0  # nothing waits


async def test_metrics_are_for_loopback_or_the_token(api_settings: Settings) -> None:
    app = create_app(api_settings, run_migrations=False)
    outside = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=outside, base_url="http://api") as remote:
        r = await remote.get("/metrics")
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
    guarded = create_app(api_settings.replace(metrics_token="t" * 32), run_migrations=False)
    outside = httpx.ASGITransport(app=guarded, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=outside, base_url="http://api") as remote:
        assert (await remote.get("/metrics")).status_code == 403
        wrong = {"Authorization": "Bearer " + "x" * 32}
        assert (await remote.get("/metrics", headers=wrong)).status_code == 403
        ok = await remote.get("/metrics", headers={"Authorization": "Bearer " + "t" * 32})
        assert ok.status_code == 200 and "dihflow_cases_started" in ok.text
