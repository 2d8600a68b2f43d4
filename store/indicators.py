"""The network's indicators, by SQL over the store: per hub, per scenario or for the whole
network, over the cases that *ended* in a period (``[start, end)``, by when the case reached
its ending: ``case.state_since`` of a case in an ending state).

Every average comes with its ``n``; a review score from fewer than ``MIN_REVIEWS`` reviews is
not given (``mean`` is None): a small sample is shown as such. The figures are added up from
the per-case summaries (``store.summary``, written when a case ends): the network's are one
pass over its period's ``case_summary`` rows, a hub's one index range over its own
``case_hub_summary`` rows (joined to their cases' summaries), and the repeat collaborations
one grouped query over the pairs' rows. The cost grows with the cases of the period, never
with their events, phases or reviews.

========================  ==================================================================
figure                    per case, from
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
from sqlmodel import Session

from domain.cases import ENDINGS
from store.models import CaseParty
from store.summary import (
    CASE,
    CASE_FIGURES,
    CASE_HUB_SUMMARY,
    CASE_SUMMARY,
    INVITATION_COLUMNS,
    ON_TIME_COLUMNS,
    PAIR_ROLES,
    PARTY_ROLES,
    PEER_COLUMNS,
    PHASE_ORDER,
    SETBACK_COLUMNS,
    SURVEY_SCORES,
)

MIN_REVIEWS = 3  # no review score from fewer reviews than this
OUTCOMES = ("completed", "no_review", "rejected", "cancelled", "expired")
# a hub's own figures: what the others say of it, its deliverables, the invitations to it
HUB_FIGURES = PEER_COLUMNS + ON_TIME_COLUMNS + INVITATION_COLUMNS
FIGURES = tuple(name for name in CASE_FIGURES if name not in SETBACK_COLUMNS)  # the report's


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


def summary_rows(scope: Scope) -> tuple[Any, Any]:
    """The summaries in scope: the cases' (``case_summary``) and, for a hub, the hub's own
    rows (``case_hub_summary``) joined to them: (from clause, where clause)."""
    s, h = CASE_SUMMARY.c, CASE_HUB_SUMMARY.c
    if not scope.hub_id:
        where = [s.ended_at >= scope.start, s.ended_at < scope.end]
        if scope.scenario:
            where.append(s.scenario == scope.scenario)
        return CASE_SUMMARY, sa.and_(*where)
    where = [
        h.hub_id == scope.hub_id,
        h.ended_at >= scope.start,
        h.ended_at < scope.end,
        h.role.in_(PARTY_ROLES),
    ]
    if scope.scenario:
        where.append(h.scenario == scope.scenario)
    return CASE_HUB_SUMMARY.join(CASE_SUMMARY, s.case_id == h.case_id), sa.and_(*where)


def totals(session: Session, scope: Scope) -> tuple[list[tuple[str, str, int]], dict[str, Any]]:
    """The cases in scope by (scenario, ending), and every figure's total over them (a hub's
    own figures from its rows, the others from its cases'): two passes over the summaries in
    scope, the first over an index alone (a grouped pass summing every figure costs twice
    their sum)."""
    s, h = CASE_SUMMARY.c, CASE_HUB_SUMMARY.c
    source, where = summary_rows(scope)
    counts = session.execute(
        sa.select(s.scenario, s.ending, sa.func.count())
        .select_from(source)
        .where(where)
        .group_by(s.scenario, s.ending)
    ).all()
    names = list(FIGURES)
    row = session.execute(
        sa.select(
            *(
                sa.func.sum(h[name] if scope.hub_id and name in HUB_FIGURES else s[name])
                for name in names
            )
        )
        .select_from(source)
        .where(where)
    ).one()
    return [(c[0], c[1], c[2]) for c in counts], {
        name: value or 0 for name, value in zip(names, row, strict=True)
    }


def indicators(session: Session, scope: Scope) -> dict[str, Any]:
    """Every indicator of ``scope`` (see the module's table)."""
    counts, t = totals(session, scope)
    phases = phase_days(t)
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat()},
        "hub_id": scope.hub_id,
        "scenario": scope.scenario,
        "cases": _cases(counts),
        "satisfaction": _satisfaction(t),
        "peer_reviews": _peer_reviews(t),
        "on_time": {"rate": _share(t["on_time"], t["on_time_n"])["share"], "n": t["on_time_n"]},
        "invitations": {
            "acceptance": {
                "rate": _share(t["invitations_accepted"], t["invitations_n"])["share"],
                "n": t["invitations_n"],
            },
            "response_days": _mean(t["response_days"], t["responses_n"]),
        },
        "signature_turnaround_days": phases.get("signing", _mean(None, 0)),
        "phase_days": phases,
        "cross_border": _share(t["cross_border"], t["multi_hub"]),
        "repeat_collaborations": _repeats(session, scope),
    }


