"""The list filters the staff pages added to the shared case query: a party hub's country, the
oldest-first order with its cursor, counts per state; and when a case entered its state."""

from __future__ import annotations

from domain.cases import Invitation, Role
from store.db import as_utc, session_scope
from store.models import Case
from store.queries import CaseFilter, case_facts_of, count_by_state, list_cases
from tests.store.test_store import (
    LEAD,
    OTHER_LEAD,
    PARTNER,
    make_events,
    make_facts,
    project,
    seeded,  # noqa: F401 - a fixture
    staff_caller,
)

STAFF = staff_caller(Role.back_office)


def _three(url: str) -> None:
    events = make_events(1)
    project(url, make_facts("f1", events=events), events)  # lead tagus-ai (PT)
    partner = [Invitation(hub_id=PARTNER, status="accepted")]  # po-valley-ai (IT)
    project(
        url,
        make_facts("f2", lead=OTHER_LEAD, events=events, invitations=partner, state="drafting"),
        events,
    )
    project(url, make_facts("f3", lead="vistula-ai", events=events), events)


def _ids(url: str, flt: CaseFilter, limit: int = 20, cursor: str | None = None) -> list[str]:
    with session_scope(url) as session:
        rows, _ = list_cases(session, STAFF, flt, limit, cursor)
        return [r.id for r in rows]


def test_country_finds_cases_with_a_party_hub_there(seeded: str) -> None:  # noqa: F811
    _three(seeded)
    assert _ids(seeded, CaseFilter(country="IT")) == ["f2"]  # the partner's country
    assert _ids(seeded, CaseFilter(country="PT")) == ["f1"]
    assert _ids(seeded, CaseFilter(country="IT", state="requested")) == []
    assert _ids(seeded, CaseFilter(country="MT")) == []


def test_oldest_first_pages_with_its_cursor(seeded: str) -> None:  # noqa: F811
    _three(seeded)
    assert _ids(seeded, CaseFilter()) == ["f3", "f2", "f1"]
    with session_scope(seeded) as session:
        first, cursor = list_cases(session, STAFF, CaseFilter(sort="oldest"), 2, None)
        assert [r.id for r in first] == ["f1", "f2"] and cursor is not None
        rest, end = list_cases(session, STAFF, CaseFilter(sort="oldest"), 2, cursor)
        assert [r.id for r in rest] == ["f3"] and end is None


def test_counts_per_state_ignore_the_state_filter_only(seeded: str) -> None:  # noqa: F811
    _three(seeded)
    with session_scope(seeded) as session:
        assert count_by_state(session, STAFF, CaseFilter(state="drafting")) == {
            "requested": 2,
            "drafting": 1,
        }
        assert count_by_state(session, STAFF, CaseFilter(country="IT")) == {"drafting": 1}


def test_state_since_moves_only_when_the_state_changes(seeded: str) -> None:  # noqa: F811
    events = make_events(3)
    project(seeded, make_facts("s1", events=events[:1]), events[:1])
    with session_scope(seeded) as session:
        first = as_utc(session.get(Case, "s1").state_since)  # type: ignore[union-attr]
    assert first is not None and first.isoformat() == events[0].at
    project(seeded, make_facts("s1", events=events[:2]), events[1:2])  # same state
    with session_scope(seeded) as session:
        assert as_utc(session.get(Case, "s1").state_since) == first  # type: ignore[union-attr]
    project(seeded, make_facts("s1", events=events, state="partnering"), events[2:])
    with session_scope(seeded) as session:
        moved = as_utc(session.get(Case, "s1").state_since)  # type: ignore[union-attr]
    assert moved is not None and moved.isoformat() == events[2].at


def test_lead_is_a_party_for_country_too(seeded: str) -> None:  # noqa: F811
    _three(seeded)
    assert "f1" in _ids(seeded, CaseFilter(country="PT", hub=LEAD))


def test_the_facts_of_a_page_of_cases_read_in_one_query(seeded: str) -> None:  # noqa: F811
    _three(seeded)
    with session_scope(seeded) as session:
        facts = case_facts_of(session, ["f1", "f2", "nothing"])
    assert set(facts) == {"f1", "f2"}
    assert facts["f2"].partner_ids == [PARTNER] and facts["f2"].state == "drafting"
