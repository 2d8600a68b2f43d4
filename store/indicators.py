"""The network's indicators, by SQL over the store: per hub, per scenario or for the whole
network, over the cases that *ended* in a period (``[start, end)``, by when the case reached
its ending: ``case.state_since`` of a case in an ending state).

Every average comes with its ``n``; a review score from fewer than ``MIN_REVIEWS`` reviews is
not given (``mean`` is None): a small sample is shown as such. Each figure is one grouped
query, so the cost grows with the cases of the period, never with a loop per case.

========================  ==================================================================
figure                    from
========================  ==================================================================
cases by outcome          ``case`` (ending: the outcome of a closed case, else its state)
satisfaction              ``case_review`` surveys (and the one rating of older cases)
peer reviews              ``case_review`` peer rows (for a hub: those about it)
on-time rate              ``case_milestone`` (for a hub: its own deliverables)
invitations               ``timeline_event``: each answer (accepted, declined, lapsed) and
                          the invitation it answers (for a hub: the invitations to it)
signature turnaround      ``case_phase`` days in ``signing``
days in each phase        ``case_phase`` (phases left; the endings are not phases)
cross-border share        ``case_party`` × ``hub.country`` over cases with a partner hub
repeat collaborations     ``case_party`` pairs (lead, partner) met in more than one case
========================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlmodel import Session

from domain.cases import ENDINGS
from store.models import Case, CaseMilestone, CaseParty, CasePhase, CaseReview, Hub, TimelineEntry

# the case table's columns, typed for SQL expressions
CASE = Case.__table__.c  # type: ignore[attr-defined]
MIN_REVIEWS = 3  # no review score from fewer reviews than this
PARTY_ROLES = ("lead", "partner", "matched")  # the hubs that took part in a case
SURVEY_SCORES = ("quality", "timeliness", "communication", "value", "rating")
PEER_SCORES = ("reliability", "contribution")
OUTCOMES = ("completed", "no_review", "rejected", "cancelled", "expired")
PHASE_ORDER = (  # the phases in lifecycle order, for reading
    "requested",
    "partnering",
    "matching",
    "introducing",
    "meeting",
    "drafting",
    "legal_review",
    "signing",
    "delivery",
    "development",
    "pilot",
    "follow_up",
    "review",
)


class days_between(FunctionElement[float]):  # noqa: N801 (an SQL function)
    """Calendar days (fractional) from the first timestamp to the second, on either store."""

    type = sa.Float()
    inherit_cache = True


@compiles(days_between)
def _days_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({b}) - julianday({a}))"


@compiles(days_between, "postgresql")
def _days_postgres(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM (CAST({b} AS timestamptz) - CAST({a} AS timestamptz))) / 86400.0)"


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime
    hub_id: str | None = None
    scenario: str | None = None


def _mean(total: Any, n: int, minimum: int = 1) -> dict[str, Any]:
    mean = None if n < minimum or total is None else round(float(total) / n, 2)
    return {"mean": mean, "n": n}


def _share(part: Any, n: int) -> dict[str, Any]:
    return {"share": round(float(part or 0) / n, 4) if n else None, "n": n}


def scope_cases(scope: Scope) -> sa.Select[Any]:
    """The ids of the cases in scope: ended in the period, of the scenario, with the hub."""
    party = CaseParty.__table__.c  # type: ignore[attr-defined]
    # the period is the selective term: ``coalesce`` keeps SQLite from choosing the state index
    # over the range of ``ix_case_ended`` (which covers the whole filter)
    query = sa.select(CASE.id).where(
        CASE.state_since >= scope.start,
        CASE.state_since < scope.end,
        sa.func.coalesce(CASE.state, "").in_(ENDINGS),
    )
    if scope.scenario:
        query = query.where(CASE.scenario == scope.scenario)
    if scope.hub_id:
        query = query.where(
            CASE.id.in_(
                sa.select(party.case_id).where(
                    party.hub_id == scope.hub_id, party.role.in_(PARTY_ROLES)
                )
            )
        )
    return query


def indicators(session: Session, scope: Scope) -> dict[str, Any]:
    """Every indicator of ``scope`` (see the module's table)."""
    cases = scope_cases(scope).cte("scope_cases")
    phases = _phase_days(session, cases)
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat()},
        "hub_id": scope.hub_id,
        "scenario": scope.scenario,
        "cases": _cases(session, cases),
        "satisfaction": _satisfaction(session, cases),
        "peer_reviews": _peer_reviews(session, cases, scope.hub_id),
        "on_time": _on_time(session, cases, scope.hub_id),
        "invitations": _invitations(session, cases, scope.hub_id),
        "signature_turnaround_days": phases.get("signing", _mean(None, 0)),
        "phase_days": phases,
        "cross_border": _cross_border(session, cases),
        "repeat_collaborations": _repeats(session, cases, scope.hub_id),
    }


