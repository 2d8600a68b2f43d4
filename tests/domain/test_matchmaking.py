"""Matchmaking: its lifecycle table, and what each step (double opt-in, NDA, outcome) does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from statemachine.exceptions import TransitionNotAllowed

from domain.actions import allowed_actions, check_action
from domain.cases import (
    CLIENT,
    LOCAL_PLAYER,
    CaseFacts,
    Introduction,
    Meeting,
    Review,
)
from domain.errors import ActionRefused
from domain.lifecycle import enabled_event_names, fire
from domain.outcomes import Event, IssueLink, RenderDraft
from domain.steps import on_deadline
from tests.domain.factories import (
    BACK_OFFICE,
    LEAD,
    LEGAL,
    NOW,
    SHA,
    draft,
    event_types,
    link,
    make_facts,
    member,
    notified,
    player_link,
    signatory,
    take,
)

HUB_A = "hub-a"
HUB_B = "hub-b"
HUB_C = "hub-c"

ALL_EVENTS = (
    "reject_request",
    "select_candidates",
    "consent",
    "decline_consent",
    "record_meeting",
    "request_nda",
    "skip_nda",
    "revise_draft",
    "approve_draft",
    "request_changes",
    "sign",
    "decline_to_sign",
    "record_outcome",
    "review",
    "cancel",
    "extend_deadline",
    "candidates_ranked",
    "introductions_done",
    "introductions_lapsed",
    "draft_ready",
    "all_signed",
    "signing_lapsed",
    "review_window_closed",
)
ENDINGS = ("closed", "cancelled", "rejected", "expired")


def _facts(state: str = "requested", **overrides: Any) -> CaseFacts:
    return make_facts("matchmaking", state, **overrides)


# -- facts setups that make guards true (or deliberately false) --------------------------------
def _none(f: CaseFacts) -> None:
    pass


def _intro_pending(f: CaseFacts) -> None:
    f.introductions = [Introduction(hub_id=HUB_A, hub_consent="given")]


def _intro_mutual(f: CaseFacts) -> None:
    f.introductions = [Introduction(hub_id=HUB_A, hub_consent="given", player_consent="given")]


def _intro_mutual_and_pending(f: CaseFacts) -> None:
    _intro_mutual(f)
    f.introductions.append(Introduction(hub_id=HUB_B))


def _intro_declined(f: CaseFacts) -> None:
    f.introductions = [
        Introduction(hub_id=HUB_A, hub_consent="declined"),
        Introduction(hub_id=HUB_B, hub_consent="given", player_consent="declined"),
    ]


def _met(f: CaseFacts) -> None:
    _intro_mutual(f)
    f.meetings = [Meeting(hub_id=HUB_A, held_on="2025-03-20")]


def _changes(f: CaseFacts) -> None:
    _met(f)
    f.nda_requested = True
    f.changes_requested = "Shorter confidentiality term"


def _nda(f: CaseFacts) -> None:
    _met(f)
    f.nda_requested = True
    f.draft = draft(template="nda")


def _nda_hubs_signed(f: CaseFacts) -> None:
    _nda(f)
    f.signatures = {LEAD: SHA, HUB_A: SHA}


def _nda_all_signed(f: CaseFacts) -> None:
    _nda(f)
    f.signatures = {LEAD: SHA, HUB_A: SHA, LOCAL_PLAYER: SHA}


def _outcome(f: CaseFacts) -> None:
    _met(f)
    f.result = "further_talks"


def _with_deadline(setup: Callable[[CaseFacts], None], name: str) -> Callable[[CaseFacts], None]:
    def arranged(f: CaseFacts) -> None:
        setup(f)
        f.deadlines = {name: "2025-04-02T09:00:00+00:00"}

    arranged.__name__ = f"{setup.__name__}_and_{name}_deadline"
    return arranged


def _every_guard_true(f: CaseFacts) -> None:
    f.introductions = [
        Introduction(hub_id=HUB_A, hub_consent="given", player_consent="given"),
        Introduction(hub_id=HUB_B),
    ]
    f.meetings = [Meeting(hub_id=HUB_A, held_on="2025-03-20")]
    f.changes_requested = "Shorter confidentiality term"
    f.draft = draft(template="nda")
    f.deadlines = {"introductions": "2025-03-10T09:00:00+00:00"}


def _arranged(state: str, setup: Callable[[CaseFacts], None]) -> CaseFacts:
    facts = _facts(state)
    setup(facts)
    return facts


# -- legal moves: (from state, event, facts setup) -> new state --------------------------------
LEGAL_MOVES = [
    ("requested", "candidates_ranked", _none, "matching"),
    ("requested", "reject_request", _none, "rejected"),
    ("requested", "cancel", _none, "cancelled"),
    ("matching", "select_candidates", _none, "introducing"),
    ("matching", "select_candidates", _intro_declined, "introducing"),
    ("matching", "cancel", _none, "cancelled"),
    ("introducing", "select_candidates", _intro_pending, "introducing"),
    ("introducing", "consent", _intro_pending, "introducing"),
    ("introducing", "decline_consent", _intro_pending, "introducing"),
    ("introducing", "introductions_done", _intro_mutual, "meeting"),
    ("introducing", "introductions_done", _intro_declined, "matching"),
    ("introducing", "introductions_lapsed", _intro_mutual_and_pending, "meeting"),
    ("introducing", "introductions_lapsed", _intro_pending, "expired"),
    ("introducing", "introductions_lapsed", _intro_declined, "expired"),
    (
        "introducing",
        "extend_deadline",
        _with_deadline(_intro_pending, "introductions"),
        "introducing",
    ),
    ("introducing", "cancel", _intro_pending, "cancelled"),
    ("meeting", "record_meeting", _intro_mutual, "meeting"),
    ("meeting", "record_meeting", _met, "meeting"),
    ("meeting", "request_nda", _met, "drafting"),
    ("meeting", "skip_nda", _met, "follow_up"),
    ("meeting", "cancel", _intro_mutual, "cancelled"),
    ("drafting", "revise_draft", _changes, "drafting"),
    ("drafting", "draft_ready", _met, "legal_review"),
    ("drafting", "cancel", _met, "cancelled"),
    ("legal_review", "revise_draft", _nda, "drafting"),
    ("legal_review", "approve_draft", _nda, "signing"),
    ("legal_review", "request_changes", _nda, "drafting"),
    ("legal_review", "cancel", _nda, "cancelled"),
    ("signing", "revise_draft", _nda, "drafting"),
    ("signing", "sign", _nda, "signing"),
    ("signing", "sign", _nda_hubs_signed, "signing"),
    ("signing", "decline_to_sign", _nda, "drafting"),
    ("signing", "all_signed", _nda_all_signed, "follow_up"),
    ("signing", "signing_lapsed", _nda_hubs_signed, "expired"),
    ("signing", "extend_deadline", _with_deadline(_nda, "signing"), "signing"),
    ("signing", "cancel", _nda, "cancelled"),
    ("follow_up", "record_outcome", _met, "review"),
    ("follow_up", "cancel", _met, "cancelled"),
    ("review", "review", _outcome, "closed"),
    ("review", "review_window_closed", _outcome, "closed"),
    ("review", "extend_deadline", _with_deadline(_outcome, "review"), "review"),
    ("review", "cancel", _outcome, "cancelled"),
]


def _row_id(row: tuple[Any, ...]) -> str:
    return f"{row[0]}-{row[1]}-{row[2].__name__.strip('_')}"


@pytest.mark.parametrize(
    ("state", "event", "setup", "expected"), LEGAL_MOVES, ids=map(_row_id, LEGAL_MOVES)
)
def test_fire_moves_to_expected_state_when_matchmaking_transition_is_legal(
    state: str, event: str, setup: Callable[[CaseFacts], None], expected: str
) -> None:
    facts = _arranged(state, setup)

    new_state = fire(facts, event)

    assert new_state == expected
    assert facts.state == expected


@pytest.mark.parametrize("state", sorted({row[0] for row in LEGAL_MOVES}))
def test_legal_table_lists_every_enabled_matchmaking_event_when_every_guard_holds(
    state: str,
) -> None:
    facts = _arranged(state, _every_guard_true)

    enabled = set(enabled_event_names(facts))

    # all_signed and introductions_done need the opposite of the sign and consent guards
    # (no signature missing, no consent pending)
    completions = {"all_signed", "introductions_done"}
    assert enabled == {event for s, event, _, _ in LEGAL_MOVES if s == state} - completions


ILLEGAL_MOVES = [
    ("requested", "select_candidates", _none),
    ("requested", "consent", _intro_pending),
    ("requested", "introductions_done", _intro_mutual),
    ("requested", "extend_deadline", _with_deadline(_none, "introductions")),
    ("matching", "candidates_ranked", _none),
    ("matching", "consent", _intro_pending),
    ("matching", "introductions_done", _intro_mutual),
    ("matching", "reject_request", _none),
    ("matching", "extend_deadline", _with_deadline(_none, "introductions")),
    ("introducing", "consent", _intro_mutual),
    ("introducing", "decline_consent", _intro_declined),
    ("introducing", "record_meeting", _intro_mutual),
    ("introducing", "request_nda", _met),
    ("introducing", "extend_deadline", _intro_pending),
    ("introducing", "introductions_done", _intro_mutual_and_pending),  # one still unanswered
    ("meeting", "request_nda", _intro_mutual),
    ("meeting", "skip_nda", _intro_mutual),
    ("meeting", "consent", _intro_mutual_and_pending),
    ("meeting", "select_candidates", _intro_mutual),
    ("meeting", "record_outcome", _met),
    ("meeting", "extend_deadline", _with_deadline(_met, "introductions")),
    ("drafting", "revise_draft", _met),
    ("drafting", "sign", _nda),
    ("legal_review", "draft_ready", _nda),
    ("signing", "sign", _nda_all_signed),
    ("signing", "all_signed", _nda_hubs_signed),
    ("signing", "record_outcome", _nda),
    ("signing", "extend_deadline", _nda),
    ("follow_up", "review", _met),
    ("follow_up", "record_meeting", _met),
    ("follow_up", "request_nda", _met),
    ("follow_up", "extend_deadline", _with_deadline(_met, "signing")),
    ("review", "record_outcome", _outcome),
    ("review", "consent", _outcome),
    ("review", "extend_deadline", _outcome),
    *[(ending, event, _every_guard_true) for ending in ENDINGS for event in ALL_EVENTS],
]


@pytest.mark.parametrize(
    ("state", "event", "setup"), ILLEGAL_MOVES, ids=map(_row_id, ILLEGAL_MOVES)
)
def test_fire_raises_and_keeps_facts_when_matchmaking_transition_is_illegal(
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
def test_enabled_event_names_omits_matchmaking_event_when_transition_is_illegal(
    state: str, event: str, setup: Callable[[CaseFacts], None]
) -> None:
    facts = _arranged(state, setup)

    enabled = enabled_event_names(facts)

    assert event not in enabled


# -- steps: ranking, selection and the double opt-in --------------------------------------------
def _introducing(*hubs: str) -> CaseFacts:
    facts = _facts("matching")
    take(facts, "select_candidates", member(LEAD), {"hub_ids": list(hubs)})
    return facts


def _consent(facts: CaseFacts, hub: str, hub_says: str, player_says: str) -> list[str]:
    types = event_types(take(facts, hub_says, member(hub), {}))
    types += event_types(take(facts, player_says, player_link("consent", hub), {}))
    return types


def _meeting() -> CaseFacts:
    facts = _introducing(HUB_A, HUB_B)
    _consent(facts, HUB_A, "consent", "consent")
    take(facts, "decline_consent", member(HUB_B), {"reason": "No capacity"})  # settles B
    return facts


def _met_with_a() -> CaseFacts:
    facts = _meeting()
    take(facts, "record_meeting", member(LEAD), {"hub_id": HUB_A, "held_on": "2025-03-20"})
    return facts


def _nda_signing() -> CaseFacts:
    facts = _met_with_a()
    take(facts, "request_nda", member(LEAD), {})
    facts.draft = draft(template="nda")  # what the render_draft effect produces
    fire(facts, "draft_ready")
    take(facts, "approve_draft", LEGAL, {})
    return facts


def _follow_up() -> CaseFacts:
    facts = _met_with_a()
    take(facts, "skip_nda", member(LEAD), {})
    return facts


def _in_review() -> CaseFacts:
    facts = _follow_up()
    take(facts, "record_outcome", member(LEAD), {"result": "collaboration_agreed"})
    return facts


def test_matchmaking_walks_happy_path_when_both_sides_agree_and_sign_an_nda() -> None:
    facts = _facts()

    fire(facts, "candidates_ranked")  # the rank_candidates effect's result
    assert allowed_actions(facts, member(LEAD)) == ["select-candidates", "cancel"]

    selected = take(facts, "select_candidates", member(LEAD), {"hub_ids": [HUB_A]})
    assert facts.state == "introducing"
    assert selected.effects == [IssueLink("consent", LOCAL_PLAYER, HUB_A)]

    assert _consent(facts, HUB_A, "consent", "consent") == [
        "consent_given",
        "consent_given",
        "introductions_settled",
    ]
    assert facts.state == "meeting"

    take(facts, "record_meeting", member(LEAD), {"hub_id": HUB_A, "held_on": "2025-03-20"})
    nda = take(facts, "request_nda", member(LEAD), {})
    assert (facts.state, nda.effects) == ("drafting", [RenderDraft()])

    facts.draft = draft(template="nda")
    fire(facts, "draft_ready")
    approved = take(facts, "approve_draft", LEGAL, {})
    assert approved.effects == [IssueLink("sign", LOCAL_PLAYER)]

    for caller in (signatory(LEAD), signatory(HUB_A), player_link("sign")):
        last = take(facts, "sign", caller, {"document_sha256": SHA})
    assert facts.state == "follow_up"
    assert event_types(last) == ["signed", "agreement_executed"]

    recorded = take(facts, "record_outcome", member(LEAD), {"result": "collaboration_agreed"})
    assert recorded.effects == [IssueLink("review", LOCAL_PLAYER)]

    reviewed = take(facts, "review", player_link("review"), {"rating": 5})
    assert (facts.state, facts.outcome) == ("closed", "completed")
    assert event_types(reviewed) == ["reviewed", "closed"]


def test_apply_action_proposes_introductions_with_a_consent_link_each_when_lead_selects() -> None:
    facts = _facts("matching")

    out = take(facts, "select_candidates", member(LEAD), {"hub_ids": [HUB_A, HUB_B, HUB_A]})

    assert facts.state == "introducing"
    assert facts.introductions == [Introduction(hub_id=HUB_A), Introduction(hub_id=HUB_B)]
    assert out.effects == [
        IssueLink("consent", LOCAL_PLAYER, HUB_A),
        IssueLink("consent", LOCAL_PLAYER, HUB_B),
    ]
    assert notified(out) == [(HUB_A, "invitation"), (HUB_B, "invitation")]
    assert out.events == [
        Event("candidates_selected", "principal:member-lead-hub", {"hub_ids": [HUB_A, HUB_B]})
    ]
    assert facts.deadlines == {"introductions": (NOW + timedelta(days=7)).isoformat()}


def test_check_action_answers_422_when_lead_selects_itself_as_candidate() -> None:
    facts = _facts("matching")

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "select_candidates", member(LEAD), {"hub_ids": [HUB_A, LEAD]})

    assert info.value.status == 422
    assert [e["field"] for e in info.value.extra["errors"]] == ["hub_ids"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (member(HUB_A), {"consent", "decline-consent"}),
        (signatory(HUB_B), {"consent", "decline-consent"}),
        (member(HUB_C), set()),
        (member(LEAD), {"select-candidates", "cancel"}),
        (player_link("consent", HUB_A), {"consent", "decline-consent"}),
        (player_link("consent", HUB_C), set()),
        (player_link("consent"), set()),
        (player_link("review", HUB_A), set()),
        (link(CLIENT, "consent", HUB_A), set()),
        (BACK_OFFICE, {"cancel", "extend-deadline"}),
    ],
    ids=[
        "candidate-member",
        "candidate-signatory",
        "other-hub",
        "lead",
        "player-link-for-candidate",
        "player-link-for-another-hub",
        "player-link-without-subject",
        "player-review-link",
        "client-link",
        "back-office",
    ],
)
def test_allowed_actions_offers_consent_to_both_sides_when_introductions_are_pending(
    caller: Any, expected: set[str]
) -> None:
    facts = _introducing(HUB_A, HUB_B)

    allowed = set(allowed_actions(facts, caller))

    assert allowed == expected


def test_apply_action_records_each_side_when_hub_and_player_consent() -> None:
    facts = _introducing(HUB_A, HUB_B)

    by_hub = take(facts, "consent", member(HUB_A), {})
    by_player = take(facts, "consent", player_link("consent", HUB_A), {})

    intro = facts.introduction(HUB_A)
    assert intro is not None and intro.mutual
    assert by_hub.events == [
        Event("consent_given", "principal:member-hub-a", {"hub_id": HUB_A, "side": "hub"})
    ]
    assert by_player.events == [
        Event("consent_given", "link:local_player", {"hub_id": HUB_A, "side": "player"})
    ]
    assert notified(by_player) == [(LEAD, "state_changed")]
    assert facts.state == "introducing"  # hub B has not answered yet


def test_allowed_actions_drops_consent_when_that_side_has_answered() -> None:
    facts = _introducing(HUB_A, HUB_B)
    take(facts, "consent", player_link("consent", HUB_A), {})

    allowed = allowed_actions(facts, player_link("consent", HUB_A))

    assert allowed == []
    assert set(allowed_actions(facts, member(HUB_A))) == {"consent", "decline-consent"}


def test_apply_action_moves_to_meeting_when_every_introduction_is_settled_with_a_match() -> None:
    facts = _introducing(HUB_A, HUB_B)
    _consent(facts, HUB_A, "consent", "consent")

    types = _consent(facts, HUB_B, "consent", "decline_consent")

    assert facts.state == "meeting"
    assert types[-2:] == ["consent_declined", "introductions_settled"]
    assert facts.matched_hub_ids == [HUB_A]
    assert facts.deadlines == {}


def test_apply_action_returns_to_matching_when_every_introduction_is_declined() -> None:
    facts = _introducing(HUB_A, HUB_B)
    take(facts, "decline_consent", member(HUB_A), {"reason": "No capacity"})

    out = take(facts, "decline_consent", player_link("consent", HUB_B), {})

    assert facts.state == "matching"
    assert out.events[-1] == Event("introductions_settled", "system", {"matched": []})
    assert facts.deadlines == {}
    assert allowed_actions(facts, member(LEAD)) == ["select-candidates", "cancel"]


def test_apply_action_reintroduces_a_declined_hub_when_lead_selects_it_again() -> None:
    facts = _introducing(HUB_A)
    take(facts, "decline_consent", member(HUB_A), {})
    assert facts.state == "matching"

    out = take(facts, "select_candidates", member(LEAD), {"hub_ids": [HUB_A]})

    assert facts.state == "introducing"
    assert facts.introductions == [Introduction(hub_id=HUB_A)]
    assert out.effects == [IssueLink("consent", LOCAL_PLAYER, HUB_A)]


# -- steps: meeting, NDA, follow-up and review --------------------------------------------------
def test_apply_action_records_meeting_when_hub_is_matched() -> None:
    facts = _meeting()

    out = take(facts, "record_meeting", member(LEAD), {"hub_id": HUB_A, "held_on": "2025-03-20"})

    assert facts.state == "meeting"
    assert facts.meetings == [Meeting(hub_id=HUB_A, held_on="2025-03-20")]
    assert event_types(out) == ["meeting_recorded"]


@pytest.mark.parametrize("hub", [HUB_B, HUB_C], ids=["declined-candidate", "never-introduced"])
def test_check_action_answers_422_when_meeting_is_with_a_hub_that_is_not_matched(hub: str) -> None:
    facts = _meeting()

    with pytest.raises(ActionRefused) as info:
        check_action(
            facts, "record_meeting", member(LEAD), {"hub_id": hub, "held_on": "2025-03-20"}
        )

    assert info.value.status == 422
    assert [e["field"] for e in info.value.extra["errors"]] == ["hub_id"]
    assert facts.meetings == []


def test_check_action_answers_409_when_nda_is_requested_before_any_meeting() -> None:
    facts = _meeting()

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "request_nda", member(LEAD), {})

    assert info.value.status == 409
    assert set(info.value.extra["allowed_actions"]) == {"record-meeting", "cancel"}


def test_apply_action_drafts_an_nda_for_lead_matched_hubs_and_player_when_requested() -> None:
    facts = _met_with_a()

    out = take(facts, "request_nda", member(LEAD), {})

    assert (facts.state, facts.nda_requested) == ("drafting", True)
    assert event_types(out) == ["nda_requested"]
    assert out.effects == [RenderDraft()]
    assert facts.signers == [LEAD, HUB_A, LOCAL_PLAYER]


def test_apply_action_moves_to_follow_up_when_every_nda_party_signed() -> None:
    facts = _nda_signing()
    take(facts, "sign", signatory(LEAD), {"document_sha256": SHA})
    take(facts, "sign", player_link("sign"), {"document_sha256": SHA})
    assert facts.state == "signing"

    out = take(facts, "sign", signatory(HUB_A), {"document_sha256": SHA})

    assert facts.state == "follow_up"
    assert event_types(out) == ["signed", "agreement_executed"]
    assert facts.signatures == {LEAD: SHA, LOCAL_PLAYER: SHA, HUB_A: SHA}
    assert facts.deliverables == []
    assert facts.deadlines == {}


@pytest.mark.parametrize(
    "caller",
    [signatory(HUB_B), member(HUB_A), link(CLIENT, "sign")],
    ids=["declined-candidate", "matched-hub-member", "client-link"],
)
def test_check_action_answers_403_when_caller_is_not_an_nda_signer(caller: Any) -> None:
    facts = _nda_signing()

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "sign", caller, {"document_sha256": SHA})

    assert info.value.status == 403


NDA_PARTIES_NOT_NOTIFIED = (
    "domain bug: in matchmaking, CaseFacts.party_hub_ids is only the lead (no invitations), so "
    "the notices that _sign ('Agreement signed by all parties'), on_deadline('signing') "
    "('Signing round expired') and _end (cancel) send to facts.party_hub_ids never reach the "
    "matched hubs that are NDA signers; DESIGN.md calls a matched candidate a partner hub"
)


def test_apply_action_notifies_every_signing_hub_when_the_nda_is_executed() -> None:
    facts = _nda_signing()
    take(facts, "sign", signatory(LEAD), {"document_sha256": SHA})
    take(facts, "sign", player_link("sign"), {"document_sha256": SHA})

    out = take(facts, "sign", signatory(HUB_A), {"document_sha256": SHA})

    assert {n.to for n in out.notices} >= {LEAD, HUB_A}


def test_apply_action_moves_to_follow_up_without_a_draft_when_nda_is_skipped() -> None:
    facts = _met_with_a()

    out = take(facts, "skip_nda", member(LEAD), {})

    assert (facts.state, facts.nda_requested, facts.draft) == ("follow_up", False, None)
    assert event_types(out) == ["nda_skipped"]
    assert out.effects == []


def test_apply_action_opens_review_with_a_player_link_when_outcome_is_recorded() -> None:
    facts = _follow_up()

    out = take(facts, "record_outcome", member(LEAD), {"result": "further_talks"})

    assert (facts.state, facts.result) == ("review", "further_talks")
    assert event_types(out) == ["outcome_recorded", "review_opened"]
    assert out.effects == [IssueLink("review", LOCAL_PLAYER)]
    assert facts.deadlines == {"review": (NOW + timedelta(days=30)).isoformat()}


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (player_link("review"), {"review"}),
        (player_link("consent", HUB_A), set()),
        (link(CLIENT, "review"), set()),
        (member(LEAD), {"cancel"}),
        (member(HUB_A), set()),
    ],
    ids=["player-review-link", "player-consent-link", "client-link", "lead", "matched-hub"],
)
def test_allowed_actions_offers_review_to_the_player_link_only_when_in_review(
    caller: Any, expected: set[str]
) -> None:
    facts = _in_review()

    allowed = set(allowed_actions(facts, caller))

    assert allowed == expected


def test_apply_action_closes_completed_when_local_player_reviews() -> None:
    facts = _in_review()

    out = take(facts, "review", player_link("review"), {"rating": 4, "comment": "Useful"})

    assert (facts.state, facts.outcome) == ("closed", "completed")
    assert facts.review == Review(rating=4, comment="Useful")
    assert [(e.type, e.actor) for e in out.events] == [
        ("reviewed", "link:local_player"),
        ("closed", "system"),
    ]
    assert facts.deadlines == {}


# -- timers ------------------------------------------------------------------------------------
def test_on_deadline_moves_to_meeting_when_introductions_lapse_with_a_match() -> None:
    facts = _introducing(HUB_A, HUB_B)
    _consent(facts, HUB_A, "consent", "consent")
    take(facts, "consent", member(HUB_B), {})

    out = on_deadline(facts, "introductions", NOW + timedelta(days=7))

    assert facts.state == "meeting"
    intro_b = facts.introduction(HUB_B)
    assert intro_b is not None
    assert (intro_b.hub_consent, intro_b.player_consent) == ("given", "declined")
    assert out.events == [Event("introductions_settled", "system", {"matched": [HUB_A]})]
    assert facts.deadlines == {}


def test_on_deadline_expires_case_when_introductions_lapse_without_a_match() -> None:
    facts = _introducing(HUB_A)
    take(facts, "consent", member(HUB_A), {})

    out = on_deadline(facts, "introductions", NOW + timedelta(days=7))

    assert facts.state == "expired"
    assert event_types(out) == ["introductions_settled", "expired"]
    assert facts.matched_hub_ids == []
    assert facts.deadlines == {}


def test_on_deadline_closes_with_no_review_when_player_never_reviews() -> None:
    facts = _in_review()

    out = on_deadline(facts, "review", NOW + timedelta(days=30))

    assert (facts.state, facts.outcome) == ("closed", "no_review")
    assert out.events == [Event("closed", "system", {"outcome": "no_review"})]
