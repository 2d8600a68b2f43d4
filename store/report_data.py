"""What the network's collaboration report reads beyond the indicators, by SQL over the
cases that ended in a period: days per phase by scenario with the bottleneck phases, why
cases failed, the cross-border country × country matrix, and the framework agreement's
register (a hook: nothing until a register table exists)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.cases import Scenario
from store.indicators import CASE, Scope, _hub_pairs, _phase_days, indicators, scope_cases
from store.models import Hub, TimelineEntry

# the event types that tell why a case did not go ahead, or went ahead with a setback
SETBACKS = (
    "invitation_declined",
    "invitation_lapsed",
    "consent_declined",
    "signature_declined",
    "changes_requested",
    "deliverable_rejected",
    "deliverable_overdue",
)
FAILED = ("rejected", "cancelled", "expired")
EVENT = TimelineEntry.__table__.c  # type: ignore[attr-defined]
TOP_REASONS = 10
# The framework agreement's register of signatories, kept by the framework agreement's own
# tables when they exist: the report asks for this table and shows nothing without it.
FRAMEWORK_REGISTER_TABLE = "framework_signatory"


def report_data(session: Session, scope: Scope) -> dict[str, Any]:
    """Everything the report shows, as plain data (charts are drawn from it)."""
    cases = scope_cases(scope).cte("scope_cases")
    return {
        "indicators": indicators(session, scope),
        "phases_by_scenario": phases_by_scenario(session, scope),
        "failures": failures(session, cases),
        "cross_border": country_matrix(session, cases),
        "framework_register": framework_register(session),
    }


def phases_by_scenario(session: Session, scope: Scope) -> dict[str, dict[str, Any]]:
    """Mean days per phase for each scenario, and its bottlenecks: the phases taking the
    most days on average (the longest, and any within a day of it)."""
    out: dict[str, dict[str, Any]] = {}
    for scenario in Scenario:
        cases = scope_cases(
            Scope(scope.start, scope.end, hub_id=scope.hub_id, scenario=scenario.value)
        ).cte("scope_cases")
        phases = _phase_days(session, cases)
        means = {p: f["mean"] for p, f in phases.items() if f["mean"] is not None}
        longest = max(means.values(), default=None)
        out[scenario.value] = {
            "phases": phases,
            "bottlenecks": [p for p, m in means.items() if longest and m >= longest - 1],
        }
    return out


def failures(session: Session, cases: Any) -> dict[str, Any]:
    """Failed cases by ending and by the reason given (the back office's or the lead's on a
    cancellation or rejection, the system's on an expiry), and the setbacks on the way."""
    reason = CASE.facts["end_reason"].as_string()
    rows = session.execute(
        sa.select(CASE.state, reason, sa.func.count())
        .where(CASE.id.in_(sa.select(cases.c.id)), CASE.state.in_(FAILED))
        .group_by(CASE.state, reason)
    ).all()
    expired = EVENT.data["reason"].as_string()
    expiries = session.execute(
        sa.select(expired, sa.func.count())
        .where(EVENT.case_id.in_(sa.select(cases.c.id)), EVENT.type == "expired")
        .group_by(expired)
    ).all()
    reasons: dict[tuple[str, str], int] = {}
    for state, text, n in rows:
        if state != "expired":
            key = (state, (text or "").strip() or "no reason given")
            reasons[key] = reasons.get(key, 0) + n
    for text, n in expiries:
        key = ("expired", (text or "").strip() or "no reason given")
        reasons[key] = reasons.get(key, 0) + n
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    setbacks: dict[str, int] = {
        type_: n
        for type_, n in session.execute(
            sa.select(EVENT.type, sa.func.count())
            .where(EVENT.case_id.in_(sa.select(cases.c.id)), EVENT.type.in_(SETBACKS))
            .group_by(EVENT.type)
        ).all()
    }
    by_ending = {state: sum(n for (s, _), n in reasons.items() if s == state) for state in FAILED}
    return {
        "by_ending": by_ending,
        "reasons": [{"ending": s, "reason": r, "cases": n} for (s, r), n in top],
        "setbacks": {t: int(setbacks.get(t, 0)) for t in SETBACKS},
    }


def country_matrix(session: Session, cases: Any) -> dict[str, Any]:
    """Collaborations (a lead hub with a partner or matched hub) by the lead's country (rows)
    and the partner's (columns)."""
    pairs = _hub_pairs(cases)
    lead_hub = Hub.__table__.alias("lead_hub")  # type: ignore[attr-defined]
    partner_hub = Hub.__table__.alias("partner_hub")  # type: ignore[attr-defined]
    rows = session.execute(
        sa.select(lead_hub.c.country, partner_hub.c.country, sa.func.count())
        .select_from(pairs)
        .join(lead_hub, lead_hub.c.id == pairs.c.lead)
        .join(partner_hub, partner_hub.c.id == pairs.c.partner)
        .group_by(lead_hub.c.country, partner_hub.c.country)
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