def _ending() -> ColumnElement[Any]:
    """A case's ending: the outcome of a closed case, else its final state."""
    closed = sa.func.coalesce(CASE.outcome, "completed")
    return sa.case((CASE.state == "closed", closed), else_=CASE.state)


def _cases(session: Session, cases: Any) -> dict[str, Any]:
    ending = _ending().label("ending")
    rows = session.execute(
        sa.select(CASE.scenario, ending, sa.func.count())
        .where(CASE.id.in_(sa.select(cases.c.id)))
        .group_by(CASE.scenario, ending)
    ).all()
    by_outcome = dict.fromkeys(OUTCOMES, 0)
    by_scenario: dict[str, dict[str, int]] = {}
    for scenario, outcome, n in rows:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        by_scenario.setdefault(scenario, dict.fromkeys(OUTCOMES, 0))[outcome] = n
    return {"total": sum(by_outcome.values()), "by_outcome": by_outcome, "by_scenario": by_scenario}


def _satisfaction(session: Session, cases: Any) -> dict[str, Any]:
    r = CaseReview.__table__.c  # type: ignore[attr-defined]
    columns = []
    for name in SURVEY_SCORES:
        columns += [sa.func.sum(r[name]), sa.func.count(r[name])]
    recommend = sa.case((r.would_recommend.is_(True), 1), else_=0)
    columns += [sa.func.sum(recommend), sa.func.count(r.would_recommend)]
    row = session.execute(
        sa.select(*columns).where(
            r.case_id.in_(sa.select(cases.c.id)), r.kind.in_(("survey", "rating"))
        )
    ).one()
    out = {
        name: _mean(row[2 * i], row[2 * i + 1], MIN_REVIEWS) for i, name in enumerate(SURVEY_SCORES)
    }
    n = row[-1]
    out["would_recommend"] = _share(row[-2], n) if n >= MIN_REVIEWS else {"share": None, "n": n}
    return out


def _peer_reviews(session: Session, cases: Any, hub_id: str | None) -> dict[str, Any]:
    r = CaseReview.__table__.c  # type: ignore[attr-defined]
    again = sa.case((r.would_collaborate_again.is_(True), 1), else_=0)
    query = sa.select(
        sa.func.sum(r.reliability),
        sa.func.sum(r.contribution),
        sa.func.sum(again),
        sa.func.count(),
    ).where(r.case_id.in_(sa.select(cases.c.id)), r.kind == "peer")
    if hub_id:
        query = query.where(r.subject == hub_id)  # what the others say of this hub
    reliability, contribution, again_n, n = session.execute(query).one()
    return {
        "reliability": _mean(reliability, n, MIN_REVIEWS),
        "contribution": _mean(contribution, n, MIN_REVIEWS),
        "would_collaborate_again": _share(again_n, n)
        if n >= MIN_REVIEWS
        else {"share": None, "n": n},
    }


def _on_time(session: Session, cases: Any, hub_id: str | None) -> dict[str, Any]:
    m = CaseMilestone.__table__.c  # type: ignore[attr-defined]
    query = sa.select(
        sa.func.sum(sa.case((m.on_time.is_(True), 1), else_=0)), sa.func.count()
    ).where(m.case_id.in_(sa.select(cases.c.id)), m.on_time.is_not(None))
    if hub_id:
        query = query.where(m.hub_id == hub_id)
    on_time, n = session.execute(query).one()
    rate = _share(on_time, n)
    return {"rate": rate["share"], "n": n}


