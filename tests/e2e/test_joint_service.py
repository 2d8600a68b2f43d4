"""A joint-service case from request to closed, over HTTP, on the real dev server."""

from __future__ import annotations

import io

import docx
import pytest

from domain.timeline import TimelineEvent, verify_chain
from tests.conftest import Stack
from tests.e2e.helpers import (
    CLIENT,
    LEAD,
    PARTNER,
    act,
    link_token,
    outbox,
    post_form,
    read,
    save_history,
    start_case,
)

pytestmark = pytest.mark.e2e
LEAD_MEMBER, LEAD_SIGNATORY = f"hub_member:{LEAD}", f"hub_signatory:{LEAD}"
PARTNER_MEMBER, PARTNER_SIGNATORY = f"hub_member:{PARTNER}", f"hub_signatory:{PARTNER}"


async def timeline(stack: Stack, case_id: str) -> list[TimelineEvent]:
    r = await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.auth("back_office"))
    assert r.status_code == 200, r.text
    return [TimelineEvent(**e) for e in r.json()["items"]]


async def assert_projected(stack: Stack, response, expected_last_event: str) -> dict:  # type: ignore[no-untyped-def]
    """After a step: the answer is the stored case, and its timeline ends with the step."""
    assert response.status_code == 200, response.text
    case = response.json()
    assert case == await read(stack, "back_office", case["id"]) | {
        "allowed_actions": case["allowed_actions"],
        "actions": case["actions"],
        "links": case["links"],
        "client": case["client"],
        "suggested_partners": case["suggested_partners"],  # the lead's and the staff's only
    }
    events = await timeline(stack, case["id"])
    assert verify_chain(events, case["id"]) == []
    assert events[-1].hash == case["head_hash"] and events[-1].seq == case["seq"]
    assert events[-1].type == expected_last_event
    return case  # type: ignore[no-any-return]


