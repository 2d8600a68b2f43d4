"""A case's agreement and the framework agreement in force: a party not bound by it gets the
standalone terms; parties all bound reference the edition in force; with none in force the
agreement reads as it always did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.documents import DocumentActivities
from activities.framework import FrameworkProjectInput, project
from activities.payloads import RecordInput, RenderInput
from activities.records import RecordActivities
from dihflow.seed import seed_demo_network
from documents.rendering import docx_text
from domain import framework as fw
from domain.cases import CaseFacts, ClientInfo, Invitation
from domain.timeline import GENESIS, chain_event
from store.db import session_scope
from tests.factories import make_facts, settings_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD, PARTNER = "tagus-ai", "po-valley-ai"


def _facts(case_id: str) -> CaseFacts:
    return make_facts(
        "joint_service",
        "drafting",
        case_id=case_id,
        title="Predictive maintenance pilot",
        need="Forecast failures of packaging lines.",
        scope="Data audit and a forecasting proof of concept.",
        lead_hub_id=LEAD,
        client=ClientInfo(name="Embalagens Exemplo SA", country="PT", email="it@emb.example"),
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        start_date="2026-12-01",
        end_date="2027-05-31",
        created_at="2026-11-24T10:00:00+00:00",
    )


def _in_force(url: str, signers: list[str]) -> None:
    """Edition "2026" in force, signed by ``signers`` (quorum 1)."""
    clauses = [fw.clause_of("1.1", "1. Definitions", "A")]
    ed, opened = fw.open_edition("fca-2026", "2026", [LEAD, PARTNER], clauses, T0, quorum=1)
    steps = [opened, fw.close_consultation(ed, T0 + timedelta(days=30))]
    steps.append(fw.publish_final(ed, "a" * 64, "fca-2026-final", T0 + timedelta(days=31)))
    steps += [fw.sign(ed, h, "a" * 64, T0 + timedelta(days=32)) for h in signers]
    data = FrameworkProjectInput(
        edition=ed, events=[e for s in steps for e in s.events], parties=list(ed.parties.values())
    )
    with session_scope(url) as session:
        project(session, data)


def _render(tmp_path: Path, signers: list[str] | None) -> str:
    settings = settings_for(tmp_path)
    seed_demo_network(settings.database_url)
    if signers is not None:
        _in_force(settings.database_url, signers)
    facts = _facts("c-terms1")
    event = chain_event(0, GENESIS, "case_requested", "principal:p1", facts.created_at, {})
    facts = facts.model_copy(update={"seq": 1, "head_hash": event.hash})
    RecordActivities(settings).record_case(RecordInput(facts=facts, events=[event]))
    draft = DocumentActivities(settings).render_agreement(
        RenderInput(facts=facts, version=1, issued_on="2026-11-24T10:05:00+00:00")
    )
    with session_scope(settings.database_url) as session:
        from store.models import Document

        doc = session.get(Document, draft.document_id)
        assert doc is not None
        return docx_text((settings.documents_dir / doc.path).read_bytes())


def test_no_agreement_in_force_keeps_the_framework_reference(tmp_path: Path) -> None:
    text = _render(tmp_path, None)
    assert "Concluded under the Framework Collaboration Agreement" in text
    assert "Annex S" not in text and "edition 2026" not in text


def test_parties_all_bound_reference_the_edition_in_force(tmp_path: Path) -> None:
    text = _render(tmp_path, [LEAD, PARTNER])
    assert "Concluded under the Framework Collaboration Agreement" in text
    assert "of the AI DIH Network, edition 2026" in text and "Annex S" not in text


@pytest.mark.parametrize("signers", [[LEAD], ["spree-trust"]])
def test_a_partner_not_bound_gets_the_standalone_terms(tmp_path: Path, signers: list[str]) -> None:
    text = _render(tmp_path, signers)
    assert "Concluded on standalone terms (Annex S)" in text
    assert "Annex S. Standalone terms" in text and "S.3\tConfidentiality" in text
    assert "Po Valley" in text.split("not bound by its multilateral")[0].splitlines()[-1]


def test_the_case_view_flags_a_party_not_bound(tmp_path: Path) -> None:
    from api.views import case_view
    from domain.cases import Caller, Role
    from store.models import Case

    _render(tmp_path, [LEAD])
    settings = settings_for(tmp_path)
    back_office = Caller(principal_id="p-bo", role=Role.back_office)
    with session_scope(settings.database_url) as session:
        case = session.get(Case, "c-terms1")
        assert case is not None
        view = case_view(session, case, back_office, settings)
    assert view.framework_agreement is not None
    assert view.framework_agreement.unbound_hub_ids == [PARTNER]
    bound = {p.hub_id: p.framework_bound for p in view.parties}
    assert bound == {LEAD: True, PARTNER: False}


def test_the_case_view_flags_nothing_while_no_agreement_is_in_force(tmp_path: Path) -> None:
    from api.views import case_view
    from domain.cases import Caller, Role
    from store.models import Case

    _render(tmp_path, None)
    settings = settings_for(tmp_path)
    with session_scope(settings.database_url) as session:
        case = session.get(Case, "c-terms1")
        assert case is not None
        view = case_view(session, case, Caller(principal_id="p", role=Role.legal), settings)
    assert view.framework_agreement is None
    assert all(p.framework_bound is None for p in view.parties)
