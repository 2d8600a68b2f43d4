"""The store: migrations, the hub registry, API keys, the case projection, visibility and
listing, signatures and link tokens. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, text, update
from sqlmodel import Session, SQLModel, col, select

from domain.cases import Caller, CaseFacts, Invitation, Role, Scenario
from domain.hubs import HubProfile, load_demo_network
from domain.timeline import GENESIS, TimelineEvent, chain_event, verify_chain
from store.db import as_utc, get_engine, migrate, session_scope
from store.models import (
    Case,
    CaseParty,
    Document,
    Hub,
    LinkToken,
    Principal,
    Signature,
    TimelineEntry,
    utcnow,
)
from store.queries import CaseFilter, case_facts, list_cases, timeline, visible_case
from store.records import (
    create_principal,
    derive_link_token,
    ensure_link,
    find_link,
    principal_for_key,
    project_case,
    record_signature,
    upsert_hub,
)
from tests import factories

LEAD = "tagus-ai"
PARTNER = "po-valley-ai"
OTHER_LEAD = "spree-trust"
OUTSIDER = "vistula-ai"
SECRET = "0123456789abcdef" * 4
SHA_A = "a" * 64
SHA_B = "b" * 64


# --- helpers ------------------------------------------------------------------------------


def seed_hubs(url: str) -> None:
    with session_scope(url) as session:
        for profile in load_demo_network():
            upsert_hub(session, profile)


def hub_caller(hub_id: str, role: Role = Role.hub_member) -> Caller:
    return Caller(principal_id=f"p-{hub_id}", role=role, hub_id=hub_id)


def staff_caller(role: Role) -> Caller:
    return Caller(principal_id=f"p-{role.value}", role=role)


def make_events(count: int, after: TimelineEvent | None = None) -> list[TimelineEvent]:
    """``count`` chained events, continuing after ``after`` (or from the genesis)."""
    seq, prev = (after.seq, after.hash) if after else (0, GENESIS)
    events: list[TimelineEvent] = []
    for _ in range(count):
        event = chain_event(
            seq,
            prev,
            "step",
            "system",
            f"2026-01-01T00:00:{seq:02d}+00:00",
            {"n": seq + 1, "note": "Ação façade ✓", "ids": ["a", "b"]},
        )
        events.append(event)
        seq, prev = event.seq, event.hash
    return events


def make_facts(
    case_id: str,
    *,
    lead: str = LEAD,
    events: list[TimelineEvent] | None = None,
    **overrides: Any,
) -> CaseFacts:
    """Facts for a case whose snapshot is at the last of ``events`` (or at the genesis)."""
    last = events[-1] if events else None
    data: dict[str, Any] = {
        "case_id": case_id,
        "title": f"Case {case_id}",
        "lead_hub_id": lead,
        "start_date": "2026-02-01",
        "end_date": "2026-06-30",
        "created_at": "2026-01-01T00:00:00+00:00",
        "seq": last.seq if last else 0,
        "head_hash": last.hash if last else GENESIS,
    }
    return factories.make_facts(**(data | overrides))


def project(url: str, facts: CaseFacts, events: list[TimelineEvent]) -> None:
    with session_scope(url) as session:
        project_case(session, facts, events)


def count(session: Session, model: type[SQLModel], *where: Any) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def party_roles(session: Session, case_id: str) -> dict[str, str]:
    rows = session.exec(select(CaseParty).where(CaseParty.case_id == case_id))
    return {row.hub_id: row.role for row in rows}


def every_stored_value(session: Session) -> list[str]:
    """Every value in every table, as text (to prove a secret is stored nowhere)."""
    values: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.connection().execute(table.select()):
            values.extend(str(value) for value in row)
    return values


def add_document(url: str, case_id: str, sha256: str = SHA_A) -> str:
    doc_id = f"{case_id}-v1"
    with session_scope(url) as session:
        session.add(
            Document(
                id=doc_id,
                case_id=case_id,
                version=1,
                template="joint_service_agreement",
                template_version="1.0",
                template_sha256="c" * 64,
                variables_sha256="d" * 64,
                sha256=sha256,
                path=f"documents/{doc_id}.docx",
                size=1234,
            )
        )
    return doc_id


def signature(case_id: str, doc_id: str, party: str, sha256: str = SHA_A) -> Signature:
    return Signature(
        case_id=case_id,
        document_id=doc_id,
        document_sha256=sha256,
        party=party,
        principal_id="p-signer",
        signer_name="Ana Signer",
        ip="127.0.0.1",
    )


@pytest.fixture
def seeded(store_url: str) -> str:
    """A migrated store holding the 30 demo hubs."""
    seed_hubs(store_url)
    return store_url


# --- migrations ---------------------------------------------------------------------------


def test_migrate_creates_every_model_table_and_column_when_run_twice(store_url: str) -> None:
    migrate(store_url)  # the fixture already migrated once

    inspector = inspect(get_engine(store_url))
    tables = set(inspector.get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    for name, table in SQLModel.metadata.tables.items():
        columns = {c["name"] for c in inspector.get_columns(name)}
        assert columns == {c.name for c in table.columns}, name
    with get_engine(store_url).connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1


# --- hubs ---------------------------------------------------------------------------------


def test_upsert_hub_reports_new_only_once_when_seeded_twice(store_url: str) -> None:
    profiles = load_demo_network()

    with session_scope(store_url) as session:
        first = [upsert_hub(session, p) for p in profiles]
    with session_scope(store_url) as session:
        second = [upsert_hub(session, p) for p in profiles]

    assert first == [True] * 30
    assert second == [False] * 30
    with session_scope(store_url) as session:
        assert count(session, Hub) == 30


def test_upsert_hub_updates_row_when_profile_changed(seeded: str) -> None:
    original = next(p for p in load_demo_network() if p.id == LEAD)
    with session_scope(seeded) as session:
        before = as_utc(session.get(Hub, LEAD).updated_at)  # type: ignore[union-attr]
    changed = original.model_copy(update={"name": "Tagus AI Renamed", "staff": 99})

    with session_scope(seeded) as session:
        was_new = upsert_hub(session, changed)

    assert was_new is False
    with session_scope(seeded) as session:
        row = session.get(Hub, LEAD)
        assert row is not None
        assert row.name == "Tagus AI Renamed"
        assert row.profile["staff"] == 99
        assert HubProfile.model_validate(row.profile) == changed
        assert as_utc(row.updated_at) > before  # type: ignore[operator]


# --- principals ---------------------------------------------------------------------------


def test_create_principal_stores_only_hash_and_prefix_of_key(seeded: str) -> None:
    with session_scope(seeded) as session:
        principal, raw = create_principal(session, Role.hub_member, LEAD, "Tagus member")

    with session_scope(seeded) as session:
        row = session.get(Principal, principal.id)
        assert row is not None
        assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw.startswith(row.key_prefix) and len(row.key_prefix) <= 16
        assert len(raw) > 40
        assert not any(raw in value for value in every_stored_value(session))


def test_principal_for_key_finds_principal_when_key_is_right(seeded: str) -> None:
    with session_scope(seeded) as session:
        principal, raw = create_principal(session, Role.hub_signatory, LEAD)
        create_principal(session, Role.back_office)

    with session_scope(seeded) as session:
        found = principal_for_key(session, raw)

    assert found is not None
    assert (found.id, found.role, found.hub_id) == (principal.id, "hub_signatory", LEAD)


def test_principal_for_key_returns_none_when_key_is_wrong(seeded: str) -> None:
    with session_scope(seeded) as session:
        _, raw = create_principal(session, Role.back_office)

    with session_scope(seeded) as session:
        assert principal_for_key(session, raw + "x") is None
        assert principal_for_key(session, raw[:-1]) is None
        assert principal_for_key(session, "") is None


def test_principal_for_key_returns_none_when_principal_revoked(seeded: str) -> None:
    with session_scope(seeded) as session:
        principal, raw = create_principal(session, Role.legal)
    with session_scope(seeded) as session:
        assert principal_for_key(session, raw) is not None
        row = session.get(Principal, principal.id)
        assert row is not None
        row.revoked_at = utcnow()
        session.add(row)

    with session_scope(seeded) as session:
        assert principal_for_key(session, raw) is None


# --- the case projection ------------------------------------------------------------------


def test_project_case_writes_case_and_events_when_new(seeded: str) -> None:
    events = make_events(3)
    deadlines = {
        "partnering": "2026-01-11T00:00:00+00:00",
        "answer": "2026-01-05T12:00:00+00:00",
    }
    facts = make_facts("c1", events=events, state="partnering", deadlines=deadlines)

    project(seeded, facts, events)

    with session_scope(seeded) as session:
        case = session.get(Case, "c1")
        assert case is not None
        assert (case.state, case.seq, case.head_hash) == ("partnering", 3, events[-1].hash)
        assert (case.scenario, case.lead_hub_id, case.title) == ("joint_service", LEAD, "Case c1")
        assert as_utc(case.next_deadline) == datetime(2026, 1, 5, 12, tzinfo=UTC)
        assert case_facts(case) == facts
        assert [e.seq for e in timeline(session, "c1")] == [1, 2, 3]


def test_project_case_writes_no_duplicate_events_when_replayed(seeded: str) -> None:
    events = make_events(5)
    facts = make_facts("c1", events=events)

    project(seeded, make_facts("c1", events=events[:3]), events[:3])
    project(seeded, facts, events)  # overlaps the first three
    project(seeded, facts, events)  # a retried activity
    with session_scope(seeded) as session:  # twice in one session
        project_case(session, facts, events)
        project_case(session, facts, events)

    with session_scope(seeded) as session:
        assert count(session, TimelineEntry, TimelineEntry.case_id == "c1") == 5
        assert count(session, Case) == 1
        assert count(session, CaseParty, CaseParty.case_id == "c1") == 1


def test_project_case_keeps_newer_state_when_snapshot_is_older(seeded: str) -> None:
    events = make_events(4)
    newer = make_facts("c1", events=events, state="drafting", title="Newer title")
    older = make_facts("c1", events=events[:2], state="partnering", title="Older title")
    project(seeded, newer, events)

    project(seeded, older, events[:2])

    with session_scope(seeded) as session:
        case = session.get(Case, "c1")
        assert case is not None
        assert (case.state, case.title, case.seq) == ("drafting", "Newer title", 4)
        assert case.head_hash == events[-1].hash
        assert case_facts(case) == newer


def test_project_case_replaces_state_when_snapshot_is_newer(seeded: str) -> None:
    first = make_events(2)
    later = first + make_events(2, after=first[-1])
    project(seeded, make_facts("c1", events=first, state="partnering"), first)

    project(seeded, make_facts("c1", events=later, state="cancelled", outcome="cancelled"), later)

    with session_scope(seeded) as session:
        case = session.get(Case, "c1")
        assert case is not None
        assert (case.state, case.outcome, case.seq) == ("cancelled", "cancelled", 4)
        assert case.head_hash == later[-1].hash


def test_project_case_records_party_roles_when_invitations_answered(seeded: str) -> None:
    events = make_events(1)
    invitations = [
        Invitation(hub_id=PARTNER, status="accepted"),
        Invitation(hub_id=OTHER_LEAD, status="declined", reason="busy"),
        Invitation(hub_id=OUTSIDER, status="lapsed"),
        Invitation(hub_id="ruhr-ai", status="pending"),
    ]

    project(seeded, make_facts("c1", events=events, invitations=invitations), events)

    with session_scope(seeded) as session:
        roles = party_roles(session, "c1")
    assert set(roles) == {LEAD, PARTNER, OTHER_LEAD, OUTSIDER, "ruhr-ai"}
    assert roles[LEAD] == "lead"
    assert roles[PARTNER] == "partner"
    assert roles[OTHER_LEAD] == "declined"
    assert roles[OUTSIDER] == "lapsed"
    assert roles["ruhr-ai"] == "invited"


def test_project_case_updates_party_roles_when_invitation_changes(seeded: str) -> None:
    first = make_events(1)
    later = first + make_events(1, after=first[-1])
    pending = [Invitation(hub_id=PARTNER), Invitation(hub_id=OUTSIDER)]
    answered = [
        Invitation(hub_id=PARTNER, status="accepted"),
        Invitation(hub_id=OUTSIDER, status="declined"),
    ]
    project(seeded, make_facts("c1", events=first, invitations=pending), first)
    with session_scope(seeded) as session:
        assert party_roles(session, "c1") == {LEAD: "lead", PARTNER: "invited", OUTSIDER: "invited"}

    project(seeded, make_facts("c1", events=later, invitations=answered), later)
    project(seeded, make_facts("c1", events=first, invitations=pending), first)  # stale

    with session_scope(seeded) as session:
        assert party_roles(session, "c1") == {
            LEAD: "lead",
            PARTNER: "partner",
            OUTSIDER: "declined",
        }


def test_project_case_keeps_lead_role_when_lead_also_invited(seeded: str) -> None:
    events = make_events(1)
    invitations = [Invitation(hub_id=LEAD, status="declined")]

    project(seeded, make_facts("c1", events=events, invitations=invitations), events)

    with session_scope(seeded) as session:
        assert party_roles(session, "c1") == {LEAD: "lead"}


def test_stored_timeline_verifies_when_read_back(seeded: str) -> None:
    events = make_events(4)
    project(seeded, make_facts("c1", events=events), events)

    with session_scope(seeded) as session:
        stored = [TimelineEvent.model_validate(e.model_dump()) for e in timeline(session, "c1")]

    assert stored == events
    assert verify_chain(stored) == []


def test_verify_chain_detects_tampering_when_stored_event_data_changed(seeded: str) -> None:
    events = make_events(4)
    project(seeded, make_facts("c1", events=events), events)
    with session_scope(seeded) as session:
        session.exec(
            update(TimelineEntry)  # type: ignore[call-overload]
            .where(col(TimelineEntry.case_id) == "c1", col(TimelineEntry.seq) == 2)
            .values(data={"n": 2, "note": "rewritten"})
        )

    with session_scope(seeded) as session:
        stored = [TimelineEvent.model_validate(e.model_dump()) for e in timeline(session, "c1")]

    problems = verify_chain(stored)
    assert problems == ["event 2: content does not match its hash"]


# --- visibility and listing ---------------------------------------------------------------


@pytest.fixture
def two_cases(seeded: str) -> str:
    """Case "a" led by LEAD with PARTNER accepted; case "b" led by OTHER_LEAD alone."""
    events = make_events(1)
    partner = [Invitation(hub_id=PARTNER, status="accepted")]
    project(seeded, make_facts("a", events=events, invitations=partner), events)
    project(seeded, make_facts("b", lead=OTHER_LEAD, events=events), events)
    return seeded


def test_visible_case_returns_none_when_hub_is_not_a_party(two_cases: str) -> None:
    with session_scope(two_cases) as session:
        assert visible_case(session, "a", hub_caller(OUTSIDER)) is None
        assert visible_case(session, "a", hub_caller(OTHER_LEAD, Role.hub_signatory)) is None
        assert visible_case(session, "b", hub_caller(LEAD)) is None


def test_visible_case_returns_case_when_hub_is_a_party(two_cases: str) -> None:
    with session_scope(two_cases) as session:
        as_lead = visible_case(session, "a", hub_caller(LEAD))
        as_partner = visible_case(session, "a", hub_caller(PARTNER, Role.hub_signatory))
        as_other_lead = visible_case(session, "b", hub_caller(OTHER_LEAD))

    assert as_lead is not None and as_lead.id == "a"
    assert as_partner is not None and as_partner.id == "a"
    assert as_other_lead is not None and as_other_lead.id == "b"


@pytest.mark.parametrize("role", [Role.back_office, Role.legal])
def test_visible_case_returns_every_case_when_caller_is_staff(two_cases: str, role: Role) -> None:
    with session_scope(two_cases) as session:
        seen = [visible_case(session, case_id, staff_caller(role)) for case_id in ("a", "b")]
        missing = visible_case(session, "nope", staff_caller(role))

    assert [case.id for case in seen if case is not None] == ["a", "b"]
    assert missing is None


def test_visible_case_returns_none_when_caller_holds_a_link(two_cases: str) -> None:
    link = Caller(principal_id="link", role="link", party="client", link_action="sign")

    with session_scope(two_cases) as session:
        assert visible_case(session, "a", link) is None


@pytest.fixture
def five_cases(seeded: str) -> str:
    """c1..c5: LEAD leads c1, c3, c5 (c5 with PARTNER accepted); OTHER_LEAD leads c2, c4."""
    events = make_events(1)
    specs: list[tuple[str, str, Scenario, str]] = [
        ("c1", LEAD, Scenario.joint_service, "requested"),
        ("c2", OTHER_LEAD, Scenario.co_development, "partnering"),
        ("c3", LEAD, Scenario.matchmaking, "partnering"),
        ("c4", OTHER_LEAD, Scenario.joint_service, "partnering"),
        ("c5", LEAD, Scenario.joint_service, "drafting"),
    ]
    for case_id, lead, scenario, state in specs:
        invitations = [Invitation(hub_id=PARTNER, status="accepted")] if case_id == "c5" else []
        facts = make_facts(
            case_id,
            lead=lead,
            events=events,
            scenario=scenario,
            state=state,
            invitations=invitations,
        )
        project(seeded, facts, events)
    return seeded


def ids(rows: list[Case]) -> list[str]:
    return [row.id for row in rows]


def test_list_cases_returns_only_own_cases_when_caller_is_hub(five_cases: str) -> None:
    with session_scope(five_cases) as session:
        lead_rows, _ = list_cases(session, hub_caller(LEAD), CaseFilter(), 20, None)
        partner_rows, _ = list_cases(session, hub_caller(PARTNER), CaseFilter(), 20, None)
        outsider_rows, _ = list_cases(session, hub_caller(OUTSIDER), CaseFilter(), 20, None)
        staff_rows, _ = list_cases(session, staff_caller(Role.legal), CaseFilter(), 20, None)

    assert sorted(ids(lead_rows)) == ["c1", "c3", "c5"]
    assert ids(partner_rows) == ["c5"]
    assert outsider_rows == []
    assert sorted(ids(staff_rows)) == ["c1", "c2", "c3", "c4", "c5"]


def test_list_cases_filters_when_state_or_scenario_given(five_cases: str) -> None:
    staff = staff_caller(Role.back_office)

    with session_scope(five_cases) as session:
        partnering, _ = list_cases(session, staff, CaseFilter(state="partnering"), 20, None)
        joint, _ = list_cases(session, staff, CaseFilter(scenario="joint_service"), 20, None)
        both, _ = list_cases(
            session, staff, CaseFilter(scenario="joint_service", state="partnering"), 20, None
        )
        mine, _ = list_cases(session, hub_caller(LEAD), CaseFilter(state="partnering"), 20, None)

    assert sorted(ids(partnering)) == ["c2", "c3", "c4"]
    assert sorted(ids(joint)) == ["c1", "c4", "c5"]
    assert ids(both) == ["c4"]
    assert ids(mine) == ["c3"]


def walk(url: str, caller: Caller, limit: int) -> list[list[str]]:
    """Every page of ``list_cases``, following next_cursor until it is None."""
    pages: list[list[str]] = []
    cursor: str | None = None
    with session_scope(url) as session:
        while True:
            rows, cursor = list_cases(session, caller, CaseFilter(), limit, cursor)
            pages.append(ids(rows))
            if cursor is None:
                return pages
            assert len(pages) < 10, "pagination does not end"


def test_list_cases_walks_every_case_once_when_paginated(five_cases: str) -> None:
    pages = walk(five_cases, staff_caller(Role.back_office), limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [case_id for page in pages for case_id in page] == ["c5", "c4", "c3", "c2", "c1"]


def test_list_cases_walks_every_case_once_when_created_at_ties(five_cases: str) -> None:
    same_moment = datetime(2026, 1, 1, 9, 30, 0, 123456, tzinfo=UTC)
    with session_scope(five_cases) as session:
        session.exec(update(Case).values(created_at=same_moment))  # type: ignore[call-overload]

    pages = walk(five_cases, staff_caller(Role.back_office), limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [case_id for page in pages for case_id in page] == ["c5", "c4", "c3", "c2", "c1"]


def test_list_cases_pages_own_cases_when_caller_is_hub(five_cases: str) -> None:
    pages = walk(five_cases, hub_caller(LEAD), limit=2)

    assert pages == [["c5", "c3"], ["c1"]]


def test_list_cases_returns_no_cursor_when_page_holds_the_rest(five_cases: str) -> None:
    with session_scope(five_cases) as session:
        rows, cursor = list_cases(session, staff_caller(Role.legal), CaseFilter(), 5, None)

    assert len(rows) == 5
    assert cursor is None


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "!!!!", "bm8tc2VwYXJhdG9y", "eWVzdGVyZGF5fGMx", "_w"],
    ids=["junk", "no-base64-chars", "no-separator", "bad-date", "bad-utf8"],
)
def test_list_cases_raises_value_error_when_cursor_is_garbage(five_cases: str, cursor: str) -> None:
    with session_scope(five_cases) as session, pytest.raises(ValueError):
        list_cases(session, staff_caller(Role.back_office), CaseFilter(), 2, cursor)


# --- signatures ---------------------------------------------------------------------------


def test_record_signature_stores_one_row_when_recorded_twice(seeded: str) -> None:
    events = make_events(1)
    project(seeded, make_facts("c1", events=events), events)
    doc_id = add_document(seeded, "c1")

    with session_scope(seeded) as session:
        record_signature(session, signature("c1", doc_id, LEAD))
    with session_scope(seeded) as session:
        record_signature(session, signature("c1", doc_id, LEAD))
        record_signature(session, signature("c1", doc_id, LEAD))

    with session_scope(seeded) as session:
        assert count(session, Signature) == 1


def test_record_signature_stores_each_party_and_hash_when_they_differ(seeded: str) -> None:
    events = make_events(1)
    project(seeded, make_facts("c1", events=events), events)
    doc_id = add_document(seeded, "c1")

    with session_scope(seeded) as session:
        record_signature(session, signature("c1", doc_id, LEAD))
        record_signature(session, signature("c1", doc_id, "client"))
        record_signature(session, signature("c1", doc_id, LEAD, sha256=SHA_B))

    with session_scope(seeded) as session:
        rows = session.exec(select(Signature).order_by(Signature.id)).all()  # type: ignore[arg-type]
    assert [(r.party, r.document_sha256) for r in rows] == [
        (LEAD, SHA_A),
        ("client", SHA_A),
        (LEAD, SHA_B),
    ]


# --- link tokens --------------------------------------------------------------------------


def test_derive_link_token_is_stable_when_inputs_repeat(store_url: str) -> None:
    first = derive_link_token(SECRET, "c1", "sign:v1")
    second = derive_link_token(SECRET, "c1", "sign:v1")

    assert first == second
    assert len(first) >= 32


def test_derive_link_token_differs_when_purpose_case_or_secret_differs(store_url: str) -> None:
    base = derive_link_token(SECRET, "c1", "sign:v1")

    others = {
        derive_link_token(SECRET, "c1", "sign:v2"),
        derive_link_token(SECRET, "c1", "review"),
        derive_link_token(SECRET, "c2", "sign:v1"),
        derive_link_token("another-secret", "c1", "sign:v1"),
        derive_link_token(SECRET[:-1] + "0", "c1", "sign:v1"),
    }

    assert base not in others
    assert len(others) == 5


def test_ensure_link_stores_one_row_keyed_by_hash_when_called_twice(seeded: str) -> None:
    events = make_events(1)
    project(seeded, make_facts("c1", events=events), events)
    token = derive_link_token(SECRET, "c1", "sign:v1")
    expires = utcnow() + timedelta(days=14)

    with session_scope(seeded) as session:
        ensure_link(session, token, "c1", "sign", "client", "sign:v1", expires)
    with session_scope(seeded) as session:
        again = ensure_link(session, token, "c1", "sign", "client", "sign:v1", expires)

    assert again.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with session_scope(seeded) as session:
        assert count(session, LinkToken) == 1
        row = session.get(LinkToken, again.token_hash)
        assert row is not None
        assert (row.case_id, row.action, row.party, row.purpose) == (
            "c1",
            "sign",
            "client",
            "sign:v1",
        )
        assert not any(token in value for value in every_stored_value(session))


def test_find_link_returns_row_when_token_matches(seeded: str) -> None:
    events = make_events(1)
    project(seeded, make_facts("c1", events=events), events)
    token = derive_link_token(SECRET, "c1", "sign:v1")
    expires = utcnow() + timedelta(days=14)
    with session_scope(seeded) as session:
        ensure_link(session, token, "c1", "sign", "client", "sign:v1", expires)

    with session_scope(seeded) as session:
        found = find_link(session, token)
        wrong = find_link(session, derive_link_token(SECRET, "c1", "sign:v2"))

    assert found is not None
    assert (found.case_id, found.action, found.party) == ("c1", "sign", "client")
    assert as_utc(found.expires_at) == expires
    assert found.used_at is None
    assert wrong is None
