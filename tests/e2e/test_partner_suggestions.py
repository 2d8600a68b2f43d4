"""A joint service opens with suggested partners ranked by the partner matching (the model of
``POST /v1/matches`` and of the matchmaking start), over HTTP on the real dev server."""

from __future__ import annotations

import pytest

from tests.conftest import KEY_HUBS, Stack
from tests.e2e.helpers import LEAD, LOCAL_PLAYER, act, read, save_history, start_case

pytestmark = pytest.mark.e2e
LEAD_MEMBER = f"hub_member:{LEAD}"
NEEDS = {
    "title": "Visual inspection of cork stoppers",
    "need": "Detect surface defects on cork stoppers with computer vision before shipping, "
    "and test the model on the production line.",
    "wanted_services": ["testing_experimentation"],
    "wanted_technologies": ["computer_vision"],
    "wanted_sectors": ["mfg_wood"],
}
# the same need asked of the matching's own endpoint
ASKED = {
    "services": NEEDS["wanted_services"],
    "technologies": NEEDS["wanted_technologies"],
    "sectors": NEEDS["wanted_sectors"],
    "need": f"{NEEDS['title']}. {NEEDS['need']}",
}


async def test_a_joint_service_opens_with_partners_suggested_by_the_matching(
    stack: Stack,
) -> None:
    # started with no invitation: the hubs' open cases (a ranking signal) stay as they were
    case = await start_case(stack, **NEEDS, invited_hub_ids=[])
    cid = case["id"]
    assert case["state"] == "requested"
    suggested = case["suggested_partners"]
    assert suggested, "no hub of the demo network was suggested"
    ids = [s["hub_id"] for s in suggested]
    assert LEAD not in ids and len(ids) == len(set(ids))
    assert all(s["reasons"] and s["name"] for s in suggested)
    assert all({"coverage", "text", "complementarity"} <= set(s["components"]) for s in suggested)
    assert not any(s["invited"] for s in suggested)

    # the same ranking as the matching's own endpoint for the same need, asked by the lead
    r = await stack.http.post("/v1/matches", json=ASKED, headers=stack.auth(LEAD_MEMBER))
    assert r.status_code == 200, r.text
    matches = r.json()["items"]
    assert ids == [m["hub_id"] for m in matches]
    assert [s["score"] for s in suggested] == [round(m["score"] * 100, 1) for m in matches]
    assert [s["reasons"] for s in suggested] == [m["reasons"] for m in matches]

    assert (await read(stack, "back_office", cid))["suggested_partners"] == suggested

    # advice only: the lead invites the first suggestion and a hub that was not suggested
    outsider = next(h for h in KEY_HUBS if h not in {LEAD, *ids})  # a hub with a test key
    invited = [ids[0], outsider]
    r = await act(stack, LEAD_MEMBER, cid, "invite-partners", {"hub_ids": invited})
    assert r.status_code == 200, r.text
    case = r.json()
    assert [p["hub_id"] for p in case["parties"] if p["role"] == "invited"] == invited
    assert [s["hub_id"] for s in case["suggested_partners"]] == ids  # kept as they were
    assert [s["invited"] for s in case["suggested_partners"]] == [h == ids[0] for h in ids]
    # the lead and the network staff see them; an invited hub does not
    assert (await read(stack, f"hub_member:{outsider}", cid))["suggested_partners"] == []
    r = await act(stack, LEAD_MEMBER, cid, "cancel", {"reason": "test over"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    await save_history(stack, cid, "joint_service_suggested_partners")


async def test_a_matchmaking_case_ranks_with_the_same_needs(stack: Stack) -> None:
    """The matchmaking start takes the technologies and sectors too, and keeps components."""
    body = {**NEEDS, "scenario": "matchmaking", "local_player": LOCAL_PLAYER, "client": None}
    r = await stack.http.post(
        "/v1/cases",
        json={**body, "invited_hub_ids": []},
        headers=stack.auth(LEAD_MEMBER),
    )
    assert r.status_code == 201, r.text
    case = r.json()
    candidates = case["matchmaking"]["candidates"]
    suggested = [c["hub_id"] for c in candidates]
    r = await stack.http.post("/v1/matches", json=ASKED, headers=stack.auth(LEAD_MEMBER))
    assert suggested == [m["hub_id"] for m in r.json()["items"]]
    assert all(c["components"] and c["reasons"] for c in candidates)
    assert case["suggested_partners"] == []
    await act(stack, LEAD_MEMBER, case["id"], "cancel", {"reason": "test over"})
