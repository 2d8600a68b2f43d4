"""Typed outcomes: one link purpose for a link and its reminders; guards that never raise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.actions import ACTIONS, link_actions
from domain.cases import CLIENT, CaseFacts, Invitation
from domain.lifecycle import Guards, enabled_event_names, lifecycle_for
from domain.outcomes import LINK_ACTIONS, IssueLink, link_purpose
from domain.steps import on_deadline
from tests.factories import LEGAL, NOW, PARTNER, draft, make_facts, take


def test_link_purpose_names_version_and_party_or_the_subject() -> None:
    assert link_purpose("sign", CLIENT, 2) == "sign:v2:client"
    assert link_purpose("consent", "local_player", 0, "fjord-ai") == "consent:fjord-ai"


def test_signing_reminder_carries_the_purpose_of_the_link_issued_on_approval() -> None:
    facts = make_facts(
        "joint_service",
        "legal_review",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(version=3),
    )
    approved = take(facts, "approve_draft", LEGAL, {})
    (issued,) = approved.effects
    assert issued == IssueLink("sign", CLIENT)

    reminded = on_deadline(facts, "signing_reminder", NOW + timedelta(days=7))

    (to_client,) = [n for n in reminded.notices if n.to == CLIENT]
    assert to_client.link_purpose == link_purpose(issued.action, issued.party, 3)
    assert to_client.link_purpose == "sign:v3:client"


GUARDS = [
    name for name, value in vars(Guards).items() if not name.startswith("_") and callable(value)
]


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_reads_false_instead_of_raising_when_facts_are_broken(guard: str) -> None:
    chart = lifecycle_for(make_facts("joint_service"))
    chart.model = object()  # no attribute a guard reads: every guard would raise

    assert getattr(chart, guard)() is False


def test_event_behind_a_failing_guard_is_not_enabled() -> None:
    facts = make_facts("joint_service", "partnering", invitations=[Invitation(hub_id=PARTNER)])
    assert "accept_invitation" in enabled_event_names(facts)
    broken = CaseFacts.model_construct(**{**dict(facts), "invitations": None})

    enabled = enabled_event_names(broken)

    assert "accept_invitation" not in enabled  # python-statemachine would list it on an error
    assert "cancel" in enabled


def test_a_link_asks_only_for_what_a_link_can_carry() -> None:
    assert IssueLink("consent", "local_player", subject="fjord-ai").action == "consent"
    with pytest.raises(ValueError, match="cannot ask for 'approve_draft'"):
        IssueLink("approve_draft", "client")
    # each link action is a step with a payload, and a token for one permits its refusal too
    assert set(LINK_ACTIONS) <= set(ACTIONS)
    assert link_actions("sign") == ("sign", "decline_to_sign") and link_actions("review") == (
        "review",
    )