def _cases(counts: list[tuple[str, str, int]]) -> dict[str, Any]:
    by_outcome = dict.fromkeys(OUTCOMES, 0)
    by_scenario: dict[str, dict[str, int]] = {}
    for scenario, outcome, n in counts:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        by_scenario.setdefault(scenario, dict.fromkeys(OUTCOMES, 0))[outcome] = n
    return {"total": sum(by_outcome.values()), "by_outcome": by_outcome, "by_scenario": by_scenario}


def _satisfaction(t: dict[str, Any]) -> dict[str, Any]:
    out = {name: _mean(t[f"{name}_sum"], t[f"{name}_n"], MIN_REVIEWS) for name in SURVEY_SCORES}
    n = t["recommend_n"]
    out["would_recommend"] = (
        _share(t["recommend_yes"], n) if n >= MIN_REVIEWS else {"share": None, "n": n}
    )
    return out


def _peer_reviews(t: dict[str, Any]) -> dict[str, Any]:
    n = t["peer_n"]
    return {
        "reliability": _mean(t["peer_reliability"], n, MIN_REVIEWS),
        "contribution": _mean(t["peer_contribution"], n, MIN_REVIEWS),
        "would_collaborate_again": _share(t["peer_again"], n)
        if n >= MIN_REVIEWS
        else {"share": None, "n": n},
    }


def phase_days(t: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mean days in each phase the cases went through, in lifecycle order."""
    return {
        state: _mean(t[f"{state}_days"], t[f"{state}_n"])
        for state in PHASE_ORDER
        if t[f"{state}_n"]
    }


def hub_pairs(scope: Scope) -> Any:
    """(lead, partner, their countries) for each partner or matched hub of the cases in scope;
    for a hub, the pairs it is in (as the lead or as the partner)."""
    h = CASE_HUB_SUMMARY.c

    def pairs(*where: Any) -> sa.Select[Any]:
        query = sa.select(
            h.lead_hub_id.label("lead"),
            h.hub_id.label("partner"),
            h.lead_country.label("lead_country"),
            h.country.label("partner_country"),
        ).where(h.ended_at >= scope.start, h.ended_at < scope.end, h.role.in_(PAIR_ROLES), *where)
        return query.where(h.scenario == scope.scenario) if scope.scenario else query

    if not scope.hub_id:
        return pairs().subquery()
    return sa.union_all(
        pairs(h.hub_id == scope.hub_id), pairs(h.lead_hub_id == scope.hub_id)
    ).subquery()


def _repeats(session: Session, scope: Scope) -> dict[str, Any]:
    """Collaborations (a lead with a partner in one case) between two hubs that worked
    together in more than one case of the period (``share`` of all collaborations), and how
    many such pairs there are."""
    pairs = hub_pairs(scope)
    # a pair either way round: the lead of one case may be the partner in the next
    low = sa.case((pairs.c.lead < pairs.c.partner, pairs.c.lead), else_=pairs.c.partner)
    high = sa.case((pairs.c.lead < pairs.c.partner, pairs.c.partner), else_=pairs.c.lead)
    counted = sa.select(low, high, sa.func.count().label("cases")).group_by(low, high).subquery()
    repeated_pairs, repeated, n = session.execute(
        sa.select(
            sa.func.sum(sa.case((counted.c.cases > 1, 1), else_=0)),
            sa.func.sum(sa.case((counted.c.cases > 1, counted.c.cases), else_=0)),
            sa.func.sum(counted.c.cases),
        )
    ).one()
    n = int(n or 0)
    return {"pairs": int(repeated_pairs or 0), **_share(repeated, n)}
