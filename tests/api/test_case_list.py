"""List filters are validated: a wrong one is a 422 naming it, never an empty page; a text
search with no word is one too, and query syntax in it is only text (never a 500)."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "sleeping"}, "state"),
        ({"scenario": "merger"}, "scenario"),
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"overdue": "maybe"}, "overdue"),
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
