"""The framework agreement edition: consultation, votes, consolidation, quorum, accession and
withdrawal, as pure functions with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import framework as fw
from domain.framework_lifecycle import FRAMEWORK_ACTIONS, FrameworkLifecycle, enabled_actions
from domain.timeline import verify_chain

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HUBS = [f"hub-{i:02d}" for i in range(1, 31)]
PARAGRAPHS = [
    ("Title", "Framework Collaboration Agreement"),
    ("Heading1", "Parties"),
    ("Normal", "1.1 not a clause: before any numbered section"),
    ("Heading1", "1. Definitions"),
    ("Normal", "1.1\tIn this Agreement:"),
    ("Normal", "“Hub” means a Digital Innovation Hub."),
    ("Normal", "1.2\tHeadings are for convenience only."),
    ("Heading1", "2. Purpose"),
    ("Normal", "2.1\tThis Agreement is a framework."),
    ("Heading1", "Signatures"),
    ("Normal", "For the hub"),
]


def edition(quorum: int = 10, days: int = 30) -> fw.Edition:
    clauses = fw.split_clauses(PARAGRAPHS)
    ed, _ = fw.open_edition(
        "fca-2026", "2026", HUBS, clauses, T0, consultation_days=days, quorum=quorum
    )
    return ed


def consolidated(quorum: int = 10) -> fw.Edition:
    ed = edition(quorum)
    fw.propose_amendment(
        ed, "hub-01", "2.1", "This Agreement is a framework for all.", "clearer", T0
    )
    fw.close_consultation(ed, T0 + timedelta(days=30))
    fw.decide_amendment(ed, 1, True, "adopted by the votes", T0 + timedelta(days=31))
    fw.publish_final(ed, "f" * 64, "fca-2026-final", T0 + timedelta(days=32))
    return ed


def test_clauses_are_the_numbered_paragraphs_of_numbered_sections() -> None:
    clauses = fw.split_clauses(PARAGRAPHS)
    assert [c.number for c in clauses] == ["1.1", "1.2", "2.1"]
    assert clauses[0].text == "In this Agreement:\n“Hub” means a Digital Innovation Hub."
    assert clauses[0].section == "1. Definitions"
    assert len({c.sha256 for c in clauses}) == 3


def test_draft_hash_changes_with_any_clause_text() -> None:
    clauses = fw.split_clauses(PARAGRAPHS)
    changed = [*clauses[:-1], fw.clause_of("2.1", "2. Purpose", "Another text.")]
    assert fw.clauses_hash(clauses) != fw.clauses_hash(changed)
    assert fw.clauses_hash(clauses) == fw.clauses_hash(fw.split_clauses(PARAGRAPHS))


def test_comments_thread_on_a_clause() -> None:
    ed = edition()
    first, _ = fw.add_comment(ed, "hub-01", "1.1", "Define 'Client'?", T0)
    reply, step = fw.add_comment(ed, "hub-02", "1.1", "It is in 1.1.", T0, parent_id=first.id)
    assert reply.parent_id == first.id and step.events[0].type == "comment_added"


def test_a_reply_on_another_clause_is_refused() -> None:
    ed = edition()
    fw.add_comment(ed, "hub-01", "1.1", "x", T0)
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.add_comment(ed, "hub-02", "2.1", "y", T0, parent_id=1)
    assert info.value.status == 422


def test_a_comment_on_an_unknown_clause_is_404() -> None:
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.add_comment(edition(), "hub-01", "9.9", "x", T0)
    assert info.value.status == 404


def test_one_vote_per_hub_changeable_until_the_deadline() -> None:
    ed = edition()
    fw.propose_amendment(ed, "hub-01", "1.2", "Headings bind.", "clarity", T0)
    fw.cast_vote(ed, "hub-02", 1, "for", T0)
    fw.cast_vote(ed, "hub-03", 1, "against", T0)
    again = fw.cast_vote(ed, "hub-02", 1, "for", T0 + timedelta(days=1))
    assert again.events == []  # the same vote twice counts once
    changed = fw.cast_vote(ed, "hub-02", 1, "abstain", T0 + timedelta(days=2))
    assert changed.events[0].type == "vote_changed"
    assert ed.amendment(1).tally() == {"for": 0, "against": 1, "abstain": 1}


def test_a_vote_after_the_deadline_is_refused_naming_the_deadline() -> None:
    ed = edition()
    fw.propose_amendment(ed, "hub-01", "1.2", "Headings bind.", "clarity", T0)
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.cast_vote(ed, "hub-02", 1, "for", T0 + timedelta(days=30))  # the timer has not fired
    assert info.value.status == 409
    assert ed.deadline in info.value.detail and info.value.extra["deadline"] == ed.deadline


def test_a_comment_after_the_consultation_closed_is_refused_naming_the_deadline() -> None:
    ed = edition()
    fw.close_consultation(ed, T0 + timedelta(days=30))
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.add_comment(ed, "hub-01", "1.1", "late", T0 + timedelta(days=31))
    assert info.value.status == 409 and ed.deadline in info.value.detail


def test_a_vote_by_a_non_member_is_refused() -> None:
    ed = edition()
    fw.propose_amendment(ed, "hub-01", "1.2", "x", "y", T0)
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.cast_vote(ed, "hub-99", 1, "for", T0)
    assert info.value.status == 403


def test_a_bad_choice_is_422() -> None:
    ed = edition()
    fw.propose_amendment(ed, "hub-01", "1.2", "x", "y", T0)
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.cast_vote(ed, "hub-02", 1, "maybe", T0)
    assert info.value.status == 422


def test_extending_the_deadline_keeps_the_consultation_open() -> None:
    ed = edition()
    fw.extend_deadline(ed, T0 + timedelta(days=40), T0 + timedelta(days=29))
    assert fw.close_consultation(ed, T0 + timedelta(days=30)).events == []
    fw.add_comment(ed, "hub-01", "1.1", "still open", T0 + timedelta(days=35))
    assert (
        fw.close_consultation(ed, T0 + timedelta(days=40)).events[0].type == "consultation_closed"
    )
    assert ed.state == "consolidation"


def test_an_earlier_deadline_is_422() -> None:
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.extend_deadline(edition(), T0 + timedelta(days=10), T0)
    assert info.value.status == 422


def test_consolidation_applies_accepted_amendments_and_logs_every_one() -> None:
    ed = edition()
    fw.propose_amendment(ed, "hub-01", "2.1", "A framework for all.", "scope", T0)
    fw.propose_amendment(ed, "hub-02", "2.1", "A loose framework.", "flexibility", T0)
    fw.cast_vote(ed, "hub-03", 1, "for", T0)
    fw.close_consultation(ed, T0 + timedelta(days=30))
    with pytest.raises(fw.FrameworkRefused):
        fw.publish_final(ed, "f" * 64, "d", T0 + timedelta(days=31))  # undecided amendments
    fw.decide_amendment(ed, 1, True, "most votes", T0 + timedelta(days=31))
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.decide_amendment(ed, 2, True, "also", T0 + timedelta(days=31))
    assert info.value.status == 409  # one accepted amendment per clause
    fw.decide_amendment(ed, 2, False, "superseded by 1", T0 + timedelta(days=31))
    texts = {c.number: c.text for c in fw.consolidated_clauses(ed)}
    assert (
        texts["2.1"] == "A framework for all."
        and texts["1.2"] == "Headings are for convenience only."
    )
    log = fw.change_log(ed)
    assert [(e["id"], e["decision"], e["for"]) for e in log] == [
        (1, "accepted", 1),
        (2, "rejected", 0),
    ]
    fw.publish_final(ed, "f" * 64, "d", T0 + timedelta(days=32))
    assert ed.state == "signature" and ed.final is not None


def test_in_force_exactly_at_the_quorum_th_signature() -> None:
    ed = consolidated(quorum=3)
    steps = [
        fw.sign(ed, h, "f" * 64, T0 + timedelta(days=40, hours=i)) for i, h in enumerate(HUBS[:4])
    ]
    assert [s.entered_into_force for s in steps] == [False, False, True, False]
    assert ed.in_force_at == (T0 + timedelta(days=40, hours=2)).isoformat()
    assert ed.parties["hub-04"].kind == "accession"
    assert ed.bound_hubs(T0 + timedelta(days=41)) == HUBS[:4]
    assert not ed.bound("hub-01", T0 + timedelta(days=40, hours=1))  # not yet in force


def test_a_signature_over_a_non_final_hash_is_refused_naming_the_final() -> None:
    ed = consolidated()
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.sign(ed, "hub-01", ed.draft_sha256, T0 + timedelta(days=40))
    assert info.value.status == 409 and "f" * 64 in info.value.detail


def test_signing_twice_records_nothing() -> None:
    ed = consolidated()
    fw.sign(ed, "hub-01", "f" * 64, T0 + timedelta(days=40))
    assert fw.sign(ed, "hub-01", "f" * 64, T0 + timedelta(days=41)).events == []
    assert ed.signatory_count() == 1


def test_withdrawal_takes_effect_after_the_notice_period() -> None:
    ed = consolidated(quorum=2)
    fw.sign(ed, "hub-01", "f" * 64, T0 + timedelta(days=40))
    fw.sign(ed, "hub-02", "f" * 64, T0 + timedelta(days=40))
    notice = T0 + timedelta(days=50)
    step = fw.give_notice(ed, "hub-01", notice)
    assert step.withdrawal_at == (notice + timedelta(days=90)).isoformat()
    assert fw.withdrawals_take_effect(ed, notice + timedelta(days=89)).events == []
    assert ed.bound("hub-01", notice + timedelta(days=89))
    done = fw.withdrawals_take_effect(ed, notice + timedelta(days=90))
    assert [e.type for e in done.events] == ["withdrawal_effective"]
    assert not ed.bound("hub-01", notice + timedelta(days=90))
    row = next(r for r in fw.register(ed, notice + timedelta(days=91)) if r["hub_id"] == "hub-01")
    assert row["notice_at"] == notice.isoformat() and row["bound_until"] == step.withdrawal_at
    assert row["bound"] is False


def test_a_withdrawal_by_a_hub_that_is_not_bound_is_refused() -> None:
    ed = consolidated(quorum=1)
    fw.sign(ed, "hub-01", "f" * 64, T0 + timedelta(days=40))
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.give_notice(ed, "hub-02", T0 + timedelta(days=41))
    assert info.value.status == 403


def test_a_withdrawal_before_entry_into_force_is_not_possible() -> None:
    ed = consolidated(quorum=5)
    fw.sign(ed, "hub-01", "f" * 64, T0 + timedelta(days=40))
    with pytest.raises(fw.FrameworkRefused) as info:
        fw.give_notice(ed, "hub-01", T0 + timedelta(days=41))
    assert info.value.status == 409 and info.value.extra["allowed_actions"] == ["sign"]


def test_the_edition_events_form_one_verified_chain() -> None:
    clauses = fw.split_clauses(PARAGRAPHS)
    ed, opened = fw.open_edition("fca-x", "X", HUBS, clauses, T0, quorum=1)
    events = list(opened.events)
    events += fw.add_comment(ed, "hub-01", "1.1", "x", T0)[1].events
    events += fw.propose_amendment(ed, "hub-01", "1.1", "y", "z", T0)[1].events
    events += fw.close_consultation(ed, T0 + timedelta(days=30)).events
    events += fw.decide_amendment(ed, 1, False, "no", T0 + timedelta(days=30)).events
    events += fw.publish_final(ed, "a" * 64, "d", T0 + timedelta(days=30)).events
    events += fw.sign(ed, "hub-01", "a" * 64, T0 + timedelta(days=31)).events
    assert [e.seq for e in events] == list(range(1, 9))
    assert verify_chain(events) == []
    assert events[-1].type == "entered_into_force"


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        ("consultation", {"comment", "propose_amendment", "vote", "extend_deadline"}),
        ("consolidation", {"decide_amendment", "publish_final"}),
        ("signature", {"sign"}),
        ("in_force", {"sign", "give_notice"}),
    ],
)
def test_lifecycle_enables_each_action_only_in_its_states(state: str, allowed: set[str]) -> None:
    ed = edition()
    ed.state = state
    assert set(enabled_actions(ed)) == allowed
    assert allowed <= set(FRAMEWORK_ACTIONS)


def test_lifecycle_states_in_order() -> None:
    assert [s.value for s in FrameworkLifecycle.states] == [
        "consultation",
        "consolidation",
        "signature",
        "in_force",
    ]
