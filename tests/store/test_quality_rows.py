"""The quality review's rows written by the projection: reviews, milestones, phases."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from domain.cases import Deliverable, Invitation, PeerReview, Survey
from domain.timeline import chain_event
from store.db import session_scope
from store.models import CaseMilestone, CasePhase, CaseReview
from store.records import project_case
from tests.store.test_store import LEAD, PARTNER, make_facts, seed_hubs


def _step(facts, type_: str, at: str):  # type: ignore[no-untyped-def]
    event = chain_event(facts.seq, facts.head_hash, type_, "system", at, {})
    facts.seq, facts.head_hash = event.seq, event.hash
    return [event]


def test_projection_writes_phases_milestones_and_reviews_once(store_url: str) -> None:
    seed_hubs(store_url)
    f = make_facts(
        "case-q",
        quality_review=True,
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
    )
    moves = [
        ("requested", "2026-01-01T00:00:00+00:00"),
        ("partnering", "2026-01-02T00:00:00+00:00"),
        ("delivery", "2026-01-10T00:00:00+00:00"),
    ]
    for state, at in moves:
        f.state = state
        with session_scope(store_url) as s:
            project_case(s, f, _step(f, state, at))
    f.deliverables = [
        Deliverable(
            hub_id=PARTNER,
            id="d1",
            due="2026-01-20",
            status="accepted",
            submitted_at="2026-01-20T18:00:00+00:00",
            accepted_at="2026-01-21T09:00:00+00:00",
        ),
        Deliverable(
            hub_id=LEAD, id="d2", due="2026-01-20", submitted_at="2026-01-22T08:00:00+00:00"
        ),
    ]
    f.state = "review"
    f.survey = Survey(
        quality=5,
        timeliness=4,
        communication=4,
        value=4,
        would_recommend=True,
        at="2026-01-25T00:00:00+00:00",
    )
    f.hub_reviews = [
        PeerReview(
            reviewer=PARTNER,
            subject=LEAD,
            reliability=5,
            contribution=4,
            would_collaborate_again=True,
        )
    ]
    events = _step(f, "reviewed", "2026-01-25T00:00:00+00:00")
    for _ in range(2):  # a retried projection writes nothing twice
        with session_scope(store_url) as s:
            project_case(s, f, events)
    with session_scope(store_url) as s:
        phases = s.exec(select(CasePhase).order_by(CasePhase.entered_seq)).all()
        milestones = {m.deliverable_id: m for m in s.exec(select(CaseMilestone))}
        reviews = {(r.reviewer, r.subject): r for r in s.exec(select(CaseReview))}
    assert [p.state for p in phases] == ["requested", "partnering", "delivery", "review"]
    assert phases[1].left_at is not None
    assert phases[1].left_at.replace(tzinfo=None) == datetime(2026, 1, 10)
    assert phases[-1].left_at is None
    assert milestones["d1"].on_time is True and milestones["d2"].on_time is False
    assert set(reviews) == {("client", ""), (PARTNER, LEAD)}
    assert reviews[("client", "")].rating == 4 and reviews[("client", "")].kind == "survey"
    assert reviews[(PARTNER, LEAD)].reliability == 5
