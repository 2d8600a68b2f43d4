"""One narrow row per ended case (``case_summary``) and one per hub of it
(``case_hub_summary``): every figure the indicators and the network report add up, worked out
per case from the store's rows (the timeline, party, phase, review and milestone tables) when
the case reaches its ending, so a period's indicators are one pass over its cases' summaries
and a hub's one index range over its own rows (migration 0014).

Written by the case's projection (``store.records.project_case``) in the transaction that
records the ending, and again by any later step of the ended case (a late review or a changed
milestone): ``summarise_cases`` replaces the rows of the cases it is given, so a retried
projection leaves one row per case. Migration 0014 and ``rebuild_summaries`` fill the tables
from the ended cases already stored, with the same function.

A hub whose country changes (a corrected profile) has its summaries' countries and its cases'
cross-border flags updated with it (``hub_country_changed``), as the figures read the hubs'
countries of today.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlmodel import SQLModel

from domain.cases import ENDINGS
from store.models import Case, CaseMilestone, CaseParty, CasePhase, CaseReview, Hub, TimelineEntry

CASE = Case.__table__.c  # type: ignore[attr-defined]
PARTY_ROLES = ("lead", "partner", "matched")  # the hubs that took part in a case
PAIR_ROLES = ("partner", "matched")  # a hub that worked with the lead
SURVEY_SCORES = ("quality", "timeliness", "communication", "value", "rating")
PHASE_ORDER = (  # the phases in lifecycle order (every state but the endings)
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
ANSWERS = ("invitation_accepted", "invitation_declined", "invitation_lapsed")
BATCH = 500  # cases summarised per round of queries when rebuilding
REASON_LENGTH = 500


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


def ending() -> ColumnElement[Any]:
    """A case's ending: the outcome of a closed case, else its final state."""
    closed = sa.func.coalesce(CASE.outcome, "completed")
    return sa.case((CASE.state == "closed", closed), else_=CASE.state)


