"""The reads behind the staff pages: the legal queue, the hub registry and a hub's cases, the
network's figures. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from domain.cases import DraftComment, Invitation
from domain.hubs import HubProfile, load_demo_network
from domain.lifecycle import LIFECYCLES
from domain.timeline import GENESIS, TimelineEvent, chain_event
from store.db import session_scope
from store.insights import (
    PHASES,
    HubFilter,
    hub_cases,
    legal_queue,
    mandates,
    network_figures,
    phase_spans,
    queue_item,
    search_hubs,
)
from store.models import Case, Document, Hub
from store.search import SearchError
from tests.store.test_store import LEAD, OTHER_LEAD, PARTNER, make_facts, project, seed_hubs

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def seeded(store_url: str) -> str:
    seed_hubs(store_url)
    return store_url


def at(days: float) -> str:
    return (DAY0 + timedelta(days=days)).isoformat()


def chain(*steps: tuple[str, float, dict[str, Any]]) -> list[TimelineEvent]:
    """Events of the given (type, day, data), chained from the genesis."""
    events: list[TimelineEvent] = []
    seq, prev = 0, GENESIS
    for type_, day, data in steps:
        event = chain_event(seq, prev, type_, "system", at(day), data)
        events.append(event)
        seq, prev = event.seq, event.hash
    return events


def draft_doc(case_id: str, version: int, rendered: datetime) -> Document:
    return Document(
        id=f"{case_id}-v{version}",
        case_id=case_id,
        version=version,
        template="specific_collaboration_agreement",
        template_version="1",
        template_sha256="c" * 64,
        variables_sha256="d" * 64,
        sha256=f"{version:x}" * 64,
        path=f"ab/{case_id}-v{version}.docx",
        size=100,
        variables={"context": {"title": f"Draft {version} of {case_id}"}, "fixed_time": "x"},
        created_at=rendered,
    )


def in_review(url: str, case_id: str, versions: int, rendered: datetime, **facts: Any) -> None:
    """A case in legal review whose draft is at ``versions``, each version a day apart."""
    events = chain(("case_requested", 0, {}))
    draft = {
        "version": versions,
        "document_id": f"{case_id}-v{versions}",
        "sha256": f"{versions:x}" * 64,
        "template": "specific_collaboration_agreement",
        "template_version": "1",
    }
    project(
        url, make_facts(case_id, events=events, state="legal_review", draft=draft, **facts), events
    )
    with session_scope(url) as session:
        for v in range(1, versions + 1):
            session.add(draft_doc(case_id, v, rendered - timedelta(days=versions - v)))


# --- the legal queue ----------------------------------------------------------------------


def test_legal_queue_lists_drafts_in_review_oldest_first_with_previous_version(
    seeded: str,
) -> None:
    comment = DraftComment(version=1, comments="Clause 4: <b>IPR</b>", by="principal:x", at=at(1))
    in_review(seeded, "young", 1, DAY0 + timedelta(days=5))
    in_review(seeded, "old", 2, DAY0 + timedelta(days=2), review_comments=[comment])
    events = chain(("case_requested", 0, {}))
    project(seeded, make_facts("signing", events=events, state="signing"), events)

    with session_scope(seeded) as session:
        queue = legal_queue(session)

    assert [item.case.id for item in queue] == ["old", "young"]
    old = queue[0]
    assert old.draft.version == 2 and old.previous is not None and old.previous.version == 1
    assert old.variables == {"title": "Draft 2 of old"}
    assert old.comment_rounds == [comment]
    assert old.lead_hub_name == next(h.name for h in load_demo_network() if h.id == LEAD)
    assert old.waiting_since == DAY0 + timedelta(days=2)
    assert queue[1].previous is None


def test_queue_item_reads_one_case_past_the_queue_limit(seeded: str) -> None:
    in_review(seeded, "first", 1, DAY0)
    in_review(seeded, "second", 1, DAY0 + timedelta(days=1))
    events = chain(("case_requested", 0, {}))
    project(seeded, make_facts("signing", events=events, state="signing"), events)

    with session_scope(seeded) as session:
        assert [i.case.id for i in legal_queue(session, limit=1)] == ["first"]
        second = queue_item(session, "second")
        assert second is not None and second.draft.id == "second-v1"
        assert queue_item(session, "signing") is None
        assert queue_item(session, "nope") is None


def test_legal_queue_is_empty_when_no_case_is_in_review(seeded: str) -> None:
    events = chain(("case_requested", 0, {}))
    project(seeded, make_facts("drafting", events=events, state="drafting"), events)

    with session_scope(seeded) as session:
        assert legal_queue(session) == []


# --- the hub registry ---------------------------------------------------------------------


def test_search_hubs_applies_every_filter_given(seeded: str) -> None:
    network = load_demo_network()
    some = network[0]
    service, technology = some.services[0], some.technologies[0]
    word = some.name.split()[0][:4]

    with session_scope(seeded) as session:
        everything = search_hubs(session, HubFilter())
        by_country = search_hubs(session, HubFilter(country=some.country))
        combined = search_hubs(
            session,
            HubFilter(text=word, country=some.country, service=service, technology=technology),
        )

    assert [h.id for h in everything] == [h.id for h in sorted(network, key=lambda h: h.name)]
    assert {h.id for h in by_country} == {h.id for h in network if h.country == some.country}
    expected = {
        h.id
        for h in network
        if h.country == some.country and service in h.services and technology in h.technologies
    }
    assert some.id in {h.id for h in combined} <= expected


def test_search_hubs_matches_word_prefixes_ignoring_case_and_accents(seeded: str) -> None:
    hub = load_demo_network()[0]
    renamed = hub.model_copy(
        update={
            "name": "Lisboa Inteligência Artificial Hub",
            "description": " ".join(["Apoio às PME"] * 6) + " com visão computacional.",
        }
    )
    with session_scope(seeded) as session:
        row = session.get_one(Hub, hub.id)
        row.name, row.profile = renamed.name, renamed.model_dump(mode="json")
        session.add(row)

    with session_scope(seeded) as session:
        found = search_hubs(session, HubFilter(text="INTELIG lisb"))
        in_description = search_hubs(session, HubFilter(text="visao comput"))
        none = search_hubs(session, HubFilter(text="ntelig"))

    assert [h.id for h in found] == [hub.id]
    assert [h.id for h in in_description] == [hub.id]
    assert none == []


def test_search_hubs_refuses_a_text_without_letters(seeded: str) -> None:
    with session_scope(seeded) as session, pytest.raises(SearchError):
        search_hubs(session, HubFilter(text="*-*"))


def test_mandates_mark_expired_and_not_yet_started_ones() -> None:
    hub = load_demo_network()[0]
    rep = hub.representatives[0]
    reps = [
        rep.model_copy(update={"id": "ended", "mandate_until": date(2026, 1, 31)}),
        rep.model_copy(update={"id": "today", "mandate_until": date(2026, 2, 1)}),
        rep.model_copy(update={"id": "later", "mandate_from": date(2026, 3, 1)}),
        rep.model_copy(update={"id": "open", "delegated_by": "today"}),
    ]
    profile = HubProfile.model_validate(
        hub.model_dump() | {"representatives": [r.model_dump() for r in reps]}
    )

    found = {m.representative.id: m for m in mandates(profile, date(2026, 2, 1))}

    assert {k: m.status for k, m in found.items()} == {
        "ended": "expired",
        "today": "current",
        "later": "not_started",
        "open": "current",
    }
    assert found["ended"].expired and not found["today"].expired
    assert found["open"].delegated_by_name == rep.name


def test_hub_cases_splits_open_and_ended_cases_with_the_hub_role(seeded: str) -> None:
    events = chain(("case_requested", 0, {}))
    invited = [Invitation(hub_id=PARTNER, status="accepted")]
    project(seeded, make_facts("open", events=events, invitations=invited), events)
    project(seeded, make_facts("done", events=events, state="closed", outcome="completed"), events)
    project(seeded, make_facts("elsewhere", lead=OTHER_LEAD, events=events), events)

    with session_scope(seeded) as session:
        lead = hub_cases(session, LEAD)
        partner = hub_cases(session, PARTNER)
        capped = hub_cases(session, LEAD, limit=1)

    assert [(c.id, role) for c, role in lead.open] == [("open", "lead")]
    assert [(c.id, role) for c, role in lead.closed] == [("done", "lead")]
    assert [(c.id, role) for c, role in partner.open] == [("open", "partner")]
    assert partner.closed == []
    assert not lead.more_open and not capped.more_open and len(capped.closed) == 1


# --- the network's figures ----------------------------------------------------------------


def test_phase_spans_measure_each_round_and_skip_unfinished_phases() -> None:
    timeline = [
        ("case_requested", at(0)),
        ("partnering_closed", at(3)),
        ("draft_rendered", at(3)),
        ("changes_requested", at(5)),
        ("draft_rendered", at(6)),
        ("draft_approved", at(6.5)),
        ("signature_declined", at(8)),
        ("draft_rendered", at(9)),
        ("draft_approved", at(10)),
        ("agreement_executed", at(12)),
        ("delivery_completed", at(40)),
        ("cancelled", at(41)),
    ]

    assert phase_spans(timeline) == [
        ("partners", 3.0),
        ("legal_review", 2.0),
        ("legal_review", 0.5),
        ("legal_review", 1.0),
        ("signing", 2.0),
        ("delivery", 28.0),
    ]


def test_every_phase_links_to_a_state_of_its_scenario() -> None:
    for phase in PHASES:
        for scenario, state in phase.states.items():
            assert state in {s.value for s in LIFECYCLES[scenario].states}, (phase, scenario)


def test_network_figures_count_open_overdue_endings_and_median_days(seeded: str) -> None:
    full = chain(
        ("case_requested", 0, {}),
        ("partnering_closed", 2, {}),
        ("draft_rendered", 2, {}),
        ("draft_approved", 4, {}),
        ("agreement_executed", 5, {}),
        ("delivery_completed", 15, {}),
        ("closed", 20, {}),
        ("reviewed", 20, {"rating": 4}),
    )
    slow = chain(("case_requested", 0, {}), ("partnering_closed", 6, {}))
    quick = chain(("case_requested", 0, {}), ("partnering_closed", 1, {}))
    project(seeded, make_facts("done", events=full, state="closed", outcome="completed"), full)
    project(seeded, make_facts("slow", events=slow, state="legal_review"), slow)
    project(seeded, make_facts("quick", events=quick, state="legal_review"), quick)
    both = chain(("case_requested", 0, {}))
    project(seeded, make_facts("mm", events=both, scenario="matchmaking", state="matching"), both)
    with session_scope(seeded) as session:
        session.exec(update(Case).where(Case.id == "slow").values(overdue=True))  # type: ignore[call-overload, arg-type]

    with session_scope(seeded) as session:
        figures = network_figures(session)

    js = {f.filters["state"]: f.value for f in figures.open_by_state["joint_service"]}
    assert js == {"legal_review": 2}
    assert [(f.value, f.filters) for f in figures.open_by_state["matchmaking"]] == [
        (1, {"scenario": "matchmaking", "state": "matching"})
    ]
    assert figures.open_total.value == 3
    assert [(f.value, f.filters) for f in figures.overdue] == [
        (1, {"scenario": "joint_service", "overdue": "yes"}),
        (1, {"overdue": "yes"}),
    ]
    assert [(f.label, f.value) for f in figures.endings] == [("closed", 1)]
    medians = {f.filters["state"]: (f.value, f.count) for f in figures.median_days["joint_service"]}
    assert medians == {
        "partnering": (2.0, 3),  # 1, 2 and 6 days
        "legal_review": (2.0, 1),
        "signing": (1.0, 1),
        "delivery": (10.0, 1),
        "review": (5.0, 1),
    }
    assert figures.mean_rating is not None and figures.mean_rating.value == 4
    assert figures.sample == 4
