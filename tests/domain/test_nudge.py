"""``nudge``: the back office reminds whoever a case waits on, and the timeline says whom."""

from __future__ import annotations

import pytest

from domain.actions import allowed_actions, check_action
from domain.cases import CLIENT, LOCAL_PLAYER, Deliverable, Introduction, Invitation
from domain.errors import ActionRefused
from domain.outcomes import Event, IssueLink
from tests.factories import (
    BACK_OFFICE,
    LEAD,
    LEGAL,
    OTHER,
    PARTNER,
    SHA,
    draft,
    make_facts,
    member,
    take,
)

NOTE = "The board meets on Friday"


def _reminded(out) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(n.to, n.template) for n in out.notices]


def test_nudge_reminds_only_the_invited_hubs_that_have_not_answered() -> None:
    facts = make_facts(
        "joint_service",
        "partnering",
        invitations=[
            Invitation(hub_id=PARTNER, status="accepted"),
            Invitation(hub_id=OTHER, deadline="2025-03-10T09:00:00+00:00"),
        ],
    )

    out = take(facts, "nudge", BACK_OFFICE, {"note": NOTE})

    assert facts.state == "partnering"
    assert out.events == [Event("nudged", "principal:bo-1", {"to": [OTHER]})]
    assert _reminded(out) == [(OTHER, "reminder")]
    (notice,) = out.notices
    assert notice.context == {
        "what": "your answer to the invitation",
        "due": "2025-03-10T09:00:00+00:00",
        "note": NOTE,
    }
    assert out.effects == []


def test_nudge_sends_an_unsigned_client_its_link_again_and_reminds_unsigned_hubs() -> None:
    facts = make_facts(
        "joint_service",
        "signing",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(),
        signatures={LEAD: SHA},
    )

    out = take(facts, "nudge", BACK_OFFICE, {})

    assert out.events == [Event("nudged", "principal:bo-1", {"to": [PARTNER, CLIENT]})]
    assert _reminded(out) == [(PARTNER, "reminder")]
    assert out.effects == [IssueLink("sign", CLIENT, again=True)]
    assert "note" not in out.notices[0].context


def test_nudge_in_a_sequential_round_reminds_only_the_next_signer() -> None:
    facts = make_facts(
        "joint_service",
        "signing",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(),
        signing_order="sequential",
    )

    out = take(facts, "nudge", BACK_OFFICE, {})

    assert (out.events[0].data, _reminded(out), out.effects) == (
        {"to": [LEAD]},
        [(LEAD, "reminder")],
        [],
    )


def test_nudge_in_delivery_reminds_the_owing_hub_and_the_lead_with_a_submission_to_decide() -> None:
    facts = make_facts(
        "joint_service",
        "delivery",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        deliverables=[
            Deliverable(id="d1", hub_id=PARTNER, title="Model", due="2025-05-01"),
            Deliverable(id="d2", hub_id=OTHER, status="submitted"),
            Deliverable(id="d3", hub_id=LEAD, status="accepted"),
        ],
    )

    out = take(facts, "nudge", BACK_OFFICE, {})

    assert out.events[0].data == {"to": [PARTNER, LEAD]}
    assert [(n.to, n.context["what"], n.context["due"]) for n in out.notices] == [
        (PARTNER, "Model", "2025-05-01"),
        (LEAD, "your decision on a submitted deliverable", ""),
    ]


def test_nudge_sends_the_local_player_one_consent_link_per_pending_introduction() -> None:
    facts = make_facts(
        "matchmaking",
        "introducing",
        introductions=[
            Introduction(hub_id=PARTNER, hub_consent="given"),
            Introduction(hub_id=OTHER, player_consent="given"),
            Introduction(hub_id="hub-c", hub_consent="given", player_consent="given"),
        ],
    )

    out = take(facts, "nudge", BACK_OFFICE, {"note": NOTE})

    assert out.effects == [IssueLink("consent", LOCAL_PLAYER, PARTNER, again=True, note=NOTE)]
    assert _reminded(out) == [(OTHER, "reminder")]
    assert out.events[0].data == {"to": [LOCAL_PLAYER, OTHER]}


def test_nudge_sends_the_client_its_review_link_again() -> None:
    facts = make_facts(
        "joint_service",
        "review",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        deadlines={"review": "2025-04-02T09:00:00+00:00"},
    )

    out = take(facts, "nudge", BACK_OFFICE, {})

    assert (out.effects, out.notices) == ([IssueLink("review", CLIENT, again=True)], [])


def test_nudge_is_not_offered_while_only_the_legal_helpdesk_is_pending() -> None:
    facts = make_facts(
        "joint_service",
        "legal_review",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(),
    )

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "nudge", BACK_OFFICE, {})

    assert info.value.status == 409
    assert "nudge" not in allowed_actions(facts, BACK_OFFICE)


@pytest.mark.parametrize("caller", [member(LEAD), LEGAL], ids=["lead", "legal"])
def test_nudge_is_the_back_office_s_own_action(caller) -> None:  # type: ignore[no-untyped-def]
    facts = make_facts("joint_service", "partnering", invitations=[Invitation(hub_id=PARTNER)])

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "nudge", caller, {})

    assert info.value.status == 403


def test_nudge_with_a_note_too_long_is_422_naming_the_note() -> None:
    facts = make_facts("joint_service", "partnering", invitations=[Invitation(hub_id=PARTNER)])

    with pytest.raises(ActionRefused) as info:
        check_action(facts, "nudge", BACK_OFFICE, {"note": "x" * 2001})

    assert info.value.status == 422
    assert [e["field"] for e in info.value.extra["errors"]] == ["note"]