async def test_joint_service_runs_from_request_to_closed(stack: Stack) -> None:
    case = await start_case(stack)
    cid = case["id"]
    assert case["state"] == "partnering"
    assert [p["role"] for p in case["parties"]] == ["lead", "invited"]
    assert "accept-invitation" in (await read(stack, PARTNER_MEMBER, cid))["allowed_actions"]

    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    case = await assert_projected(stack, r, "draft_rendered")
    assert case["state"] == "legal_review"  # partnering closed, draft v1 rendered
    draft = case["draft"]
    assert draft["version"] == 1 and len(case["documents"]) == 1

    doc = await stack.http.get(
        case["documents"][0]["download_url"], headers=stack.auth(PARTNER_MEMBER)
    )
    assert doc.status_code == 200
    import hashlib

    assert hashlib.sha256(doc.content).hexdigest() == draft["sha256"]
    text = "\n".join(
        [p.text for p in docx.Document(io.BytesIO(doc.content)).paragraphs]
        + [
            c.text
            for t in docx.Document(io.BytesIO(doc.content)).tables
            for row in t.rows
            for c in row.cells
        ]
    )
    for name in ("Tagus AI Hub", CLIENT["name"]):
        assert name in text
    partner_name = (
        await stack.http.get(f"/v1/hubs/{PARTNER}", headers=stack.auth("legal"))
    ).json()["name"]
    assert partner_name in text
    assert "{{" not in text and "{%" not in text

    r = await act(stack, "legal", cid, "approve-draft")
    assert (await assert_projected(stack, r, "draft_approved"))["state"] == "signing"
    assert r.json()["awaiting_signatures"] == [LEAD, PARTNER, "client"]

    sign = {"document_sha256": draft["sha256"]}
    r = await act(stack, LEAD_SIGNATORY, cid, "sign", sign)
    assert (await assert_projected(stack, r, "signed"))["awaiting_signatures"] == [
        PARTNER,
        "client",
    ]
    r = await act(stack, PARTNER_SIGNATORY, cid, "sign", sign)
    assert (await assert_projected(stack, r, "signed"))["awaiting_signatures"] == ["client"]

    # the client acts through its one-time link: read what is asked, fetch the document, sign
    token = await link_token(stack, cid, "sign")
    assert (await read(stack, LEAD_MEMBER, cid))["links"] == []  # links go by mail only
    info = (await stack.http.get(f"/v1/links/{token}")).json()
    assert info["action"] == "sign" and info["document"]["sha256"] == draft["sha256"]
    assert (await stack.http.get(info["document"]["download_url"])).content == doc.content
    r = await stack.http.post(f"/v1/links/{token}", json={**sign, "signer_name": "Ana Ribeiro"})
    assert r.status_code == 200 and r.json()["state"] == "delivery", r.text
    assert (await stack.http.post(f"/v1/links/{token}", json=sign)).status_code == 410

    case = await read(stack, LEAD_MEMBER, cid)
    assert {s["party"] for s in case["signatures"]} == {LEAD, PARTNER, "client"}
    assert all(s["document_sha256"] == draft["sha256"] for s in case["signatures"])

    r = await act(
        stack, PARTNER_MEMBER, cid, "submit-deliverable", {"summary": "PoC model and report"}
    )
    assert r.status_code == 200, r.text
    r = await act(stack, LEAD_MEMBER, cid, "accept-deliverable", {"hub_id": PARTNER})
    assert r.status_code == 200 and r.json()["state"] == "review", r.text

    # the client answers the quality survey on its link page (a form post, as from a browser)
    token = await link_token(stack, cid, "review")
    page = await stack.http.get(f"/l/{token}")
    assert page.status_code == 200 and "Timeliness" in page.text
    survey = {"quality": "5", "timeliness": "4", "communication": "5", "value": "4"}
    r = await post_form(stack, token, choice="review", comment="Clear results", **survey)
    assert r.status_code == 422 and "would_recommend" in r.text  # a question left out
    r = await post_form(
        stack, token, choice="review", comment="Clear results", would_recommend="yes", **survey
    )
    assert r.status_code == 200 and "Thank you for your review" in r.text
    mails = await outbox(stack, cid)
    assert {m["action"] for m in mails if m["link"]} == {"sign", "review"}
    assert any(m["subject"].endswith(f"Invitation: {case['title']}") for m in mails)
    # then the hubs review each other: the partner the collaboration, the lead its partner
    peer = {"reliability": 5, "contribution": 4, "would_collaborate_again": True}
    assert (await read(stack, PARTNER_MEMBER, cid))["allowed_actions"] == ["peer-review"]
    r = await act(stack, PARTNER_MEMBER, cid, "peer-review", peer)
    assert r.status_code == 200 and r.json()["state"] == "review", r.text
    r = await act(stack, LEAD_MEMBER, cid, "peer-review", {**peer, "hub_id": PARTNER})
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text

    case = await read(stack, "back_office", cid)
    assert case["state"] == "closed" and case["outcome"] == "completed"
    assert case["allowed_actions"] == []
    events = await timeline(stack, cid)
    assert verify_chain(events, cid) == []
    assert events[-1].hash == case["head_hash"]
    types = [e.type for e in events]
    # the executed copy holds no step: its event lands after the last signature, before or
    # after the deliverable submitted right after it
    assert types.index("executed_copy_produced") > types.index("agreement_executed")
    assert [t for t in types if t != "executed_copy_produced"] == [
        "case_requested",
        "partners_invited",
        "invitation_accepted",
        "partnering_closed",
        "draft_rendered",
        "draft_approved",
        "signed",
        "signed",
        "signed",
        "agreement_executed",
        "deliverable_submitted",
        "deliverable_accepted",
        "delivery_completed",
        "reviewed",
        "peer_reviewed",
        "peer_reviewed",
        "closed",
    ]
    # no personal data inside hashed content
    assert all(CLIENT["email"] not in str(e.data) and "Ana" not in str(e.data) for e in events)
    await save_history(stack, cid, "joint_service_completed")
    await assert_listed_in_temporal_visibility(stack, cid)


async def assert_listed_in_temporal_visibility(stack: Stack, case_id: str) -> None:
    """The search attributes are registered: the Web UI can filter cases by state and hub."""
    import asyncio

    from base.engine import connect

    client = await connect(stack.settings)
    query = (
        f"DihflowState = 'closed' AND DihflowLeadHub = '{LEAD}' AND WorkflowId = 'case-{case_id}'"
    )
    for _ in range(50):  # visibility lags the workflow by a fraction of a second
        if [w async for w in client.list_workflows(query)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"case-{case_id} not found by {query}")


