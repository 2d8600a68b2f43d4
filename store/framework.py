"""The framework agreement's read model: editions, clauses, comments, amendments, votes,
parties (the register) and the edition's hash-chained events (migration 0010).

Written only by the framework workflow's projection activity (``project_framework``), every
write an upsert keyed by the edition and the item's number, so a retried projection writes
nothing twice. Read by the API and the back-office pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, Session, SQLModel, col, select

from domain.framework import Amendment, Clause, Comment, Edition, Party
from domain.timeline import TimelineEvent
from store.models import utcnow


def _ts(**kw: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kw)  # type: ignore[call-overload]


class FrameworkEdition(SQLModel, table=True):
    __tablename__ = "framework_edition"

    id: str = Field(primary_key=True, max_length=40)
    label: str = Field(max_length=40)
    state: str = Field(max_length=20, index=True)
    quorum: int
    notice_days: int
    members: list[str] = Field(sa_column=Column(JSON, nullable=False))
    opened_at: datetime = _ts()
    deadline: datetime = _ts()
    draft_sha256: str = Field(max_length=64)
    final_sha256: str | None = Field(default=None, max_length=64)
    final_document_id: str | None = Field(default=None, max_length=80)
    in_force_at: datetime | None = _ts(default=None)
    seq: int = 0
    updated_at: datetime = _ts(default_factory=utcnow)


class FrameworkClause(SQLModel, table=True):
    """A clause of the draft (``version`` = "draft") or of the final version ("final")."""

    __tablename__ = "framework_clause"

    edition_id: str = Field(primary_key=True, max_length=40)
    version: str = Field(primary_key=True, max_length=10)
    number: str = Field(primary_key=True, max_length=10)
    position: int
    section: str = Field(max_length=200)
    text: str
    sha256: str = Field(max_length=64)


class FrameworkComment(SQLModel, table=True):
    __tablename__ = "framework_comment"

    edition_id: str = Field(primary_key=True, max_length=40)
    id: int = Field(primary_key=True)
    clause: str = Field(max_length=10, index=True)
    parent_id: int | None = None
    hub_id: str = Field(max_length=64)
    text: str
    at: datetime = _ts()


class FrameworkAmendment(SQLModel, table=True):
    __tablename__ = "framework_amendment"

    edition_id: str = Field(primary_key=True, max_length=40)
    id: int = Field(primary_key=True)
    clause: str = Field(max_length=10)
    hub_id: str = Field(max_length=64)
    text: str
    rationale: str
    at: datetime = _ts()
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    decision: str | None = Field(default=None, max_length=10)
    reason: str = ""
    decided_at: datetime | None = _ts(default=None)


class FrameworkVote(SQLModel, table=True):
    __tablename__ = "framework_vote"

    edition_id: str = Field(primary_key=True, max_length=40)
    amendment_id: int = Field(primary_key=True)
    hub_id: str = Field(primary_key=True, max_length=64)
    choice: str = Field(max_length=10)
    at: datetime = _ts()


class FrameworkParty(SQLModel, table=True):
    """One row of the register: a hub that signed (or acceded to) the edition."""

    __tablename__ = "framework_party"

    edition_id: str = Field(primary_key=True, max_length=40)
    hub_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=12)
    signed_at: datetime = _ts()
    sha256: str = Field(max_length=64)
    representative_id: str = Field(default="", max_length=64)
    signer_name: str = Field(default="", max_length=200)  # personal data: never in events
    notice_at: datetime | None = _ts(default=None)
    withdrawal_at: datetime | None = _ts(default=None)
    withdrawn: bool = False


class FrameworkEvent(SQLModel, table=True):
    __tablename__ = "framework_event"

    edition_id: str = Field(primary_key=True, max_length=40)
    seq: int = Field(primary_key=True)
    type: str = Field(max_length=40)
    actor: str = Field(max_length=80)
    at: datetime = _ts()
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64)


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# -- writes (the projection) ------------------------------------------------------------------
def upsert_edition(session: Session, edition: Edition) -> None:
    row = session.get(FrameworkEdition, edition.id) or FrameworkEdition(
        id=edition.id,
        label=edition.label,
        state=edition.state,
        quorum=edition.quorum,
        notice_days=edition.notice_days,
        members=edition.members,
        opened_at=datetime.fromisoformat(edition.opened_at),
        deadline=datetime.fromisoformat(edition.deadline),
        draft_sha256=edition.draft_sha256,
    )
    if row.seq > edition.seq:
        return  # a late retry of an older step: the row is ahead already
    row.state, row.seq = edition.state, edition.seq
    row.deadline = datetime.fromisoformat(edition.deadline)
    row.in_force_at = _dt(edition.in_force_at)
    if edition.final is not None:
        row.final_sha256, row.final_document_id = edition.final.sha256, edition.final.document_id
    row.updated_at = utcnow()
    session.add(row)


def upsert_clauses(session: Session, edition_id: str, version: str, clauses: list[Clause]) -> None:
    for position, clause in enumerate(clauses):
        row = session.get(FrameworkClause, (edition_id, version, clause.number))
        if row is None:
            session.add(
                FrameworkClause(
                    edition_id=edition_id,
                    version=version,
                    number=clause.number,
                    position=position,
                    section=clause.section,
                    text=clause.text,
                    sha256=clause.sha256,
                )
            )


def upsert_comment(session: Session, edition_id: str, comment: Comment) -> None:
    if session.get(FrameworkComment, (edition_id, comment.id)) is None:
        session.add(
            FrameworkComment(
                edition_id=edition_id,
                id=comment.id,
                clause=comment.clause,
                parent_id=comment.parent_id,
                hub_id=comment.hub_id,
                text=comment.text,
                at=datetime.fromisoformat(comment.at),
            )
        )


def upsert_amendment(session: Session, edition_id: str, amendment: Amendment) -> None:
    row = session.get(FrameworkAmendment, (edition_id, amendment.id)) or FrameworkAmendment(
        edition_id=edition_id,
        id=amendment.id,
        clause=amendment.clause,
        hub_id=amendment.hub_id,
        text=amendment.text,
        rationale=amendment.rationale,
        at=datetime.fromisoformat(amendment.at),
    )
    tally = amendment.tally()
    row.votes_for, row.votes_against, row.votes_abstain = (
        tally["for"],
        tally["against"],
        tally["abstain"],
    )
    row.decision, row.reason = amendment.decision, amendment.reason
    row.decided_at = _dt(amendment.decided_at)
    session.add(row)
    for vote in amendment.votes.values():
        vrow = session.get(FrameworkVote, (edition_id, amendment.id, vote.hub_id))
        if vrow is None:
            vrow = FrameworkVote(
                edition_id=edition_id,
                amendment_id=amendment.id,
                hub_id=vote.hub_id,
                choice=vote.choice,
                at=datetime.fromisoformat(vote.at),
            )
        vrow.choice, vrow.at = vote.choice, datetime.fromisoformat(vote.at)
        session.add(vrow)


def upsert_party(session: Session, edition_id: str, party: Party, signer_name: str = "") -> None:
    row = session.get(FrameworkParty, (edition_id, party.hub_id)) or FrameworkParty(
        edition_id=edition_id,
        hub_id=party.hub_id,
        kind=party.kind,
        signed_at=datetime.fromisoformat(party.signed_at),
        sha256=party.sha256,
        representative_id=party.representative_id,
        signer_name=signer_name,
    )
    row.notice_at, row.withdrawal_at = _dt(party.notice_at), _dt(party.withdrawal_at)
    row.withdrawn = party.withdrawn
    session.add(row)


def add_events(session: Session, edition_id: str, events: list[TimelineEvent]) -> None:
    for event in events:
        if session.get(FrameworkEvent, (edition_id, event.seq)) is None:
            session.add(
                FrameworkEvent(
                    edition_id=edition_id,
                    seq=event.seq,
                    type=event.type,
                    actor=event.actor,
                    at=datetime.fromisoformat(event.at),
                    data=event.data,
                    prev=event.prev,
                    hash=event.hash,
                )
            )


# -- reads ------------------------------------------------------------------------------------
def editions(session: Session) -> list[FrameworkEdition]:
    return list(
        session.exec(select(FrameworkEdition).order_by(col(FrameworkEdition.opened_at).desc()))
    )


def edition_in_force(session: Session) -> FrameworkEdition | None:
    """The newest edition in force (None while none is)."""
    return session.exec(
        select(FrameworkEdition)
        .where(FrameworkEdition.state == "in_force")
        .order_by(col(FrameworkEdition.in_force_at).desc())
        .limit(1)
    ).first()


def bound_hub_ids(session: Session, edition_id: str) -> set[str]:
    """The hubs bound by ``edition_id`` now, as its workflow has it: the edition is in force
    and the hub signed it and its withdrawal (if any) has not taken effect. The workflow's
    timers decide when a withdrawal takes effect; the store follows."""
    edition = session.get(FrameworkEdition, edition_id)
    if edition is None or edition.in_force_at is None:
        return set()
    found = session.exec(
        select(FrameworkParty.hub_id).where(
            FrameworkParty.edition_id == edition_id, col(FrameworkParty.withdrawn).is_(False)
        )
    )
    return set(found)


def clauses(session: Session, edition_id: str, version: str) -> list[FrameworkClause]:
    return list(
        session.exec(
            select(FrameworkClause)
            .where(FrameworkClause.edition_id == edition_id, FrameworkClause.version == version)
            .order_by(col(FrameworkClause.position))
        )
    )


def comments(
    session: Session, edition_id: str, after: int = 0, limit: int = 100, clause: str | None = None
) -> list[FrameworkComment]:
    query = select(FrameworkComment).where(
        FrameworkComment.edition_id == edition_id, col(FrameworkComment.id) > after
    )
    if clause is not None:
        query = query.where(FrameworkComment.clause == clause)
    return list(session.exec(query.order_by(col(FrameworkComment.id)).limit(limit)))


def amendments(
    session: Session, edition_id: str, after: int = 0, limit: int = 100
) -> list[FrameworkAmendment]:
    return list(
        session.exec(
            select(FrameworkAmendment)
            .where(FrameworkAmendment.edition_id == edition_id, col(FrameworkAmendment.id) > after)
            .order_by(col(FrameworkAmendment.id))
            .limit(limit)
        )
    )


def votes(session: Session, edition_id: str, amendment_id: int) -> list[FrameworkVote]:
    return list(
        session.exec(
            select(FrameworkVote)
            .where(
                FrameworkVote.edition_id == edition_id, FrameworkVote.amendment_id == amendment_id
            )
            .order_by(col(FrameworkVote.hub_id))
        )
    )


def parties(session: Session, edition_id: str) -> list[FrameworkParty]:
    return list(
        session.exec(
            select(FrameworkParty)
            .where(FrameworkParty.edition_id == edition_id)
            .order_by(col(FrameworkParty.signed_at), col(FrameworkParty.hub_id))
        )
    )


def events(
    session: Session, edition_id: str, after: int = 0, limit: int = 100
) -> list[FrameworkEvent]:
    return list(
        session.exec(
            select(FrameworkEvent)
            .where(FrameworkEvent.edition_id == edition_id, col(FrameworkEvent.seq) > after)
            .order_by(col(FrameworkEvent.seq))
            .limit(limit)
        )
    )
