"""One projection per step: the case row, events, signature, link and outbox rows in one
transaction, on SQLite and PostgreSQL; written again, nothing doubles."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import select

from activities.payloads import LinkSpec, ProjectInput, SignatureInput
from activities.projection import project
from dihflow.cli import main as dihflow
from dihflow.seed import seed_demo_network
from domain.cases import CaseFacts, ClientInfo, Draft, Invitation
from domain.steps import Notice
from domain.timeline import GENESIS, chain_event
from store.db import session_scope
from store.models import (
    Case,
    Document,
    LinkToken,
    OutboxMessage,
    Signature,
    TimelineEntry,
    Webhook,
    WebhookDelivery,
)
from store.outbox import message_id

SECRET = "k" * 64
SHA = "ab" * 32


def facts_after_step() -> CaseFacts:
    return CaseFacts(
        case_id="c-project1",
        scenario="joint_service",
        state="signing",
        title="Predictive maintenance pilot",
        need="Forecast failures of packaging lines.",
        scope="Data audit and a forecasting proof of concept.",
        lead_hub_id="tagus-ai",
        client=ClientInfo(
            name="Embalagens Exemplo SA", country="PT", email="it@emb.example", contact_name="Rui"
        ),
        invitations=[Invitation(hub_id="po-valley-ai", status="accepted")],
        draft=Draft(
            version=1,
            document_id="c-project1-v1",
            sha256=SHA,
            template="agreement",
            template_version="1",
        ),
        start_date="2026-12-01",
        end_date="2027-05-31",
        partnering_days=14,
        review_days=30,
        created_at="2026-11-24T10:00:00+00:00",
    )


def step_input() -> ProjectInput:
    """A step of three events: a signature, a link for the client, notices to two hubs."""
    facts = facts_after_step()
    events, seq, head = [], 0, GENESIS
    for type_ in ("case_requested", "draft_approved", "signed"):
        event = chain_event(seq, head, type_, "principal:p1", facts.created_at, {"n": seq})
        seq, head = event.seq, event.hash
        events.append(event)
    facts = facts.model_copy(update={"seq": seq, "head_hash": head})
    return ProjectInput(
        facts=facts,
        events=events,
        signature=SignatureInput(
            party="tagus-ai",
            document_id="c-project1-v1",
            document_sha256=SHA,
            principal_id="p1",
            signer_name="Maria",
            signed_at="2026-11-24T10:10:00+00:00",
        ),
        links=[
            LinkSpec(
                action="sign",
                party="client",
                purpose="sign:v1:client",
                expires_at="2026-12-08T10:00:00+00:00",
            )
        ],
        notices=[
            Notice(to="tagus-ai", template="state_changed", subject="Ready to sign"),
            Notice(to="po-valley-ai", template="state_changed", subject="Ready to sign"),
        ],
        hub_ids=["tagus-ai", "po-valley-ai"],
    )


@pytest.fixture
def url(store_url: str) -> str:
    seed_store(store_url)
    return store_url


def seed_store(store_url: str) -> None:
    """The demo network, a webhook of po-valley-ai for "signed" events, the signed draft."""
    seed_demo_network(store_url)
    with session_scope(store_url) as session:
        session.add(
            Webhook(
                id="wh-1",
                hub_id="po-valley-ai",
                url="http://127.0.0.1:9/hook",
                event_types=["signed"],
                secret="s",
            )
        )
        session.add(  # the signed draft, which the signature row references
            Document(
                id="c-project1-v1",
                template="agreement",
                template_version="1",
                template_sha256=SHA,
                variables_sha256=SHA,
                sha256=SHA,
                path="x",
                size=1,
            )
        )


def counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Case, TimelineEntry, Signature, LinkToken, WebhookDelivery)
        }


def outbox(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_step_is_projected_with_its_outbox_in_one_transaction(url: str) -> None:
    data = step_input()
    with session_scope(url) as session:
        added = project(session, data, SECRET)

    assert counts(url) == {
        "Case": 1,
        "TimelineEntry": 3,
        "Signature": 1,
        "LinkToken": 1,
        "WebhookDelivery": 1,  # po-valley-ai subscribed to "signed" only
    }
    rows = outbox(url)
    assert added == len(rows) == 4
    kinds = Counter((r.kind, r.recipient) for r in rows)
    assert kinds == {
        ("mail", "client"): 1,
        ("mail", "tagus-ai"): 1,
        ("mail", "po-valley-ai"): 1,
        ("webhook", "wh-1"): 1,
    }
    link = next(r for r in rows if r.recipient == "client")
    assert link.id == message_id("c-project1", 3, "link:sign:v1:client", "client")
    assert link.payload["key"] == "c-project1:link:sign:v1:client"
    assert link.payload["link_purpose"] == "sign:v1:client"
    assert all(SECRET not in str(r.payload) for r in rows)  # the token is derived when sent
    assert {r.status for r in rows} == {"pending"}


def test_a_retried_projection_writes_nothing_twice(url: str) -> None:
    data = step_input()
    with session_scope(url) as session:
        project(session, data, SECRET)
    before, rows_before = counts(url), [r.id for r in outbox(url)]

    with session_scope(url) as session:
        added = project(session, data, SECRET)

    assert added == 0
    assert counts(url) == before
    assert [r.id for r in outbox(url)] == rows_before


def test_a_failed_projection_leaves_nothing(url: str) -> None:
    data = step_input()
    with pytest.raises(RuntimeError), session_scope(url) as session:
        project(session, data, SECRET)
        raise RuntimeError("the worker is lost before the commit")

    assert counts(url)["TimelineEntry"] == 0
    assert outbox(url) == []


def test_the_outbox_listing_shows_what_is_pending(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(url) as session:
        project(session, step_input(), SECRET)
    monkeypatch.setenv("DIHFLOW_DATABASE_URL", url)

    assert dihflow(["outbox"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["mail: pending 3", "webhook: pending 1"]
    assert len(lines) == 6 and all("pending attempts 0" in line for line in lines[2:])


@pytest.mark.parametrize("background", [True, False])
def test_the_executed_copy_pdf_is_queued_only_when_made_in_the_background(
    url: str, background: bool
) -> None:
    data = step_input().model_copy(update={"pdf_document_ids": ["c-project1-v1-executed"]})
    with session_scope(url) as session:
        project(session, data, SECRET, pdf_rows=background)

    pdfs = [r for r in outbox(url) if r.kind == "pdf"]
    if background:
        assert [(r.recipient, r.payload) for r in pdfs] == [
            ("c-project1-v1-executed", {"document_id": "c-project1-v1-executed"})
        ]
    else:  # made when first asked for (api.routes.cases.executed_pdf_on_demand)
        assert pdfs == []
    assert len(outbox(url)) == 4 + len(pdfs)  # the step's mail and webhook all the same
