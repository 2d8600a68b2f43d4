"""The framework agreement's read model (migration 0010) on SQLite and PostgreSQL: a projected
step is written once however often it is retried, and the register answers who is bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.framework import FrameworkProjectInput, project
from dihflow.seed import seed_demo_network
from domain import framework as fw
from store import framework as rows
from store.db import session_scope

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _edition() -> tuple[fw.Edition, list[fw.Step]]:
    clauses = [fw.clause_of("1.1", "1. Definitions", "A"), fw.clause_of("2.1", "2. Scope", "B")]
    ed, opened = fw.open_edition("fca-t", "T", ["tagus-ai", "po-valley-ai"], clauses, T0, quorum=1)
    comment = fw.add_comment(ed, "tagus-ai", "1.1", "why?", T0)[1]
    amend = fw.propose_amendment(ed, "po-valley-ai", "2.1", "C", "clearer", T0)[1]
    vote = fw.cast_vote(ed, "tagus-ai", 1, "for", T0)
    closed = fw.close_consultation(ed, T0 + timedelta(days=30))
    decided = fw.decide_amendment(ed, 1, True, "ok", T0 + timedelta(days=30))
    published = fw.publish_final(ed, "a" * 64, "fca-t-final", T0 + timedelta(days=31))
    signed = fw.sign(ed, "tagus-ai", "a" * 64, T0 + timedelta(days=32))
    return ed, [opened, comment, amend, vote, closed, decided, published, signed]


def test_projection_writes_every_row_once_and_notifies_at_entry_into_force(store_url: str) -> None:
    seed_demo_network(store_url)
    ed, steps = _edition()
    data = FrameworkProjectInput(
        edition=ed,
        events=[e for s in steps for e in s.events],
        clauses={"draft": ed.clauses, "final": fw.consolidated_clauses(ed)},
        comments=ed.comments,
        amendments=ed.amendments,
        parties=list(ed.parties.values()),
        signer_name="Ana Ribeiro",
    )
    with session_scope(store_url) as session:
        first = project(session, data)
    with session_scope(store_url) as session:
        again = project(session, data)  # a retried projection
    assert first == 30 and again == 0  # one notice per hub of the demo network, once
    with session_scope(store_url) as session:
        edition = session.get(rows.FrameworkEdition, "fca-t")
        assert edition is not None and edition.state == "in_force"
        assert [c.text for c in rows.clauses(session, "fca-t", "final")] == ["A", "C"]
        amendment = rows.amendments(session, "fca-t")[0]
        assert (amendment.votes_for, amendment.decision) == (1, "accepted")
        assert len(rows.events(session, "fca-t")) == ed.seq
        assert rows.bound_hub_ids(session, "fca-t") == {"tagus-ai"}
        assert rows.edition_in_force(session) is not None
