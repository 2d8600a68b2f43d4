"""The joint-service lifecycle: every legal move, the illegal ones, its guards and restoring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from statemachine.exceptions import TransitionNotAllowed

from domain.cases import CLIENT, CaseFacts, ClientInfo, Deliverable, Draft, Invitation, Scenario
from domain.lifecycle import (
    LIFECYCLES,
    CoDevelopmentLifecycle,
    JointServiceLifecycle,
    MatchmakingLifecycle,
    enabled_event_names,
    fire,
    lifecycle_for,
)

LEAD = "lead-hub"
PARTNER = "partner-a"
OTHER = "partner-b"
SHA = "ab" * 32

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
    "review",
    "cancel",
    "extend_deadline",
    "partners_confirmed",
    "partnering_lapsed",
    "draft_ready",
    "all_signed",
    "signing_lapsed",
    "delivery_complete",
    "review_window_closed",
)
ENDINGS = ("closed", "cancelled", "rejected", "expired")


def make_facts(state: str = "requested", **overrides: Any) -> CaseFacts:
    data: dict[str, Any] = {
        "case_id": "case-1",
        "scenario": "joint_service",
        "state": state,
        "title": "Predictive maintenance for a bakery",
        "need": "Detect oven failures early",
        "scope": "Data audit, model, pilot",
        "lead_hub_id": LEAD,
        "client": ClientInfo(name="Acme Bakery", country="PT", email="ops@acme.example"),
        "start_date": "2025-03-01",
        "end_date": "2025-09-30",
        "partnering_days": 14,
        "review_days": 30,
        "created_at": "2025-03-01T09:00:00+00:00",
    }
    data.update(overrides)
    return CaseFacts(**data)


# -- facts setups that make guards true (or deliberately false) --------------------------------
def _none(f: CaseFacts) -> None:
    pass


def _pending(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER)]


def _partner(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="accepted")]


def _partner_and_pending(f: CaseFacts) -> None:
    f.invitations = [
        Invitation(hub_id=PARTNER, status="accepted"),
        Invitation(hub_id=OTHER),
    ]


def _only_declined(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="declined")]


def _changes(f: CaseFacts) -> None:
    _partner(f)
    f.changes_requested = "Clarify the IPR clause"


def _draft(f: CaseFacts) -> None:
    _partner(f)
    f.draft = Draft(
        version=1, document_id="doc-1", sha256=SHA, template="joint_service", template_version="1"
    )


def _draft_partly_signed(f: CaseFacts) -> None:
    _draft(f)
    f.signatures = {LEAD: SHA, PARTNER: SHA}


def _draft_all_signed(f: CaseFacts) -> None:
    _draft(f)
    f.signatures = {LEAD: SHA, PARTNER: SHA, CLIENT: SHA}


def _draft_signed_old_version(f: CaseFacts) -> None:
    _draft(f)
    f.signatures = {LEAD: "cd" * 32, PARTNER: "cd" * 32, CLIENT: "cd" * 32}


def _deliverable(status: str) -> Callable[[CaseFacts], None]:
    def setup(f: CaseFacts) -> None:
        _draft_all_signed(f)
        f.deliverables = [Deliverable(hub_id=PARTNER, status=status)]  # type: ignore[arg-type]

    setup.__name__ = f"_deliverable_{status}"
    return setup


def _with_deadline(setup: Callable[[CaseFacts], None], name: str) -> Callable[[CaseFacts], None]:
    """``setup``, plus one running deadline (extend-deadline needs one)."""

    def arranged(f: CaseFacts) -> None:
        setup(f)
        f.deadlines = {name: "2025-04-02T09:00:00+00:00"}

    arranged.__name__ = f"{setup.__name__}_and_{name.split(':')[0]}_deadline"
    return arranged


def _every_guard_true(f: CaseFacts) -> None:
    f.invitations = [Invitation(hub_id=PARTNER, status="accepted"), Invitation(hub_id=OTHER)]
    f.changes_requested = "Clarify the IPR clause"
    f.draft = Draft(
        version=1, document_id="doc-1", sha256=SHA, template="joint_service", template_version="1"
    )
    f.deliverables = [
        Deliverable(hub_id=PARTNER, status="pending"),
        Deliverable(hub_id=OTHER, status="submitted"),
    ]
    f.deadlines = {"partnering": "2025-03-15T09:00:00+00:00"}


def _arranged(state: str, setup: Callable[[CaseFacts], None]) -> CaseFacts:
    facts = make_facts(state)
    setup(facts)
    return facts


# -- legal moves: (from state, event, facts setup) -> new state --------------------------------
LEGAL = [
    ("requested", "invite_partners", _none, "partnering"),
    ("requested", "reject_request", _none, "rejected"),
    ("requested", "cancel", _none, "cancelled"),
    ("partnering", "invite_partners", _pending, "partnering"),
    ("partnering", "accept_invitation", _pending, "partnering"),
    ("partnering", "decline_invitation", _pending, "partnering"),
    ("partnering", "close_partnering", _partner, "drafting"),
    ("partnering", "close_partnering", _partner_and_pending, "drafting"),
    ("partnering", "cancel", _pending, "cancelled"),
    ("partnering", "extend_deadline", _with_deadline(_pending, "partnering"), "partnering"),
    ("partnering", "extend_deadline", _with_deadline(_pending, "invitation:x"), "partnering"),
    ("partnering", "partners_confirmed", _partner, "drafting"),
    ("partnering", "partnering_lapsed", _none, "expired"),
    ("partnering", "partnering_lapsed", _pending, "expired"),
    ("partnering", "partnering_lapsed", _only_declined, "expired"),
    ("partnering", "partnering_lapsed", _partner, "drafting"),
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
    ("signing", "sign", _draft_partly_signed, "signing"),
    ("signing", "sign", _draft_signed_old_version, "signing"),
    ("signing", "decline_to_sign", _draft, "drafting"),
    ("signing", "all_signed", _draft_all_signed, "delivery"),
    ("signing", "signing_lapsed", _draft, "expired"),
    ("signing", "signing_lapsed", _draft_partly_signed, "expired"),
    ("signing", "extend_deadline", _with_deadline(_draft, "signing"), "signing"),
    ("signing", "cancel", _draft, "cancelled"),
    ("delivery", "submit_deliverable", _deliverable("pending"), "delivery"),
    ("delivery", "submit_deliverable", _deliverable("rejected"), "delivery"),
    ("delivery", "accept_deliverable", _deliverable("submitted"), "delivery"),
    ("delivery", "reject_deliverable", _deliverable("submitted"), "delivery"),
    ("delivery", "delivery_complete", _deliverable("accepted"), "review"),
    ("delivery", "cancel", _deliverable("pending"), "cancelled"),
    (
        "delivery",
        "extend_deadline",
        _with_deadline(_deliverable("pending"), "deliverable:d1"),
        "delivery",
    ),
    ("review", "review", _deliverable("accepted"), "closed"),
    ("review", "review_window_closed", _deliverable("accepted"), "closed"),
    ("review", "extend_deadline", _with_deadline(_deliverable("accepted"), "review"), "review"),
    ("review", "cancel", _deliverable("accepted"), "cancelled"),
]


def _row_id(row: tuple[Any, ...]) -> str:
    return f"{row[0]}-{row[1]}-{row[2].__name__.strip('_')}"


@pytest.mark.parametrize(("state", "event", "setup", "expected"), LEGAL, ids=map(_row_id, LEGAL))
def test_fire_moves_to_expected_state_when_transition_is_legal(
    state: str, event: str, setup: Callable[[CaseFacts], None], expected: str
) -> None:
    facts = _arranged(state, setup)

    new_state = fire(facts, event)

    assert new_state == expected
    assert facts.state == expected


@pytest.mark.parametrize("state", sorted({row[0] for row in LEGAL}))
def test_legal_table_lists_every_enabled_event_when_every_guard_holds(state: str) -> None:
    facts = _arranged(state, _every_guard_true)

    enabled = set(enabled_event_names(facts))

    # the completion events need the opposite of the invite/sign/submit guards (nothing
    # missing)
    completions = {"partners_confirmed", "all_signed", "delivery_complete"}
    assert enabled == {event for s, event, _, _ in LEGAL if s == state} - completions


# -- illegal moves: TransitionNotAllowed and nothing changes -----------------------------------
ILLEGAL = [
    ("requested", "accept_invitation", _pending),
    ("requested", "close_partnering", _partner),
    ("requested", "approve_draft", _draft),
    ("requested", "sign", _draft),
    ("requested", "review", _none),
    ("requested", "extend_deadline", _none),
    ("requested", "partnering_lapsed", _none),
    ("requested", "draft_ready", _none),
    ("partnering", "sign", _draft),
    ("partnering", "approve_draft", _draft),
    ("partnering", "reject_request", _pending),
    ("partnering", "review", _partner),
    ("partnering", "draft_ready", _partner),
    ("partnering", "revise_draft", _changes),
    ("partnering", "close_partnering", _none),
    ("partnering", "close_partnering", _pending),
    ("partnering", "close_partnering", _only_declined),
    ("partnering", "partners_confirmed", _pending),
    ("partnering", "partners_confirmed", _partner_and_pending),  # not every invitee answered
    ("partnering", "extend_deadline", _pending),
    ("partnering", "accept_invitation", _none),
    ("partnering", "accept_invitation", _partner),
    ("partnering", "decline_invitation", _only_declined),
    ("drafting", "approve_draft", _draft),
    ("drafting", "revise_draft", _partner),
    ("drafting", "sign", _draft),
    ("drafting", "invite_partners", _partner),
    ("drafting", "request_changes", _draft),
    ("drafting", "extend_deadline", _partner),
    ("drafting", "extend_deadline", _with_deadline(_partner, "partnering")),
    ("drafting", "review", _partner),
    ("legal_review", "sign", _draft),
    ("legal_review", "draft_ready", _draft),
    ("legal_review", "review", _draft),
    ("legal_review", "invite_partners", _draft),
    ("legal_review", "reject_request", _draft),
    ("signing", "sign", _draft_all_signed),
    ("signing", "approve_draft", _draft),
    ("signing", "request_changes", _draft),
    ("signing", "review", _draft),
    ("signing", "submit_deliverable", _deliverable("pending")),
    ("signing", "extend_deadline", _draft),
    ("delivery", "review", _deliverable("accepted")),
    ("delivery", "sign", _deliverable("pending")),
    ("delivery", "revise_draft", _deliverable("pending")),
    ("delivery", "submit_deliverable", _deliverable("submitted")),
    ("delivery", "submit_deliverable", _deliverable("accepted")),
    ("delivery", "accept_deliverable", _deliverable("pending")),
    ("delivery", "reject_deliverable", _deliverable("rejected")),
    ("delivery", "extend_deadline", _deliverable("pending")),
    ("review", "sign", _deliverable("accepted")),
    ("review", "submit_deliverable", _deliverable("rejected")),
    ("review", "invite_partners", _deliverable("accepted")),
    ("review", "revise_draft", _deliverable("accepted")),
    ("review", "delivery_complete", _deliverable("accepted")),
    ("review", "extend_deadline", _deliverable("accepted")),
    *[(ending, event, _every_guard_true) for ending in ENDINGS for event in ALL_EVENTS],
]


@pytest.mark.parametrize(("state", "event", "setup"), ILLEGAL, ids=map(_row_id, ILLEGAL))
def test_fire_raises_and_keeps_facts_when_transition_is_illegal(
    state: str, event: str, setup: Callable[[CaseFacts], None]
) -> None:
    facts = _arranged(state, setup)
    before = facts.model_dump()

    with pytest.raises(TransitionNotAllowed):
        fire(facts, event)

    assert facts.state == state
    assert facts.model_dump() == before


@pytest.mark.parametrize(("state", "event", "setup"), ILLEGAL, ids=map(_row_id, ILLEGAL))
def test_enabled_event_names_omits_event_when_transition_is_illegal(
    state: str, event: str, setup: Callable[[CaseFacts], None]
) -> None:
    facts = _arranged(state, setup)

    enabled = enabled_event_names(facts)

    assert event not in enabled


def test_enabled_event_names_is_empty_when_case_has_ended() -> None:
    endings = [_arranged(state, _every_guard_true) for state in ENDINGS]

    enabled = [enabled_event_names(facts) for facts in endings]

    assert enabled == [[], [], [], []]


# -- restoring at a stored state ---------------------------------------------------------------
class _RecordingLifecycle(JointServiceLifecycle):
    """The joint-service lifecycle with an entry hook on every state, to see what runs."""

    entered: list[str] = []

    def on_enter_state(self, state: Any) -> None:
        _RecordingLifecycle.entered.append(state.id)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    _RecordingLifecycle.entered = []
    monkeypatch.setitem(LIFECYCLES, "joint_service", _RecordingLifecycle)
    return _RecordingLifecycle.entered


def test_lifecycle_for_runs_no_entry_actions_when_restored_at_signing(
    recording: list[str],
) -> None:
    facts = _arranged("signing", _draft_partly_signed)
    before = facts.model_dump()

    lifecycle_for(facts)

    assert recording == []
    assert facts.model_dump() == before


def test_recording_lifecycle_records_entry_when_a_transition_enters_signing(
    recording: list[str],
) -> None:
    # Control for the test above: the hook does run when the lifecycle really enters a state.
    facts = _arranged("legal_review", _draft)

    fire(facts, "approve_draft")

    assert recording == ["signing"]


def test_lifecycle_for_reports_enabled_events_when_restored_at_signing() -> None:
    facts = _arranged("signing", _draft_partly_signed)

    chart = lifecycle_for(facts)

    assert {event.id for event in chart.enabled_events()} == {
        "revise_draft",
        "sign",
        "decline_to_sign",
        "cancel",
        "signing_lapsed",
    }
    assert facts.state == "signing"


def test_lifecycle_for_omits_sign_when_restored_at_signing_with_every_signature() -> None:
    facts = _arranged("signing", _draft_all_signed)

    enabled = enabled_event_names(facts)

    assert set(enabled) == {
        "revise_draft",
        "decline_to_sign",
        "cancel",
        "all_signed",
        "signing_lapsed",
    }


def test_lifecycles_cover_every_scenario_when_declared() -> None:
    expected = {
        Scenario.joint_service: JointServiceLifecycle,
        Scenario.co_development: CoDevelopmentLifecycle,
        Scenario.matchmaking: MatchmakingLifecycle,
    }

    declared = dict(LIFECYCLES)

    assert declared == expected


@pytest.mark.parametrize(
    ("scenario", "chart"),
    [
        ("joint_service", JointServiceLifecycle),
        ("co_development", CoDevelopmentLifecycle),
        ("matchmaking", MatchmakingLifecycle),
    ],
)
def test_lifecycle_for_picks_the_scenarios_lifecycle_when_restored(
    scenario: str, chart: type[Any]
) -> None:
    facts = make_facts("requested", scenario=scenario)

    restored = lifecycle_for(facts)

    assert type(restored) is chart
    assert restored.current_state_value == "requested"
