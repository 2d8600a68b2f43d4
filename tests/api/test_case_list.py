"""List filters are validated: a wrong one is a 422 naming it, never an empty page; a text
search with no word is one too, and query syntax in it is only text (never a 500)."""

from __future__ import annotations

import httpx
import pytest

from base.settings import Settings
from tests.api.conftest import store_signing_case


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "sleeping"}, "state"),
        ({"scenario": "merger"}, "scenario"),
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"overdue": "maybe"}, "overdue"),
        ({"country": "pt"}, "country"),
        ({"sort": "sideways"}, "sort"),
    ],
)
async def test_bad_list_filter_is_422_naming_it(
    api: httpx.AsyncClient, keys: dict[str, str], params: dict[str, object], field: str
) -> None:
    r = await api.get(
        "/v1/cases", params=params, headers={"Authorization": f"Bearer {keys['legal']}"}
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_known_state_filter_answers_a_page(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await api.get(
        "/v1/cases",
        params={"state": "legal_review"},
        headers={"Authorization": f"Bearer {keys['legal']}"},
    )
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("text", ['"', "*", "'", "-", "(", " ", "%_", "…"])
async def test_text_without_a_word_is_422_naming_text(
    api: httpx.AsyncClient, keys: dict[str, str], text: str
) -> None:
    r = await api.get(
        "/v1/cases", params={"text": text}, headers={"Authorization": f"Bearer {keys['legal']}"}
    )

    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["text"]


async def test_text_with_too_many_words_is_422_naming_text(
    api: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    r = await api.get(
        "/v1/cases",
        params={"text": " ".join(f"w{i}" for i in range(11))},
        headers={"Authorization": f"Bearer {keys['legal']}"},
    )

    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["text"]


@pytest.mark.parametrize(
    "text", ["AND", "-x", 'cork"', "NEAR(cork", "title:cork", "cork OR", "x' OR '1'='1", "é"]
)
async def test_text_with_query_syntax_answers_a_page(
    api: httpx.AsyncClient, keys: dict[str, str], text: str
) -> None:
    member = {"Authorization": f"Bearer {keys['hub_member']}"}

    r = await api.get("/v1/cases", params={"text": text}, headers=member)

    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}


async def test_openapi_describes_what_text_matches(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()

    params = schema["paths"]["/v1/cases"]["get"]["parameters"]
    text = next(p for p in params if p["name"] == "text")
    assert "begin a word of the title" in text["description"]
    assert "accents" in text["description"]


async def test_country_and_oldest_first_filter_the_list(
    api: httpx.AsyncClient, keys: dict[str, str], api_settings: Settings
) -> None:
    store_signing_case(api_settings.database_url, "c-country1", "First")
    store_signing_case(api_settings.database_url, "c-country2", "Second")
    office = {"Authorization": f"Bearer {keys['back_office']}"}

    async def ids(**params: str) -> list[str]:
        r = await api.get("/v1/cases", params=params, headers=office)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert await ids(country="PT") == ["c-country2", "c-country1"]  # the lead hub is in PT
    assert await ids(country="DE") == []
    assert await ids(country="PT", sort="oldest") == ["c-country1", "c-country2"]
