"""The case timeline: each event's hash, the chain, and what verification reports."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from domain.timeline import GENESIS, TimelineEvent, chain_event, event_hash, verify_chain

AT = "2025-03-03T09:00:00+00:00"


def independent_hash(event: TimelineEvent) -> str:
    """DESIGN.md's rule, written out here without the library's helpers."""
    content = {
        "seq": event.seq,
        "type": event.type,
        "actor": event.actor,
        "at": event.at,
        "data": event.data,
        "prev": event.prev,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_chain(length: int = 4) -> list[TimelineEvent]:
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("case_requested", "principal:member-lead", {"lead_hub_id": "lead-hub"}),
        ("partners_invited", "principal:member-lead", {"hub_ids": ["partner-a"]}),
        ("invitation_accepted", "principal:member-a", {"hub_id": "partner-a"}),
        ("partnering_closed", "system", {"partner_ids": ["partner-a"]}),
        ("draft_rendered", "system", {"version": 1, "sha256": "ab" * 32}),
    ]
    events: list[TimelineEvent] = []
    seq, head = 0, GENESIS
    for type_, actor, data in steps[:length]:
        event = chain_event(seq, head, type_, actor, AT, data)
        events.append(event)
        seq, head = event.seq, event.hash
    return events


def test_first_event_prev_is_64_zeros_when_case_starts() -> None:
    first = chain_event(0, GENESIS, "case_requested", "principal:u1", AT, {"lead_hub_id": "h1"})

    assert first.seq == 1
    assert first.prev == "0" * 64


def test_event_hash_equals_sha256_of_canonical_json_when_computed_independently() -> None:
    events = make_chain()

    hashes = [event.hash for event in events]

    assert hashes == [independent_hash(event) for event in events]


def test_event_hash_matches_hand_written_canonical_bytes_when_data_is_nested() -> None:
    data = {"z": [1, {"b": 2, "a": None}], "a": True}
    expected_bytes = (
        '{"actor":"system","at":"' + AT + '","data":{"a":true,"z":[1,{"a":null,"b":2}]},'
        '"prev":"' + GENESIS + '","seq":1,"type":"timer_fired"}'
    ).encode()

    digest = event_hash(1, "timer_fired", "system", AT, data, GENESIS)

    assert digest == hashlib.sha256(expected_bytes).hexdigest()


def test_chain_event_links_each_event_to_hash_before_it_when_chained() -> None:
    events = make_chain()

    links = [(event.seq, event.prev) for event in events]

    assert links == [(1, GENESIS)] + [(e.seq + 1, e.hash) for e in events[:-1]]


def test_event_hash_changes_when_any_hashed_field_changes() -> None:
    base: dict[str, Any] = {
        "seq": 2,
        "type": "signed",
        "actor": "link:client",
        "at": AT,
        "data": {"v": 1},
    }
    variants: list[dict[str, Any]] = [
        {**base, "seq": 3},
        {**base, "type": "declined"},
        {**base, "actor": "system"},
        {**base, "at": "2025-03-03T09:00:01+00:00"},
        {**base, "data": {"v": 2}},
    ]
    original = event_hash(**base, prev=GENESIS)

    changed = [event_hash(**variant, prev=GENESIS) for variant in variants]
    changed.append(event_hash(**base, prev="f" * 64))

    assert original not in changed
    assert len(set(changed)) == len(changed)


def test_event_hash_uses_raw_utf8_when_data_is_not_ascii() -> None:
    data = {"title": "Zürich — Łódź · 北京 ✓", "note": "café"}
    event = chain_event(0, GENESIS, "case_requested", "principal:u1", AT, data)
    escaped = json.dumps(
        {"seq": 1, "type": "case_requested", "actor": "principal:u1", "at": AT, "data": data},
        sort_keys=True,
        separators=(",", ":"),
    )

    digest = event.hash

    assert digest == independent_hash(event)
    assert digest == event_hash(1, "case_requested", "principal:u1", AT, dict(data), GENESIS)
    assert digest != hashlib.sha256(escaped.encode()).hexdigest()


def test_verify_chain_is_empty_when_non_ascii_event_is_read_back_from_json() -> None:
    events = [chain_event(0, GENESIS, "reviewed", "link:client", AT, {"comment": "Très bien 👍"})]

    stored = [TimelineEvent.model_validate_json(e.model_dump_json()) for e in events]

    assert verify_chain(stored) == []


def test_verify_chain_is_empty_when_chain_is_intact() -> None:
    events = make_chain(5)

    problems = verify_chain(events)

    assert problems == []


def test_verify_chain_is_empty_when_chain_has_no_events() -> None:
    problems = verify_chain([])

    assert problems == []


def test_verify_chain_reports_content_when_a_data_field_is_changed() -> None:
    events = make_chain()
    events[2] = events[2].model_copy(update={"data": {"hub_id": "partner-z"}})

    problems = verify_chain(events)

    assert problems == ["event 3: content does not match its hash"]


@pytest.mark.parametrize("field", ["type", "actor", "at"])
def test_verify_chain_reports_content_when_a_hashed_field_is_changed(field: str) -> None:
    events = make_chain()
    events[1] = events[1].model_copy(update={field: "tampered"})

    problems = verify_chain(events)

    assert problems == ["event 2: content does not match its hash"]


def test_verify_chain_reports_sequence_and_links_when_a_pair_is_reordered() -> None:
    events = make_chain()
    events[1], events[2] = events[2], events[1]

    problems = verify_chain(events)

    assert "event 3: expected sequence number 2" in problems
    assert "event 2: expected sequence number 4" in problems
    assert "event 3: prev does not match the hash before it" in problems


@pytest.mark.parametrize("index", [0, 1, 2])
def test_verify_chain_reports_gap_when_an_event_is_removed(index: int) -> None:
    events = make_chain()
    removed = events.pop(index)

    problems = verify_chain(events)

    following = removed.seq + 1
    assert f"event {following}: expected sequence number {removed.seq}" in problems
    assert f"event {following}: prev does not match the hash before it" in problems


def test_verify_chain_reports_prev_and_content_when_prev_is_changed() -> None:
    events = make_chain()
    events[2] = events[2].model_copy(update={"prev": "f" * 64})

    problems = verify_chain(events)

    assert problems == [
        "event 3: prev does not match the hash before it",
        "event 3: content does not match its hash",
    ]


def test_verify_chain_reports_broken_link_when_tampered_event_is_rehashed() -> None:
    events = make_chain()
    forged = events[1].model_copy(update={"data": {"hub_ids": ["partner-z"]}})
    events[1] = forged.model_copy(update={"hash": independent_hash(forged)})

    problems = verify_chain(events)

    assert problems == ["event 3: prev does not match the hash before it"]
