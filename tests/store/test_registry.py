"""Bulk import into the store: idempotent by hub id, counts, a dry run, the matching vectors
written with each changed profile. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from domain.hubs import load_demo_network
from domain.registry import to_csv, to_json
from store.db import session_scope
from store.models import Hub, HubIndex, utcnow
from store.records import upsert_hub
from store.registry import all_profiles, import_text


def _count(url: str, table: type) -> int:
    with session_scope(url) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_import_creates_then_leaves_equal_hubs_alone_then_updates_a_changed_one(
    store_url: str,
) -> None:
    hubs = load_demo_network()
    text = "".join(to_csv(hubs))
    with session_scope(store_url) as session:
        report = import_text(session, text, "csv", on_rows=None)
        session.commit()
    assert (report.counts.created, report.counts.updated, report.counts.unchanged) == (30, 0, 0)
    assert _count(store_url, Hub) == _count(store_url, HubIndex) == 30

    with session_scope(store_url) as session:
        before = session.get(HubIndex, hubs[0].id)
        assert before is not None and "lisboa" not in before.terms
        report = import_text(session, text, "csv")
        session.commit()
    assert (report.counts.created, report.counts.updated, report.counts.unchanged) == (0, 0, 30)

    changed = hubs[0].model_copy(update={"description": "Inspection of cork stoppers."})
    with session_scope(store_url) as session:
        report = import_text(session, "".join(to_json([changed, *hubs[1:]])), "json")
        session.commit()
        assert (report.counts.updated, report.counts.unchanged) == (1, 29)
        row = session.get(HubIndex, hubs[0].id)
        assert row is not None and "cork" in row.terms and "inspect" in row.terms
    with session_scope(store_url) as session:
        assert next(all_profiles(session)) == sorted([changed, *hubs[1:]], key=lambda h: h.id)[0]


def test_import_keeps_valid_rows_and_reports_the_rest(store_url: str) -> None:
    hubs = load_demo_network()[:4]
    lines = "".join(to_csv(hubs)).splitlines()
    lines[3] = lines[3].replace(f",{hubs[2].country},", ",XX,", 1)
    with session_scope(store_url) as session:
        report = import_text(session, "\n".join(lines) + "\n", "csv")
        session.commit()
    assert report.counts.created == 3 and report.rejected == 1
    assert [str(p) for p in report.problems] == [
        "line 4, column 4 (country): unknown country code 'XX'"
    ]
    assert report.summary() == (
        "4 rows read: 3 hubs created, 0 updated, 0 unchanged, 1 rows rejected"
    )


def test_a_dry_run_counts_and_writes_nothing(store_url: str) -> None:
    with session_scope(store_url) as session:
        report = import_text(session, "".join(to_csv(load_demo_network())), "csv", write=False)
        session.commit()
    assert report.counts.created == 30
    assert _count(store_url, Hub) == 0


def test_editing_one_hub_rewrites_its_matching_vectors(store_url: str) -> None:
    hub = load_demo_network()[0]
    with session_scope(store_url) as session:
        upsert_hub(session, hub)
        session.commit()
        upsert_hub(session, hub.model_copy(update={"description": "Olive grove drones."}))
        session.commit()
        row = session.get(HubIndex, hub.id)
        assert row is not None and "oliv" in row.terms and "drone" in row.terms


def test_removing_a_hub_removes_its_matching_vectors(store_url: str) -> None:
    hub = load_demo_network()[0]
    with session_scope(store_url) as session:
        upsert_hub(session, hub)
        session.commit()
        row = session.get(Hub, hub.id)
        session.delete(row)
        session.commit()
    assert _count(store_url, HubIndex) == 0


def _case(session: Any, case_id: str, state: str, facts: dict[str, Any]) -> None:
    from store.models import Case, CaseParty

    session.add(
        Case(
            id=case_id,
            scenario="joint_service",
            state=state,
            title=case_id,
            lead_hub_id="tagus-ai",
            facts=facts,
            head_hash="0" * 64,
        )
    )
    session.flush()
    for hub_id, role in (("tagus-ai", "lead"), ("spree-trust", "partner")):
        session.add(CaseParty(case_id=case_id, hub_id=hub_id, role=role, created_at=utcnow()))


def test_signals_read_review_ratings_of_closed_cases_and_count_open_ones(store_url: str) -> None:
    from store.matching import signals

    accepted = {"invitations": [{"hub_id": "spree-trust", "status": "accepted"}]}
    with session_scope(store_url) as session:
        for hub in load_demo_network():
            upsert_hub(session, hub)
        session.flush()
        for i, rating in enumerate((5, 4, 5)):
            facts = {**accepted, "lead_hub_id": "tagus-ai", "review": {"rating": rating}}
            _case(session, f"c-closed-{i}", "closed", facts)
        peer = {
            **accepted,
            "lead_hub_id": "tagus-ai",
            "peer_reviews": {"spree-trust": {"rating": 3}},
        }
        _case(session, "c-peer", "closed", peer)
        _case(session, "c-open", "delivery", {**accepted, "lead_hub_id": "tagus-ai"})
        session.commit()
        found = signals(session)
    assert found["spree-trust"].ratings == (5, 4, 5)
    assert found["tagus-ai"].ratings == (3,)  # the partner's peer review rates the lead
    assert found["spree-trust"].open_cases == found["tagus-ai"].open_cases == 1
    assert found["spree-trust"].agreement == "unknown"
