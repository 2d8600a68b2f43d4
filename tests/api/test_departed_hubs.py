"""Hubs that left a case (declined, lapsed, a candidate not selected) see its summary only:
no drafts, documents, timeline, dossier, nor its webhooks."""

from __future__ import annotations

import httpx
import pytest

from activities.payloads import QueueWebhooksInput
from activities.webhooks import WebhookActivities
from base.settings import Settings
from domain.cases import CaseFacts, ClientInfo, Introduction, Invitation, Role
from domain.timeline import GENESIS, chain_event
from store.db import session_scope
from store.keys import create_key
from store.models import Webhook, WebhookDelivery
from store.records import project_case

LEAD, OTHER = "tagus-ai", "po-valley-ai"


def store_case(url: str, case_id: str, **facts: object) -> None:
    base = CaseFacts(
        case_id=case_id,
        scenario="joint_service",
        state="legal_review",
        title="A case with a hub that left",
        need="the need, for the parties only",
        scope="the scope",
        lead_hub_id=LEAD,
        client=ClientInfo(name="C", country="PT", email="c@c.example"),
        start_date="2026-01-01",
        end_date="2026-06-01",
        partnering_days=14,
        review_days=30,
        created_at="2026-01-01T00:00:00+00:00",
        seq=1,
    )
    base = CaseFacts.model_validate(base.model_dump() | facts)
    event = chain_event(0, GENESIS, "case_requested", "principal:p", base.created_at, {})
    with session_scope(url) as session:
        project_case(session, base.model_copy(update={"head_hash": event.hash}), [event])


LEFT = {
    "declined": {"invitations": [Invitation(hub_id=OTHER, status="declined")]},
    "lapsed": {"invitations": [Invitation(hub_id=OTHER, status="lapsed")]},
    "not_selected": {
        "scenario": "matchmaking",
        "state": "matched",
        "introductions": [
            Introduction(hub_id=OTHER, hub_consent="given", player_consent="declined")
        ],
    },
}


@pytest.mark.parametrize("how", list(LEFT))
async def test_a_hub_that_left_sees_only_a_summary(
    api: httpx.AsyncClient, api_settings: Settings, how: str
) -> None:
    url = api_settings.database_url
    store_case(url, f"c-left-{how}", **LEFT[how])
    key = {"Authorization": f"Bearer {create_key(url, Role.hub_signatory, OTHER)}"}
    r = await api.get(f"/v1/cases/c-left-{how}", headers=key)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["need"] == "" and view["documents"] == [] and view["draft"] is None
    assert [(p["hub_id"], p["role"]) for p in view["parties"]] == [(LEAD, "lead"), (OTHER, how)]
    assert view["matchmaking"] is None and view["head_hash"] == ""
    for path in ("timeline", "dossier", "documents/doc-1", "deliverables/d1/file"):
        r = await api.get(f"/v1/cases/c-left-{how}/{path}", headers=key)
        assert r.status_code == 404, (path, r.text)
    lead = {"Authorization": f"Bearer {create_key(url, Role.hub_member, LEAD)}"}
    assert (await api.get(f"/v1/cases/c-left-{how}/timeline", headers=lead)).status_code == 200


def test_a_hub_that_declined_receives_no_webhooks(api_settings: Settings) -> None:
    url = api_settings.database_url
    store_case(url, "c-left-hooks", **LEFT["declined"])
    with session_scope(url) as session:
        for hub in (LEAD, OTHER):
            session.add(
                Webhook(id=f"wh-{hub}", hub_id=hub, url="http://x/", event_types=["*"], secret="s")
            )
    event = chain_event(1, GENESIS, "invitation_declined", "hub:x", "2026-01-02T00:00:00+00:00", {})
    data = QueueWebhooksInput(case_id="c-left-hooks", events=[event], hub_ids=[LEAD, OTHER])
    WebhookActivities(api_settings)._insert_deliveries(data)
    with session_scope(url) as session:
        from sqlmodel import select

        hooks = {d.webhook_id for d in session.exec(select(WebhookDelivery))}
    assert hooks == {f"wh-{LEAD}"}


async def test_a_hub_leads_a_bounded_number_of_open_cases(
    api_settings: Settings, client_for
) -> None:  # type: ignore[no-untyped-def]
    from api.app import create_app
    from tests.e2e.helpers import CLIENT

    url = api_settings.database_url
    store_case(url, "c-open-1")  # led by tagus-ai, in legal review
    store_case(url, "c-open-2", state="cancelled")  # over: not counted
    key = {"Authorization": f"Bearer {create_key(url, Role.hub_member, LEAD)}"}
    body = {
        "scenario": "joint_service",
        "title": "One more",
        "need": "A need",
        "client": CLIENT,
    }
    app = create_app(api_settings.replace(open_cases_per_hub=1), run_migrations=False)
    async with client_for(app) as api:
        r = await api.post("/v1/cases", json=body, headers=key)
    assert r.status_code == 429, r.text
    assert r.json()["limit"] == 1 and "DIHFLOW_OPEN_CASES_PER_HUB" in r.json()["detail"]