def _invitations(session: Session, cases: Any, hub_id: str | None) -> dict[str, Any]:
    answer = TimelineEntry.__table__.alias("answer")  # type: ignore[attr-defined]
    invite = TimelineEntry.__table__.alias("invite")  # type: ignore[attr-defined]
    hub = answer.c.data["hub_id"].as_string()
    # the invitation an answer answers: the latest partners_invited naming the hub before it
    invited_at = (
        sa.select(invite.c.at)
        .where(
            invite.c.case_id == answer.c.case_id,
            invite.c.type == "partners_invited",
            invite.c.seq < answer.c.seq,
            sa.cast(invite.c.data, sa.String).like(sa.literal('%"') + hub + sa.literal('"%')),
        )
        .order_by(invite.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    answered = answer.c.type.in_(("invitation_accepted", "invitation_declined"))
    days = sa.case((answered, days_between(invited_at, answer.c.at)))
    query = sa.select(
        sa.func.sum(sa.case((answer.c.type == "invitation_accepted", 1), else_=0)),
        sa.func.count(),
        sa.func.sum(days),
        sa.func.count(days),
    ).where(
        answer.c.case_id.in_(sa.select(cases.c.id)),
        answer.c.type.in_(("invitation_accepted", "invitation_declined", "invitation_lapsed")),
    )
    if hub_id:
        query = query.where(hub == hub_id)
    accepted, n, total_days, answered_n = session.execute(query).one()
    return {
        "acceptance": {"rate": _share(accepted, n)["share"], "n": n},
        "response_days": _mean(total_days, answered_n),
    }


def _phase_days(session: Session, cases: Any) -> dict[str, dict[str, Any]]:
    p = CasePhase.__table__.c  # type: ignore[attr-defined]
    days = days_between(p.entered_at, p.left_at)
    rows = session.execute(
        sa.select(p.state, sa.func.sum(days), sa.func.count())
        .where(p.case_id.in_(sa.select(cases.c.id)), p.left_at.is_not(None))
        .group_by(p.state)
    ).all()
    order = {state: i for i, state in enumerate(PHASE_ORDER)}
    rows = sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0]))
    return {state: _mean(total, n) for state, total, n in rows}


def _hub_pairs(cases: Any) -> Any:
    """(case, lead, partner) for each partner or matched hub of the cases in scope."""
    lead = CaseParty.__table__.alias("lead")  # type: ignore[attr-defined]
    partner = CaseParty.__table__.alias("partner")  # type: ignore[attr-defined]
    return (
        sa.select(
            lead.c.case_id.label("case_id"),
            lead.c.hub_id.label("lead"),
            partner.c.hub_id.label("partner"),
        )
        .join(partner, partner.c.case_id == lead.c.case_id)
        .where(
            lead.c.role == "lead",
            partner.c.role.in_(("partner", "matched")),
            lead.c.case_id.in_(sa.select(cases.c.id)),
        )
        .subquery()
    )


def _cross_border(session: Session, cases: Any) -> dict[str, Any]:
    party = CaseParty.__table__.c  # type: ignore[attr-defined]
    hubs = Hub.__table__  # type: ignore[attr-defined]
    per_case = (
        sa.select(
            party.case_id,
            sa.func.count(sa.distinct(hubs.c.country)).label("countries"),
            sa.func.count().label("hubs"),
        )
        .join(hubs, hubs.c.id == party.hub_id)
        .where(party.case_id.in_(sa.select(cases.c.id)), party.role.in_(PARTY_ROLES))
        .group_by(party.case_id)
        .subquery()
    )
    cross, n = session.execute(
        sa.select(
            sa.func.sum(sa.case((per_case.c.countries > 1, 1), else_=0)), sa.func.count()
        ).where(per_case.c.hubs > 1)
    ).one()
    return _share(cross, n)


def _repeats(session: Session, cases: Any, hub_id: str | None) -> dict[str, Any]:
    """Collaborations (a lead with a partner in one case) between two hubs that worked
    together in more than one case of the period (``share`` of all collaborations), and how
    many such pairs there are."""
    pairs = _hub_pairs(cases)
    # a pair either way round: the lead of one case may be the partner in the next
    low = sa.case((pairs.c.lead < pairs.c.partner, pairs.c.lead), else_=pairs.c.partner)
    high = sa.case((pairs.c.lead < pairs.c.partner, pairs.c.partner), else_=pairs.c.lead)
    per_pair = sa.select(low, high, sa.func.count().label("cases")).group_by(low, high)
    if hub_id:
        per_pair = per_pair.where(sa.or_(pairs.c.lead == hub_id, pairs.c.partner == hub_id))
    counted = per_pair.subquery()
    repeated_pairs, repeated, n = session.execute(
        sa.select(
            sa.func.sum(sa.case((counted.c.cases > 1, 1), else_=0)),
            sa.func.sum(sa.case((counted.c.cases > 1, counted.c.cases), else_=0)),
            sa.func.sum(counted.c.cases),
        )
    ).one()
    n = int(n or 0)
    return {"pairs": int(repeated_pairs or 0), **_share(repeated, n)}
