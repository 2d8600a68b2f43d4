"""A matchmaking case over HTTP: ranking, double opt-in through the link page, NDA, outcome."""

from __future__ import annotations

import pytest

from tests.conftest import Stack
from tests.e2e.helpers import LOCAL_PLAYER, act, outbox, page_token, post_form, read, save_history

pytestmark = pytest.mark.e2e
LEAD, CANDIDATE = "tagus-ai", "spree-trust"


async def start(stack: Stack) -> dict:  # type: ignore[type-arg]
    r = await stack.http.post(
        "/v1/cases",
        headers=stack.auth(f"hub_member:{LEAD}"),
        json={
            "scenario": "matchmaking",
            "title": "Trustworthy AI audit for an orchard-vision start-up",
            "need": "A start-up needs an assessment of trustworthy AI and regulatory advice.",
            "local_player": LOCAL_PLAYER,
            "wanted_services": ["trustworthy_ai_assessment", "regulatory_ip_support"],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def link_for(stack: Stack, cid: str, action: str) -> str:
    messages = [m for m in (await outbox(stack, cid)) if m["action"] == action]
    assert messages, f"no {action} link in the outbox"
    assert messages[0]["to"].endswith("<rita@orchard.example>")
    return page_token(messages[0])


async def test_matchmaking_introduces_signs_an_nda_and_closes_with_feedback(stack: Stack) -> None:
    case = await start(stack)
    cid = case["id"]
    assert case["state"] == "matching"
    ranking = case["matchmaking"]["candidates"]
    assert ranking[0]["hub_id"] == CANDIDATE and ranking[0]["reasons"]
    assert LEAD not in {c["hub_id"] for c in ranking}

    r = await act(stack, f"hub_member:{LEAD}", cid, "select-candidates", {"hub_ids": [CANDIDATE]})
    assert r.json()["state"] == "introducing", r.text
    r = await act(stack, f"hub_member:{CANDIDATE}", cid, "consent")
    assert r.status_code == 200 and r.json()["state"] == "introducing", r.text

    # the local player answers on its link page, as a browser posts the form
    token = await link_for(stack, cid, "consent")
    page = await stack.http.get(f"/l/{token}")
    assert (
        page.status_code == 200 and "Spree" in page.text and "I agree to be introduced" in page.text
    )
    r = await post_form(stack, token, choice="consent")
    assert r.status_code == 200 and "consent is recorded" in r.text
    assert (await stack.http.get(f"/l/{token}")).status_code == 410  # one use only
    case = await read(stack, f"hub_member:{LEAD}", cid)
    assert case["state"] == "meeting"
    assert case["matchmaking"]["introductions"][0]["mutual"] is True

    r = await act(
        stack,
        f"hub_member:{LEAD}",
        cid,
        "record-meeting",
        {"hub_id": CANDIDATE, "held_on": "2026-11-20", "notes": "Scoped an audit."},
    )
    assert r.status_code == 200, r.text
    r = await act(stack, f"hub_member:{LEAD}", cid, "request-nda")
    case = r.json()
    assert case["state"] == "legal_review" and case["draft"]["template"] == "mutual_nda"
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.json()["awaiting_signatures"] == [LEAD, CANDIDATE, "local_player"]
    sha = r.json()["draft"]["sha256"]
    for hub in (LEAD, CANDIDATE):
        assert (
            await act(stack, f"hub_signatory:{hub}", cid, "sign", {"document_sha256": sha})
        ).status_code == 200

    token = await link_for(stack, cid, "sign")
    page = await stack.http.get(f"/l/{token}")
    assert sha in page.text
    r = await post_form(stack, token, choice="sign", document_sha256=sha, signer_name="Rita Sousa")
    assert r.status_code == 422 and "confirm" in r.text  # the box was not ticked
    r = await post_form(
        stack, token, choice="sign", document_sha256=sha, signer_name="Rita Sousa", confirm="yes"
    )
    assert r.status_code == 200 and "signature is recorded" in r.text, r.text
    assert (await read(stack, f"hub_member:{LEAD}", cid))["state"] == "follow_up"

    r = await act(
        stack, f"hub_member:{LEAD}", cid, "record-outcome", {"result": "collaboration_agreed"}
    )
    assert r.json()["state"] == "review", r.text
    scores = {"quality": "5", "timeliness": "5", "communication": "4", "value": "5"}
    r = await post_form(
        stack,
        await link_for(stack, cid, "review"),
        choice="review",
        would_recommend="yes",
        comment="Great",
        **scores,
    )
    assert r.status_code == 200, r.text
    peer = {"reliability": 5, "contribution": 5, "would_collaborate_again": True}
    for hub in (CANDIDATE, LEAD):  # the matched hub and the lead review each other
        r = await act(stack, f"hub_member:{hub}", cid, "peer-review", peer)
        assert r.status_code == 200, r.text
    case = await read(stack, "back_office", cid)
    assert case["state"] == "closed" and case["outcome"] == "completed"
    assert case["review"]["rating"] == 5
    await save_history(stack, cid, "matchmaking_with_nda")


async def test_declined_introduction_returns_to_matching(stack: Stack) -> None:
    case = await start(stack)
    cid = case["id"]
    await act(stack, f"hub_member:{LEAD}", cid, "select-candidates", {"hub_ids": [CANDIDATE]})
    r = await act(
        stack, f"hub_member:{CANDIDATE}", cid, "decline-consent", {"reason": "No capacity"}
    )
    assert r.status_code == 200 and r.json()["state"] == "matching", r.text
    # the player's link still asks, but the introduction is settled: refused, nothing changes
    r = await post_form(stack, await link_for(stack, cid, "consent"), choice="consent")
    assert r.status_code in (403, 409)
    r = await act(
        stack, f"hub_member:{LEAD}", cid, "select-candidates", {"hub_ids": ["vistula-ai"]}
    )
    assert r.json()["state"] == "introducing"
    await save_history(stack, cid, "matchmaking_declined")
