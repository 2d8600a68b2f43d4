"""The outbox's rows on SQLite and PostgreSQL: taken for a lease, never by two at once, due
again when the lease runs out, retried with backoff, given up, marked sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from activities.projection import project
from store import outbox
from store.db import session_scope
from store.models import OutboxMessage, utcnow
from tests.activities.test_projection import SECRET, seed_store, step_input

LEASE = timedelta(seconds=60)


@pytest.fixture
def url(store_url: str) -> str:
    seed_store(store_url)
    with session_scope(store_url) as session:
        project(session, step_input(), SECRET)  # 4 rows: 3 mails, 1 webhook
    return store_url


def row(url: str, id: str) -> OutboxMessage:
    with session_scope(url) as session:
        found = session.get(OutboxMessage, id)
        assert found is not None
        return found


def test_rows_are_taken_once_per_lease(url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:  # four dispatchers at once
        taken = list(pool.map(lambda _: outbox.claim(url, 10, LEASE), range(4)))

    ids = [c.id for batch in taken for c in batch]
    assert len(ids) == len(set(ids)) == 4
    assert outbox.claim(url, 10, LEASE) == []  # all leased

    later = utcnow() + LEASE + timedelta(seconds=1)  # the takers were lost
    again = outbox.claim(url, 10, LEASE, now=later)
    assert sorted(c.id for c in again) == sorted(ids)
    assert {c.attempts for c in again} == {2}


def test_a_failed_send_is_due_again_after_backoff_then_given_up(url: str) -> None:
    first = outbox.claim(url, 1, LEASE)[0]
    outbox.mark_retry(url, first.id, "connection refused")
    failed = row(url, first.id)
    assert failed.status == "pending" and failed.last_error == "connection refused"
    wait = failed.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(0) < wait <= outbox.backoff(1)

    outbox.mark_retry(url, first.id, "mailbox unknown", give_up=True)
    assert row(url, first.id).status == "failed"
    assert first.id not in [c.id for c in outbox.claim(url, 10, LEASE, now=utcnow() + LEASE)]


def test_a_sent_row_is_never_taken_again(url: str) -> None:
    taken = outbox.claim(url, 10, LEASE)
    for c in taken:
        outbox.mark_sent(url, c.id)
    assert {row(url, c.id).status for c in taken} == {"sent"}
    assert outbox.claim(url, 10, LEASE, now=utcnow() + 10 * LEASE) == []
    assert outbox.next_due(url) is None


def test_backoff_doubles_to_five_minutes() -> None:
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 9, 20)] == [
        2,
        4,
        8,
        300,
        300,
    ]
