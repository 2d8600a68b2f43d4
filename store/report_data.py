"""What the network's collaboration report reads beyond the indicators, from the per-case
summaries (``store.summary``) of the cases that ended in a period: days per phase by scenario
with the bottleneck phases, why cases failed, the cross-border country × country matrix, and
the framework agreement's register (a hook: nothing until a register table exists)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.cases import Scenario
from store.indicators import Scope, hub_pairs, indicators, phase_days, summary_rows
from store.summary import CASE_SUMMARY, PHASE_COLUMNS, SETBACKS

FAILED = ("rejected", "cancelled", "expired")
TOP_REASONS = 10
# The framework agreement's register of signatories, kept by the framework agreement's own
# tables when they exist: the report asks for this table and shows nothing without it.
FRAMEWORK_REGISTER_TABLE = "framework_signatory"


def report_data(session: Session, scope: Scope) -> dict[str, Any]:
    """Everything the report shows, as plain data (charts are drawn from it)."""
    return {
        "indicators": indicators(session, scope),
        "phases_by_scenario": phases_by_scenario(session, scope),
        "failures": failures(session, scope),
        "cross_border": country_matrix(session, scope),
        "framework_register": framework_register(session),
    }


def phases_by_scenario(session: Session, scope: Scope) -> dict[str, dict[str, Any]]:
    """Mean days per phase for each scenario, and its bottlenecks: the phases taking the
    most days on average (the longest, and any within a day of it)."""
    s = CASE_SUMMARY.c
    source, where = summary_rows(Scope(scope.start, scope.end, hub_id=scope.hub_id))
    rows = session.execute(
        sa.select(s.scenario, *(sa.func.sum(s[name]) for name in PHASE_COLUMNS))
        .select_from(source)
        .where(where)
        .group_by(s.scenario)
    ).all()
    totals = {row[0]: dict(zip(PHASE_COLUMNS, row[1:], strict=True)) for row in rows}
    out: dict[str, dict[str, Any]] = {}
    for scenario in Scenario:
        phases = phase_days(totals.get(scenario.value, dict.fromkeys(PHASE_COLUMNS, 0)))
        means = {p: f["mean"] for p, f in phases.items() if f["mean"] is not None}
        longest = max(means.values(), default=None)
        out[scenario.value] = {
            "phases": phases,
            "bottlenecks": [p for p, m in means.items() if longest and m >= longest - 1],
        }
    return out


def failures(session: Session, scope: Scope) -> dict[str, Any]:
    """Failed cases by ending and by the reason given (the back office's or the lead's on a
    cancellation or rejection, the system's on an expiry), and the setbacks on the way."""
    s = CASE_SUMMARY.c
    source, where = summary_rows(scope)
    rows = session.execute(
        sa.select(s.ending, s.end_reason, sa.func.count())
        .select_from(source)
        .where(where, s.ending.in_(FAILED))
        .group_by(s.ending, s.end_reason)
    ).all()
    reasons: dict[tuple[str, str], int] = {}
    for state, text, n in rows:
        key = (state, (text or "").strip() or "no reason given")
        reasons[key] = reasons.get(key, 0) + n
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    counts = session.execute(
        sa.select(*(sa.func.sum(s[f"{t}_n"]) for t in SETBACKS)).select_from(source).where(where)
    ).one()
    by_ending = {state: sum(n for (s_, _), n in reasons.items() if s_ == state) for state in FAILED}
    return {
        "by_ending": by_ending,
        "reasons": [{"ending": e, "reason": r, "cases": n} for (e, r), n in top],
        "setbacks": {t: int(n or 0) for t, n in zip(SETBACKS, counts, strict=True)},
    }


def country_matrix(session: Session, scope: Scope) -> dict[str, Any]:
    """Collaborations (a lead hub with a partner or matched hub) by the lead's country (rows)
    and the partner's (columns); for a hub, the collaborations it is in."""
    pairs = hub_pairs(scope)
    rows = session.execute(
        sa.select(pairs.c.lead_country, pairs.c.partner_country, sa.func.count()).group_by(
            pairs.c.lead_country, pairs.c.partner_country
        )
    ).all()
    countries = sorted({r[0] for r in rows} | {r[1] for r in rows})
    cells = {(a, b): n for a, b, n in rows}
    return {
        "countries": countries,
        "rows": [[cells.get((a, b), 0) for b in countries] for a in countries],
        "total": sum(cells.values()),
        "cross_border": sum(n for (a, b), n in cells.items() if a != b),
    }


def framework_register(session: Session) -> list[dict[str, Any]] | None:
    """The framework agreement's register of signatory hubs, when the store has one
    (``FRAMEWORK_REGISTER_TABLE``); None otherwise, and the report leaves the section out."""
    inspector = sa.inspect(session.connection())
    if not inspector.has_table(FRAMEWORK_REGISTER_TABLE):
        return None
    table = sa.Table(FRAMEWORK_REGISTER_TABLE, sa.MetaData(), autoload_with=session.connection())
    return [dict(row._mapping) for row in session.execute(sa.select(table)).all()]
