"""The quality review's rows, written with each step's projection (``project_case``): the
reviews, the deliverables' dates and the phases a case went through. Idempotent: each row is
keyed by the case and what it records, so a retried projection writes nothing twice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.cases import CaseFacts
from store.models import CaseMilestone, CasePhase, CaseReview

_LATE_STATES = ("delivery", "development", "pilot", "follow_up", "review", "closed")


def _at(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def review_rows(facts: CaseFacts) -> list[CaseReview]:
    """Every review the facts hold, as rows."""
    base: dict[str, Any] = {"case_id": facts.case_id, "scenario": facts.scenario.value}
    rows: list[CaseReview] = []
    party = facts.surveyed_party
    if facts.survey is not None and party is not None:
        s = facts.survey
        rows.append(
            CaseReview(
                **base,
                reviewer=party,
                kind="survey",
                quality=s.quality,
                timeliness=s.timeliness,
                communication=s.communication,
                value=s.value,
                would_recommend=s.would_recommend,
                rating=s.rating,
                comment=s.comment,
                submitted_at=_at(s.at),
            )
        )
    elif facts.review is not None and party is not None:  # one rating (before the survey)
        r = facts.review
        rows.append(
            CaseReview(**base, reviewer=party, kind="rating", rating=r.rating, comment=r.comment)
        )
    for hub_id, r in facts.peer_reviews.items():  # co-development before the survey
        rows.append(
            CaseReview(**base, reviewer=hub_id, kind="rating", rating=r.rating, comment=r.comment)
        )
    for p in facts.hub_reviews:
        rows.append(
            CaseReview(
                **base,
                reviewer=p.reviewer,
                subject=p.subject,
                kind="peer",
                reliability=p.reliability,
                contribution=p.contribution,
                would_collaborate_again=p.would_collaborate_again,
                comment=p.comment,
                submitted_at=_at(p.at),
            )
        )
    return rows


def milestone_row(case_id: str, d: Any) -> CaseMilestone:
    submitted = _at(d.submitted_at)
    on_time = None
    if submitted is not None and d.due:
        on_time = submitted.date() <= date.fromisoformat(d.due)
    return CaseMilestone(
        case_id=case_id,
        deliverable_id=d.id or d.hub_id,
        hub_id=d.hub_id,
        due=d.due,
        submitted_at=submitted,
        accepted_at=_at(d.accepted_at),
        on_time=on_time,
    )


def sync_quality(session: Session, facts: CaseFacts) -> None:
    """Reviews and milestones of a case past signing (earlier states have neither)."""
    if facts.state not in _LATE_STATES and facts.state not in ("cancelled", "expired"):
        return
    reviews = review_rows(facts)
    if reviews:
        stored = {
            (r.reviewer, r.subject)
            for r in session.exec(select(CaseReview).where(CaseReview.case_id == facts.case_id))
        }
        for review in reviews:
            if (review.reviewer, review.subject) not in stored:
                session.add(review)
    if facts.deliverables:
        have = {
            m.deliverable_id: m
            for m in session.exec(
                select(CaseMilestone).where(CaseMilestone.case_id == facts.case_id)
            )
        }
        for d in facts.deliverables:
            row = milestone_row(facts.case_id, d)
            old = have.get(row.deliverable_id)
            if old is None:
                session.add(row)
            elif (old.submitted_at, old.accepted_at, old.on_time) != (
                row.submitted_at,
                row.accepted_at,
                row.on_time,
            ):
                old.submitted_at, old.accepted_at, old.on_time = (
                    row.submitted_at,
                    row.accepted_at,
                    row.on_time,
                )
                session.add(old)


_PHASE = CasePhase.__table__  # type: ignore[attr-defined]
_PHASE_AT = sa.select(_PHASE.c.entered_seq).where(
    _PHASE.c.case_id == sa.bindparam("case_id"), _PHASE.c.entered_seq == sa.bindparam("seq")
)
_LEAVE_PHASE = (
    sa.update(_PHASE)
    .where(_PHASE.c.case_id == sa.bindparam("case_id_"), _PHASE.c.left_at.is_(None))
    .values(left_at=sa.bindparam("at"))
)


def enter_phase(session: Session, case_id: str, state: str, seq: int, at: datetime) -> None:
    """The case moved into ``state`` at ``at`` (the event ``seq``): close the phase it was in.
    Core statements on the session's connection (``store.records.project_case`` says why)."""
    conn = session.connection()
    if conn.execute(_PHASE_AT, {"case_id": case_id, "seq": seq}).first() is not None:
        return
    conn.execute(_LEAVE_PHASE, {"case_id_": case_id, "at": at})
    conn.execute(
        sa.insert(_PHASE),
        {"case_id": case_id, "entered_seq": seq, "state": state, "entered_at": at},
    )
