"""Small HTTP helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from tests.conftest import Stack

CLIENT = {
    "name": "Cortiça Exemplo Lda",
    "country": "PT",
    "contact_name": "Ana Ribeiro",
    "email": "ana@cortica.example",
}
LEAD, PARTNER = "tagus-ai", "po-valley-ai"


async def start_case(
    stack: Stack, who: str = f"hub_member:{LEAD}", **overrides: Any
) -> dict[str, Any]:
    body = {
        "scenario": "joint_service",
        "title": "Computer-vision quality control for cork stoppers",
        "need": "Detect surface defects on cork stoppers before shipping.",
        "scope": "Data audit, a proof-of-concept classifier and a test-before-invest run.",
        "client": CLIENT,
        "invited_hub_ids": [PARTNER],
        **overrides,
    }
    r = await stack.http.post("/v1/cases", json=body, headers=stack.auth(who))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def act(
    stack: Stack, who: str, case_id: str, action: str, body: dict[str, Any] | None = None
):  # type: ignore[no-untyped-def]
    return await stack.http.post(
        f"/v1/cases/{case_id}/actions/{action}", json=body, headers=stack.auth(who)
    )


async def read(stack: Stack, who: str, case_id: str) -> dict[str, Any]:
    r = await stack.http.get(f"/v1/cases/{case_id}", headers=stack.auth(who))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def wait_for_event(stack: Stack, case_id: str, type_: str, seconds: float = 60) -> None:
    """Until the case's timeline has a ``type_`` event (one the worker records after a step
    has returned, such as ``executed_copy_produced``)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        r = await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.auth("back_office"))
        assert r.status_code == 200, r.text
        if any(e["type"] == type_ for e in r.json()["items"]):
            return
        assert asyncio.get_running_loop().time() < deadline, f"no {type_} on {case_id}"
        await asyncio.sleep(0.2)


async def mail_sent(stack: Stack, case_id: str, seconds: float = 30) -> None:
    """Until the outbox dispatcher has sent every mail a case's steps queued (mail leaves
    after the step is recorded, so it may still be on its way when the step answers)."""
    from sqlmodel import select

    from store.db import session_scope
    from store.models import OutboxMessage

    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        with session_scope(stack.settings.database_url) as session:
            pending = session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.case_id == case_id,
                    OutboxMessage.kind == "mail",
                    OutboxMessage.status == "pending",
                )
            ).first()
        if pending is None:
            return
        assert asyncio.get_running_loop().time() < deadline, f"mail of {case_id} not sent"
        await asyncio.sleep(0.05)


async def link_token(stack: Stack, case_id: str, action: str) -> str:
    """The token of the newest ``action`` link mailed for a case (read from the dev outbox)."""
    from activities.notify import read_outbox

    await mail_sent(stack, case_id)
    urls = [
        m["link"] for m in read_outbox(stack.settings.outbox_dir, case_id) if m["action"] == action
    ]
    assert urls, f"no {action} link was sent for {case_id}"
    return urls[0].rsplit("/", 1)[-1]


async def save_history(stack: Stack, case_id: str, name: str) -> None:
    """With DIHFLOW_SAVE_HISTORIES=1, keep this run's history for the replay tests as
    ``<name>.json``; with another value, as ``<name>_<value>.json`` (histories of a new code
    path saved beside the old ones, e.g. ``DIHFLOW_SAVE_HISTORIES=one_projection``)."""
    suffix = os.environ.get("DIHFLOW_SAVE_HISTORIES")
    if not suffix:
        return
    if suffix != "1":
        name = f"{name}_{suffix}"
    from base.engine import connect

    client = await connect(stack.settings)
    history = await client.get_workflow_handle(f"case-{case_id}").fetch_history()
    out = Path(__file__).resolve().parent.parent / "workflows" / "histories" / f"{name}.json"
    out.write_text(history.to_json())


LOCAL_PLAYER = {
    "name": "Orchard Vision Lda",
    "country": "PT",
    "contact_name": "Rita Sousa",
    "email": "rita@orchard.example",
}


async def outbox(stack: Stack, case_id: str) -> list[dict[str, str]]:
    """The messages the dev outbox holds for one case, newest first, once sent."""
    from activities.notify import read_outbox

    await mail_sent(stack, case_id)
    return read_outbox(stack.settings.outbox_dir, case_id)


def page_token(message: dict[str, str]) -> str:
    """The token of a link page URL (``…/l/<token>``) in a message."""
    assert "/l/" in message["link"], message
    return message["link"].rsplit("/", 1)[-1]


async def post_form(stack: Stack, token: str, **fields: str):  # type: ignore[no-untyped-def]
    """Submit the link page's form as a browser does (application/x-www-form-urlencoded)."""
    return await stack.http.post(f"/l/{token}", data=fields)
