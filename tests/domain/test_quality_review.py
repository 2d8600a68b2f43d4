"""The quality review (patch ``quality-review``): the survey of the client or local player,
peer reviews between the party hubs, reminders and the window closing the case; cases started
before the patch keep one rating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.actions import Nudge, allowed_actions
from domain.cases import CLIENT, CaseFacts, Deliverable, Introduction, Invitation
from domain.errors import ActionRefused
from domain.steps import apply_action, on_deadline
from tests.factories import (
    BACK_OFFICE,
    LEAD,
    NOW,
    OTHER,
    PARTNER,
    event_types,
    link,
    make_facts,
    member,
    notified,
    player_link,
    take,
)

SURVEY = {"quality": 5, "timeliness": 4, "communication": 4, "value": 3, "would_recommend": True}
PEER = {"reliability": 4, "contribution": 5, "would_collaborate_again": True}


def _in_review(scenario: str = "joint_service", partners: tuple[str, ...] = (PARTNER,)) -> Any:
    extra: dict[str, Any] = {}
    if scenario == "matchmaking":
        extra["introductions"] = [
            Introduction(hub_id=h, hub_consent="given", player_consent="given") for h in partners
        ]
    else:
        extra["invitations"] = [Invitation(hub_id=h, status="accepted") for h in partners]
    return make_facts(
        scenario,
        "review",
        quality_review=True,
        deadlines={"review": (NOW + timedelta(days=30)).isoformat()},
        **extra,
    )


def _surveyor(f: CaseFacts) -> Any:
    return link(CLIENT, "review") if f.scenario == "joint_service" else player_link("review")


@pytest.mark.parametrize("scenario", ["joint_service", "matchmaking"])
def test_case_closes_once_survey_and_every_peer_review_are_in(scenario: str) -> None:
    f = _in_review(scenario)
    out = take(f, "review", _surveyor(f), SURVEY | {"comment": "Clear results"})
    assert f.state == "review" and event_types(out) == ["reviewed"]
    assert out.events[0].data["rating"] == 4 and "comment" not in out.events[0].data
    assert f.survey is not None and f.survey.comment == "Clear results"
    take(f, "peer_review", member(PARTNER), PEER)  # the partner reviews the collaboration
    assert f.state == "review"
    out = take(f, "peer_review", member(LEAD), PEER | {"hub_id": PARTNER})
    assert f.state == "closed" and f.outcome == "completed"
    assert event_types(out) == ["peer_reviewed", "closed"]
    assert [(r.reviewer, r.subject) for r in f.hub_reviews] == [(PARTNER, LEAD), (LEAD, PARTNER)]


def test_co_development_closes_on_peer_reviews_alone() -> None:
    f = _in_review("co_development", (PARTNER, OTHER))
    assert allowed_actions(f, member(LEAD)) == ["peer-review", "cancel"]
    take(f, "peer_review", member(LEAD), PEER | {"hub_id": OTHER})
    take(f, "peer_review", member(LEAD), PEER | {"hub_id": PARTNER})
    take(f, "peer_review", member(PARTNER), PEER)
    assert f.state == "review"
    take(f, "peer_review", member(OTHER), PEER)
    assert f.state == "closed" and f.outcome == "completed"


def test_lead_with_several_partners_must_name_the_hub() -> None:
    f = _in_review("joint_service", (PARTNER, OTHER))
    with pytest.raises(ActionRefused) as refused:
        take(f, "peer_review", member(LEAD), PEER)
    assert refused.value.status == 422
    assert refused.value.to_dict()["errors"][0]["field"] == "hub_id"
    assert f.hub_reviews == []


def test_a_hub_reviews_each_subject_once() -> None:
    f = _in_review()
    take(f, "peer_review", member(PARTNER), PEER)
    with pytest.raises(ActionRefused) as refused:
        take(f, "peer_review", member(PARTNER), PEER)
    assert refused.value.status == 403


def test_survey_without_every_score_is_refused_naming_the_fields() -> None:
    f = _in_review()
    with pytest.raises(ActionRefused) as refused:
        take(f, "review", _surveyor(f), {"quality": 5, "rating": 4})
    fields = {e["field"] for e in refused.value.to_dict()["errors"]}
    assert fields == {"timeliness", "communication", "value", "would_recommend", "rating"}
    assert f.survey is None and f.state == "review"


def test_survey_score_out_of_range_is_refused() -> None:
    f = _in_review()
    with pytest.raises(ActionRefused) as refused:
        take(f, "review", _surveyor(f), SURVEY | {"value": 6})
    assert refused.value.status == 422


def test_case_before_the_patch_closes_on_one_rating() -> None:
    f = _in_review()
    f.quality_review = False
    out = take(f, "review", _surveyor(f), {"rating": 5})
    assert f.state == "closed" and event_types(out) == ["reviewed", "closed"]
    assert "peer-review" not in allowed_actions(f, member(PARTNER))


def test_case_before_the_patch_still_needs_its_rating() -> None:
    f = _in_review()
    f.quality_review = False
    with pytest.raises(ActionRefused) as refused:
        take(f, "review", _surveyor(f), {"comment": "ok"})
    assert refused.value.to_dict()["errors"][0]["field"] == "rating"


def test_opening_the_review_schedules_reminders_and_asks_the_hubs() -> None:
    f = make_facts(
        "joint_service",
        "delivery",
        quality_review=True,
        invitations=[Invitation(hub_id=PARTNER, status="accepted")],
        deliverables=[
            Deliverable(hub_id=PARTNER, id="d1", status="submitted", due="2025-03-10"),
        ],
    )
    out = take(f, "accept_deliverable", member(LEAD), {"deliverable_id": "d1"})
    assert f.state == "review"
    assert set(f.deadlines) == {"review", "review_reminder"}
    assert (LEAD, "state_changed") in notified(out) and (PARTNER, "state_changed") in notified(out)
    assert f.deliverables[0].accepted_at == NOW.isoformat(timespec="seconds")


def test_review_reminder_reminds_whoever_still_owes_a_review() -> None:
    f = _in_review()
    f.deadlines["review_reminder"] = (NOW + timedelta(days=7)).isoformat()
    take(f, "peer_review", member(PARTNER), PEER)
    out = on_deadline(f, "review_reminder", NOW + timedelta(days=7))
    assert event_types(out) == ["reminder_sent"]
    assert out.events[0].data["to"] == [CLIENT, LEAD]
    client_notice = next(n for n in out.notices if n.to == CLIENT)
    assert (
        client_notice.link_action == "review" and client_notice.link_purpose == "review:v0:client"
    )
    assert "review_reminder" in f.deadlines  # the next one, still inside the window


def test_window_closing_without_any_review_counts_as_no_review() -> None:
    f = _in_review()
    out = on_deadline(f, "review", NOW + timedelta(days=30))
    assert f.state == "closed" and f.outcome == "no_review"
    assert event_types(out) == ["closed"]


def test_window_closing_with_some_reviews_is_completed() -> None:
    f = _in_review()
    take(f, "peer_review", member(PARTNER), PEER)
    on_deadline(f, "review", NOW + timedelta(days=30))
    assert f.state == "closed" and f.outcome == "completed"


def test_nudge_in_review_reminds_the_parties_still_owing() -> None:
    f = _in_review()
    take(f, "review", _surveyor(f), SURVEY)
    out = apply_action(f, "nudge", BACK_OFFICE, Nudge(), NOW)
    assert {n.to for n in out.notices} == {PARTNER, LEAD}
