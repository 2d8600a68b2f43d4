"""The hub registry's writes, Idempotency-Key, body size and rate limits."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

import api.limits
from api.app import create_app
from base.settings import Settings
from domain.hubs import load_demo_network
from store.db import session_scope
from store.models import IdempotencyRecord, utcnow


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_hub(**changes: object) -> dict:  # type: ignore[type-arg]
    base = load_demo_network()[0].model_dump(mode="json")
    return (
        base | {"id": "atlantic-ai", "name": "Atlantic AI Hub", "short_name": "Atlantic"} | changes
    )


async def test_back_office_adds_and_changes_a_hub(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await api.post("/v1/hubs", json=new_hub(), headers=bearer(keys["back_office"]))
    assert r.status_code == 201 and r.headers["location"] == "/v1/hubs/atlantic-ai"
    assert "email" not in r.json()["profile"]["representatives"][0]  # personal data stays in
    again = await api.post("/v1/hubs", json=new_hub(), headers=bearer(keys["back_office"]))
    assert again.status_code == 409
    r = await api.put(
        "/v1/hubs/atlantic-ai", json=new_hub(staff=42), headers=bearer(keys["back_office"])
    )
    assert r.status_code == 200 and r.json()["profile"]["staff"] == 42


async def test_only_the_back_office_writes_the_registry(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    for who in ("hub_member", "legal"):
        assert (
            await api.post("/v1/hubs", json=new_hub(), headers=bearer(keys[who]))
        ).status_code == 403
        r = await api.put(
            "/v1/hubs/tagus-ai", json=new_hub(id="tagus-ai"), headers=bearer(keys[who])
        )
        assert r.status_code == 403


async def test_bad_hub_profile_is_422_naming_the_field(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await api.post(
        "/v1/hubs",
        json=new_hub(services=["teleportation"], colour="red"),
        headers=bearer(keys["back_office"]),
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"services", "colour"} <= fields
    r = await api.put("/v1/hubs/tagus-ai", json=new_hub(), headers=bearer(keys["back_office"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id"


async def test_idempotency_key_replays_the_first_creation(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    headers = bearer(keys["back_office"]) | {"Idempotency-Key": "hub-atlantic"}
    first = await api.post("/v1/hubs", json=new_hub(), headers=headers)
    second = await api.post("/v1/hubs", json=new_hub(), headers=headers)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    other = await api.post("/v1/hubs", json=new_hub(staff=7), headers=headers)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_idempotency_key_expires_after_a_day(
    api: httpx.AsyncClient, keys: dict[str, str], api_settings: Settings
) -> None:
    headers = bearer(keys["back_office"]) | {"Idempotency-Key": "k-1"}
    await api.post("/v1/hubs", json=new_hub(), headers=headers)
    with session_scope(api_settings.database_url) as session:
        for record in session.exec(select(IdempotencyRecord)).all():
            record.created_at = utcnow() - timedelta(hours=25)
    r = await api.post("/v1/hubs", json=new_hub(id="biscay-ai", name="Biscay"), headers=headers)
    assert r.status_code == 201 and r.json()["id"] == "biscay-ai"


async def test_body_over_the_limit_is_413(
    api_settings: Settings, keys: dict[str, str], client_for
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(api_settings.replace(body_max_bytes=2_000), run_migrations=False)
    async with client_for(app) as api:
        r = await api.post(
            "/v1/hubs", json=new_hub(description="x" * 5_000), headers=bearer(keys["back_office"])
        )
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


async def test_rate_limit_is_429_with_retry_after_and_shared_by_processes(
    api_settings: Settings, keys: dict[str, str], client_for, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # mid-minute on a pinned clock: a minute turning during the test would reset the count
    monkeypatch.setattr(api.limits, "clock", lambda: 1_740_000_030.0)
    limited = api_settings.replace(rate_limit_per_minute=5)
    one, two = create_app(limited, run_migrations=False), create_app(limited, run_migrations=False)
    headers = bearer(keys["hub_member"])
    async with client_for(one) as a, client_for(two) as b:
        statuses = [
            (await (a if i % 2 else b).get("/v1/hubs", headers=headers)).status_code
            for i in range(5)
        ]
        refused = await a.get("/v1/hubs", headers=headers)
        other_key = await b.get("/v1/hubs", headers=bearer(keys["legal"]))
    assert statuses == [200] * 5
    assert refused.status_code == 429 and refused.headers["retry-after"] == "31"
    assert refused.headers["content-type"] == "application/problem+json"
    assert other_key.status_code == 200  # the limit is per key


async def test_unknown_route_and_wrong_method_are_problem_json(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    assert (await api.get("/v1/nothing-here")).status_code == 401  # no key: nothing more said
    r = await api.get("/v1/nothing-here", headers=bearer(keys["legal"]))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await api.get("/nothing-here")).status_code == 404
    r = await api.delete("/v1/hubs", headers=bearer(keys["legal"]))
    assert r.status_code == 405 and r.json()["status"] == 405


async def test_docs_page_loads_its_assets_locally(api: httpx.AsyncClient) -> None:
    page = await api.get("/docs")
    assert page.status_code == 200
    assert "https://" not in page.text  # nothing from a CDN
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in page.text and (await api.get(asset)).status_code == 200
