"""Starting a case: the checks that need no store, with the clock passed in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.agreements import cost_share_error
from domain.case_start import CaseCreate, start_errors
from domain.cases import ClientInfo, TaskSpec

TODAY = date(2025, 3, 3)
LEAD, PARTNER = "tagus-ai", "po-valley-ai"
CLIENT = ClientInfo(name="Acme Bakery", country="PT", email="ops@acme.example")


def _body(**fields: object) -> CaseCreate:
    return CaseCreate.model_validate(
        {"scenario": "joint_service", "title": "T", "need": "N", "client": CLIENT, **fields}
    )


def _task(hub: str, pct: float) -> TaskSpec:
    return TaskSpec(hub_id=hub, description="work", cost_share_pct=pct)


def test_start_errors_is_empty_for_a_sound_joint_service() -> None:
    body = _body(invited_hub_ids=[PARTNER], tasks=[_task(LEAD, 60), _task(PARTNER, 40)])

    assert start_errors(body, LEAD, TODAY) == []


def test_start_errors_names_each_place_the_lead_invites_itself() -> None:
    body = _body(invited_hub_ids=[PARTNER, LEAD])

    assert start_errors(body, LEAD, TODAY) == [
        {"field": "invited_hub_ids.1", "message": "the lead hub cannot be invited"}
    ]


def test_start_errors_refuses_tasks_whose_cost_shares_are_not_a_whole() -> None:
    body = _body(invited_hub_ids=[PARTNER], tasks=[_task(LEAD, 60), _task(PARTNER, 30)])

    (error,) = start_errors(body, LEAD, TODAY)

    assert error["field"] == "tasks" and "got 90" in error["message"]


@pytest.mark.parametrize(
    ("today", "refused"), [(date(2025, 3, 31), True), (date(2025, 3, 1), False)]
)
def test_start_errors_counts_a_missing_start_date_from_the_clock_it_is_given(
    today: date, refused: bool
) -> None:
    body = _body(end_date="2025-03-31")

    errors = start_errors(body, LEAD, today)

    assert (errors == [{"field": "end_date", "message": "must be after start_date"}]) is refused


def test_cost_share_error_sums_as_decimals() -> None:
    assert cost_share_error([33.33, 33.33, 33.34]) is None
    assert cost_share_error([Decimal("50"), Decimal("49.995")]) is None  # within 0.01
    assert cost_share_error([0.1] * 4 + [99.6]) is None  # floats that do not add up exactly
    assert cost_share_error([50, 49.98]) == "cost shares must sum to 100 (within 0.01), got 99.98"


def test_customer_codes_must_come_from_the_taxonomy() -> None:
    from domain.case_start import CaseCreate, customer_errors

    def body(**client: str) -> CaseCreate:
        who = {"name": "Acme", "country": "PT", "email": "a@acme.example"} | client
        return CaseCreate.model_validate(
            {"scenario": "joint_service", "title": "t", "need": "n", "client": who}
        )

    good = body(organisation_type="private_company", size="micro", sector="agriculture_food")
    assert customer_errors(good) == []
    bad = body(organisation_type="sme", size="gigantic", sector="bakeries")
    assert {e["field"] for e in customer_errors(bad)} == {
        "client.organisation_type",
        "client.size",
        "client.sector",
    }


def test_a_cases_needed_technologies_and_sectors_are_taxonomy_codes() -> None:
    body = _body(
        wanted_services=["testing_experimentation"],
        wanted_technologies=["computer_vision", "teleportation", "robotics"],
        wanted_sectors=["mfg_wood", "alchemy"],
    )

    errors = start_errors(body, LEAD, TODAY)

    assert errors == [
        {"field": "wanted_technologies.1", "message": "unknown technology code 'teleportation'"},
        {"field": "wanted_sectors.1", "message": "unknown sector code 'alchemy'"},
    ]
