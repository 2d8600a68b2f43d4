"""Writes to the store. Every function here is idempotent: activities retry them freely."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from domain.cases import ENDINGS, CaseFacts
from domain.digests import sha256_hex
from domain.hubs import HubProfile
from domain.steps import is_overdue
from domain.timeline import TimelineEvent
from store.db import as_utc
from store.matching import index_hubs
from store.models import (
    Case,
    CaseParty,
    Hub,
    LinkToken,
    Principal,
    Signature,
    TimelineEntry,
    utcnow,
)
from store.quality import enter_phase, sync_quality
from store.summary import hub_country_changed, summarise_cases

KEY_PREFIX = "dfk"

_CASE = Case.__table__  # type: ignore[attr-defined]
_EVENT = TimelineEntry.__table__  # type: ignore[attr-defined]
_PARTY = CaseParty.__table__  # type: ignore[attr-defined]
# The projection's statements, built once (their cache keys with them): building a statement
# costs more than running it on a primary key.
_STORED_SEQS = sa.select(_EVENT.c.seq).where(
    _EVENT.c.case_id == sa.bindparam("case_id"),
    _EVENT.c.seq.in_(sa.bindparam("seqs", expanding=True)),
)
_CASE_NOW = sa.select(_CASE.c.seq, _CASE.c.state, _CASE.c.state_since, _CASE.c.created_at).where(
    _CASE.c.id == sa.bindparam("case_id")
)
_UPDATE_CASE = sa.update(_CASE).where(_CASE.c.id == sa.bindparam("case_id_"))
_PARTIES = sa.select(_PARTY.c.hub_id, _PARTY.c.role).where(
    _PARTY.c.case_id == sa.bindparam("case_id")
)
_SET_ROLE = (
    sa.update(_PARTY)
    .where(_PARTY.c.case_id == sa.bindparam("case_id_"), _PARTY.c.hub_id == sa.bindparam("hub_id_"))
    .values(role=sa.bindparam("role"))
)


def hash_secret(raw: str) -> str:
    """API keys and link tokens are long random strings: a plain SHA-256 is enough to store."""
    return sha256_hex(raw.encode())


# -- hubs ----------------------------------------------------------------------------------
def upsert_hub(session: Session, profile: HubProfile) -> bool:
    """Insert or update a hub from its profile; True when it was new."""
    row = session.get(Hub, profile.id)
    data = profile.model_dump(mode="json")
    if row is None:
        session.add(Hub(id=profile.id, name=profile.name, country=profile.country, profile=data))
        session.flush()
        index_hubs(session, [data])
        return True
    if row.profile != data:
        index_hubs(session, [data])
        if row.country != profile.country:
            hub_country_changed(session.connection(), profile.id, profile.country)
        row.name, row.country, row.profile, row.updated_at = (
            profile.name,
            profile.country,
            data,
            utcnow(),
        )
        session.add(row)
    return False


# -- principals and keys -------------------------------------------------------------------
def create_principal(
    session: Session,
    role: str,
    hub_id: str | None = None,
    label: str = "",
    representative_id: str | None = None,
) -> tuple[Principal, str]:
    """A new principal and its API key (the key is returned once and stored hashed)."""
    principal_id = uuid.uuid4().hex[:12]
    raw = f"{KEY_PREFIX}_{principal_id}_{secrets.token_urlsafe(32)}"
    principal = Principal(
        id=principal_id,
        role=role,
        hub_id=hub_id,
        representative_id=representative_id,
        label=label,
        key_prefix=raw[: len(KEY_PREFIX) + 13],
        key_hash=hash_secret(raw),
    )
    session.add(principal)
    return principal, raw


def principal_for_key(session: Session, raw: str) -> Principal | None:
    row = session.exec(select(Principal).where(Principal.key_hash == hash_secret(raw))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


# -- the case projection -------------------------------------------------------------------
def project_case(session: Session, facts: CaseFacts, events: list[TimelineEvent]) -> None:
    """Write ``events`` (those not yet stored) and the case snapshot if it is newer.

    Keyed by (case id, event seq): a retried or replayed projection changes nothing. A step
    of a case in its ending (the ending itself, or a later review) rewrites the case's
    summary rows (``store.summary``) in the same transaction.

    Written with Core statements on the session's connection (the same transaction), not
    through ORM objects: the case row is read as the four columns the step needs (not its
    facts, which it replaces), the events are inserted in one statement, and nothing waits
    for a unit-of-work flush (``bench/projection.py``: the ORM's share was most of a step's
    projection).
    """
    conn = session.connection()
    stored = set(
        conn.execute(
            _STORED_SEQS, {"case_id": facts.case_id, "seqs": [e.seq for e in events]}
        ).scalars()
    )
    case = conn.execute(_CASE_NOW, {"case_id": facts.case_id}).first()
    if case is None:
        now = utcnow()
        conn.execute(
            sa.insert(_CASE).values(
                id=facts.case_id,
                scenario=facts.scenario,
                state=facts.state,
                title=facts.title,
                lead_hub_id=facts.lead_hub_id,
                facts={},
                head_hash=facts.head_hash,
                seq=-1,
                overdue=False,
                created_at=now,
                updated_at=now,
            )
        )
        seq, state, state_since, created_at = -1, facts.state, None, now
    else:
        seq, state, state_since, created_at = case
    new = [{"case_id": facts.case_id, **e.model_dump()} for e in events if e.seq not in stored]
    if new:
        conn.execute(sa.insert(_EVENT), new)
    if facts.seq <= seq:
        return
    if state_since is None or state != facts.state:
        moved = events[-1].at if events else None
        state_since = datetime.fromisoformat(moved) if moved else utcnow()
        enter_phase(session, facts.case_id, facts.state, facts.seq, state_since)
    sync_quality(session, facts)
    deadlines = [datetime.fromisoformat(d) for d in facts.deadlines.values()]
    conn.execute(
        _UPDATE_CASE,
        {
            "case_id_": facts.case_id,
            "state": facts.state,
            "outcome": facts.outcome,
            "title": facts.title,
            "facts": facts.model_dump(mode="json"),
            "seq": facts.seq,
            "head_hash": facts.head_hash,
            "updated_at": utcnow(),
            "next_deadline": min(deadlines) if deadlines else None,
            "overdue": is_overdue(facts),
            "state_since": state_since,
        },
    )
    _sync_parties(conn, facts, created_at)
    if facts.state in ENDINGS:  # the case's summary, from the rows just written
        session.flush()
        summarise_cases(conn, [facts.case_id])


def _sync_parties(conn: sa.Connection, facts: CaseFacts, created_at: datetime) -> None:
    """Make the case's party rows match its facts, touching only the rows that change (a step
    that changes no party writes none)."""
    names = {"accepted": "partner", "pending": "invited"}  # declined and lapsed keep theirs
    roles = {facts.lead_hub_id: "lead"}
    for inv in facts.invitations:
        roles.setdefault(inv.hub_id, names.get(inv.status, inv.status))
    for intro in facts.introductions:  # matchmaking candidates see the case they are put to
        roles.setdefault(intro.hub_id, "matched" if intro.mutual else "candidate")
    stored: dict[str, str] = dict(conn.execute(_PARTIES, {"case_id": facts.case_id}).all())
    gone = [hub_id for hub_id in stored if hub_id not in roles]
    if gone:
        conn.execute(
            sa.delete(_PARTY).where(_PARTY.c.case_id == facts.case_id, _PARTY.c.hub_id.in_(gone))
        )
    added = [
        {"case_id": facts.case_id, "hub_id": hub_id, "role": role, "created_at": created_at}
        for hub_id, role in roles.items()
        if hub_id not in stored
    ]
    if added:
        conn.execute(sa.insert(_PARTY), added)
    changed = [
        {"case_id_": facts.case_id, "hub_id_": hub_id, "role": role}
        for hub_id, role in roles.items()
        if hub_id in stored and stored[hub_id] != role
    ]
    if changed:
        conn.execute(_SET_ROLE, changed)


def record_signature(session: Session, row: Signature) -> None:
    exists = session.exec(
        select(Signature).where(
            Signature.case_id == row.case_id,
            Signature.document_sha256 == row.document_sha256,
            Signature.party == row.party,
        )
    ).first()
    if exists is None:
        session.add(row)


# -- link tokens ---------------------------------------------------------------------------
def derive_link_token(secret_key: str, case_id: str, purpose: str) -> str:
    """The token for one purpose on one case: the same on a retried activity, secret without
    the key, and stored only as its hash."""
    key = hashlib.sha256(secret_key.encode()).digest()  # any length of secret counts whole
    digest = hashlib.blake2b(f"{case_id}|{purpose}".encode(), key=key, digest_size=24)
    return digest.hexdigest()


def ensure_link(
    session: Session,
    token: str,
    case_id: str,
    action: str,
    party: str,
    purpose: str,
    expires_at: datetime,
    subject: str | None = None,
    renew: bool = False,
) -> LinkToken:
    """The link's row, made once per token; ``renew`` (a nudge) moves the expiry of an unused
    link out to ``expires_at`` (a used link stays used)."""
    token_hash = hash_secret(token)
    row = session.get(LinkToken, token_hash)
    if row is not None and renew and row.used_at is None:
        current = as_utc(row.expires_at)
        if current is None or current < expires_at:
            row.expires_at = expires_at
            session.add(row)
    if row is None:
        row = LinkToken(
            token_hash=token_hash,
            case_id=case_id,
            action=action,
            party=party,
            subject=subject,
            purpose=purpose,
            expires_at=expires_at,
        )
        session.add(row)
    return row


def find_link(session: Session, token: str) -> LinkToken | None:
    return session.get(LinkToken, hash_secret(token))
