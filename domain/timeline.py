"""The case timeline: append-only events, each hash-chained to the one before.

An event's hash is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of
``{seq, type, actor, at, data, prev}``; the first event's ``prev`` is 64 zeros. ``data`` holds
ids and hashes only: names, e-mails and addresses live in their own rows, so erasing a person
never breaks a chain.

Chain versions (a case keeps the version it was opened with, ``CaseFacts.chain``):

1. the content above (cases opened before chain version 2; they verify as they always did);
2. the content also holds ``case_id``: an event, or a whole chain, copied from another case no
   longer verifies as this case's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.digests import sha256_hex

GENESIS = "0" * 64
CHAIN_VERSION = 2  # the version new cases are opened with


class TimelineEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    type: str
    actor: str
    at: str
    data: dict[str, Any]
    prev: str
    hash: str


def canonical_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    seq: int,
    type: str,
    actor: str,
    at: str,
    data: Mapping[str, Any],
    prev: str,
    case_id: str | None = None,
) -> str:
    """The event's hash; ``case_id`` given: chain version 2 (bound to the case)."""
    content = {"seq": seq, "type": type, "actor": actor, "at": at, "data": data, "prev": prev}
    if case_id is not None:
        content["case_id"] = case_id
    return sha256_hex(canonical_json(content))


def chain_key(chain: int, case_id: str) -> str | None:
    """What ``event_hash`` binds to in chain version ``chain``: the case id from version 2."""
    return case_id if chain >= 2 else None


def chain_event(
    last_seq: int,
    last_hash: str,
    type: str,
    actor: str,
    at: str,
    data: Mapping[str, Any],
    case_id: str | None = None,
) -> TimelineEvent:
    """The event after the one numbered ``last_seq`` with hash ``last_hash`` (0 and GENESIS
    for the first event of a case); ``case_id`` given, chain version 2."""
    seq, prev_hash = last_seq + 1, last_hash
    digest = event_hash(seq, type, actor, at, dict(data), prev_hash, case_id)
    return TimelineEvent(
        seq=seq, type=type, actor=actor, at=at, data=dict(data), prev=prev_hash, hash=digest
    )


def verify_chain(events: Iterable[TimelineEvent], case_id: str | None = None) -> list[str]:
    """Every break in the chain, as readable messages; an empty list means it verifies.
    ``case_id`` given: a chain of version 2, every hash bound to that case."""
    problems: list[str] = []
    expected_prev, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(f"event {event.seq}: expected sequence number {expected_seq}")
        if event.prev != expected_prev:
            problems.append(f"event {event.seq}: prev does not match the hash before it")
        digest = event_hash(
            event.seq, event.type, event.actor, event.at, event.data, event.prev, case_id
        )
        if digest != event.hash:
            problems.append(f"event {event.seq}: content does not match its hash")
        expected_prev, expected_seq = event.hash, event.seq + 1
    return problems
