"""Timers shared by the scenarios: invitation deadlines, signing reminders and expiry, and
deliverables falling overdue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.cases import CLIENT, LOCAL_PLAYER, CaseFacts, Deliverable, Introduction, Invitation
from domain.outcomes import Event, RenderDraft
from domain.steps import is_overdue, on_deadline
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
    make_facts,
    member,
    notified,
    take,
)

IN_7_DAYS = (NOW + timedelta(days=7)).isoformat()
IN_14_DAYS = (NOW + timedelta(days=14)).isoformat()


# -- invitation deadlines ------------------------------------------------------------------------
def _partnering(*invitations: Invitation) -> CaseFacts:
    return make_facts(
        "joint_service",
        "partnering",
        invitations=list(invitations),
        deadlines={
            "partnering": IN_14_DAYS,
            **{f"invitation:{i.hub_id}": IN_7_DAYS for i in invitations if i.status == "pending"},
        },
    )


@pytest.mark.parametrize("scenario", ["joint_service", "co_development"])
def test_apply_action_sets_an_invitation_deadline_per_hub_when_lead_invites(scenario: str) -> None:
    facts = make_facts(scenario, invitation_days=5)

    out = take(facts, "invite_partners", member(LEAD), {"hub_ids": [PARTNER, OTHER]})

    in_5_days = (NOW + timedelta(days=5)).isoformat()
    assert [(i.hub_id, i.status, i.deadline) for i in facts.invitations] == [
        (PARTNER, "pending", in_5_days),
        (OTHER, "pending", in_5_days),
    ]
    assert facts.deadlines == {
        "partnering": IN_14_DAYS,
        f"invitation:{PARTNER}": in_5_days,
        f"invitation:{OTHER}": in_5_days,
    }
    assert [n.context["deadline"] for n in out.notices] == [in_5_days, in_5_days]


def test_on_deadline_lapses_invitation_and_notifies_lead_when_it_goes_unanswered() -> None:
    facts = _partnering(Invitation(hub_id=PARTNER), Invitation(hub_id=OTHER))

    out = on_deadline(facts, f"invitation:{PARTNER}", NOW + timedelta(days=7))

    assert facts.state == "partnering"
    assert [i.status for i in facts.invitations] == ["lapsed", "pending"]
    assert out.events == [Event("invitation_lapsed", "system", {"hub_id": PARTNER})]
    assert notified(out) == [(LEAD, "deadline")]
    assert facts.deadlines == {"partnering": IN_14_DAYS, f"invitation:{OTHER}": IN_7_DAYS}


def test_on_deadline_closes_partnering_when_last_open_invitation_lapses_and_others_accepted() -> (
    None
):
    facts = _partnering(Invitation(hub_id=PARTNER, status="accepted"), Invitation(hub_id=OTHER))

    out = on_deadline(facts, f"invitation:{OTHER}", NOW + timedelta(days=7))

    assert facts.state == "drafting"
    assert [i.status for i in facts.invitations] == ["accepted", "lapsed"]
    assert event_types(out) == ["invitation_lapsed", "partnering_closed"]
    assert out.effects == [RenderDraft()]
    assert facts.deadlines == {}


def test_on_deadline_keeps_partnering_when_every_invitation_lapsed_without_a_partner() -> None:
    facts = _partnering(Invitation(hub_id=PARTNER))

    out = on_deadline(facts, f"invitation:{PARTNER}", NOW + timedelta(days=7))

    assert facts.state == "partnering"
    assert event_types(out) == ["invitation_lapsed"]
    assert out.effects == []
    assert facts.deadlines == {"partnering": IN_14_DAYS}


def test_on_deadline_changes_nothing_when_invitation_was_already_answered() -> None:
    facts = _partnering(Invitation(hub_id=PARTNER, status="declined"), Invitation(hub_id=OTHER))

    out = on_deadline(facts, f"invitation:{PARTNER}", NOW + timedelta(days=7))

    assert facts.invitations[0].status == "declined"
    assert (out.events, out.notices) == ([], [])


def test_apply_action_stops_invitation_timer_when_hub_answers() -> None:
    facts = _partnering(Invitation(hub_id=PARTNER), Invitation(hub_id=OTHER))

    take(facts, "decline_invitation", member(PARTNER), {})

    assert f"invitation:{PARTNER}" not in facts.deadlines
    assert f"invitation:{OTHER}" in facts.deadlines


STALE_INVITATION_DEADLINE = (
    "domain bug: extend-deadline on 'invitation:<hub>' moves facts.deadlines but leaves "
    "Invitation.deadline (documented 'unanswered by then counts as declined') at the old "
    "instant, so the invitation says it lapses a week before its timer does"
)


def test_extend_deadline_moves_the_invitations_own_deadline_when_back_office_extends_it() -> None:
    facts = _partnering(Invitation(hub_id=PARTNER, deadline=IN_7_DAYS))

    take(facts, "extend_deadline", BACK_OFFICE, {"deadline": f"invitation:{PARTNER}", "days": 7})

    assert facts.deadlines[f"invitation:{PARTNER}"] == IN_14_DAYS
    assert facts.invitations[0].deadline == IN_14_DAYS


# -- signing: reminders and expiry ---------------------------------------------------------------
def _joint_signing(**overrides: Any) -> CaseFacts:
    data: dict[str, Any] = {
        "invitations": [Invitation(hub_id=PARTNER, status="accepted")],
        "draft": draft(),
        "signatures": {LEAD: SHA},
        "deadlines": {
            "signing": (NOW + timedelta(days=30)).isoformat(),
            "signing_reminder": IN_7_DAYS,
        },
    }
    data.update(overrides)
    return make_facts("joint_service", "signing", **data)


def test_apply_action_schedules_signing_deadline_and_first_reminder_when_draft_is_approved() -> (
    None
):
    facts = make_facts(
        "joint_service",
        "legal_review",
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(),
        signing_days=21,
        reminder_days=5,
    )

    take(facts, "approve_draft", LEGAL, {})

    assert facts.deadlines == {
        "signing": (NOW + timedelta(days=21)).isoformat(),
        "signing_reminder": (NOW + timedelta(days=5)).isoformat(),
    }


def test_on_deadline_reminds_every_unsigned_party_when_signing_reminder_fires() -> None:
    facts = _joint_signing()

    out = on_deadline(facts, "signing_reminder", NOW + timedelta(days=7))

    assert out.events == [
        Event("reminder_sent", "system", {"reminder": "signature", "to": [PARTNER, CLIENT]})
    ]
    assert [(n.to, n.template, n.link_action, n.link_purpose) for n in out.notices] == [
        (PARTNER, "reminder", None, None),
        (CLIENT, "reminder", "sign", "sign:v1:client"),
    ]
    assert all(n.context["due"] == facts.deadlines["signing"] for n in out.notices)
    assert facts.state == "signing"


def test_on_deadline_gives_local_player_a_sign_link_when_reminding_nda_signers() -> None:
    facts = make_facts(
        "matchmaking",
        "signing",
        introductions=[Introduction(hub_id=PARTNER, hub_consent="given", player_consent="given")],
        draft=draft(version=2),
        signatures={LEAD: SHA, PARTNER: SHA},
        deadlines={
            "signing": (NOW + timedelta(days=30)).isoformat(),
            "signing_reminder": IN_7_DAYS,
        },
    )

    out = on_deadline(facts, "signing_reminder", NOW + timedelta(days=7))

    assert [(n.to, n.link_action, n.link_purpose) for n in out.notices] == [
        (LOCAL_PLAYER, "sign", "sign:v2:local_player")
    ]


def test_on_deadline_reschedules_reminder_counted_from_now_when_it_fires_late() -> None:
    facts = _joint_signing()
    late = NOW + timedelta(days=10)  # the stack was down when the reminder fell due

    on_deadline(facts, "signing_reminder", late)

    assert facts.deadlines["signing_reminder"] == (late + timedelta(days=7)).isoformat()


def test_on_deadline_stops_reminding_when_next_reminder_would_reach_the_signing_deadline() -> None:
    facts = _joint_signing()
    now = NOW + timedelta(days=23)  # next reminder would be at the signing deadline exactly

    out = on_deadline(facts, "signing_reminder", now)

    assert event_types(out) == ["reminder_sent"]
    assert facts.deadlines == {"signing": (NOW + timedelta(days=30)).isoformat()}


def test_on_deadline_expires_case_when_signing_round_runs_out() -> None:
    facts = _joint_signing()

    out = on_deadline(facts, "signing", NOW + timedelta(days=30))

    assert facts.state == "expired"
    assert out.events == [
        Event(
            "expired",
            "system",
            {"reason": "the signing round ran out", "unsigned": [PARTNER, CLIENT]},
        )
    ]
    assert notified(out) == [(LEAD, "deadline"), (PARTNER, "deadline")]
    assert facts.deadlines == {}


@pytest.mark.parametrize("name", ["signing", "signing_reminder"])
def test_on_deadline_changes_nothing_when_signing_timer_fires_after_signing_ended(
    name: str,
) -> None:
    facts = _joint_signing(signatures={LEAD: SHA, PARTNER: SHA, CLIENT: SHA})
    facts.state = "delivery"

    out = on_deadline(facts, name, NOW + timedelta(days=30))

    assert facts.state == "delivery"
    assert (out.events, out.notices) == ([], [])


# -- deliverables falling overdue ------------------------------------------------------------
def _delivering(scenario: str = "joint_service", status: str = "pending") -> CaseFacts:
    state = "delivery" if scenario == "joint_service" else "development"
    return make_facts(
        scenario,
        state,
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        draft=draft(),
        deliverables=[
            Deliverable(id="d1", hub_id=PARTNER, title="Model", due="2025-04-30", status=status)  # type: ignore[arg-type]
        ],
        deadlines={"deliverable:d1": "2025-04-30T23:59:59+00:00"},
    )


DUE_PASSED = NOW.replace(year=2025, month=4, day=30, hour=23, minute=59, second=59)


@pytest.mark.parametrize("scenario", ["joint_service", "co_development"])
def test_on_deadline_records_overdue_deliverable_when_its_due_date_passes(scenario: str) -> None:
    facts = _delivering(scenario)
    assert not is_overdue(facts)

    out = on_deadline(facts, "deliverable:d1", DUE_PASSED)

    assert out.events == [
        Event(
            "deliverable_overdue",
            "system",
            {"deliverable_id": "d1", "hub_id": PARTNER, "reminder": 1},
        )
    ]
    assert [(n.to, n.template, n.context) for n in out.notices] == [
        (PARTNER, "reminder", {"what": "Model", "due": "2025-04-30"})
    ]
    assert facts.deliverables[0].reminders == 1
    assert facts.deadlines == {"deliverable:d1": (DUE_PASSED + timedelta(days=7)).isoformat()}
    assert is_overdue(facts)


def test_on_deadline_counts_reminders_up_when_deliverable_stays_overdue() -> None:
    facts = _delivering()
    on_deadline(facts, "deliverable:d1", DUE_PASSED)

    out = on_deadline(facts, "deliverable:d1", DUE_PASSED + timedelta(days=7))

    assert facts.deliverables[0].reminders == 2
    assert out.events[0].data["reminder"] == 2


def test_is_overdue_stays_true_until_overdue_deliverable_is_accepted() -> None:
    facts = _delivering()
    on_deadline(facts, "deliverable:d1", DUE_PASSED)

    take(facts, "submit_deliverable", member(PARTNER), {"summary": "Model v1"})
    submitted = is_overdue(facts)
    take(facts, "accept_deliverable", member(LEAD), {"deliverable_id": "d1"})

    assert submitted
    assert not is_overdue(facts)
    assert "deliverable:d1" not in facts.deadlines


def test_is_overdue_is_false_when_case_with_overdue_deliverable_is_cancelled() -> None:
    facts = _delivering()
    on_deadline(facts, "deliverable:d1", DUE_PASSED)

    take(facts, "cancel", BACK_OFFICE, {"reason": "Partner went bankrupt"})

    assert not is_overdue(facts)


def test_on_deadline_changes_nothing_when_deliverable_was_accepted() -> None:
    facts = _delivering(status="accepted")

    out = on_deadline(facts, "deliverable:d1", DUE_PASSED)

    assert (out.events, out.notices) == ([], [])
    assert facts.deliverables[0].reminders == 0
    assert facts.deadlines == {}


IS_OVERDUE_IGNORES_TODAY = (
    "domain bug: is_overdue(facts, today) ignores `today`; it only counts deliverables whose "
    "timer already fired (reminders > 0), so a deliverable past its `due` date (documented "
    "'past it and not accepted, the deliverable is overdue') is not overdue until the "
    "workflow processes the timer"
)


def test_is_overdue_counts_a_deliverable_past_due_when_asked_for_a_later_day() -> None:
    facts = _delivering()

    overdue = is_overdue(facts, date(2025, 5, 10))

    assert overdue
