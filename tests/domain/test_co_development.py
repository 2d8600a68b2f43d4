"""New service co-development: its lifecycle table, and what each step does to a case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from statemachine.exceptions import TransitionNotAllowed

from domain.actions import allowed_actions, check_action
from domain.cases import (
    CLIENT,
    CaseFacts,
    Deliverable,
    Invitation,
    MilestoneSpec,
    PilotResult,
    Review,
)
from domain.errors import ActionRefused
from domain.lifecycle import enabled_event_names, fire
from domain.outcomes import Event, PublishService, RenderDraft
from domain.steps import on_deadline
from tests.domain.factories import (
    BACK_OFFICE,
    LEAD,
    LEGAL,
    NOW,
    OTHER,
    PARTNER,
    SHA,
    draft,
    event_types,
    link,
    make_facts,
    member,
    notified,
    signatory,
    take,
)

ALL_EVENTS = (
    "invite_partners",
    "accept_invitation",
    "decline_invitation",
    "close_partnering",
    "reject_request",
    "revise_draft",
    "approve_draft",
    "request_changes",
    "sign",
    "decline_to_sign",
    "submit_deliverable",
    "accept_deliverable",
    "reject_deliverable",
    "complete_pilot",
    "review",
    "cancel",
    "extend_deadline",
    "partners_confirmed",
    "partnering_lapsed",
    "draft_ready",
    "all_signed",
    "signing_lapsed",
    "delivery_complete",
    "reviews_complete",
    "review_window_closed",
)
ENDINGS = ("closed", "cancelled", "rejected", "expired")


def _facts(state: str = "requested", **overrides: Any) -> CaseFacts:
    return make_facts("co_development", state, **overrides)


# -- facts setups that make guards true (or deliberately false) --------------------------------
def _none(f: CaseFacts) -> None:
    pass


def _pending(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER)]


def _partner(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="accepted")]


def _partner_and_pending(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="accepted"), Invitation(hub_id=OTHER)]


def _only_declined(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="declined")]


def _changes(f: CaseFacts) -> None:
    _partner(f)
    f.changes_requested = "Settle background IP"


def _draft(f: CaseFacts) -> None:
    _partner(f)
    f.draft = draft(template="co_development")


def _lead_signed(f: CaseFacts) -> None:
    _draft(f)
    f.signatures = {LEAD: SHA}


def _hubs_signed(f: CaseFacts) -> None:
    """Every co-developer signed; there is no client to wait for."""
    _draft(f)
    f.signatures = {LEAD: SHA, PARTNER: SHA}


def _deliverable(status: str) -> Callable[[CaseFacts], None]:
    def setup(f: CaseFacts) -> None:
        _hubs_signed(f)
        f.deliverables = [
            Deliverable(id="d1", hub_id=LEAD, status="accepted"),
            Deliverable(id="d2", hub_id=PARTNER, status=status),  # type: ignore[arg-type]
        ]

    setup.__name__ = f"_deliverable_{status}"
    return setup


def _piloted(f: CaseFacts) -> None:
    _deliverable("accepted")(f)
    f.pilot = PilotResult(success=True)


def _lead_reviewed(f: CaseFacts) -> None:
    _piloted(f)
    f.peer_reviews = {LEAD: Review(rating=4)}


def _all_reviewed(f: CaseFacts) -> None:
    _piloted(f)
    f.peer_reviews = {LEAD: Review(rating=4), PARTNER: Review(rating=5)}


def _with_deadline(setup: Callable[[CaseFacts], None], name: str) -> Callable[[CaseFacts], None]:
    def arranged(f: CaseFacts) -> None:
        setup(f)
        f.deadlines = {name: "2025-04-02T09:00:00+00:00"}

    arranged.__name__ = f"{setup.__name__}_and_{name.split(':')[0]}_deadline"
    return arranged


def _every_guard_true(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="accepted"), Invitation(hub_id=OTHER)]
    f.changes_requested = "Settle background IP"
    f.draft = draft(template="co_development")
    f.deliverables = [
        Deliverable(id="d1", hub_id=LEAD, status="pending"),
        Deliverable(id="d2", hub_id=PARTNER, status="submitted"),
    ]
    f.deadlines = {"partnering": "2025-03-15T09:00:00+00:00"}


def _arranged(state: str, setup: Callable[[CaseFacts], None]) -> CaseFacts:
    facts = _facts(state)
    setup(facts)
    return facts


# -- legal moves: (from state, event, facts setup) -> new state --------------------------------
LEGAL_MOVES = [
    ("requested", "invite_partners", _none, "partnering"),
    ("requested", "reject_request", _none, "rejected"),
    ("requested", "cancel", _none, "cancelled"),
    ("partnering", "invite_partners", _pending, "partnering"),
    ("partnering", "accept_invitation", _pending, "partnering"),
    ("partnering", "decline_invitation", _pending, "partnering"),
    ("partnering", "close_partnering", _partner, "drafting"),
    ("partnering", "close_partnering", _partner_and_pending, "drafting"),
    ("partnering", "cancel", _pending, "cancelled"),
    ("partnering", "extend_deadline", _with_deadline(_pending, "invitation:x"), "partnering"),
    ("partnering", "partners_confirmed", _partner, "drafting"),
    ("partnering", "partnering_lapsed", _none, "expired"),
    ("partnering", "partnering_lapsed", _only_declined, "expired"),
    ("partnering", "partnering_lapsed", _partner_and_pending, "drafting"),
    ("drafting", "revise_draft", _changes, "drafting"),
    ("drafting", "draft_ready", _partner, "legal_review"),
    ("drafting", "cancel", _partner, "cancelled"),
    ("legal_review", "revise_draft", _draft, "drafting"),
    ("legal_review", "approve_draft", _draft, "signing"),
    ("legal_review", "request_changes", _draft, "drafting"),
    ("legal_review", "cancel", _draft, "cancelled"),
    ("signing", "revise_draft", _draft, "drafting"),
    ("signing", "sign", _draft, "signing"),
    ("signing", "sign", _lead_signed, "signing"),
    ("signing", "decline_to_sign", _draft, "drafting"),
    ("signing", "all_signed", _hubs_signed, "development"),
    ("signing", "signing_lapsed", _lead_signed, "expired"),
    ("signing", "extend_deadline", _with_deadline(_draft, "signing"), "signing"),
    ("signing", "cancel", _draft, "cancelled"),
    ("development", "submit_deliverable", _deliverable("pending"), "development"),
    ("development", "submit_deliverable", _deliverable("rejected"), "development"),
    ("development", "accept_deliverable", _deliverable("submitted"), "development"),
    ("development", "reject_deliverable", _deliverable("submitted"), "development"),
    ("development", "delivery_complete", _deliverable("accepted"), "pilot"),
    (
        "development",
        "extend_deadline",
        _with_deadline(_deliverable("pending"), "deliverable:d2"),
        "development",
    ),
    ("development", "cancel", _deliverable("pending"), "cancelled"),
    ("pilot", "complete_pilot", _deliverable("accepted"), "review"),
    ("pilot", "cancel", _deliverable("accepted"), "cancelled"),
    ("review", "review", _piloted, "review"),
    ("review", "review", _lead_reviewed, "review"),
    ("review", "reviews_complete", _all_reviewed, "closed"),
    ("review", "review_window_closed", _piloted, "closed"),
    ("review", "review_window_closed", _lead_reviewed, "closed"),
    ("review", "extend_deadline", _with_deadline(_piloted, "review"), "review"),
    ("review", "cancel", _piloted, "cancelled"),
]


def _row_id(row: tuple[Any, ...]) -> str:
    return f"{row[0]}-{row[1]}-{row[2].__name__.strip('_')}"


@pytest.mark.parametrize(
    ("state", "event", "setup", "expected"), LEGAL_MOVES, ids=map(_row_id, LEGAL_MOVES)
)
def test_fire_moves_to_expected_state_when_co_development_transition_is_legal(
    state: str, event: str, setup: Callable[[CaseFacts], None], expected: str
) -> None:
    facts = _arranged(state, setup)

    new_state = fire(facts, event)

    assert new_state == expected
    assert facts.state == expected


@pytest.mark.parametrize("state", sorted({row[0] for row in LEGAL_MOVES}))
def test_legal_table_lists_every_enabled_co_development_event_when_every_guard_holds(
    state: str,
) -> None:
    facts = _arranged(state, _every_guard_true)

    enabled = set(enabled_event_names(facts))

    # the completion events need the opposite of the sign/submit/review guards
    completions = {"partners_confirmed", "all_signed", "delivery_complete", "reviews_complete"}
    assert enabled == {event for s, event, _, _ in LEGAL_MOVES if s == state} - completions


ILLEGAL_MOVES = [
    ("requested", "accept_invitation", _pending),
    ("requested", "complete_pilot", _none),
    ("requested", "sign", _draft),
    ("requested", "extend_deadline", _with_deadline(_none, "partnering")),
    ("partnering", "close_partnering", _pending),
    ("partnering", "close_partnering", _only_declined),
    ("partnering", "partners_confirmed", _pending),
    ("partnering", "partners_confirmed", _partner_and_pending),  # not every invitee answered
    ("partnering", "extend_deadline", _pending),
    ("partnering", "complete_pilot", _partner),
    ("drafting", "revise_draft", _partner),
    ("drafting", "approve_draft", _draft),
    ("drafting", "extend_deadline", _with_deadline(_partner, "partnering")),
    ("legal_review", "sign", _draft),
    ("legal_review", "draft_ready", _draft),
    ("signing", "sign", _hubs_signed),
    ("signing", "all_signed", _lead_signed),
    ("signing", "submit_deliverable", _deliverable("pending")),
    ("signing", "extend_deadline", _draft),
    ("development", "complete_pilot", _deliverable("pending")),
    ("development", "submit_deliverable", _deliverable("submitted")),
    ("development", "submit_deliverable", _deliverable("accepted")),
    ("development", "accept_deliverable", _deliverable("pending")),
    ("development", "reject_deliverable", _deliverable("rejected")),
    ("development", "delivery_complete", _deliverable("submitted")),
    ("development", "review", _deliverable("accepted")),
    ("development", "extend_deadline", _deliverable("pending")),
    ("pilot", "submit_deliverable", _deliverable("rejected")),
    ("pilot", "delivery_complete", _deliverable("accepted")),
    ("pilot", "review", _deliverable("accepted")),
    ("pilot", "reviews_complete", _deliverable("accepted")),
    ("pilot", "extend_deadline", _with_deadline(_deliverable("accepted"), "review")),
    ("review", "review", _all_reviewed),
    ("review", "reviews_complete", _piloted),
    ("review", "reviews_complete", _lead_reviewed),
    ("review", "complete_pilot", _piloted),
    ("review", "extend_deadline", _piloted),
    ("review", "sign", _piloted),
    *[(ending, event, _every_guard_true) for ending in ENDINGS for event in ALL_EVENTS],
]


@pytest.mark.parametrize(
    ("state", "event", "setup"), ILLEGAL_MOVES, ids=map(_row_id, ILLEGAL_MOVES)
)
def test_fire_raises_and_keeps_facts_when_co_development_transition_is_illegal(
    state: str, event: str, setup: Callable[[CaseFacts], None]
) -> None:
    facts = _arranged(state, setup)
    before = facts.model_dump()

    with pytest.raises(TransitionNotAllowed):
        fire(facts, event)

    assert facts.state == state
    assert facts.model_dump() == before


@pytest.mark.parametrize(
    ("state", "event", "setup"), ILLEGAL_MOVES, ids=map(_row_id, ILLEGAL_MOVES)
)
def test_enabled_event_names_omits_co_development_event_when_transition_is_illegal(
    state: str, event: str, setup: Callable[[CaseFacts], None]
) -> None:
    facts = _arranged(state, setup)

    enabled = enabled_event_names(facts)

    assert event not in enabled


# -- steps -------------------------------------------------------------------------------------
def _signing(**overrides: Any) -> CaseFacts:
    facts = _arranged("signing", _draft)
    facts.deadlines = {
        "signing": "2025-04-02T09:00:00+00:00",
        "signing_reminder": "2025-03-10T09:00:00+00:00",
    }
    for name, value in overrides.items():
        setattr(facts, name, value)
    return facts


def _sign_all(facts: CaseFacts) -> list[str]:
    types: list[str] = []
    for hub in (LEAD, PARTNER):
        types += event_types(take(facts, "sign", signatory(hub), {"document_sha256": SHA}))
    return types


def _development() -> CaseFacts:
    facts = _signing()
    _sign_all(facts)
    return facts


def _pilot() -> CaseFacts:
    return _arranged("pilot", _deliverable("accepted"))


def _review(success: bool = True) -> CaseFacts:
    facts = _arranged("review", _deliverable("accepted"))
    facts.pilot = PilotResult(success=success, summary="Pilot at two SMEs")
    facts.deadlines = {"review": "2025-04-02T09:00:00+00:00"}
    return facts


def test_apply_action_walks_co_development_happy_path_when_every_hub_plays_along() -> None:
    facts = _facts()

    take(facts, "invite_partners", member(LEAD), {"hub_ids": [PARTNER]})
    accepted = take(facts, "accept_invitation", member(PARTNER), {})
    assert facts.state == "drafting"
    assert accepted.effects == [RenderDraft()]

    facts.draft = draft(template="co_development")  # what the render_draft effect produces
    fire(facts, "draft_ready")
    approved = take(facts, "approve_draft", LEGAL, {})
    assert (facts.state, approved.effects) == ("signing", [])  # no external party, no link
    assert notified(approved) == [(LEAD, "state_changed"), (PARTNER, "state_changed")]

    signed = _sign_all(facts)
    assert facts.state == "development"
    assert signed == ["signed", "signed", "agreement_executed"]
    assert [(d.id, d.hub_id) for d in facts.deliverables] == [("d1", LEAD), ("d2", PARTNER)]

    for d, hub in (("d1", LEAD), ("d2", PARTNER)):
        body = {"summary": f"Work package of {hub}", "deliverable_id": d}
        take(facts, "submit_deliverable", member(hub), body)
    take(facts, "accept_deliverable", member(LEAD), {"deliverable_id": "d1"})
    assert facts.state == "development"
    developed = take(facts, "accept_deliverable", member(LEAD), {"deliverable_id": "d2"})
    assert facts.state == "pilot"
    assert event_types(developed) == ["deliverable_accepted", "development_completed"]
    assert facts.deadlines == {}

    piloted = take(facts, "complete_pilot", member(LEAD), {"success": True, "summary": "2 SMEs"})
    assert facts.state == "review"
    assert event_types(piloted) == ["pilot_completed", "review_opened"]
    assert facts.deadlines == {"review": (NOW + timedelta(days=30)).isoformat()}

    first = take(facts, "review", member(LEAD), {"rating": 4})
    assert (facts.state, event_types(first), first.effects) == ("review", ["reviewed"], [])
    last = take(facts, "review", member(PARTNER), {"rating": 5, "comment": "Ready to sell"})
    assert (facts.state, facts.outcome) == ("closed", "completed")
    assert event_types(last) == ["reviewed", "closed"]
    assert last.effects == [PublishService()]
    assert set(facts.peer_reviews) == {LEAD, PARTNER}
    assert facts.deadlines == {}


def test_apply_action_moves_to_development_when_every_hub_signed_without_a_client() -> None:
    facts = _signing()

    out = take(facts, "sign", signatory(LEAD), {"document_sha256": SHA})
    last = take(facts, "sign", signatory(PARTNER), {"document_sha256": SHA})

    assert event_types(out) == ["signed"]
    assert facts.state == "development"
    assert event_types(last) == ["signed", "agreement_executed"]
    assert CLIENT not in facts.signatures


def test_allowed_actions_excludes_sign_when_client_link_holder_is_not_a_co_development_party() -> (
    None
):
    facts = _signing()

    allowed = allowed_actions(facts, link(CLIENT, "sign"))

    assert allowed == []


def test_apply_action_plans_one_deliverable_per_party_hub_when_there_is_no_milestone_plan() -> None:
    facts = _development()

    planned = [(d.id, d.hub_id, d.title, d.due, d.status) for d in facts.deliverables]

    assert planned == [
        ("d1", LEAD, "Deliverable", "2025-09-30", "pending"),
        ("d2", PARTNER, "Deliverable", "2025-09-30", "pending"),
    ]
    assert facts.deadlines == {
        "deliverable:d1": "2025-09-30T23:59:59+00:00",
        "deliverable:d2": "2025-09-30T23:59:59+00:00",
    }


def test_apply_action_plans_deliverables_from_milestone_plan_when_signed() -> None:
    plan = [
        MilestoneSpec(hub_id=LEAD, title="Data pipeline", due_days=30),
        MilestoneSpec(hub_id=PARTNER, title="Model", due_days=60),
        MilestoneSpec(hub_id=PARTNER, title="Pilot kit", due_days=90),
    ]
    facts = _signing(milestone_plan=plan)

    _sign_all(facts)

    planned = [(d.id, d.hub_id, d.title, d.due) for d in facts.deliverables]
    assert planned == [
        ("d1", LEAD, "Data pipeline", "2025-03-31"),  # due_days count from the start date
        ("d2", PARTNER, "Model", "2025-04-30"),
        ("d3", PARTNER, "Pilot kit", "2025-05-30"),
    ]
    assert facts.deadlines == {
        "deliverable:d1": "2025-03-31T23:59:59+00:00",
        "deliverable:d2": "2025-04-30T23:59:59+00:00",
        "deliverable:d3": "2025-05-30T23:59:59+00:00",
    }


MILESTONE_OF_A_NON_PARTY = (
    "domain bug: _plan_deliverables copies facts.milestone_plan as is, so a milestone of a hub "
    "that was invited (the API only checks milestones against lead + invited hubs) but declined "
    "or let its invitation lapse becomes a deliverable owed by a non-party: the lead cannot "
    "submit it, development never completes, and the declined hub may submit it "
    "(_owes_deliverable only checks hub_id)"
)


def test_apply_action_plans_deliverables_for_party_hubs_only_when_a_planned_hub_declined() -> None:
    plan = [
        MilestoneSpec(hub_id=PARTNER, title="Model", due_days=60),
        MilestoneSpec(hub_id=OTHER, title="Edge hardware", due_days=60),
    ]
    facts = _signing(milestone_plan=plan)
    facts.invitations.append(Invitation(hub_id=OTHER, status="declined"))

    _sign_all(facts)

    assert {d.hub_id for d in facts.deliverables} <= set(facts.party_hub_ids)


def test_apply_action_submits_the_named_deliverable_when_hub_owes_several() -> None:
    plan = [
        MilestoneSpec(hub_id=PARTNER, title="Model", due_days=30),
        MilestoneSpec(hub_id=PARTNER, title="Pilot kit", due_days=60),
    ]
    facts = _signing(milestone_plan=plan)
    _sign_all(facts)

    out = take(
        facts, "submit_deliverable", member(PARTNER), {"summary": "Kit", "deliverable_id": "d2"}
    )

    assert [d.status for d in facts.deliverables] == ["pending", "submitted"]
    assert out.events[0].data == {"deliverable_id": "d2", "hub_id": PARTNER}


def test_check_action_answers_422_when_hub_submits_a_deliverable_of_another_hub() -> None:
    facts = _development()

    with pytest.raises(ActionRefused) as info:
        check_action(
            facts, "submit_deliverable", member(PARTNER), {"summary": "x", "deliverable_id": "d1"}
        )

    assert info.value.status == 422
    assert [e["field"] for e in info.value.extra["errors"]] == ["deliverable_id"]


def test_allowed_actions_lets_only_the_lead_complete_the_pilot_when_in_pilot() -> None:
    facts = _pilot()

    by_caller = {
        hub: set(allowed_actions(facts, member(hub))) for hub in (LEAD, PARTNER, OTHER)
    } | {"back_office": set(allowed_actions(facts, BACK_OFFICE))}

    assert by_caller == {
        LEAD: {"complete-pilot", "cancel"},
        PARTNER: set(),
        OTHER: set(),
        "back_office": {"cancel"},
    }


def test_apply_action_opens_peer_review_without_link_when_pilot_completes() -> None:
    facts = _pilot()

    out = take(facts, "complete_pilot", member(LEAD), {"success": False, "summary": "Too slow"})

    assert facts.state == "review"
    assert facts.pilot == PilotResult(success=False, summary="Too slow")
    assert out.effects == []
    assert out.events[0] == Event(
        "pilot_completed", "principal:member-lead-hub", {"success": False}
    )
    assert notified(out) == [(LEAD, "state_changed"), (PARTNER, "state_changed")]
    assert facts.deadlines == {"review": (NOW + timedelta(days=30)).isoformat()}


def test_apply_action_closes_without_publish_service_when_pilot_failed() -> None:
    facts = _review(success=False)

    take(facts, "review", member(LEAD), {"rating": 2})
    out = take(facts, "review", member(PARTNER), {"rating": 2})

    assert (facts.state, facts.outcome) == ("closed", "completed")
    assert PublishService() not in out.effects
    assert out.effects == []


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (member(LEAD), {"review", "cancel"}),
        (member(PARTNER), {"review"}),
        (signatory(PARTNER), {"review"}),
        (member(OTHER), set()),
        (link(CLIENT, "review"), set()),
        (BACK_OFFICE, {"cancel", "extend-deadline"}),
    ],
    ids=["lead", "partner-member", "partner-signatory", "outsider", "client-link", "back-office"],
)
def test_allowed_actions_offers_review_to_each_party_hub_when_peer_review_is_open(
    caller: Any, expected: set[str]
) -> None:
    facts = _review()

    allowed = set(allowed_actions(facts, caller))

    assert allowed == expected


def test_check_action_answers_403_when_hub_reviews_twice() -> None:
    facts = _review()
    take(facts, "review", member(LEAD), {"rating": 4})

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "review", signatory(LEAD), {"rating": 1})

    assert info.value.status == 403
    assert facts.peer_reviews[LEAD].rating == 4


# -- the peer-review window --------------------------------------------------------------------
def test_on_deadline_closes_completed_when_review_window_ends_with_some_peer_reviews() -> None:
    facts = _review()
    take(facts, "review", member(PARTNER), {"rating": 5})

    out = on_deadline(facts, "review", NOW + timedelta(days=30))

    assert (facts.state, facts.outcome) == ("closed", "completed")
    assert [(e.type, e.actor) for e in out.events] == [("closed", "system")]
    assert out.effects == [PublishService()]
    assert facts.deadlines == {}


def test_on_deadline_closes_with_no_review_when_window_ends_without_peer_reviews() -> None:
    facts = _review(success=False)

    out = on_deadline(facts, "review", NOW + timedelta(days=30))

    assert (facts.state, facts.outcome) == ("closed", "no_review")
    assert out.events == [Event("closed", "system", {"outcome": "no_review"})]
    assert out.effects == []
    assert facts.deadlines == {}
