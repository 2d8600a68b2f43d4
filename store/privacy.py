"""Erasing an external contact (a client or a local player) on request.

``erase_contact`` replaces the person's name, contact name and e-mail address by a pseudonym
(``erased-`` and ten hex digits of the address's SHA-256: the same person always gets the same
one, so erasing twice changes nothing more), and their signatures' IP address and user agent by
nothing, in every store row that holds them: the case's facts, its signatures, its documents'
variables and the outbox. A ``personal_data_erased`` event is added to the case's timeline. The
chain still verifies: events name parties by role, never by name or address, so no hashed
content held the data.

Kept, and listed instead: the documents themselves. A signed agreement, its certificate and its
executed copy are the evidence the parties relied on (their hashes are in the timeline and in
the signatures); altering them would void that evidence, so they stay until their retention
period ends, as the legal basis of that retention allows.

Only ended cases are erased. A running case's facts live in its workflow, which writes its row
again at its next step; such cases are reported as open, to erase once they have ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from domain.cases import CLIENT, ENDINGS, LOCAL_PLAYER
from domain.digests import sha256_hex
from domain.timeline import chain_event, chain_key
from store.models import Case, Document, OutboxMessage, Signature, TimelineEntry

ERASED_EVENT = "personal_data_erased"


@dataclass
class Erasure:
    pseudonym: str
    erased: list[str] = field(default_factory=list)  # case ids
    still_open: list[str] = field(default_factory=list)
    kept_documents: list[tuple[str, str, str]] = field(default_factory=list)  # id, case, template
    signatures: int = 0
    outbox_rows: int = 0


def pseudonym_for(email: str) -> str:
    return "erased-" + sha256_hex(email.strip().lower().encode())[:10]


def _replace(value: Any, olds: set[str], new: str) -> Any:
    """``value`` with every occurrence of one of ``olds`` (case-blind, also inside a longer
    text such as a mail's body) replaced by ``new``."""
    if isinstance(value, str):
        for old in sorted(olds, key=len, reverse=True):
            value = re.sub(re.escape(old), new, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_replace(v, olds, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, olds, new) for k, v in value.items()}
    return value


def erase_contact(session: Session, email: str, now: datetime) -> Erasure:
    address = email.strip().lower()
    result = Erasure(pseudonym=pseudonym_for(address))
    fake_address = f"{result.pseudonym}@erased.invalid"
    candidates = session.exec(
        select(Case).where(func.lower(cast(Case.facts, String)).contains(address))
    ).all()
    for case in sorted(candidates, key=lambda c: c.id):
        facts = dict(case.facts)
        parties = [
            p
            for p in (CLIENT, LOCAL_PLAYER)
            if isinstance(facts.get(p), dict)
            and str(facts[p].get("email", "")).strip().lower() == address
        ]
        if not parties:
            continue  # the address only appears inside some other text
        if case.state not in ENDINGS:
            result.still_open.append(case.id)
            continue
        olds = {address}
        for party in parties:
            person = dict(facts[party])
            olds |= {str(person.get(k, "")).strip().lower() for k in ("name", "contact_name")}
            person.update(name=result.pseudonym, contact_name=result.pseudonym, email=fake_address)
            facts[party] = person
        olds.discard("")
        names = olds - {address}
        _sign_off(session, case.id, parties, result)
        _documents(session, case.id, address, names, fake_address, result)
        _outbox(session, case.id, address, names, fake_address, result)
        _timeline(session, case, facts, parties, now)
        result.erased.append(case.id)
    return result


def _sign_off(session: Session, case_id: str, parties: list[str], result: Erasure) -> None:
    for signature in session.exec(
        select(Signature).where(Signature.case_id == case_id, col(Signature.party).in_(parties))
    ):
        signature.signer_name = result.pseudonym if signature.signer_name else ""
        signature.ip, signature.user_agent = "", ""
        session.add(signature)
        result.signatures += 1


def _pseudonymise(
    value: Any, address: str, names: set[str], fake_address: str, pseudonym: str
) -> Any:
    return _replace(_replace(value, {address}, fake_address), names, pseudonym)


def _documents(
    session: Session,
    case_id: str,
    address: str,
    names: set[str],
    fake_address: str,
    result: Erasure,
) -> None:
    for document in session.exec(select(Document).where(Document.case_id == case_id)):
        if document.variables is not None:
            document.variables = _pseudonymise(
                document.variables, address, names, fake_address, result.pseudonym
            )
            session.add(document)
        result.kept_documents.append((document.id, case_id, document.template))


def _outbox(
    session: Session,
    case_id: str,
    address: str,
    names: set[str],
    fake_address: str,
    result: Erasure,
) -> None:
    for row in session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id)):
        payload = _pseudonymise(row.payload, address, names, fake_address, result.pseudonym)
        recipient = fake_address if row.recipient.strip().lower() == address else row.recipient
        if payload != row.payload or recipient != row.recipient:
            row.payload, row.recipient = payload, recipient
            session.add(row)
            result.outbox_rows += 1


def _timeline(
    session: Session, case: Case, facts: dict[str, Any], parties: list[str], now: datetime
) -> None:
    already = session.exec(
        select(TimelineEntry).where(
            TimelineEntry.case_id == case.id, TimelineEntry.type == ERASED_EVENT
        )
    ).first()
    if already is None:
        key = chain_key(int(facts.get("chain", 1)), case.id)  # the case's chain version
        event = chain_event(
            case.seq,
            case.head_hash,
            ERASED_EVENT,
            "operator",
            now.astimezone(UTC).isoformat(),
            {"parties": parties},
            key,
        )
        session.add(TimelineEntry(case_id=case.id, **event.model_dump()))
        case.seq, case.head_hash = event.seq, event.hash
        facts.update(seq=event.seq, head_hash=event.hash)
    case.facts = facts
    session.add(case)
