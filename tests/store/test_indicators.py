"""Indicators from a seeded history of ended cases (``tests/store/history.py``), against
figures worked out by hand from its table, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from store.db import session_scope
from store.indicators import Scope, indicators
from tests.store.history import PERIOD, TAGUS, seed_history
from tests.store.test_store import seed_hubs


@pytest.fixture
def history(store_url: str) -> str:
    seed_hubs(store_url)
    seed_history(store_url)
    return store_url


def _figures(url: str, **scope: Any) -> dict[str, Any]:
    with session_scope(url) as session:
        return indicators(session, Scope(*PERIOD, **scope))


def test_network_indicators_match_the_hand_worked_figures(history: str) -> None:
    got = _figures(history)
    assert got["cases"]["total"] == 8  # J5 ended in February, O1 is open
    assert got["cases"]["by_outcome"] == {
        "completed": 4,
        "no_review": 1,
        "rejected": 1,
        "cancelled": 1,
        "expired": 1,
    }
    assert got["cases"]["by_scenario"]["joint_service"] == {
        "completed": 2,
        "no_review": 1,
        "rejected": 0,
        "cancelled": 0,
        "expired": 1,
    }
    s = got["satisfaction"]
    assert s["quality"] == {"mean": 4.0, "n": 3}  # (5 + 4 + 3) / 3
    assert s["timeliness"] == {"mean": 3.67, "n": 3}  # (4 + 4 + 3) / 3
    assert s["communication"] == {"mean": 3.67, "n": 3}
    assert s["value"] == {"mean": 4.0, "n": 3}
    assert s["rating"] == {"mean": 4.0, "n": 3}  # overall 5, 4, 3
    assert s["would_recommend"] == {"share": 0.6667, "n": 3}
    p = got["peer_reviews"]
    assert p["reliability"] == {"mean": 4.25, "n": 8}  # 34 / 8
    assert p["contribution"] == {"mean": 4.0, "n": 8}  # 32 / 8
    assert p["would_collaborate_again"] == {"share": 0.875, "n": 8}
    assert got["on_time"] == {"rate": 0.8, "n": 5}  # J2's deliverable was late
    inv = got["invitations"]
    assert inv["acceptance"] == {"rate": 0.6667, "n": 6}  # 4 accepted, 1 declined, 1 lapsed
    assert inv["response_days"] == {"mean": 2.0, "n": 5}  # (2 + 4 + 2 + 1 + 1) / 5
    assert got["signature_turnaround_days"] == {"mean": 2.5, "n": 4}  # (4 + 2 + 3 + 1) / 4
    phases = got["phase_days"]
    assert phases["requested"] == {"mean": 0.5, "n": 8}
    assert phases["partnering"] == {"mean": 4.4, "n": 5}
    assert phases["legal_review"] == {"mean": 1.5, "n": 4}
    assert phases["delivery"] == {"mean": 9.0, "n": 3}
    assert phases["review"] == {"mean": 2.8, "n": 5}
    assert phases["matching"] == {"mean": 4.0, "n": 2}
    assert "closed" not in phases and "expired" not in phases
    assert got["cross_border"] == {"share": 0.8, "n": 5}  # C1 is Spanish on both sides
    assert got["repeat_collaborations"] == {"pairs": 1, "share": 0.6, "n": 5}


def test_hub_indicators_count_its_own_cases_and_what_others_say_of_it(history: str) -> None:
    got = _figures(history, hub_id=TAGUS)
    assert got["cases"]["total"] == 5  # J1, J2, J4, M1, M2
    assert got["cases"]["by_outcome"]["completed"] == 3
    peers = got["peer_reviews"]
    assert peers["reliability"] == {"mean": 4.67, "n": 3}  # (5 + 5 + 4) / 3
    assert peers["contribution"] == {"mean": 4.33, "n": 3}  # (4 + 5 + 4) / 3
    assert peers["would_collaborate_again"] == {"share": 1.0, "n": 3}
    assert got["on_time"] == {"rate": 1.0, "n": 1}  # its one deliverable (J4)
    assert got["invitations"]["acceptance"] == {"rate": 1.0, "n": 1}
    assert got["invitations"]["response_days"] == {"mean": 1.0, "n": 1}
    assert got["cross_border"] == {"share": 1.0, "n": 4}
    assert got["repeat_collaborations"] == {"pairs": 1, "share": 0.75, "n": 4}


def test_scores_from_fewer_than_three_reviews_are_not_given(history: str) -> None:
    got = _figures(history, scenario="matchmaking")
    assert got["cases"]["by_outcome"]["completed"] == 1
    assert got["cases"]["by_outcome"]["cancelled"] == 1
    assert got["satisfaction"]["quality"] == {"mean": None, "n": 1}
    assert got["satisfaction"]["would_recommend"] == {"share": None, "n": 1}
    assert got["peer_reviews"]["reliability"] == {"mean": None, "n": 2}


def test_an_empty_period_has_no_figures_but_zero_counts(store_url: str) -> None:
    got = _figures(store_url)
    assert got["cases"]["total"] == 0
    assert got["on_time"] == {"rate": None, "n": 0}
    assert got["invitations"]["response_days"] == {"mean": None, "n": 0}
    assert got["cross_border"] == {"share": None, "n": 0}
