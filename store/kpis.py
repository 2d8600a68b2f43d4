"""The KPI export for EDIH reporting (``dihflow export kpis``): one row per service delivered
to a customer, one row per collaboration with another hub, over the cases that ended in a
period. The columns are documented in the README ("KPI export"); ``COLUMNS`` is their order.

- A **service** row is a joint service delivered to its client or a matchmaking case closed
  for its local player (cases that reached ``closed``): the customer's type, size, sector and
  country as given when the case started, the services (``wanted_services``) and their EDIH
  service functions, the dates, the outcome, the survey's overall rating and whether every
  milestone was on time.
- A **collaboration** row is a lead hub with one partner (or matched) hub in a case, whatever
  the ending: both hubs and countries, cross-border or not, the dates and the ending.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.taxonomy import service_function_of
from store.indicators import Scope, scope_cases
from store.models import CaseMilestone, CaseParty, CaseReview, Hub
from store.summary import CASE, ending

COLUMNS = (
    "record_type",
    "case_id",
    "scenario",
    "lead_hub_id",
    "lead_hub_country",
    "partner_hub_id",
    "partner_hub_country",
    "cross_border",
    "service_functions",
    "services",
    "customer_name",
    "customer_type",
    "customer_size",
    "customer_sector",
    "customer_country",
    "started_on",
    "ended_on",
    "outcome",
    "rating",
    "on_time",
)
CUSTOMER = {"joint_service": "client", "matchmaking": "local_player"}
BATCH = 1000


def kpi_rows(session: Session, scope: Scope) -> Iterator[dict[str, Any]]:
    """The rows, service rows first, each a dict over ``COLUMNS`` (empty string: not known)."""
    yield from _service_rows(session, scope)
    yield from _collaboration_rows(session, scope)


def _blank() -> dict[str, Any]:
    return dict.fromkeys(COLUMNS, "")


def _service_rows(session: Session, scope: Scope) -> Iterator[dict[str, Any]]:
    cases = scope_cases(scope).cte("scope_cases")
    lead = Hub.__table__.alias("lead_hub")  # type: ignore[attr-defined]
    review = CaseReview.__table__.c  # type: ignore[attr-defined]
    milestone = CaseMilestone.__table__.c  # type: ignore[attr-defined]
    rating = (
        sa.select(sa.func.max(review.rating))
        .where(review.case_id == CASE.id, review.kind.in_(("survey", "rating")))
        .scalar_subquery()
    )
    late = (
        sa.select(sa.func.count())
        .where(milestone.case_id == CASE.id, milestone.on_time.is_(False))
        .scalar_subquery()
    )
    timed = (
        sa.select(sa.func.count())
        .where(milestone.case_id == CASE.id, milestone.on_time.is_not(None))
        .scalar_subquery()
    )
    query = (
        sa.select(
            CASE.id,
            CASE.scenario,
            CASE.lead_hub_id,
            lead.c.country,
            CASE.facts,
            CASE.facts["created_at"].as_string(),
            CASE.state_since,
            ending(),
            rating,
            late,
            timed,
        )
        .join(lead, lead.c.id == CASE.lead_hub_id)
        .where(
            CASE.id.in_(sa.select(cases.c.id)),
            CASE.state == "closed",
            CASE.scenario.in_(tuple(CUSTOMER)),
        )
        .order_by(CASE.state_since, CASE.id)
    )
    functions = service_function_of()
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        case_id, scenario, lead_id, lead_country, facts, created, ended, outcome = row[:8]
        rating_, late_, timed_ = row[8:]
        customer = facts.get(CUSTOMER[scenario]) or {}
        services = list(facts.get("wanted_services") or [])
        out = _blank() | {
            "record_type": "service",
            "case_id": case_id,
            "scenario": scenario,
            "lead_hub_id": lead_id,
            "lead_hub_country": lead_country,
            "service_functions": ";".join(
                dict.fromkeys(functions[s] for s in services if s in functions)
            ),
            "services": ";".join(services),
            "customer_name": customer.get("name", ""),
            "customer_type": customer.get("organisation_type", ""),
            "customer_size": customer.get("size", ""),
            "customer_sector": customer.get("sector", ""),
            "customer_country": customer.get("country", ""),
            "started_on": _day(created),
            "ended_on": _day(ended),
            "outcome": outcome,
            "rating": "" if rating_ is None else rating_,
            "on_time": "" if not timed_ else ("yes" if late_ == 0 else "no"),
        }
        yield out


def _collaboration_rows(session: Session, scope: Scope) -> Iterator[dict[str, Any]]:
    cases = scope_cases(scope).cte("scope_cases")
    party = CaseParty.__table__.alias("partner")  # type: ignore[attr-defined]
    lead = Hub.__table__.alias("lead_hub")  # type: ignore[attr-defined]
    partner = Hub.__table__.alias("partner_hub")  # type: ignore[attr-defined]
    query = (
        sa.select(
            CASE.id,
            CASE.scenario,
            CASE.lead_hub_id,
            lead.c.country,
            party.c.hub_id,
            partner.c.country,
            CASE.facts["created_at"].as_string(),
            CASE.state_since,
            ending(),
        )
        .join(party, party.c.case_id == CASE.id)
        .join(lead, lead.c.id == CASE.lead_hub_id)
        .join(partner, partner.c.id == party.c.hub_id)
        .where(
            CASE.id.in_(sa.select(cases.c.id)),
            party.c.role.in_(("partner", "matched")),
        )
        .order_by(CASE.state_since, CASE.id, party.c.hub_id)
    )
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        case_id, scenario, lead_id, lead_country, hub_id, hub_country, created, ended, outcome = row
        yield _blank() | {
            "record_type": "collaboration",
            "case_id": case_id,
            "scenario": scenario,
            "lead_hub_id": lead_id,
            "lead_hub_country": lead_country,
            "partner_hub_id": hub_id,
            "partner_hub_country": hub_country,
            "cross_border": "yes" if lead_country != hub_country else "no",
            "started_on": _day(created),
            "ended_on": _day(ended),
            "outcome": outcome,
        }


def _day(value: Any) -> str:
    return value.date().isoformat() if hasattr(value, "date") else str(value or "")[:10]