# -- the tables -----------------------------------------------------------------------------
def _count(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def _days(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Float, nullable=False, server_default="0")


# the figures of a case about one hub (and, summed over its subjects, about the case)
PEER_COLUMNS = ("peer_reliability", "peer_contribution", "peer_again", "peer_n")
ON_TIME_COLUMNS = ("on_time", "on_time_n")
INVITATION_COLUMNS = ("invitations_accepted", "invitations_n", "response_days", "responses_n")
SURVEY_COLUMNS = tuple(f"{s}_{part}" for s in SURVEY_SCORES for part in ("sum", "n")) + (
    "recommend_yes",
    "recommend_n",
)
PHASE_COLUMNS = tuple(f"{p}_{part}" for p in PHASE_ORDER for part in ("days", "n"))
SETBACK_COLUMNS = tuple(f"{t}_n" for t in SETBACKS)
FLOATS = {"response_days"} | {f"{p}_days" for p in PHASE_ORDER}
CASE_FIGURES = (
    ("multi_hub", "cross_border")
    + SURVEY_COLUMNS
    + PEER_COLUMNS
    + ON_TIME_COLUMNS
    + INVITATION_COLUMNS
    + PHASE_COLUMNS
    + SETBACK_COLUMNS
)


def _figures(names: Iterable[str]) -> list[sa.Column[Any]]:
    return [_days(n) if n in FLOATS else _count(n) for n in names]


CASE_SUMMARY = sa.Table(
    "case_summary",
    SQLModel.metadata,
    sa.Column("case_id", sa.String(40), sa.ForeignKey("case.id"), primary_key=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("scenario", sa.String(20), nullable=False),
    sa.Column("ending", sa.String(20), nullable=False),
    sa.Column("lead_hub_id", sa.String(64), nullable=False),
    sa.Column("end_reason", sa.String(REASON_LENGTH), nullable=False, server_default=""),
    sa.Column("multi_hub", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cross_border", sa.Integer, nullable=False, server_default="0"),
    *_figures(SURVEY_COLUMNS + PEER_COLUMNS + ON_TIME_COLUMNS + INVITATION_COLUMNS),
    *_figures(PHASE_COLUMNS + SETBACK_COLUMNS),
    # the cases of a period by scenario and ending, read from the index alone
    sa.Index("ix_case_summary_period", "ended_at", "scenario", "ending"),
)

CASE_HUB_SUMMARY = sa.Table(
    "case_hub_summary",
    SQLModel.metadata,
    sa.Column("case_id", sa.String(40), sa.ForeignKey("case.id"), primary_key=True),
    sa.Column("hub_id", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("scenario", sa.String(20), nullable=False),
    sa.Column("lead_hub_id", sa.String(64), nullable=False),
    sa.Column("country", sa.String(2), nullable=False, server_default=""),
    sa.Column("lead_country", sa.String(2), nullable=False, server_default=""),
    *_figures(PEER_COLUMNS + ON_TIME_COLUMNS + INVITATION_COLUMNS),
    # the network's collaborations (pairs and their countries) by period, read from the index
    # alone; a hub's rows by hub, and the rows of the cases it led (its pairs as lead)
    sa.Index(
        "ix_case_hub_summary_period",
        *("ended_at", "role", "scenario", "lead_hub_id", "hub_id", "lead_country", "country"),
    ),
    sa.Index("ix_case_hub_summary_hub", "hub_id", "ended_at"),
    sa.Index("ix_case_hub_summary_lead", "lead_hub_id", "ended_at"),
)


# -- writing --------------------------------------------------------------------------------
def summarise_cases(conn: sa.Connection, case_ids: Sequence[str]) -> int:
    """Replace the summary rows of ``case_ids`` with their figures from the store; a case not
    (or no longer) in an ending gets none. How many cases were summarised."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        return 0
    for table in (CASE_HUB_SUMMARY, CASE_SUMMARY):
        conn.execute(sa.delete(table).where(table.c.case_id.in_(ids)))
    cases = {
        row.id: {
            "case_id": row.id,
            "ended_at": row.state_since,
            "scenario": row.scenario,
            "ending": row.ending,
            "lead_hub_id": row.lead_hub_id,
            "end_reason": row.reason or "",
        }
        for row in conn.execute(
            sa.select(
                CASE.id,
                CASE.state_since,
                CASE.scenario,
                ending().label("ending"),
                CASE.lead_hub_id,
                CASE.facts["end_reason"].as_string().label("reason"),
            ).where(CASE.id.in_(ids), CASE.state.in_(ENDINGS), CASE.state_since.is_not(None))
        )
    }
    if not cases:
        return 0
    ids = list(cases)
    for row in cases.values():
        row.update(dict.fromkeys(CASE_FIGURES, 0))
    hubs = _parties(conn, cases)
    _surveys(conn, ids, cases)
    _per_hub(conn, ids, cases, hubs)
    _phases(conn, ids, cases)
    _events(conn, ids, cases)
    for row in cases.values():
        row["end_reason"] = row["end_reason"].strip()[:REASON_LENGTH]
    conn.execute(sa.insert(CASE_SUMMARY), list(cases.values()))
    if hubs:
        conn.execute(sa.insert(CASE_HUB_SUMMARY), list(hubs.values()))
    return len(cases)


def rebuild_summaries(conn: sa.Connection, batch: int = BATCH) -> int:
    """Summarise every ended case in the store (migration 0014, a bulk load); how many."""
    done, after = 0, ""
    while True:
        ids = list(
            conn.execute(
                sa.select(CASE.id)  # by the key alone: the cases still open are left out later
                .where(CASE.id > after)
                .order_by(CASE.id)
                .limit(batch)
            ).scalars()
        )
        if not ids:
            return done
        done += summarise_cases(conn, ids)
        after = ids[-1]


def _parties(
    conn: sa.Connection, cases: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """A row per hub of each case, with the hub's and the lead's countries; the case's
    cross-border flags from its taking-part hubs."""
    party = CaseParty.__table__.c  # type: ignore[attr-defined]
    hub = Hub.__table__.c  # type: ignore[attr-defined]
    rows = conn.execute(
        sa.select(party.case_id, party.hub_id, party.role, hub.country)
        .join(Hub.__table__, hub.id == party.hub_id)  # type: ignore[attr-defined]
        .where(party.case_id.in_(list(cases)))
    ).all()
    countries: dict[str, dict[str, str]] = {}  # case → taking-part hub → country
    for case_id, hub_id, role, country in rows:
        if role in PARTY_ROLES:
            countries.setdefault(case_id, {})[hub_id] = country or ""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for case_id, hub_id, role, country in rows:
        case = cases[case_id]
        taking_part = countries.get(case_id, {})
        out[(case_id, hub_id)] = {
            "case_id": case_id,
            "hub_id": hub_id,
            "role": role,
            "ended_at": case["ended_at"],
            "scenario": case["scenario"],
            "lead_hub_id": case["lead_hub_id"],
            "country": country or "",
            "lead_country": taking_part.get(case["lead_hub_id"], ""),
            **dict.fromkeys(PEER_COLUMNS + ON_TIME_COLUMNS + INVITATION_COLUMNS, 0),
        }
    for case_id, taking_part in countries.items():
        cases[case_id]["multi_hub"] = int(len(taking_part) > 1)
        cases[case_id]["cross_border"] = int(len(set(taking_part.values())) > 1)
    return out


def _surveys(conn: sa.Connection, ids: list[str], cases: dict[str, dict[str, Any]]) -> None:
    """The client's or local player's survey (or the one rating of older cases)."""
    r = CaseReview.__table__.c  # type: ignore[attr-defined]
    columns: list[Any] = []
    for name in SURVEY_SCORES:
        columns += [sa.func.sum(r[name]), sa.func.count(r[name])]
    recommend = sa.case((r.would_recommend.is_(True), 1), else_=0)
    columns += [sa.func.sum(recommend), sa.func.count(r.would_recommend)]
    for case_id, *figures in conn.execute(
        sa.select(r.case_id, *columns)
        .where(r.case_id.in_(ids), r.kind.in_(("survey", "rating")))
        .group_by(r.case_id)
    ):
        cases[case_id].update(zip(SURVEY_COLUMNS, (int(f or 0) for f in figures), strict=True))


def _add(
    cases: dict[str, dict[str, Any]],
    hubs: dict[tuple[str, str], dict[str, Any]],
    case_id: str,
    hub_id: str | None,
    figures: dict[str, Any],
) -> None:
    """Add a hub's figures to its case's and, when the hub is a party, to its own row."""
    for target in (cases[case_id], hubs.get((case_id, hub_id or ""))):
        if target is not None:
            for name, value in figures.items():
                target[name] += value or 0


def _per_hub(
    conn: sa.Connection,
    ids: list[str],
    cases: dict[str, dict[str, Any]],
    hubs: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """Peer reviews (by the hub reviewed), deliverables on time (by the hub delivering) and
    invitation answers (by the hub invited)."""
    r = CaseReview.__table__.c  # type: ignore[attr-defined]
    again = sa.case((r.would_collaborate_again.is_(True), 1), else_=0)
    for case_id, subject, *figures in conn.execute(
        sa.select(
            r.case_id,
            r.subject,
            sa.func.sum(r.reliability),
            sa.func.sum(r.contribution),
            sa.func.sum(again),
            sa.func.count(),
        )
        .where(r.case_id.in_(ids), r.kind == "peer")
        .group_by(r.case_id, r.subject)
    ):
        _add(cases, hubs, case_id, subject, dict(zip(PEER_COLUMNS, figures, strict=True)))
    m = CaseMilestone.__table__.c  # type: ignore[attr-defined]
    for case_id, hub_id, *figures in conn.execute(
        sa.select(
            m.case_id,
            m.hub_id,
            sa.func.sum(sa.case((m.on_time.is_(True), 1), else_=0)),
            sa.func.count(),
        )
        .where(m.case_id.in_(ids), m.on_time.is_not(None))
        .group_by(m.case_id, m.hub_id)
    ):
        _add(cases, hubs, case_id, hub_id, dict(zip(ON_TIME_COLUMNS, figures, strict=True)))
    for case_id, hub_id, *figures in conn.execute(_answers(ids)):
        _add(cases, hubs, case_id, hub_id, dict(zip(INVITATION_COLUMNS, figures, strict=True)))


def _answers(ids: list[str]) -> sa.Select[Any]:
    """Each case's invitation answers (accepted, declined, lapsed) by the hub invited, and the
    days from the invitation it answers (the latest ``partners_invited`` naming the hub
    before it) to each acceptance or decline."""
    answer = TimelineEntry.__table__.alias("answer")  # type: ignore[attr-defined]
    invite = TimelineEntry.__table__.alias("invite")  # type: ignore[attr-defined]
    hub = answer.c.data["hub_id"].as_string()
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
    answered = answer.c.type.in_(ANSWERS[:2])
    days = sa.case((answered, days_between(invited_at, answer.c.at)))
    return (
        sa.select(
            answer.c.case_id,
            hub,
            sa.func.sum(sa.case((answer.c.type == "invitation_accepted", 1), else_=0)),
            sa.func.count(),
            sa.func.sum(days),
            sa.func.count(days),
        )
        .where(answer.c.case_id.in_(ids), answer.c.type.in_(ANSWERS))
        .group_by(answer.c.case_id, hub)
    )


def _phases(conn: sa.Connection, ids: list[str], cases: dict[str, dict[str, Any]]) -> None:
    """Days in each phase the case left (the endings are not phases)."""
    p = CasePhase.__table__.c  # type: ignore[attr-defined]
    for case_id, state, days, n in conn.execute(
        sa.select(
            p.case_id, p.state, sa.func.sum(days_between(p.entered_at, p.left_at)), sa.func.count()
        )
        .where(p.case_id.in_(ids), p.left_at.is_not(None))  # by the key, not by the state
        .group_by(p.case_id, p.state)
    ):
        if state not in PHASE_ORDER:
            continue
        cases[case_id][f"{state}_days"] = float(days or 0)
        cases[case_id][f"{state}_n"] = n


def _events(conn: sa.Connection, ids: list[str], cases: dict[str, dict[str, Any]]) -> None:
    """The setbacks on the way, and an expired case's reason (the expiry's, not a person's)."""
    e = TimelineEntry.__table__.c  # type: ignore[attr-defined]
    for case_id, type_, n in conn.execute(
        sa.select(e.case_id, e.type, sa.func.count())
        .where(e.case_id.in_(ids), e.type.in_(SETBACKS))
        .group_by(e.case_id, e.type)
    ):
        cases[case_id][f"{type_}_n"] = n
    for case_id, reason in conn.execute(
        sa.select(e.case_id, e.data["reason"].as_string())
        .where(e.case_id.in_(ids), e.type == "expired")
        .order_by(e.case_id, e.seq)
    ):
        if cases[case_id]["ending"] == "expired":
            cases[case_id]["end_reason"] = reason or ""


def hub_country_changed(conn: sa.Connection, hub_id: str, country: str) -> None:
    """Give the hub's summary rows its new country (as a party and as the lead), and work out
    again whether each of its cases is cross-border."""
    h, s = CASE_HUB_SUMMARY.c, CASE_SUMMARY.c
    conn.execute(sa.update(CASE_HUB_SUMMARY).where(h.hub_id == hub_id).values(country=country))
    conn.execute(
        sa.update(CASE_HUB_SUMMARY).where(h.lead_hub_id == hub_id).values(lead_country=country)
    )
    taking_part = CASE_HUB_SUMMARY.alias("taking_part")
    countries = (
        sa.select(sa.func.count(sa.distinct(taking_part.c.country)))
        .where(taking_part.c.case_id == s.case_id, taking_part.c.role.in_(PARTY_ROLES))
        .scalar_subquery()
    )
    conn.execute(
        sa.update(CASE_SUMMARY)
        .where(
            s.case_id.in_(sa.select(h.case_id).where(h.hub_id == hub_id, h.role.in_(PARTY_ROLES)))
        )
        .values(cross_border=sa.case((countries > 1, 1), else_=0))
    )
