"""POST /v1/matches over the demo network: components with weights, reasons in words, the
requester never in its results, excluded countries out, a profile edit seen at once, bad input
named field by field."""

from __future__ import annotations

import httpx
import pytest

from domain.hubs import load_demo_network


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


NEED = {
    "services": ["trustworthy_ai_assessment", "regulatory_ip_support"],
    "need": "A start-up needs an assessment of trustworthy AI and regulatory advice.",
}


async def test_a_hub_gets_ranked_partners_with_weighted_components_and_reasons(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await api.post("/v1/matches", json=NEED, headers=bearer(keys["hub_member"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["requesting_hub_id"] == "tagus-ai"
    items = body["items"]
    assert items and "tagus-ai" not in {i["hub_id"] for i in items}
    assert items[0]["hub_id"] == "spree-trust"
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    for item in items:
        parts = item["components"]
        assert set(parts) == {
            "coverage",
            "text",
            "semantic",
            "complementarity",
            "quality",
            "agreement",
            "load",
        }
        assert sum(p["weight"] for p in parts.values()) == pytest.approx(1.0, abs=1e-3)
        weighted = sum(p["value"] * p["weight"] for p in parts.values())
        assert item["score"] == pytest.approx(weighted, abs=1e-3)
        assert item["reasons"]
    top = items[0]["reasons"]
    assert "offers Trustworthy / ethical AI assessment" in top
    assert any(r.startswith("in Germany, across the border from Portugal") for r in top)
    assert any("“trustworthy”" in r and "text relevance" in r for r in top)
    again = await api.post("/v1/matches", json=NEED, headers=bearer(keys["hub_member"]))
    assert again.json() == body  # deterministic


async def test_a_function_code_is_covered_by_any_of_its_services(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await api.post(
        "/v1/matches",
        json={"services": ["test_before_invest"], "limit": 50},
        headers=bearer(keys["back_office"]),
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    offering = {
        h.id
        for h in load_demo_network()
        if {"testing_experimentation", "concept_validation_prototyping"} & set(h.services)
    }
    assert offering <= {i["hub_id"] for i in items}
    assert any(r.startswith("offers test before invest: ") for r in items[0]["reasons"])


async def test_excluded_countries_are_left_out_and_preferred_ones_said(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    body = {**NEED, "excluded_countries": ["DE"], "preferred_countries": ["EE"]}
    r = await api.post("/v1/matches", json=body, headers=bearer(keys["hub_member"]))
    items = r.json()["items"]
    countries = {h.id: h.country for h in load_demo_network()}
    assert items and all(countries[i["hub_id"]] != "DE" for i in items)
    estonian = [i for i in items if countries[i["hub_id"]] == "EE"]
    assert estonian and "in Estonia, a preferred country" in estonian[0]["reasons"]


async def test_a_profile_edit_changes_the_ranking_at_once(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    need = {"need": "Optical inspection of cork stoppers for a bottling line", "limit": 50}
    before = await api.post("/v1/matches", json=need, headers=bearer(keys["back_office"]))
    hub = next(h for h in load_demo_network() if h.id == "vistula-ai")

    def text_of(items: list[dict]) -> dict[str, float]:  # type: ignore[type-arg]
        return {i["hub_id"]: i["components"]["text"]["value"] for i in items}

    assert text_of(before.json()["items"]).get(hub.id, 0.0) == 0.0
    profile = hub.model_dump(mode="json") | {
        "description": "Optical inspection of cork stoppers on bottling lines."
    }
    r = await api.put(f"/v1/hubs/{hub.id}", json=profile, headers=bearer(keys["back_office"]))
    assert r.status_code == 200
    after = text_of(
        (await api.post("/v1/matches", json=need, headers=bearer(keys["back_office"]))).json()[
            "items"
        ]
    )
    assert max(after, key=lambda h: (after[h], h)) == hub.id


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"services": ["telepathy"], "technologies": ["hpc", "warp"]},
            ["services.0", "technologies.1"],
        ),
        ({"need": "x", "excluded_countries": ["XX"]}, ["excluded_countries.0"]),
        ({}, ["need"]),
        ({"need": "x", "limit": 0}, ["limit"]),
        ({"need": "x", "colour": "red"}, ["colour"]),
        ({"need": "x", "requesting_hub_id": "atlantis"}, ["requesting_hub_id"]),
    ],
)
async def test_a_bad_request_is_422_naming_each_field(
    api: httpx.AsyncClient,
    keys: dict[str, str],
    body: dict,
    fields: list[str],  # type: ignore[type-arg]
) -> None:
    r = await api.post("/v1/matches", json=body, headers=bearer(keys["back_office"]))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert sorted(e["field"] for e in r.json()["errors"]) == fields


async def test_a_hub_cannot_ask_as_another_hub(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    body = {**NEED, "requesting_hub_id": "po-valley-ai"}
    r = await api.post("/v1/matches", json=body, headers=bearer(keys["hub_member"]))
    assert r.status_code == 403 and "for itself" in r.json()["detail"]
