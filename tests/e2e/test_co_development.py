"""A co-development case over HTTP on the real dev server: hubs build a new service together."""

from __future__ import annotations

import io

import docx
import pytest

from domain.timeline import TimelineEvent, verify_chain
from tests.conftest import Stack
from tests.e2e.helpers import act, outbox, read, save_history

pytestmark = pytest.mark.e2e
LEAD, PARTNER, OTHER, DECLINER = "tagus-ai", "po-valley-ai", "spree-trust", "vistula-ai"


async def start(stack: Stack) -> dict:  # type: ignore[type-arg]
    r = await stack.http.post(
        "/v1/cases",
        headers=stack.auth(f"hub_member:{LEAD}"),
        json={
            "scenario": "co_development",
            "title": "A shared AI readiness check for agri-food SMEs",
            "need": "Agri-food SMEs need a quick, comparable AI readiness assessment.",
            "service_name": "AgriAI Readiness Check",
            "service_description": "A one-day guided assessment with a scored roadmap.",
            "ipr_model": "each_owns_foreground",
            "background_ip": {LEAD: ["Readiness questionnaire v3"]},
            "invited_hub_ids": [PARTNER, OTHER, DECLINER],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_co_development_builds_and_publishes_a_service(stack: Stack) -> None:
    case = await start(stack)
    cid = case["id"]
    assert case["state"] == "partnering"
    invited = {m["to"] for m in (await outbox(stack, cid)) if "Invitation" in m["subject"]}
    assert len(invited) == 3  # each invited hub got an invitation by mail

    r = await act(
        stack, f"hub_member:{DECLINER}", cid, "decline-invitation", {"reason": "no capacity"}
    )
    assert r.status_code == 200 and r.json()["state"] == "partnering", r.text
    await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")
    r = await act(stack, f"hub_member:{OTHER}", cid, "accept-invitation")
    case = r.json()
    assert case["state"] == "legal_review", r.text
    assert case["draft"]["template"] == "co_development_agreement"

    doc = await stack.http.get(case["documents"][0]["download_url"], headers=stack.auth("legal"))
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(doc.content)).paragraphs)
    assert "Each Party owns the Foreground IP that it generates." in text
    assert "Readiness questionnaire v3" in text and "AgriAI Readiness Check" in text

    r = await act(stack, "legal", cid, "approve-draft")
    assert r.json()["awaiting_signatures"] == [LEAD, PARTNER, OTHER]  # no client here
    sha = r.json()["draft"]["sha256"]
    for hub in (LEAD, PARTNER, OTHER):
        r = await act(stack, f"hub_signatory:{hub}", cid, "sign", {"document_sha256": sha})
        assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "development"
    owed = {d["hub_id"]: d["id"] for d in case["deliverables"]}
    assert set(owed) == {LEAD, PARTNER, OTHER}

    # a deliverable with a file (multipart), rejected with a reason, then resubmitted
    r = await stack.http.post(
        f"/v1/cases/{cid}/actions/submit-deliverable",
        headers=stack.auth(f"hub_member:{PARTNER}"),
        data={"summary": "Scoring engine v1"},
        files={"file": ("engine.pdf", b"%PDF-1.4 scoring engine", "application/pdf")},
    )
    assert r.status_code == 200, r.text
    sent = next(d for d in r.json()["deliverables"] if d["hub_id"] == PARTNER)
    assert sent["file"]["name"] == "engine.pdf" and sent["file"]["size"] == 23
    got = await stack.http.get(
        f"/v1/cases/{cid}/deliverables/{sent['id']}/file", headers=stack.auth(f"hub_member:{LEAD}")
    )
    assert got.content == b"%PDF-1.4 scoring engine"
    r = await act(
        stack,
        f"hub_member:{LEAD}",
        cid,
        "reject-deliverable",
        {"deliverable_id": sent["id"], "reason": "Add the test report"},
    )
    assert (
        next(d for d in r.json()["deliverables"] if d["hub_id"] == PARTNER)["status"] == "rejected"
    )
    await act(
        stack, f"hub_member:{PARTNER}", cid, "submit-deliverable", {"summary": "v2 with tests"}
    )
    await act(stack, f"hub_member:{OTHER}", cid, "submit-deliverable", {"summary": "Roadmap"})
    await act(stack, f"hub_member:{LEAD}", cid, "submit-deliverable", {"summary": "Questionnaire"})
    for hub in (PARTNER, OTHER, LEAD):
        r = await act(
            stack, f"hub_member:{LEAD}", cid, "accept-deliverable", {"deliverable_id": owed[hub]}
        )
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "pilot"

    r = await act(
        stack, f"hub_member:{LEAD}", cid, "complete-pilot", {"success": True, "summary": "3 SMEs"}
    )
    assert r.json()["state"] == "review", r.text
    peer = {"reliability": 4, "contribution": 4, "would_collaborate_again": True}
    for hub, about in ((LEAD, PARTNER), (LEAD, OTHER), (PARTNER, None), (OTHER, None)):
        body = peer if about is None else {**peer, "hub_id": about}
        r = await act(stack, f"hub_member:{hub}", cid, "peer-review", body)
        assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "closed" and case["outcome"] == "completed"

    for hub in (LEAD, PARTNER, OTHER):
        profile = (await stack.http.get(f"/v1/hubs/{hub}", headers=stack.auth("legal"))).json()
        assert [s["name"] for s in profile["profile"]["catalogue"]] == ["AgriAI Readiness Check"]
    declined = (await stack.http.get(f"/v1/hubs/{DECLINER}", headers=stack.auth("legal"))).json()
    assert declined["profile"]["catalogue"] == []

    r = await stack.http.get(f"/v1/cases/{cid}/timeline", headers=stack.auth("back_office"))
    events = [TimelineEvent(**e) for e in r.json()["items"]]
    assert verify_chain(events, cid) == [] and events[-1].type == "service_published"
    await save_history(stack, cid, "co_development_published")


async def test_upload_over_the_limit_or_of_a_wrong_type_is_refused(stack: Stack) -> None:
    case = await start(stack)
    cid = case["id"]
    for hub in (PARTNER, OTHER):
        await act(stack, f"hub_member:{hub}", cid, "accept-invitation")
    await act(stack, f"hub_member:{DECLINER}", cid, "decline-invitation")
    sha = (await act(stack, "legal", cid, "approve-draft")).json()["draft"]["sha256"]
    for hub in (LEAD, PARTNER, OTHER):
        await act(stack, f"hub_signatory:{hub}", cid, "sign", {"document_sha256": sha})
    url = f"/v1/cases/{cid}/actions/submit-deliverable"
    who = stack.auth(f"hub_member:{PARTNER}")
    big = b"x" * (stack.settings.upload_max_bytes + 1)
    r = await stack.http.post(
        url, headers=who, data={"summary": "s"}, files={"file": ("a.pdf", big, "application/pdf")}
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    r = await stack.http.post(
        url,
        headers=who,
        data={"summary": "s"},
        files={"file": ("a.exe", b"MZ", "application/x-msdownload")},
    )
    assert r.status_code == 415
    r = await act(
        stack, f"hub_member:{PARTNER}", cid, "submit-deliverable", {"summary": "s", "file": {}}
    )
    assert r.status_code == 422
    assert (await read(stack, f"hub_member:{PARTNER}", cid))["deliverables"][1][
        "status"
    ] == "pending"
