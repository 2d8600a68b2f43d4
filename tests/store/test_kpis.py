"""The KPI export's rows from the seeded history (``tests/store/history.py``)."""

from __future__ import annotations

import pytest

from store.db import session_scope
from store.indicators import Scope
from store.kpis import COLUMNS, kpi_rows
from tests.store.history import PERIOD, seed_history
from tests.store.test_store import seed_hubs


@pytest.fixture
def rows(store_url: str) -> list[dict[str, str]]:
    seed_hubs(store_url)
    seed_history(store_url)
    with session_scope(store_url) as session:
        return list(kpi_rows(session, Scope(*PERIOD)))


def test_one_row_per_service_delivered_and_per_collaboration(rows: list[dict[str, str]]) -> None:
    services = [r for r in rows if r["record_type"] == "service"]
    collaborations = [r for r in rows if r["record_type"] == "collaboration"]
    # closed joint services and matchmaking cases: J1, J2, J4, M1 (J3 expired, M2 cancelled)
    assert sorted(r["case_id"] for r in services) == ["J1", "J2", "J4", "M1"]
    # a lead with a partner or matched hub: J1, J2, J4, C1, M1
    assert sorted(r["case_id"] for r in collaborations) == ["C1", "J1", "J2", "J4", "M1"]
    assert all(list(r) == list(COLUMNS) for r in rows)


def test_service_row_carries_customer_dates_outcome_rating_and_timeliness(
    rows: list[dict[str, str]],
) -> None:
    j1 = next(r for r in rows if r["record_type"] == "service" and r["case_id"] == "J1")
    assert (j1["started_on"], j1["ended_on"], j1["outcome"]) == (
        "2026-01-01",
        "2026-01-20",
        "completed",
    )
    assert (j1["rating"], j1["on_time"], j1["customer_country"]) == (5, "yes", "PT")
    assert (j1["customer_name"], j1["customer_type"], j1["customer_size"]) == (
        "Cork Stoppers Lda",
        "private_company",
        "small",
    )
    assert j1["customer_sector"] == "agriculture_food"
    assert (j1["services"], j1["service_functions"]) == (
        "digital_maturity_assessment",
        "test_before_invest",
    )
    j2 = next(r for r in rows if r["record_type"] == "service" and r["case_id"] == "J2")
    assert (j2["outcome"], j2["rating"], j2["on_time"]) == ("no_review", "", "no")
    m1 = next(r for r in rows if r["record_type"] == "service" and r["case_id"] == "M1")
    assert m1["customer_country"] == "ES" and m1["services"] == "ai-prototyping"


def test_collaboration_row_says_whether_it_crossed_a_border(rows: list[dict[str, str]]) -> None:
    by_case = {r["case_id"]: r for r in rows if r["record_type"] == "collaboration"}
    assert (by_case["J1"]["lead_hub_country"], by_case["J1"]["partner_hub_country"]) == ("PT", "IT")
    assert by_case["J1"]["cross_border"] == "yes" and by_case["C1"]["cross_border"] == "no"
    assert by_case["M1"]["partner_hub_id"] == "spree-trust"
