"""The case page shows a joint service's suggested partners with their reasons (from the store,
no engine needed)."""

from __future__ import annotations

import httpx

from base.settings import Settings
from domain.cases import Candidate, ClientInfo, Invitation
from domain.timeline import GENESIS, chain_event
from store.db import session_scope
from store.records import project_case
from tests.factories import make_facts
from tests.web.conftest import sign_in


def _store(settings: Settings, case_id: str, candidates: list[Candidate]) -> None:
    facts = make_facts(
        case_id=case_id,
        state="partnering",
        lead_hub_id="tagus-ai",
        client=ClientInfo(name="Cortiça Exemplo Lda", country="PT", email="c@c.example"),
        invitations=[Invitation(hub_id="spree-trust")],
        candidates=candidates,
        seq=1,
    )
    event = chain_event(0, GENESIS, "case_requested", "principal:p", facts.created_at, {})
    with session_scope(settings.database_url) as session:
        project_case(session, facts.model_copy(update={"head_hash": event.hash}), [event])


async def test_the_case_page_lists_the_suggested_partners_with_their_reasons(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    _store(
        web_settings,
        "c-suggest01",
        [
            Candidate(
                hub_id="fjord-ai",
                score=61.5,
                reasons=["offers Testing, validation and experimentation", "across a border"],
                components={"coverage": 1.0, "text": 0.25},
            ),
            Candidate(hub_id="spree-trust", score=40.2, reasons=["works with Computer vision"]),
        ],
    )
    await sign_in(web, "office")
    page = (await web.get("/cases/c-suggest01")).text
    assert 'id="suggested-h">Suggested partners' in page
    section = page[page.index('id="suggested-h"') : page.index('id="documents-h"')]
    assert section.index("Fjord") < section.index("Spree")  # best first, by name
    assert "offers Testing, validation and experimentation; across a border" in section
    assert "coverage 1.00, text 0.25" in section
    assert section.count('<span class="badge">invited</span>') == 1  # spree-trust is invited
    assert "61.5" in section


async def test_a_joint_service_without_suggestions_says_so(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    _store(web_settings, "c-suggest02", [])
    await sign_in(web, "office")
    page = (await web.get("/cases/c-suggest02")).text
    assert "No suggested partners" in page
