"""Human steps: who may take which action, the refusal statuses, and what an action does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.actions import allowed_actions, check_action
from domain.cases import (
    CLIENT,
    Caller,
    CaseFacts,
    Deliverable,
    Draft,
    Invitation,
    Role,
)
from domain.errors import ActionRefused
from domain.lifecycle import fire
from domain.outcomes import IssueLink, Outcome, RenderDraft
from domain.steps import apply_action, default_tasks, on_deadline
from tests import factories

LEAD = "lead-hub"
PARTNER = "partner-a"
OTHER = "partner-b"
SHA = "ab" * 32
OLD_SHA = "cd" * 32
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def make_facts(state: str = "requested", **overrides: Any) -> CaseFacts:
    return factories.make_facts("joint_service", state, **overrides)


def _draft(version: int = 1, sha256: str = SHA) -> Draft:
    return Draft(
        version=version,
        document_id=f"doc-{version}",
        sha256=sha256,
        template="joint_service",
        template_version="1",
    )


def _member(hub: str) -> Caller:
    return Caller(principal_id=f"member-{hub}", role=Role.hub_member, hub_id=hub)


def _signatory(hub: str) -> Caller:
    return Caller(principal_id=f"signatory-{hub}", role=Role.hub_signatory, hub_id=hub)


def _client_link(action: str) -> Caller:
    return Caller(principal_id="link-1", role="link", party=CLIENT, link_action=action)


LEAD_MEMBER = _member(LEAD)
LEAD_SIGNATORY = _signatory(LEAD)
PARTNER_MEMBER = _member(PARTNER)
PARTNER_SIGNATORY = _signatory(PARTNER)
OTHER_MEMBER = _member(OTHER)
OTHER_SIGNATORY = _signatory(OTHER)
BACK_OFFICE = Caller(principal_id="bo-1", role=Role.back_office)
LEGAL = Caller(principal_id="legal-1", role=Role.legal)
CLIENT_SIGN_LINK = _client_link("sign")
CLIENT_REVIEW_LINK = _client_link("review")


# -- facts in key states -------------------------------------------------------------------
def _requested() -> CaseFacts:
    return make_facts("requested")


def _partnering() -> CaseFacts:
    return make_facts(
        "partnering",
        invitations=[Invitation(hub_id=PARTNER)],
        deadlines={"partnering": "2025-03-17T09:00:00+00:00"},
    )


def _partnering_with_partner() -> CaseFacts:
    return make_facts(
        "partnering",
        invitations=[Invitation(hub_id=PARTNER, status="accepted"), Invitation(hub_id=OTHER)],
        deadlines={"partnering": "2025-03-17T09:00:00+00:00"},
    )


def _with_partner(state: str, **overrides: Any) -> CaseFacts:
    return make_facts(
        state,
        invitations=[
            Invitation(hub_id=PARTNER, status="accepted"),
            Invitation(hub_id=OTHER, status="declined"),
        ],
        draft=_draft(),
        **overrides,
    )


def _legal_review() -> CaseFacts:
    return _with_partner("legal_review")


def _signing() -> CaseFacts:
    return _with_partner("signing")


def _signing_lead_signed() -> CaseFacts:
    return _with_partner("signing", signatures={LEAD: SHA})


def _delivery() -> CaseFacts:
    return _with_partner(
        "delivery",
        signatures={LEAD: SHA, PARTNER: SHA, CLIENT: SHA},
        deliverables=[Deliverable(hub_id=PARTNER)],
    )


def _delivery_submitted() -> CaseFacts:
    facts = _delivery()
    facts.deliverables = [Deliverable(hub_id=PARTNER, status="submitted", summary="Model v1")]
    return facts


def _review() -> CaseFacts:
    facts = _delivery()
    facts.state = "review"
    facts.deliverables = [Deliverable(hub_id=PARTNER, status="accepted")]
    facts.deadlines = {"review": "2025-04-02T09:00:00+00:00"}
    return facts


def _closed() -> CaseFacts:
    facts = _review()
    facts.state, facts.outcome, facts.deadlines = "closed", "completed", {}
    return facts


ALLOWED = [
    (_requested, LEAD_MEMBER, {"invite-partners", "cancel"}),
    (_requested, LEAD_SIGNATORY, {"invite-partners", "cancel"}),
    (_requested, PARTNER_MEMBER, set()),
    (_requested, BACK_OFFICE, {"reject-request", "cancel"}),
    (_requested, LEGAL, set()),
    (_requested, CLIENT_SIGN_LINK, set()),
    (_partnering, LEAD_MEMBER, {"invite-partners", "cancel"}),
    (_partnering, PARTNER_MEMBER, {"accept-invitation", "decline-invitation"}),
    (_partnering, PARTNER_SIGNATORY, {"accept-invitation", "decline-invitation"}),
    (_partnering, OTHER_MEMBER, set()),
    (_partnering, BACK_OFFICE, {"cancel", "extend-deadline", "nudge"}),
    (_partnering, LEGAL, set()),
    (_partnering_with_partner, LEAD_MEMBER, {"invite-partners", "close-partnering", "cancel"}),
    (_partnering_with_partner, PARTNER_MEMBER, set()),
    (_partnering_with_partner, OTHER_MEMBER, {"accept-invitation", "decline-invitation"}),
    (_legal_review, LEAD_MEMBER, {"revise-draft", "cancel"}),
    (_legal_review, PARTNER_SIGNATORY, set()),
    (_legal_review, BACK_OFFICE, {"cancel"}),
    (_legal_review, LEGAL, {"approve-draft", "request-changes"}),
    (_legal_review, CLIENT_SIGN_LINK, set()),
    (_signing, LEAD_MEMBER, {"revise-draft", "cancel"}),
    (_signing, LEAD_SIGNATORY, {"revise-draft", "sign", "decline-to-sign", "cancel"}),
    (_signing, PARTNER_MEMBER, set()),
    (_signing, PARTNER_SIGNATORY, {"sign", "decline-to-sign"}),
    (_signing, OTHER_SIGNATORY, set()),
    (_signing, BACK_OFFICE, {"cancel", "nudge"}),
    (_signing, LEGAL, set()),
    (_signing, CLIENT_SIGN_LINK, {"sign", "decline-to-sign"}),
    (_signing, CLIENT_REVIEW_LINK, set()),
    (_signing_lead_signed, LEAD_SIGNATORY, {"revise-draft", "cancel"}),
    (_signing_lead_signed, PARTNER_SIGNATORY, {"sign", "decline-to-sign"}),
    (_delivery, LEAD_MEMBER, {"cancel"}),
    (_delivery, PARTNER_MEMBER, {"submit-deliverable"}),
    (_delivery, BACK_OFFICE, {"cancel", "nudge"}),
    (_delivery, CLIENT_SIGN_LINK, set()),
    (_delivery_submitted, LEAD_MEMBER, {"accept-deliverable", "reject-deliverable", "cancel"}),
    (_delivery_submitted, PARTNER_MEMBER, set()),
    (_review, LEAD_MEMBER, {"cancel"}),
    (_review, PARTNER_MEMBER, set()),
    (_review, BACK_OFFICE, {"cancel", "extend-deadline", "nudge"}),
    (_review, LEGAL, set()),
    (_review, CLIENT_REVIEW_LINK, {"review"}),
    (_review, CLIENT_SIGN_LINK, set()),
    (_closed, LEAD_MEMBER, set()),
    (_closed, BACK_OFFICE, set()),
    (_closed, CLIENT_REVIEW_LINK, set()),
]


def _allowed_id(row: tuple[Any, ...]) -> str:
    caller: Caller = row[1]
    who = f"{caller.role}-{caller.hub_id or caller.link_action or ''}"
    return f"{row[0].__name__.strip('_')}-{who}"


@pytest.mark.parametrize(("arrange", "caller", "expected"), ALLOWED, ids=map(_allowed_id, ALLOWED))
def test_allowed_actions_matches_table_for_caller_in_key_state(
    arrange: Callable[[], CaseFacts], caller: Caller, expected: set[str]
) -> None:
    facts = arrange()

    allowed = allowed_actions(facts, caller)

    assert set(allowed) == expected
    assert len(allowed) == len(expected)


# -- check_action: the status precedence ---------------------------------------------------
def _refusal(facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any] | None) -> Any:
    with pytest.raises(ActionRefused) as info:
        check_action(facts, action, caller, body)
    return info.value


def test_check_action_answers_404_when_action_is_unknown() -> None:
    facts = _signing()

    exc = _refusal(facts, "teleport", LEAD_SIGNATORY, {})

    assert exc.status == 404


def test_check_action_answers_404_when_action_is_a_system_event() -> None:
    facts = _signing()

    exc = _refusal(facts, "all_signed", LEAD_SIGNATORY, {})

    assert exc.status == 404


def test_check_action_answers_409_with_callers_actions_when_not_enabled_for_anyone() -> None:
    facts = _partnering()

    exc = _refusal(facts, "sign", LEAD_MEMBER, {"document_sha256": SHA})

    assert exc.status == 409
    assert set(exc.extra["allowed_actions"]) == {"invite-partners", "cancel"}


def test_check_action_answers_409_when_guard_blocks_everyone() -> None:
    facts = _partnering()  # no accepted partner yet

    exc = _refusal(facts, "close_partnering", LEAD_MEMBER, {})

    assert exc.status == 409


def test_check_action_answers_409_before_403_when_caller_also_lacks_the_role() -> None:
    facts = _requested()

    exc = _refusal(facts, "approve_draft", LEAD_MEMBER, {})

    assert exc.status == 409


def test_check_action_answers_403_when_enabled_but_not_for_this_caller() -> None:
    facts = _legal_review()

    exc = _refusal(facts, "approve_draft", LEAD_MEMBER, {})

    assert exc.status == 403
    assert set(exc.extra["allowed_actions"]) == {"revise-draft", "cancel"}


def test_check_action_answers_403_before_422_when_body_is_also_bad() -> None:
    facts = _legal_review()

    exc = _refusal(facts, "approve_draft", LEAD_MEMBER, {"surprise": True})

    assert exc.status == 403


def test_check_action_answers_403_when_hub_member_signs() -> None:
    facts = _signing()

    exc = _refusal(facts, "sign", PARTNER_MEMBER, {"document_sha256": SHA})

    assert exc.status == 403


def test_check_action_answers_403_when_signatory_hub_is_not_a_party() -> None:
    facts = _signing()

    exc = _refusal(facts, "sign", OTHER_SIGNATORY, {"document_sha256": SHA})

    assert exc.status == 403


@pytest.mark.parametrize(
    ("arrange", "action", "link", "body"),
    [
        (_signing, "sign", CLIENT_REVIEW_LINK, {"document_sha256": SHA}),
        (_signing, "decline_to_sign", CLIENT_REVIEW_LINK, {"reason": "Not now"}),
        (_review, "review", CLIENT_SIGN_LINK, {"rating": 5}),
        (_signing, "cancel", CLIENT_SIGN_LINK, {"reason": "Not now"}),
    ],
    ids=["review-link-signs", "review-link-declines", "sign-link-reviews", "sign-link-cancels"],
)
def test_check_action_answers_403_when_link_token_is_for_another_action(
    arrange: Callable[[], CaseFacts], action: str, link: Caller, body: dict[str, Any]
) -> None:
    facts = arrange()

    exc = _refusal(facts, action, link, body)

    assert exc.status == 403


@pytest.mark.parametrize(
    ("arrange", "action", "caller", "body"),
    [
        (_signing, "sign", CLIENT_SIGN_LINK, {"document_sha256": SHA}),
        (_signing, "decline_to_sign", CLIENT_SIGN_LINK, {"reason": "Wrong cost split"}),
        (_review, "review", CLIENT_REVIEW_LINK, {"rating": 4}),
    ],
    ids=["sign-link-signs", "sign-link-declines-to-sign", "review-link-reviews"],
)
def test_check_action_accepts_link_token_when_action_is_its_own(
    arrange: Callable[[], CaseFacts], action: str, caller: Caller, body: dict[str, Any]
) -> None:
    facts = arrange()

    payload = check_action(facts, action, caller, body)

    assert payload.model_dump(exclude_defaults=True) == body


@pytest.mark.parametrize(
    ("arrange", "action", "caller", "body", "fields"),
    [
        (_requested, "cancel", LEAD_MEMBER, {"reason": "Client withdrew", "extra": 1}, {"extra"}),
        (_requested, "cancel", LEAD_MEMBER, {}, {"reason"}),
        (_requested, "cancel", LEAD_MEMBER, {"reason": "   "}, {"reason"}),
        (_review, "review", CLIENT_REVIEW_LINK, {"rating": 6}, {"rating"}),
        (_review, "review", CLIENT_REVIEW_LINK, {"rating": 0}, {"rating"}),
        (_review, "review", CLIENT_REVIEW_LINK, {"rating": 0, "stars": 5}, {"rating", "stars"}),
        (_signing, "sign", LEAD_SIGNATORY, {"document_sha256": "not-a-hash"}, {"document_sha256"}),
        (_requested, "invite_partners", LEAD_MEMBER, {"hub_ids": []}, {"hub_ids"}),
        (_requested, "invite_partners", LEAD_MEMBER, {"hub_ids": [LEAD]}, {"hub_ids"}),
        (_delivery, "submit_deliverable", PARTNER_MEMBER, {}, {"summary"}),
        (_delivery_submitted, "reject_deliverable", LEAD_MEMBER, {"hub_id": PARTNER}, {"reason"}),
        (_delivery_submitted, "accept_deliverable", LEAD_MEMBER, {"hub_id": OTHER}, {"hub_id"}),
        (
            _partnering,
            "extend_deadline",
            BACK_OFFICE,
            {"deadline": "partnering", "days": 0},
            {"days"},
        ),
        (
            _partnering,
            "extend_deadline",
            BACK_OFFICE,
            {"deadline": "signing", "days": 7},
            {"deadline"},
        ),
    ],
    ids=[
        "extra-field",
        "missing-reason",
        "blank-reason",
        "rating-above-5",
        "rating-below-1",
        "rating-and-extra-field",
        "malformed-hash",
        "no-hubs-invited",
        "lead-invites-itself",
        "missing-summary",
        "rejection-without-reason",
        "decision-on-hub-without-submission",
        "zero-days",
        "deadline-not-running",
    ],
)
def test_check_action_answers_422_naming_each_field_when_body_is_bad(
    arrange: Callable[[], CaseFacts],
    action: str,
    caller: Caller,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    facts = arrange()

    exc = _refusal(facts, action, caller, body)

    assert exc.status == 422
    assert {error["field"] for error in exc.extra["errors"]} == fields
    assert all(error["message"] for error in exc.extra["errors"])


def test_check_action_answers_422_when_revised_tasks_do_not_fit_the_case() -> None:
    facts = _legal_review()
    tasks = [
        {"hub_id": LEAD, "description": "Data audit", "cost_share_pct": 50},
        {"hub_id": OTHER, "description": "Model", "cost_share_pct": 40},
    ]

    exc = _refusal(facts, "revise_draft", LEAD_MEMBER, {"tasks": tasks})

    assert exc.status == 422
    assert {error["field"] for error in exc.extra["errors"]} == {"tasks.1.hub_id", "tasks"}


def test_check_action_answers_409_naming_current_hash_when_signature_is_over_another_draft() -> (
    None
):
    facts = _signing()

    exc = _refusal(facts, "sign", LEAD_SIGNATORY, {"document_sha256": OLD_SHA})

    assert exc.status == 409
    assert exc.extra["current_sha256"] == SHA


def test_check_action_returns_payload_when_signature_is_over_current_draft() -> None:
    facts = _signing()

    payload = check_action(facts, "sign", LEAD_SIGNATORY, {"document_sha256": SHA})

    assert payload.document_sha256 == SHA  # type: ignore[attr-defined]


# -- apply_action: a whole happy path --------------------------------------------------------
def _take(facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any]) -> Outcome:
    """What the workflow does for a human step: check it, then apply it."""
    payload = check_action(facts, action, caller, body)
    return apply_action(facts, action, caller, payload, NOW)


def _event_types(out: Outcome) -> list[str]:
    return [e.type for e in out.events]


def test_apply_action_walks_happy_path_when_every_party_plays_along() -> None:
    facts = make_facts()

    invited = _take(facts, "invite_partners", LEAD_MEMBER, {"hub_ids": [PARTNER]})
    assert (facts.state, _event_types(invited)) == ("partnering", ["partners_invited"])
    assert facts.deadlines["partnering"] == "2025-03-17T09:00:00+00:00"

    accepted = _take(facts, "accept_invitation", PARTNER_MEMBER, {})
    assert facts.state == "drafting"
    assert _event_types(accepted) == ["invitation_accepted", "partnering_closed"]
    assert accepted.effects == [RenderDraft()]
    assert "partnering" not in facts.deadlines
    assert facts.deliverables == []  # planned at signature, not before

    facts.draft = _draft()  # what the render_draft effect produces
    fire(facts, "draft_ready")
    assert facts.state == "legal_review"

    approved = _take(facts, "approve_draft", LEGAL, {})
    assert (facts.state, approved.effects) == ("signing", [IssueLink("sign", CLIENT)])

    first = _take(facts, "sign", LEAD_SIGNATORY, {"document_sha256": SHA})
    second = _take(facts, "sign", PARTNER_SIGNATORY, {"document_sha256": SHA})
    assert facts.state == "signing"
    assert _event_types(first) == _event_types(second) == ["signed"]
    last = _take(facts, "sign", CLIENT_SIGN_LINK, {"document_sha256": SHA})
    assert facts.state == "delivery"
    assert _event_types(last) == ["signed", "agreement_executed"]
    assert facts.signatures == {LEAD: SHA, PARTNER: SHA, CLIENT: SHA}
    assert [(d.id, d.hub_id, d.due) for d in facts.deliverables] == [("d1", PARTNER, "2025-09-30")]
    assert facts.deadlines == {"deliverable:d1": "2025-09-30T23:59:59+00:00"}

    submitted = _take(
        facts, "submit_deliverable", PARTNER_MEMBER, {"summary": "Model v1", "deliverable_id": "d1"}
    )
    assert (facts.state, _event_types(submitted)) == ("delivery", ["deliverable_submitted"])
    done = _take(facts, "accept_deliverable", LEAD_MEMBER, {"hub_id": PARTNER})
    assert facts.state == "review"
    assert _event_types(done) == ["deliverable_accepted", "delivery_completed"]
    assert done.effects == [IssueLink("review", CLIENT)]
    assert facts.deadlines["review"] == "2025-04-02T09:00:00+00:00"

    reviewed = _take(facts, "review", CLIENT_REVIEW_LINK, {"rating": 5, "comment": "Great"})
    assert (facts.state, facts.outcome) == ("closed", "completed")
    assert _event_types(reviewed) == ["reviewed", "closed"]
    assert facts.review is not None and facts.review.rating == 5


def test_apply_action_names_actors_by_id_when_recording_signatures() -> None:
    facts = _signing_lead_signed()
    facts.signatures[PARTNER] = SHA

    out = _take(facts, "sign", CLIENT_SIGN_LINK, {"document_sha256": SHA})

    assert [(e.type, e.actor) for e in out.events] == [
        ("signed", "link:client"),
        ("agreement_executed", "system"),
    ]
    assert out.events[0].data == {"party": CLIENT, "version": 1, "sha256": SHA}


def test_apply_action_keeps_partnering_when_only_invitation_is_declined() -> None:
    facts = _partnering()

    out = _take(facts, "decline_invitation", PARTNER_MEMBER, {"reason": "No capacity"})

    assert facts.state == "partnering"
    assert facts.invitations[0].status == "declined"
    assert _event_types(out) == ["invitation_declined"]
    assert out.effects == []


def test_apply_action_closes_partnering_when_last_pending_invitation_is_declined() -> None:
    facts = _partnering_with_partner()

    out = _take(facts, "decline_invitation", OTHER_MEMBER, {})

    assert facts.state == "drafting"
    assert _event_types(out) == ["invitation_declined", "partnering_closed"]
    assert out.effects == [RenderDraft()]


def test_apply_action_lapses_pending_invitations_when_lead_closes_partnering() -> None:
    facts = _partnering_with_partner()

    out = _take(facts, "close_partnering", LEAD_MEMBER, {})

    assert facts.state == "drafting"
    assert [i.status for i in facts.invitations] == ["accepted", "lapsed"]
    assert out.effects == [RenderDraft()]


def test_apply_action_returns_to_drafting_with_reason_when_signature_is_declined() -> None:
    facts = _signing()

    out = _take(facts, "decline_to_sign", PARTNER_SIGNATORY, {"reason": "Wrong cost split"})

    assert facts.state == "drafting"
    assert facts.changes_requested == "Wrong cost split"
    assert _event_types(out) == ["signature_declined"]


# -- timers and deadlines ------------------------------------------------------------------
def test_on_deadline_expires_case_when_partnering_ends_without_partner() -> None:
    facts = _partnering()

    out = on_deadline(facts, "partnering", NOW)

    assert facts.state == "expired"
    assert facts.invitations[0].status == "lapsed"
    assert _event_types(out) == ["expired"]
    assert "partnering" not in facts.deadlines


def test_on_deadline_moves_to_drafting_when_partnering_ends_with_partner() -> None:
    facts = _partnering_with_partner()

    out = on_deadline(facts, "partnering", NOW)

    assert facts.state == "drafting"
    assert [i.status for i in facts.invitations] == ["accepted", "lapsed"]
    assert out.effects == [RenderDraft()]


def test_on_deadline_closes_with_no_review_when_review_window_ends() -> None:
    facts = _review()

    out = on_deadline(facts, "review", NOW)

    assert (facts.state, facts.outcome) == ("closed", "no_review")
    assert [(e.type, e.actor) for e in out.events] == [("closed", "system")]
    assert facts.deadlines == {}


def test_on_deadline_changes_nothing_when_case_has_moved_on() -> None:
    facts = _signing()
    facts.deadlines = {"partnering": "2025-03-17T09:00:00+00:00"}

    out = on_deadline(facts, "partnering", NOW)

    assert facts.state == "signing"
    assert out.events == []


def test_extend_deadline_moves_deadline_later_when_back_office_extends() -> None:
    facts = _partnering()
    before = datetime.fromisoformat(facts.deadlines["partnering"])

    out = _take(facts, "extend_deadline", BACK_OFFICE, {"deadline": "partnering", "days": 7})

    after = datetime.fromisoformat(facts.deadlines["partnering"])
    assert after == before + timedelta(days=7)
    assert facts.state == "partnering"
    assert _event_types(out) == ["deadline_extended"]


def test_extend_deadline_counts_from_now_when_deadline_has_passed() -> None:
    facts = _review()
    facts.deadlines["review"] = (NOW - timedelta(days=3)).isoformat()

    _take(facts, "extend_deadline", BACK_OFFICE, {"deadline": "review", "days": 5})

    assert datetime.fromisoformat(facts.deadlines["review"]) == NOW + timedelta(days=5)


@pytest.mark.parametrize(
    ("arrange", "action", "caller", "body"),
    [
        (_review, "review", CLIENT_REVIEW_LINK, {"rating": 5}),
        (_review, "cancel", BACK_OFFICE, {"reason": "Client went bankrupt"}),
        (_partnering, "cancel", LEAD_MEMBER, {"reason": "Client withdrew"}),
    ],
    ids=["reviewed", "cancelled-in-review", "cancelled-in-partnering"],
)
def test_apply_action_clears_deadlines_when_action_ends_the_case(
    arrange: Callable[[], CaseFacts], action: str, caller: Caller, body: dict[str, Any]
) -> None:
    facts = arrange()

    _take(facts, action, caller, body)

    assert not facts.is_open
    assert facts.deadlines == {}


@pytest.mark.parametrize(
    ("arrange", "deadline"),
    [(_partnering, "review"), (_review, "partnering")],
    ids=["review-while-partnering", "partnering-while-in-review"],
)
def test_check_action_refuses_extend_deadline_when_case_has_no_such_deadline(
    arrange: Callable[[], CaseFacts], deadline: str
) -> None:
    facts = arrange()
    assert deadline not in facts.deadlines

    with pytest.raises(ActionRefused):
        check_action(facts, "extend_deadline", BACK_OFFICE, {"deadline": deadline, "days": 5})


# -- default tasks -------------------------------------------------------------------------
@pytest.mark.parametrize("hub_count", [1, 2, 3, 6, 7, 9, 30])
def test_default_tasks_shares_sum_to_100_when_case_has_n_party_hubs(hub_count: int) -> None:
    partners = [f"partner-{i}" for i in range(1, hub_count)]
    facts = make_facts(
        "drafting",
        invitations=[Invitation(hub_id=h, status="accepted") for h in partners],
    )

    tasks = default_tasks(facts)

    assert [t.hub_id for t in tasks] == [LEAD, *partners]
    assert sum(t.cost_share_pct for t in tasks) == pytest.approx(100, abs=1e-9)
    assert all(t.cost_share_pct > 0 for t in tasks)


def test_check_action_runs_the_permission_rule_once_and_asks_the_lifecycle_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import domain.actions as actions_module
    import domain.lifecycle as lifecycle_module

    runs: list[str] = []
    for name, rule in list(actions_module.RULES.items()):
        monkeypatch.setitem(
            actions_module.RULES,
            name,
            lambda f, c, name=name, rule=rule: runs.append(name) or rule(f, c),
        )
    charts = []  # the lifecycle asked (its enabled events), once per check
    enabled_event_names = lifecycle_module.enabled_event_names
    monkeypatch.setattr(
        actions_module,
        "enabled_event_names",
        lambda f: charts.append(f) or enabled_event_names(f),
    )
    facts = _signing()

    check_action(facts, "sign", LEAD_SIGNATORY, {"document_sha256": SHA})

    assert (runs, len(charts)) == (["sign"], 1)
