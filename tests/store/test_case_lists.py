"""Case lists read a page from an index in list order (newest first) instead of sorting every
match, and a hub's list, read from ``caseparty``, pages like every other list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from domain.cases import Caller, Invitation, Role
from store.db import as_utc, get_engine, migrate, session_scope
from store.models import Case, CaseParty
from store.queries import CaseFilter, encode_cursor, list_cases
from tests.store.test_store import (
    LEAD,
    OTHER_LEAD,
    PARTNER,
    hub_caller,
    make_events,
    make_facts,
    project,
    seed_hubs,
    staff_caller,
)

STAFF = staff_caller(Role.back_office)


def plan(url: str, caller: Caller, flt: CaseFilter, cursor: str | None = None) -> str:
    """SQLite's plan for the query ``list_cases`` runs, one step a line."""
    statements: list[tuple[str, Any]] = []
    engine = get_engine(url)

    def keep(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with session_scope(url) as session:
            list_cases(session, caller, flt, 20, cursor)
            statement, params = statements[-1]
            rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            return "\n".join(row[-1] for row in rows)
    finally:
        event.remove(engine, "before_cursor_execute", keep)


@pytest.fixture
def sqlite_cases(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    migrate(url)
    seed_hubs(url)
    events = make_events(1)
    project(url, make_facts("p1", events=events, title="Cork stoppers"), events)
    return url


@pytest.mark.parametrize(
    ("caller", "flt", "index"),
    [
        (STAFF, CaseFilter(), "ix_case_created"),
        (STAFF, CaseFilter(state="signing"), "ix_case_state_created"),
        (STAFF, CaseFilter(scenario="matchmaking"), "ix_case_scenario_created"),
        (STAFF, CaseFilter(overdue=True), "ix_case_overdue_created"),
        (STAFF, CaseFilter(hub=PARTNER, scenario="joint_service"), "ix_caseparty_hub_created"),
        (hub_caller(LEAD), CaseFilter(), "ix_caseparty_hub_created"),
        (hub_caller(LEAD), CaseFilter(state="signing"), "ix_caseparty_hub_created"),
        (hub_caller(LEAD), CaseFilter(hub=PARTNER), "ix_caseparty_hub_created"),
    ],
    ids=["all", "state", "scenario", "overdue", "hub+scenario", "own", "own+state", "own+hub"],
)
def test_list_reads_index_in_list_order_when_filtered(
    sqlite_cases: str, caller: Caller, flt: CaseFilter, index: str
) -> None:
    with session_scope(sqlite_cases) as session:
        cursor = encode_cursor(session.get_one(Case, "p1"))

    for page in (None, cursor):  # the first page and any next one
        steps = plan(sqlite_cases, caller, flt, page)
        first = steps.splitlines()[0]
        assert f"INDEX {index}" in first, steps
        assert "TEMP B-TREE" not in steps, steps  # no sort of every match
        if page:  # a next page starts at the cursor in the index, not at the top
            assert "<(?,?)" in first, steps


def test_text_search_walks_list_index_when_matches_are_many(
    sqlite_cases: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.search

    monkeypatch.setattr(store.search, "FEW_MATCHES", 0)

    steps = plan(sqlite_cases, STAFF, CaseFilter(text="cork"))

    assert "INDEX ix_case_created" in steps.splitlines()[0] and "TEMP B-TREE" not in steps, steps


# --- a hub's list from caseparty ----------------------------------------------------------


def party_stamps(url: str, case_id: str) -> set[datetime]:
    with session_scope(url) as session:
        rows = session.exec(select(CaseParty.created_at).where(CaseParty.case_id == case_id))
        return {as_utc(moment) for moment in rows}  # type: ignore[misc]


def test_party_rows_carry_case_created_at_when_a_hub_joins_later(store_url: str) -> None:
    seed_hubs(store_url)
    first = make_events(1)
    later = first + make_events(1, after=first[-1])
    project(store_url, make_facts("c1", events=first), first)
    with session_scope(store_url) as session:
        case = session.get(Case, "c1")
        assert case is not None
        created = as_utc(case.created_at)

    invited = [Invitation(hub_id=PARTNER), Invitation(hub_id=OTHER_LEAD, status="accepted")]
    project(store_url, make_facts("c1", events=later, invitations=invited), later)

    assert party_stamps(store_url, "c1") == {created}


def test_own_list_walks_every_case_once_when_created_at_ties(store_url: str) -> None:
    seed_hubs(store_url)
    events = make_events(1)
    for case_id in ("c1", "c2", "c3", "c4", "c5"):
        lead = OTHER_LEAD if case_id == "c4" else LEAD
        invited = [Invitation(hub_id=LEAD, status="accepted")] if case_id == "c4" else []
        facts = make_facts(case_id, lead=lead, events=events, invitations=invited)
        project(store_url, facts, events)
    same_moment = datetime(2026, 1, 1, 9, 30, 0, 123456, tzinfo=UTC)
    with session_scope(store_url) as session:  # as cases created in the same microsecond
        session.exec(update(Case).values(created_at=same_moment))  # type: ignore[call-overload]
        session.exec(update(CaseParty).values(created_at=same_moment))  # type: ignore[call-overload]

    pages: list[list[str]] = []
    cursor: str | None = None
    with session_scope(store_url) as session:
        while True:
            rows, cursor = list_cases(session, hub_caller(LEAD), CaseFilter(), 2, cursor)
            pages.append([row.id for row in rows])
            if cursor is None:
                break
            assert len(pages) < 10, "pagination does not end"

    assert pages == [["c5", "c4"], ["c3", "c2"], ["c1"]]


def test_hub_filter_lists_cases_of_both_hubs_when_caller_is_another_hub(store_url: str) -> None:
    seed_hubs(store_url)
    events = make_events(1)
    partner = [Invitation(hub_id=PARTNER, status="accepted")]
    project(store_url, make_facts("both", events=events, invitations=partner), events)
    project(store_url, make_facts("lead-only", events=events), events)
    project(store_url, make_facts("partner-only", lead=PARTNER, events=events), events)

    with session_scope(store_url) as session:
        rows, _ = list_cases(session, hub_caller(LEAD), CaseFilter(hub=PARTNER), 20, None)
        staff_rows, _ = list_cases(session, STAFF, CaseFilter(hub=PARTNER), 20, None)

    assert [row.id for row in rows] == ["both"]
    assert sorted(row.id for row in staff_rows) == ["both", "partner-only"]


def test_list_rows_leave_facts_unread_when_listed(store_url: str) -> None:
    seed_hubs(store_url)
    events = make_events(1)
    project(store_url, make_facts("c1", events=events), events)

    with session_scope(store_url) as session:
        rows, _ = list_cases(session, STAFF, CaseFilter(), 20, None)
        loaded = [set(row._fields) for row in rows]  # type: ignore[attr-defined]

    assert rows and all("facts" not in keys and "title" in keys for keys in loaded)
