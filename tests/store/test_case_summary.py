"""The per-case summaries the indicators add up (``store.summary``): written by the projection
when a case ends and rewritten by a later step, one row per case however often it is written,
filled by migration 0014 for the cases ended before it, and a hub's figures from its own rows;
on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

import store.records
from domain.cases import Invitation
from domain.hubs import load_demo_network
from domain.timeline import chain_event
from store.db import get_engine, migrate, session_scope
from store.indicators import Scope, indicators
from store.records import upsert_hub
from store.registry import import_profiles
from store.summary import CASE_HUB_SUMMARY, CASE_SUMMARY, rebuild_summaries, summarise_cases
from tests.conftest import _reset_postgres
from tests.store.history import (
    EBRO,
    MESETA,
    PERIOD,
    PO,
    SPREE,
    TAGUS,
    _facts,
    _peer,
    _play,
    seed_history,
)
from tests.store.test_search import migrate_to
from tests.store.test_store import seed_hubs

SCOPES = [
    {},
    *({"hub_id": hub} for hub in (TAGUS, PO, SPREE, MESETA, EBRO)),
    *({"scenario": s} for s in ("joint_service", "co_development", "matchmaking")),
    {"hub_id": TAGUS, "scenario": "joint_service"},
]


@pytest.fixture
def history(store_url: str) -> str:
    seed_hubs(store_url)
    seed_history(store_url)
    return store_url


def _rows(url: str, table: sa.Table) -> dict[tuple[str, ...], dict[str, Any]]:
    keys = [c.name for c in table.primary_key.columns]
    with get_engine(url).connect() as conn:
        return {
            tuple(row[k] for k in keys): dict(row)
            for row in conn.execute(sa.select(table)).mappings()
        }


def _all_indicators(url: str) -> list[dict[str, Any]]:
    with session_scope(url) as session:
        return [indicators(session, Scope(*PERIOD, **scope)) for scope in SCOPES]


def test_the_summary_is_written_when_a_case_ends_and_only_then(history: str) -> None:
    cases = _rows(history, CASE_SUMMARY)
    assert sorted(k[0] for k in cases) == ["C1", "C2", "J1", "J2", "J3", "J4", "J5", "M1", "M2"]
    j1 = cases[("J1",)]  # O1 is still open: no row
    assert (j1["scenario"], j1["ending"]) == ("joint_service", "completed")
    assert j1["lead_hub_id"] == TAGUS
    assert (j1["quality_sum"], j1["quality_n"], j1["recommend_yes"], j1["recommend_n"]) == (
        5,
        1,
        1,
        1,
    )
    assert (j1["peer_reliability"], j1["peer_contribution"], j1["peer_n"]) == (9, 8, 2)
    assert (j1["on_time"], j1["on_time_n"]) == (1, 1)
    assert (j1["invitations_accepted"], j1["invitations_n"], j1["responses_n"]) == (1, 1, 1)
    assert j1["response_days"] == pytest.approx(2.0)
    assert (j1["signing_days"], j1["signing_n"]) == (pytest.approx(4.0), 1)
    assert (j1["multi_hub"], j1["cross_border"]) == (1, 1)
    j3 = cases[("J3",)]
    assert (j3["ending"], j3["end_reason"]) == ("expired", "no partner")
    assert (j3["invitation_declined_n"], j3["invitation_lapsed_n"]) == (1, 1)
    assert (j3["multi_hub"], j3["invitations_n"], j3["invitations_accepted"]) == (0, 2, 0)


def test_a_hubs_rows_hold_what_the_others_say_of_it_and_its_own_deliveries(history: str) -> None:
    hubs = _rows(history, CASE_HUB_SUMMARY)
    lead, partner = hubs[("J1", TAGUS)], hubs[("J1", PO)]
    assert (lead["role"], lead["peer_reliability"], lead["peer_contribution"]) == ("lead", 5, 4)
    assert (lead["on_time_n"], lead["invitations_n"]) == (0, 0)
    assert (partner["role"], partner["lead_hub_id"], partner["peer_reliability"]) == (
        "partner",
        TAGUS,
        4,
    )
    assert (partner["on_time"], partner["on_time_n"], partner["invitations_accepted"]) == (1, 1, 1)
    assert (partner["country"], partner["lead_country"]) == ("IT", "PT")
    assert hubs[("J3", MESETA)]["role"] == "declined"  # kept, not counted in its scope
    # a hub's indicators are its rows': without them, the hub has no cases
    with get_engine(history).begin() as conn:
        conn.execute(sa.delete(CASE_HUB_SUMMARY).where(CASE_HUB_SUMMARY.c.hub_id == TAGUS))
    with session_scope(history) as session:
        assert indicators(session, Scope(*PERIOD, hub_id=TAGUS))["cases"]["total"] == 0
        assert indicators(session, Scope(*PERIOD))["cases"]["total"] == 8


def test_summarising_again_leaves_one_row_per_case_and_the_same_figures(history: str) -> None:
    cases, hubs = _rows(history, CASE_SUMMARY), _rows(history, CASE_HUB_SUMMARY)
    before = _all_indicators(history)
    with get_engine(history).begin() as conn:
        summarise_cases(conn, ["J1", "J1", "M1"])
        summarise_cases(conn, ["J1"])
        assert rebuild_summaries(conn, batch=3) == 9  # every ended case, in rounds of three
    assert _rows(history, CASE_SUMMARY) == cases
    assert _rows(history, CASE_HUB_SUMMARY) == hubs
    assert _all_indicators(history) == before


def test_a_retried_ending_writes_the_summary_once(store_url: str) -> None:
    seed_hubs(store_url)
    f = _facts("R1", "co_development", MESETA)
    _play(store_url, f, [(1, "requested", "case_requested", {})])
    f.state, f.outcome = "cancelled", None
    event = chain_event(f.seq, f.head_hash, "cancelled", "system", "2026-01-05T00:00:00+00:00", {})
    f.seq, f.head_hash = event.seq, event.hash
    for _ in range(2):  # the activity retried after its first attempt committed
        with session_scope(store_url) as session:
            store.records.project_case(session, f, [event])
    assert list(_rows(store_url, CASE_SUMMARY)) == [("R1",)]
    assert list(_rows(store_url, CASE_HUB_SUMMARY)) == [("R1", MESETA)]


def test_a_review_after_the_ending_updates_the_summary(store_url: str) -> None:
    seed_hubs(store_url)
    f = _facts("L1", "joint_service", TAGUS)
    _play(store_url, f, [(1, "requested", "case_requested", {})])
    f.invitations = [Invitation(hub_id=PO)]
    _play(store_url, f, [(1, "partnering", "partners_invited", {"hub_ids": [PO]})])
    f.invitations = [Invitation(hub_id=PO, status="accepted")]
    _play(store_url, f, [(2, "legal_review", "invitation_accepted", {"hub_id": PO})])
    _play(store_url, f, [(6, "closed", "closed", {"outcome": "no_review"})])
    f.outcome = "no_review"
    hub_scope = Scope(*PERIOD, hub_id=TAGUS)
    with session_scope(store_url) as session:
        assert indicators(session, hub_scope)["peer_reviews"]["reliability"]["n"] == 0
    f.hub_reviews = [_peer(PO, TAGUS, 5, 3, True)]
    _play(store_url, f, [(8, "closed", "hub_review_submitted", {"reviewer": PO})])
    assert _rows(store_url, CASE_SUMMARY)[("L1",)]["peer_n"] == 1
    row = _rows(store_url, CASE_HUB_SUMMARY)[("L1", TAGUS)]
    assert (row["peer_reliability"], row["peer_contribution"], row["peer_n"]) == (5, 3, 1)
    with session_scope(store_url) as session:
        got = indicators(session, hub_scope)
    assert got["peer_reviews"]["reliability"] == {"mean": None, "n": 1}  # fewer than 3
    assert got["cases"]["by_outcome"]["no_review"] == 1


def test_migration_0014_fills_the_summaries_of_the_cases_already_ended(
    store_url: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_hubs(store_url)
    seed_history(store_url)
    expected = _all_indicators(store_url)  # the projection's summaries
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('old') / 'old.db'}"
    else:
        url = store_url
        get_engine(url).dispose()
        _reset_postgres(url)
    migrate_to(url, "0013")
    with monkeypatch.context() as m:  # the projection of a store at 0013: no summaries yet
        m.setattr(store.records, "summarise_cases", lambda conn, ids: 0)
        seed_hubs(url)
        seed_history(url)
    migrate(url)
    assert len(_rows(url, CASE_SUMMARY)) == 9
    got = _all_indicators(url)
    assert got == expected
    assert got[0]["cases"]["total"] == 8
    assert got[0]["peer_reviews"]["reliability"] == {"mean": 4.25, "n": 8}


def test_a_hubs_corrected_country_reaches_its_cases_summaries(history: str) -> None:
    with session_scope(history) as session:
        assert indicators(session, Scope(*PERIOD))["cross_border"] == {"share": 0.8, "n": 5}
    profile = next(p for p in load_demo_network() if p.id == MESETA)
    with session_scope(history) as session:  # C1 (Meseta, Spain → Ebro) becomes cross-border
        upsert_hub(session, profile.model_copy(update={"country": "PT"}))
    hubs = _rows(history, CASE_HUB_SUMMARY)
    assert (hubs[("C1", MESETA)]["country"], hubs[("C1", EBRO)]["lead_country"]) == ("PT", "PT")
    assert hubs[("C1", EBRO)]["country"] == "ES"
    assert _rows(history, CASE_SUMMARY)[("C1",)]["cross_border"] == 1
    with session_scope(history) as session:
        assert indicators(session, Scope(*PERIOD))["cross_border"] == {"share": 1.0, "n": 5}
    with session_scope(history) as session:  # the bulk import puts it back in Spain
        import_profiles(session, [profile])
    hubs = _rows(history, CASE_HUB_SUMMARY)
    assert (hubs[("C1", MESETA)]["country"], hubs[("C1", EBRO)]["lead_country"]) == ("ES", "ES")
    assert _rows(history, CASE_SUMMARY)[("C1",)]["cross_border"] == 0
