"""The case activities against a real SQLite store and document directory: each is idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from sqlmodel import select

from activities.documents import DocumentActivities
from activities.messages import MessageActivities
from activities.notify import read_outbox
from activities.payloads import LinkInput, RecordInput, RenderInput
from activities.records import RecordActivities
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import CaseFacts, ClientInfo, Invitation
from domain.digests import sha256_hex
from domain.timeline import GENESIS, chain_event
from store.db import session_scope
from store.models import Document, LinkToken, TimelineEntry
from tests.factories import make_facts, settings_for


class CaseActivities:
    """The three activity groups over one settings object, as the worker registers them."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.record_case = RecordActivities(settings).record_case
        self.render_agreement = DocumentActivities(settings).render_agreement
        self.issue_link = MessageActivities(settings).issue_link


@pytest.fixture
def acts(tmp_path: Path) -> CaseActivities:
    settings = settings_for(tmp_path, secret_key="k" * 64)
    seed_demo_network(settings.database_url)
    return CaseActivities(settings)


def _facts() -> CaseFacts:
    return make_facts(
        "joint_service",
        "drafting",
        case_id="c-activity1",
        title="Predictive maintenance pilot",
        need="Forecast failures of packaging lines.",
        scope="Data audit and a forecasting proof of concept.",
        lead_hub_id="tagus-ai",
        client=ClientInfo(name="Embalagens Exemplo SA", country="PT", email="it@emb.example"),
        invitations=[Invitation(hub_id="po-valley-ai", status="accepted")],
        start_date="2026-12-01",
        end_date="2027-05-31",
        created_at="2026-11-24T10:00:00+00:00",
    )


def _record(acts: CaseActivities, facts: CaseFacts) -> None:
    event = chain_event(0, GENESIS, "case_requested", "principal:p1", facts.created_at, {})
    facts = facts.model_copy(update={"seq": 1, "head_hash": event.hash})
    acts.record_case(RecordInput(facts=facts, events=[event]))


def test_render_agreement_is_rendered_once_per_version(acts: CaseActivities) -> None:
    facts = _facts()
    _record(acts, facts)
    data = RenderInput(facts=facts, version=1, issued_on="2026-11-24T10:05:00+00:00")

    first = acts.render_agreement(data)
    again = acts.render_agreement(data)  # a retried activity

    assert first == again
    with session_scope(acts.settings.database_url) as session:
        rows = session.exec(select(Document)).all()
    assert len(rows) == 1
    content = (acts.settings.documents_dir / rows[0].path).read_bytes()
    assert sha256_hex(content) == first.sha256 == rows[0].sha256
    assert rows[0].path == f"{first.sha256[:2]}/{first.sha256}.docx"
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    assert "Tagus AI Hub" in text and "Embalagens Exemplo SA" in text


def test_render_agreement_same_inputs_same_bytes_in_another_store(
    acts: CaseActivities, tmp_path: Path
) -> None:
    facts = _facts()
    _record(acts, facts)
    data = RenderInput(facts=facts, version=1, issued_on="2026-11-24T10:05:00+00:00")
    first = acts.render_agreement(data)

    other_dir = tmp_path / "other"
    other = CaseActivities(
        acts.settings.replace(
            database_url=f"sqlite:///{other_dir / 'store.db'}",
            documents_dir=other_dir / "documents",
        )
    )
    seed_demo_network(other.settings.database_url)
    _record(other, facts)
    assert other.render_agreement(data).sha256 == first.sha256


def test_record_case_twice_stores_each_event_once(acts: CaseActivities) -> None:
    facts = _facts()
    _record(acts, facts)
    _record(acts, facts)
    with session_scope(acts.settings.database_url) as session:
        assert len(session.exec(select(TimelineEntry)).all()) == 1


def test_issue_link_is_idempotent_and_stores_only_the_hash(acts: CaseActivities) -> None:
    facts = _facts()
    _record(acts, facts)
    data = LinkInput(
        case_id=facts.case_id,
        action="sign",
        party="client",
        purpose="sign:v1",
        expires_at="2026-12-08T10:00:00+00:00",
        title=facts.title,
        recipient_name="Rui",
        recipient_email="it@emb.example",
    )
    acts.issue_link(data)
    acts.issue_link(data)
    links = read_outbox(acts.settings.outbox_dir, facts.case_id)
    assert len(links) == 1 and links[0]["action"] == "sign"
    token = links[0]["link"].rsplit("/", 1)[-1]
    with session_scope(acts.settings.database_url) as session:
        rows = session.exec(select(LinkToken)).all()
    assert len(rows) == 1 and rows[0].token_hash != token and token not in str(rows[0])


def test_notify_sends_to_hubs_and_external_parties_over_smtp(acts: CaseActivities) -> None:
    """With DIHFLOW_SMTP_HOST set, notices go to a real SMTP server, addressed from the registry."""
    from email import message_from_bytes
    from email.policy import default

    from activities.payloads import NotifyInput
    from domain.outcomes import Notice
    from tests.activities.test_notify import Collector, running

    facts = _facts()
    _record(acts, facts)
    collector = Collector(refuse=set())
    with running(collector) as controller:
        smtp = acts.settings.replace(smtp_host="127.0.0.1", smtp_port=controller.port)
        sent = MessageActivities(smtp).notify(
            NotifyInput(
                case_id=facts.case_id,
                title=facts.title,
                state="signing",
                key_prefix=f"{facts.case_id}:7",
                notices=[
                    Notice(to="po-valley-ai", template="state_changed", subject="Ready to sign"),
                    Notice(
                        to="client",
                        template="reminder",
                        subject="Reminder: your signature",
                        context={"what": "your signature", "due": "2026-12-24"},
                        link_action="sign",
                        link_purpose="sign:v1:client",
                    ),
                ],
            )
        )
    assert sent == 2
    mails = [message_from_bytes(e.content, policy=default) for e in collector.envelopes]
    hub = load_hub_email("po-valley-ai")
    assert [m["To"].addresses[0].addr_spec for m in mails] == [hub, "it@emb.example"]
    reminder = mails[1]
    assert "/l/" in reminder["X-Dihflow-Link"] and reminder["X-Dihflow-Action"] == "sign"
    assert not list(acts.settings.outbox_dir.glob("*.eml"))  # SMTP, not the outbox


def load_hub_email(hub_id: str) -> str:
    from domain.hubs import load_demo_network

    return next(h.email for h in load_demo_network() if h.id == hub_id)
