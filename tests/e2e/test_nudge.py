"""The back office nudges a signing round on the real stack: the unsigned hub gets a reminder,
the client its own link again (its expiry renewed), and the timeline records whom."""

from __future__ import annotations

import pytest
from sqlmodel import select

from store.db import as_utc, session_scope
from store.models import LinkToken
from tests.conftest import Stack
from tests.e2e.helpers import LEAD, PARTNER, act, link_token, outbox, read, start_case

pytestmark = pytest.mark.e2e
NOTE = "The consortium board meets on Friday"


def _sign_link_expiry(stack: Stack, case_id: str):  # type: ignore[no-untyped-def]
    with session_scope(stack.settings.database_url) as session:
        (row,) = session.exec(
            select(LinkToken).where(LinkToken.case_id == case_id, LinkToken.action == "sign")
        ).all()
        return as_utc(row.expires_at)


async def test_back_office_nudges_the_parties_that_have_not_signed(stack: Stack) -> None:
    cid = (await start_case(stack))["id"]
    assert (await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")).status_code == 200
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.status_code == 200, r.text
    sha = r.json()["draft"]["sha256"]
    r = await act(stack, f"hub_signatory:{LEAD}", cid, "sign", {"document_sha256": sha})
    assert r.status_code == 200, r.text
    first_token = await link_token(stack, cid, "sign")
    first_expiry = _sign_link_expiry(stack, cid)
    assert "nudge" in (await read(stack, "back_office", cid))["allowed_actions"]

    r = await act(stack, "back_office", cid, "nudge", {"note": NOTE})

    assert r.status_code == 200, r.text
    assert r.json()["state"] == "signing"
    timeline = await stack.http.get(f"/v1/cases/{cid}/timeline", headers=stack.auth("back_office"))
    last = timeline.json()["items"][-1]
    assert (last["type"], last["data"]) == ("nudged", {"to": [PARTNER, "client"]})
    mails = await outbox(stack, cid)
    to_client = [m for m in mails if m["action"] == "sign"]
    assert len(to_client) == 2  # the first link, then the nudge
    assert "Reminder: please sign" in to_client[0]["subject"] and NOTE in to_client[0]["body"]
    assert to_client[0]["link"] == to_client[1]["link"]  # the same one-time link
    reminder = next(m for m in mails if "Reminder" in m["subject"] and not m["action"])
    assert "ana@cortica.example" not in reminder["to"]  # a hub's reminder, not the client's
    assert "your signature" in reminder["body"] and NOTE in reminder["body"]
    assert _sign_link_expiry(stack, cid) > first_expiry
    # the link still does its one job
    r = await stack.http.post(f"/v1/links/{first_token}", json={"document_sha256": sha})
    assert r.status_code == 200, r.text
    assert (await read(stack, "back_office", cid))["awaiting_signatures"] == [PARTNER]


async def test_nudge_is_refused_while_the_draft_is_with_the_legal_helpdesk(stack: Stack) -> None:
    cid = (await start_case(stack))["id"]
    assert (await act(stack, f"hub_member:{PARTNER}", cid, "accept-invitation")).status_code == 200

    r = await act(stack, "back_office", cid, "nudge", {})

    assert r.status_code == 409, r.text
    assert "nudge" not in r.json()["allowed_actions"]
