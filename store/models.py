"""The read model and registry tables (SQLModel). Schema changes go through Alembic
migrations in ``store/migrations``; never edit a database by hand.

Personal data (client contacts, signer names, IPs) lives in these rows, never inside the
hash-chained timeline content.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)  # type: ignore[call-overload]


class Hub(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2, index=True)
    profile: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class HubIndex(SQLModel, table=True):
    """A hub's matching vectors (``domain.matching.HubDoc``), written with its profile:
    taxonomy codes, stemmed term counts and, when the embedding model is installed, the
    profile's sentence embedding. ``fingerprint`` is the profile's and the analyser's hash, so
    an unchanged profile is not analysed again."""

    __tablename__ = "hub_index"

    hub_id: str = Field(primary_key=True, foreign_key="hub.id", ondelete="CASCADE", max_length=64)
    fingerprint: str = Field(max_length=64)
    codes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    terms: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    embedding_model: str = Field(default="", max_length=80)
    updated_at: datetime = _ts()


class Principal(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    role: str = Field(max_length=20)
    hub_id: str | None = Field(default=None, foreign_key="hub.id", max_length=64)
    representative_id: str | None = Field(default=None, max_length=64)  # for hub_signatory keys
    label: str = Field(default="", max_length=200)
    key_prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class Case(SQLModel, table=True):
    """A case's snapshot in the read model. Every list is newest first, so each filter has an
    index ending in ``(created_at, id)``. On SQLite the FTS5 table ``case_search`` (rowid =
    this table's rowid, kept in step by triggers) indexes the titles; on PostgreSQL a GIN index
    over ``to_tsvector('simple', dihflow_search_text(title))`` does (migration 0007)."""

    __table_args__ = (
        Index("ix_case_created", "created_at", "id"),
        Index("ix_case_state_created", "state", "created_at", "id"),
        Index("ix_case_scenario_created", "scenario", "created_at", "id"),
        Index("ix_case_overdue_created", "overdue", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    scenario: str = Field(max_length=20)
    state: str = Field(max_length=20)
    outcome: str | None = Field(default=None, max_length=20)
    title: str = Field(max_length=200)
    lead_hub_id: str = Field(foreign_key="hub.id", max_length=64, index=True)
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    seq: int = 0
    head_hash: str = Field(max_length=64)
    next_deadline: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    overdue: bool = False
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    # when the case entered its state (the time of the event that moved it there)
    state_since: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class CaseParty(SQLModel, table=True):
    """A hub's place in a case (lead, invited, partner, declined, lapsed; for matchmaking
    candidate or matched): who may read it. ``created_at`` is the case's, so a hub's cases
    are read newest first straight from ``ix_caseparty_hub_created``."""

    __table_args__ = (Index("ix_caseparty_hub_created", "hub_id", "created_at", "case_id"),)

    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=40)
    hub_id: str = Field(primary_key=True, foreign_key="hub.id", max_length=64)
    role: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "version", "template"),)

    id: str = Field(primary_key=True, max_length=80)
    case_id: str | None = Field(default=None, foreign_key="case.id", max_length=40, index=True)
    version: int = 1
    template: str = Field(max_length=80)
    template_version: str = Field(max_length=20)
    template_sha256: str = Field(max_length=64)
    variables_sha256: str = Field(max_length=64)
    sha256: str = Field(max_length=64, index=True)
    path: str = Field(max_length=300)
    size: int
    variables: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str | None = Field(default=None, max_length=40)  # principal, for ad-hoc ones
    created_at: datetime = _ts()


class Signature(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "document_sha256", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", max_length=40, index=True)
    document_id: str = Field(foreign_key="document.id", max_length=80)
    document_sha256: str = Field(max_length=64)
    party: str = Field(max_length=64)
    principal_id: str = Field(max_length=40)
    signer_name: str = Field(default="", max_length=200)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    signed_at: datetime = _ts()


class LinkToken(SQLModel, table=True):
    token_hash: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="case.id", max_length=40, index=True)
    action: str = Field(max_length=40)
    party: str = Field(max_length=64)
    subject: str | None = Field(default=None, max_length=64)  # e.g. the hub a consent is for
    purpose: str = Field(max_length=120)  # e.g. "sign:v2:client": one token per purpose
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "timeline_event"

    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=40)
    seq: int = Field(primary_key=True)
    type: str = Field(max_length=40)
    actor: str = Field(max_length=80)
    at: str = Field(max_length=40)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    principal_id: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=200)
    route: str = Field(default="cases", max_length=80)
    request_sha256: str = Field(max_length=64)
    resource_id: str = Field(max_length=80)
    created_at: datetime = _ts()


class Webhook(SQLModel, table=True):
    """A hub's subscription: case events of the chosen types are POSTed to ``url``, signed
    with HMAC-SHA256 over timestamp and body using ``secret`` (shown once at registration)."""

    id: str = Field(primary_key=True, max_length=40)
    hub_id: str = Field(foreign_key="hub.id", max_length=64, index=True)
    url: str = Field(max_length=500)
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=300)  # sealed with the payload key ring when one is set
    # after a rotation: the replaced secret, still signing deliveries beside the new one until
    previous_secret: str | None = Field(default=None, max_length=300)
    previous_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    active: bool = True
    created_at: datetime = _ts()


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("webhook_id", "case_id", "seq"),)

    id: str = Field(primary_key=True, max_length=80)
    webhook_id: str = Field(foreign_key="webhook.id", max_length=40, index=True)
    case_id: str = Field(max_length=40)
    seq: int
    event_type: str = Field(max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)  # pending, delivered, failed
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _ts()
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class RateWindow(SQLModel, table=True):
    """Requests per principal per fixed window, shared by every API process."""

    __tablename__ = "rate_window"

    principal_id: str = Field(primary_key=True, max_length=40)
    window: int = Field(primary_key=True)  # epoch seconds // window length
    count: int = 0


class TemplateVersion(SQLModel, table=True):
    """A template version published by the legal helpdesk (the shipped ones are version 1)."""

    __tablename__ = "template_version"

    name: str = Field(primary_key=True, max_length=80)
    version: int = Field(primary_key=True)
    description: str = Field(default="", max_length=500)
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=300)
    variables_schema: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    example: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_by: str = Field(max_length=40)
    created_at: datetime = _ts()


class StaffAccount(SQLModel, table=True):
    """A person of the network's back office or legal helpdesk who signs in to the pages.
    Only an argon2id hash of the password is kept."""

    __tablename__ = "staff_account"

    id: str = Field(primary_key=True, max_length=40)
    username: str = Field(max_length=80, unique=True)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)  # back_office | legal
    password_hash: str = Field(max_length=200)
    disabled: bool = False
    created_at: datetime = _ts()
    last_sign_in_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class StaffSession(SQLModel, table=True):
    """A signed-in staff session, kept in the store so every API process shares it. The cookie
    carries the session id (signed); the row is keyed by the id's SHA-256 only."""

    __tablename__ = "staff_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(foreign_key="staff_account.id", max_length=40, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class SignInFailure(SQLModel, table=True):
    """One failed sign-in, counted per username and per address to slow down guessing."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_username_at", "username", "at"),
        Index("ix_sign_in_failure_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)
    address: str = Field(max_length=64)
    at: datetime = _ts()


class OutboxMessage(SQLModel, table=True):
    """What leaves the system after a step: a mail, a webhook delivery to start, or a PDF to
    make. Written by the step's projection in the transaction that records the step, sent by
    the dispatcher (``activities/dispatcher.py``) after commit.

    ``id`` is derived from (case id, event seq, kind, recipient): a retried projection finds
    the row it made. ``status`` is ``pending`` until sent (``sent``) or given up (``failed``);
    a pending row is due at ``next_attempt_at`` (a dispatcher that takes it pushes that time
    out by its lease, so a crashed dispatcher's rows come due again)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=80)
    case_id: str = Field(max_length=40, index=True)
    seq: int
    kind: str = Field(max_length=20)  # mail, webhook, pdf
    recipient: str = Field(max_length=120)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _ts()
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class CaseReview(SQLModel, table=True):
    """One quality review, written by the projection from the case's facts: the client's or
    local player's survey (``kind`` survey, ``subject`` empty), a hub's peer review of another
    party hub (``peer``), or the one rating of a case before the survey (``rating``).
    Indicators read these rows by SQL (``store.indicators``)."""

    __tablename__ = "case_review"
    __table_args__ = (Index("ix_case_review_subject", "subject", "submitted_at"),)

    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=40)
    reviewer: str = Field(primary_key=True, max_length=64)  # a hub id, client or local_player
    subject: str = Field(default="", primary_key=True, max_length=64)  # the hub reviewed
    kind: str = Field(max_length=10)
    scenario: str = Field(max_length=20)
    quality: int | None = None
    timeliness: int | None = None
    communication: int | None = None
    value: int | None = None
    would_recommend: bool | None = None
    reliability: int | None = None
    contribution: int | None = None
    would_collaborate_again: bool | None = None
    rating: int | None = None  # the overall 1-5 (the survey's rounded mean)
    comment: str = Field(default="", max_length=5000)
    submitted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class CaseMilestone(SQLModel, table=True):
    """A deliverable's dates, for the on-time rate: on time when submitted (its last
    submission, the one accepted) by the end of its due date."""

    __tablename__ = "case_milestone"

    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=40)
    deliverable_id: str = Field(primary_key=True, max_length=40)
    hub_id: str = Field(max_length=64, index=True)
    due: str = Field(default="", max_length=10)
    submitted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    accepted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    on_time: bool | None = None  # None while not submitted


class CasePhase(SQLModel, table=True):
    """A case's stay in one state, from the event that moved it there to the one that moved it
    on (``left_at`` empty while it is there): days in each phase, by SQL."""

    __tablename__ = "case_phase"
    __table_args__ = (Index("ix_case_phase_state", "state", "entered_at"),)

    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=40)
    entered_seq: int = Field(primary_key=True)
    state: str = Field(max_length=20)
    entered_at: datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    left_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


# Indexes the indicators read by (migration 0011), declared here beside the tables they serve:
# the cases ended in a period (covering: scope and counts read no table row), and events by type
# (invitation answers, setbacks).
Index("ix_case_ended", Case.state_since, Case.state, Case.scenario, Case.outcome, Case.id)  # type: ignore[arg-type]
Index("ix_timeline_event_type", TimelineEntry.type, TimelineEntry.case_id)  # type: ignore[arg-type]
