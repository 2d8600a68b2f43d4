"""List filters are validated: a wrong one is a 422 naming it, never an empty page."""

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