async def test_step_out_of_order_is_409_with_allowed_actions(stack: Stack) -> None:
    case = await start_case(stack)
    r = await act(stack, "legal", case["id"], "approve-draft")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 409 and body["allowed_actions"] == []
    r = await act(stack, LEAD_MEMBER, case["id"], "approve-draft")
    assert r.json()["allowed_actions"] == ["invite-partners", "cancel"]


async def test_action_enabled_for_someone_else_is_403(stack: Stack) -> None:
    case = await start_case(stack)
    r = await act(stack, LEAD_MEMBER, case["id"], "accept-invitation")
    assert r.status_code == 403, r.text


async def test_case_of_another_hub_is_404(stack: Stack) -> None:
    case = await start_case(stack)
    r = await stack.http.get(f"/v1/cases/{case['id']}", headers=stack.auth("hub_member:vistula-ai"))
    assert r.status_code == 404
    r = await act(stack, "hub_member:vistula-ai", case["id"], "cancel", {"reason": "x"})
    assert r.status_code == 404


async def test_bad_body_is_422_naming_the_field(stack: Stack) -> None:
    case = await start_case(stack)
    r = await act(stack, LEAD_MEMBER, case["id"], "cancel", {"reason": "", "extra": 1})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"reason", "extra"}
    r = await stack.http.post(
        "/v1/cases",
        json={"scenario": "joint_service", "title": ""},
        headers=stack.auth(LEAD_MEMBER),
    )
    assert r.status_code == 422
    assert {"title", "need"} <= {e["field"] for e in r.json()["errors"]}
    r = await stack.http.post(
        "/v1/cases",
        json={"scenario": "joint_service", "title": "t", "need": "n"},
        headers=stack.auth(LEAD_MEMBER),
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["client"]


async def test_missing_or_unknown_key_is_401(stack: Stack) -> None:
    assert (await stack.http.get("/v1/cases")).status_code == 401
    r = await stack.http.get("/v1/cases", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["title"] == "Unauthorized"


async def _to_signing(stack: Stack) -> tuple[str, str]:
    case = await start_case(stack)
    cid = case["id"]
    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    assert r.status_code == 200, r.text
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.status_code == 200, r.text
    return cid, r.json()["draft"]["sha256"]


async def test_signature_over_wrong_hash_is_refused_naming_the_current_one(stack: Stack) -> None:
    cid, sha = await _to_signing(stack)
    r = await act(stack, LEAD_SIGNATORY, cid, "sign", {"document_sha256": "0" * 64})
    assert r.status_code == 409
    assert r.json()["current_sha256"] == sha
    assert (await read(stack, LEAD_MEMBER, cid))["signatures"] == []


async def test_same_signature_twice_records_one_event(stack: Stack) -> None:
    cid, sha = await _to_signing(stack)
    first = await act(stack, LEAD_SIGNATORY, cid, "sign", {"document_sha256": sha})
    second = await act(stack, LEAD_SIGNATORY, cid, "sign", {"document_sha256": sha})
    assert first.status_code == second.status_code == 200
    events = await timeline(stack, cid)
    assert [e.type for e in events].count("signed") == 1
    assert len((await read(stack, LEAD_MEMBER, cid))["signatures"]) == 1


async def test_member_who_is_not_signatory_cannot_sign(stack: Stack) -> None:
    cid, sha = await _to_signing(stack)
    r = await act(stack, LEAD_MEMBER, cid, "sign", {"document_sha256": sha})
    assert r.status_code == 403


async def test_requested_changes_give_a_new_version_and_void_signatures(stack: Stack) -> None:
    case = await start_case(stack)
    cid = case["id"]
    await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    r = await act(stack, "legal", cid, "request-changes", {"comments": "Name the data controller."})
    assert r.status_code == 200 and r.json()["state"] == "drafting", r.text
    r = await act(
        stack, LEAD_MEMBER, cid, "revise-draft", {"scope": "Data audit with a named controller."}
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "legal_review" and case["draft"]["version"] == 2
    assert (
        len({d["sha256"] for d in case["documents"] if d["template"] == case["draft"]["template"]})
        == 2
    )
    assert [(c["version"], c["comments"]) for c in case["review_comments"]] == [
        (1, "Name the data controller.")
    ]
    await save_history(stack, cid, "joint_service_changes_requested")


async def test_idempotency_key_returns_the_same_case(stack: Stack) -> None:
    body = {
        "scenario": "joint_service",
        "title": "Idempotent start",
        "need": "A need",
        "client": CLIENT,
        "invited_hub_ids": [PARTNER],
    }
    headers = {**stack.auth(LEAD_MEMBER), "Idempotency-Key": "start-42"}
    first = await stack.http.post("/v1/cases", json=body, headers=headers)
    second = await stack.http.post("/v1/cases", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    other = await stack.http.post("/v1/cases", json={**body, "title": "Else"}, headers=headers)
    assert other.status_code == 422


async def test_list_shows_a_hub_only_its_cases(stack: Stack) -> None:
    case = await start_case(stack)
    mine = await stack.http.get(
        "/v1/cases", params={"limit": 100}, headers=stack.auth(PARTNER_MEMBER)
    )
    theirs = await stack.http.get(
        "/v1/cases", params={"limit": 100}, headers=stack.auth("hub_member:vistula-ai")
    )
    assert case["id"] in {c["id"] for c in mine.json()["items"]}
    assert case["id"] not in {c["id"] for c in theirs.json()["items"]}
    page = await stack.http.get("/v1/cases", params={"limit": 1}, headers=stack.auth("back_office"))
    assert len(page.json()["items"]) == 1 and page.json()["next_cursor"]
    nxt = await stack.http.get(
        "/v1/cases",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=stack.auth("back_office"),
    )
    assert nxt.json()["items"][0]["id"] != page.json()["items"][0]["id"]


async def test_lead_cancels_with_a_reason_and_nothing_more_is_allowed(stack: Stack) -> None:
    case = await start_case(stack)
    cid = case["id"]
    await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    r = await act(stack, LEAD_MEMBER, cid, "cancel", {"reason": "The client withdrew its request."})
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    assert r.json()["end_reason"] == "The client withdrew its request."
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.status_code == 409 and r.json()["allowed_actions"] == []
    await save_history(stack, cid, "joint_service_cancelled")


async def test_back_office_rejects_a_request(stack: Stack) -> None:
    case = await start_case(stack, invited_hub_ids=[])
    assert case["state"] == "requested"
    assert case["allowed_actions"] == ["invite-partners", "cancel"]
    r = await act(stack, "back_office", case["id"], "reject-request", {"reason": "Out of scope"})
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text


async def test_back_office_starts_a_case_for_a_lead_hub_with_invitations(stack: Stack) -> None:
    case = await start_case(stack, who="back_office", lead_hub_id=LEAD)
    assert case["state"] == "partnering" and case["lead_hub"]["id"] == LEAD
    assert "accept-invitation" in (await read(stack, PARTNER_MEMBER, case["id"]))["allowed_actions"]


async def test_sequential_signing_takes_the_parties_in_turn(stack: Stack) -> None:
    case = await start_case(stack, signing_order="sequential")
    cid = case["id"]
    await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    sha = (await act(stack, "legal", cid, "approve-draft")).json()["draft"]["sha256"]
    early = await act(stack, PARTNER_SIGNATORY, cid, "sign", {"document_sha256": sha})
    assert early.status_code == 403, early.text  # the lead signs first
    assert "sign" not in (await read(stack, PARTNER_SIGNATORY, cid))["allowed_actions"]
    r = await act(stack, LEAD_SIGNATORY, cid, "sign", {"document_sha256": sha})
    assert r.status_code == 200 and r.json()["awaiting_signatures"] == [PARTNER, "client"]
    assert "sign" in (await read(stack, PARTNER_SIGNATORY, cid))["allowed_actions"]
    r = await act(stack, PARTNER_SIGNATORY, cid, "sign", {"document_sha256": sha})
    assert r.status_code == 200 and r.json()["awaiting_signatures"] == ["client"]
