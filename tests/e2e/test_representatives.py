"""Only a hub's authorised representative signs for it: dates, scope and delegations hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.cases import Role
from store.keys import create_key
from tests.conftest import Stack
from tests.e2e.helpers import act, read, start_case

pytestmark = pytest.mark.e2e
LEAD, PARTNER = "tagus-ai", "vistula-ai"


async def test_signature_needs_a_current_mandate_covering_the_agreement(stack: Stack) -> None:
    office = stack.auth("back_office")
    profile = (await stack.http.get(f"/v1/hubs/{PARTNER}", headers=office)).json()["profile"]
    full = stack.settings.database_url
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    extra = [
        {
            "id": "old-director",
            "name": "Olga Former",
            "email": "olga@vistula.example",
            "title": "Former director",
            "mandate_until": yesterday,
        },
        {
            "id": "deputy",
            "name": "Dawid Deputy",
            "email": "dawid@vistula.example",
            "title": "Deputy",
            "delegated_by": "old-director",
        },
        {
            "id": "nda-officer",
            "name": "Nina Officer",
            "email": "nina@vistula.example",
            "title": "Legal officer",
            "scope": "mutual_nda",
        },
    ]
    from domain.hubs import load_demo_network

    registry = next(h for h in load_demo_network() if h.id == PARTNER).model_dump(mode="json")
    registry["representatives"] = registry["representatives"] + extra
    r = await stack.http.put(f"/v1/hubs/{PARTNER}", json=registry, headers=office)
    assert r.status_code == 200, r.text
    keys = {
        rep: create_key(full, Role.hub_signatory, PARTNER, representative=rep)
        for rep in ("old-director", "deputy", "nda-officer")
    }
    case = await start_case(stack, invited_hub_ids=[PARTNER])
    cid = case["id"]
    await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
    sha = (await act(stack, "legal", cid, "approve-draft")).json()["draft"]["sha256"]

    reasons = {}
    for rep, key in keys.items():
        r = await stack.http.post(
            f"/v1/cases/{cid}/actions/sign",
            json={"document_sha256": sha},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 403, r.text
        reasons[rep] = r.json()["detail"]
    assert "mandate ended on" in reasons["old-director"]
    assert "delegated by Olga Former" in reasons["deputy"]
    assert "covers mutual_nda" in reasons["nda-officer"]
    assert (await read(stack, "back_office", cid))["signatures"] == []

    r = await act(stack, f"hub_signatory:{PARTNER}", cid, "sign", {"document_sha256": sha})
    assert r.status_code == 200, r.text  # the hub's director, whose mandate is open
    assert profile["representatives"][0]["name"]  # unchanged first representative
