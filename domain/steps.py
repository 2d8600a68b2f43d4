"""What a step does to a case: ``apply_action`` for human steps, ``on_deadline`` for timers.

Both change the facts in place (the workflow hands them a copy) and return an ``Outcome``:
the timeline events to record, the effects for the workflow to carry out through activities
(render a draft, issue a link, rank candidates, publish a service) and the notices to send.
Each branch fires the lifecycle event *before* changing the facts its guards read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from domain.actions import (
    CompletePilot,
    DeliverableDecision,
    ExtendDeadline,
    GivePeerReview,
    GiveReview,
    HubIds,
    Nudge,
    Reason,
    RecordMeeting,
    RecordOutcome,
    RequestChanges,
    ReviseDraft,
    Sign,
    SubmitDeliverable,
    _Payload,
    consent_side,
    decided_deliverable,
    peer_review_subject,
    signer_party,
)
from domain.cases import (
    CLIENT,
    EXTERNAL_PARTIES,
    LOCAL_PLAYER,
    SYSTEM,
    Caller,
    CaseFacts,
    Deliverable,
    DraftComment,
    Introduction,
    Invitation,
    Meeting,
    PeerReview,
    PilotResult,
    Review,
    Scenario,
    Survey,
    TaskSpec,
)
from domain.lifecycle import enabled, fire
from domain.outcomes import (
    ExecuteAgreement,
    IssueLink,
    Notice,
    Outcome,
    PublishService,
    RenderDraft,
    link_purpose,
)
from domain.pending import waiting_on

# Which timers may run in which state: leaving a state stops its timers.
DEADLINES_BY_STATE = {
    "partnering": ("partnering", "invitation:"),
    "signing": ("signing", "signing_reminder"),
    "delivery": ("deliverable:",),
    "development": ("deliverable:",),
    "introducing": ("introductions",),
    "review": ("review",),
}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _later(now: datetime, days: int) -> str:
    return _iso(now + timedelta(days=days))


def default_tasks(facts: CaseFacts) -> list[TaskSpec]:
    """Equal cost shares over the party hubs (the last one takes the rounding remainder)."""
    hubs = facts.party_hub_ids
    share = round(100 / len(hubs), 2)
    tasks = [
        TaskSpec(
            hub_id=h, description=f"Contribution to: {facts.scope}"[:2000], cost_share_pct=share
        )
        for h in hubs
    ]
    tasks[-1] = tasks[-1].model_copy(
        update={"cost_share_pct": round(100 - share * (len(hubs) - 1), 2)}
    )
    return tasks


def apply_action(
    facts: CaseFacts, action: str, caller: Caller, payload: _Payload, now: datetime
) -> Outcome:
    """Take ``action`` (already checked by ``check_action``) on ``facts`` in place."""
    out = Outcome()
    handler = _HANDLERS[action]
    handler(facts, action, caller, payload, now, out)
    _prune_deadlines(facts)
    return out


# -- partnering ------------------------------------------------------------------------------
def _invite(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, HubIds)
    known = {i.hub_id for i in facts.invitations if i.status in ("pending", "accepted")}
    new = [h for h in dict.fromkeys(p.hub_ids) if h not in known]
    fire(facts, action)
    deadline = _later(now, facts.invitation_days)
    facts.invitations = [i for i in facts.invitations if i.hub_id not in new] + [
        Invitation(hub_id=h, deadline=deadline) for h in new
    ]
    facts.deadlines.setdefault("partnering", _later(now, facts.partnering_days))
    for h in new:
        facts.deadlines[f"invitation:{h}"] = deadline
        out.notify(h, "invitation", f"Invitation: {facts.title}", deadline=deadline)
    out.event("partners_invited", caller.actor, hub_ids=new, deadline=deadline)


def _answer_invitation(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    inv = facts.invitation(caller.hub_id)
    assert inv is not None
    fire(facts, action)
    inv.status = "accepted" if action == "accept_invitation" else "declined"
    facts.deadlines.pop(f"invitation:{inv.hub_id}", None)
    out.event(f"invitation_{inv.status}", caller.actor, hub_id=inv.hub_id)
    out.notify(facts.lead_hub_id, "state_changed", f"{inv.hub_id} {inv.status} your invitation")
    _maybe_partners_confirmed(facts, out)


def _maybe_partners_confirmed(facts: CaseFacts, out: Outcome) -> None:
    if enabled(facts, "partners_confirmed"):  # every invitation answered, one accepted
        _close_partnering(facts, "partners_confirmed", SYSTEM, out)


def _close_partnering_action(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    _close_partnering(facts, action, caller.actor, out)


def _close_partnering(facts: CaseFacts, event: str, actor: str, out: Outcome) -> None:
    fire(facts, event)
    _lapse_pending_invitations(facts)
    _partnering_closed(facts, actor, out)


def _lapse_pending_invitations(facts: CaseFacts) -> None:
    for inv in facts.invitations:
        if inv.status == "pending":
            inv.status = "lapsed"


def _partnering_closed(facts: CaseFacts, actor: str, out: Outcome) -> None:
    out.event("partnering_closed", actor, partner_ids=facts.partner_ids)
    out.effects.append(RenderDraft())


# -- endings -----------------------------------------------------------------------------------
def _end(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, Reason)
    before = facts.state
    fire(facts, action)
    facts.end_reason = p.reason
    kind = "request_rejected" if action == "reject_request" else "cancelled"
    out.event(kind, caller.actor, state_before=before)
    for hub in hub_parties(facts):
        out.notify(hub, "state_changed", f"Case {kind.replace('_', ' ')}: {facts.title}")


# -- drafting, legal review, signing -----------------------------------------------------------
def _revise(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, ReviseDraft)
    fire(facts, action)
    if p.scope is not None:
        facts.scope = p.scope
    if p.tasks is not None:
        facts.tasks = p.tasks
    out.event(
        "draft_revised",
        caller.actor,
        scope_changed=p.scope is not None,
        tasks_changed=p.tasks is not None,
    )
    out.effects.append(RenderDraft())


def _approve(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert facts.draft is not None
    fire(facts, action)
    facts.deadlines["signing"] = _later(now, facts.signing_days)
    facts.deadlines["signing_reminder"] = _later(now, facts.reminder_days)
    out.event(
        "draft_approved", caller.actor, version=facts.draft.version, sha256=facts.draft.sha256
    )
    for party in facts.signers:
        if party in (CLIENT, LOCAL_PLAYER):
            out.effects.append(IssueLink("sign", party))
        else:
            out.notify(party, "state_changed", f"Ready to sign: {facts.title}")


def _request_changes(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, RequestChanges) and facts.draft is not None
    fire(facts, action)
    facts.changes_requested = p.comments
    facts.review_comments.append(
        DraftComment(
            version=facts.draft.version, comments=p.comments, by=caller.actor, at=_iso(now)
        )
    )
    out.event("changes_requested", caller.actor, version=facts.draft.version)
    out.notify(facts.lead_hub_id, "state_changed", f"Changes requested: {facts.title}")


def _sign(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, Sign) and facts.draft is not None
    party = signer_party(facts, caller)
    assert party is not None
    fire(facts, action)
    facts.signatures[party] = p.document_sha256
    out.event(
        "signed", caller.actor, party=party, version=facts.draft.version, sha256=p.document_sha256
    )
    if enabled(facts, "all_signed"):
        fire(facts, "all_signed")
        out.event(
            "agreement_executed", SYSTEM, version=facts.draft.version, sha256=facts.draft.sha256
        )
        out.effects.append(ExecuteAgreement())  # the executed copy, once the step is recorded
        if facts.scenario != Scenario.matchmaking:
            _plan_deliverables(facts, now)
        for hub in hub_parties(facts):
            out.notify(hub, "state_changed", f"Agreement signed by all parties: {facts.title}")


def _plan_deliverables(facts: CaseFacts, now: datetime) -> None:
    """What each party hub owes after signature, each with its due date and timer."""
    parties = set(facts.party_hub_ids)
    if any(m.hub_id in parties for m in facts.milestone_plan):
        plan = [
            (m.hub_id, m.title, milestone_due(facts, m.due_days))
            for m in facts.milestone_plan
            if m.hub_id in parties  # a hub that declined owes nothing
        ]
    else:
        owing = (
            facts.partner_ids if facts.scenario == Scenario.joint_service else facts.party_hub_ids
        )
        plan = [(h, "Deliverable", facts.end_date) for h in owing]
    facts.deliverables = [
        Deliverable(id=f"d{i}", hub_id=h, title=t, due=d) for i, (h, t, d) in enumerate(plan, 1)
    ]
    for d in facts.deliverables:
        facts.deadlines[f"deliverable:{d.id}"] = f"{d.due}T23:59:59+00:00"


def milestone_due(facts: CaseFacts, days: int) -> str:
    """A planned milestone's due date: ``days`` after the start date, at the latest the end
    date (the agreement shows the same date)."""
    start, end = date.fromisoformat(facts.start_date), date.fromisoformat(facts.end_date)
    return min(start + timedelta(days=days), end).isoformat()


def hub_parties(facts: CaseFacts) -> list[str]:
    """Every hub with a stake in the case: lead, partners and matched candidates."""
    return list(dict.fromkeys([*facts.party_hub_ids, *facts.matched_hub_ids]))


def _decline_to_sign(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, Reason) and facts.draft is not None
    party = signer_party(facts, caller)
    fire(facts, action)
    facts.changes_requested = p.reason
    out.event("signature_declined", caller.actor, party=party, version=facts.draft.version)
    out.notify(facts.lead_hub_id, "state_changed", f"A party declined to sign: {facts.title}")


# -- delivery and development ------------------------------------------------------------------
def _submit(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, SubmitDeliverable)
    fire(facts, action)
    if p.deliverable_id:
        d = facts.deliverable_by_id(p.deliverable_id)
    else:
        d = next(
            x
            for x in facts.deliverables
            if x.hub_id == caller.hub_id and x.status in ("pending", "rejected")
        )
    assert d is not None
    d.status, d.summary, d.reason, d.file = "submitted", p.summary, "", p.file
    d.submitted_at = _iso(now)
    data: dict[str, Any] = {"deliverable_id": d.id, "hub_id": d.hub_id}
    if p.file is not None:
        data["file_sha256"] = p.file.sha256
    out.event("deliverable_submitted", caller.actor, **data)
    out.notify(facts.lead_hub_id, "state_changed", f"Deliverable submitted: {facts.title}")


def _decide(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, DeliverableDecision)
    d = decided_deliverable(facts, p)
    assert d is not None
    fire(facts, action)
    accepted = action == "accept_deliverable"
    d.status, d.reason = ("accepted", "") if accepted else ("rejected", p.reason)
    if accepted:
        d.accepted_at = _iso(now)
        facts.deadlines.pop(f"deliverable:{d.id}", None)
    out.event(f"deliverable_{d.status}", caller.actor, deliverable_id=d.id, hub_id=d.hub_id)
    out.notify(d.hub_id, "state_changed", f"Deliverable {d.status}: {facts.title}")
    if enabled(facts, "delivery_complete"):
        fire(facts, "delivery_complete")
        if facts.scenario == Scenario.joint_service:
            _open_review(facts, now, out, CLIENT)
        else:
            out.event("development_completed", SYSTEM)


def _open_review(facts: CaseFacts, now: datetime, out: Outcome, party: str | None) -> None:
    facts.deadlines["review"] = _later(now, facts.review_days)
    event = "delivery_completed" if facts.scenario == Scenario.joint_service else "review_opened"
    out.event(event, SYSTEM, review_deadline=facts.deadlines["review"])
    if party is not None:
        out.effects.append(IssueLink("review", party))
    if facts.quality_review:
        _schedule_review_reminder(facts, now)
        for hub in dict.fromkeys(r for r, _ in facts.review_pairs):
            out.notify(hub, "state_changed", f"Peer review open: {facts.title}")


def _schedule_review_reminder(facts: CaseFacts, now: datetime) -> None:
    nxt = now + timedelta(days=facts.reminder_days)
    if nxt < datetime.fromisoformat(facts.deadlines["review"]):
        facts.deadlines["review_reminder"] = _iso(nxt)


def _complete_pilot(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, CompletePilot)
    fire(facts, action)
    facts.pilot = PilotResult(success=p.success, summary=p.summary)
    out.event("pilot_completed", caller.actor, success=p.success)
    _open_review(facts, now, out, None)
    for hub in facts.party_hub_ids:
        out.notify(hub, "state_changed", f"Peer review open: {facts.title}")


def _review(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, GiveReview)
    if facts.quality_review:
        _survey(facts, caller, p, now, out)
        return
    assert p.rating is not None
    review = Review(rating=p.rating, comment=p.comment)
    fire(facts, action)
    out.event("reviewed", caller.actor, rating=p.rating)
    if facts.scenario == Scenario.co_development:
        assert caller.hub_id is not None
        facts.peer_reviews[caller.hub_id] = review
        if enabled(facts, "reviews_complete"):
            fire(facts, "reviews_complete")
            _close(facts, "completed", out)
        return
    facts.review = review
    _close(facts, "completed", out)


def _survey(facts: CaseFacts, caller: Caller, p: GiveReview, now: datetime, out: Outcome) -> None:
    """The client's or local player's survey (patch ``quality-review``); the case closes
    once every expected review is in."""
    assert p.quality and p.timeliness and p.communication and p.value
    assert p.would_recommend is not None
    survey = Survey(
        quality=p.quality,
        timeliness=p.timeliness,
        communication=p.communication,
        value=p.value,
        would_recommend=p.would_recommend,
        comment=p.comment,
        at=_iso(now),
    )
    fire(facts, "review")
    facts.survey = survey
    facts.review = Review(rating=survey.rating, comment=p.comment)
    scores = survey.model_dump(exclude={"comment", "at"})
    out.event("reviewed", caller.actor, rating=survey.rating, **scores)
    _close_when_reviewed(facts, out)


def _peer_review(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, GivePeerReview) and caller.hub_id is not None
    subject = peer_review_subject(facts, p, caller)
    fire(facts, action)
    review = PeerReview(
        reviewer=caller.hub_id,
        subject=subject,
        reliability=p.reliability,
        contribution=p.contribution,
        would_collaborate_again=p.would_collaborate_again,
        comment=p.comment,
        at=_iso(now),
    )
    facts.hub_reviews.append(review)
    scores = review.model_dump(exclude={"comment", "at"})
    out.event("peer_reviewed", caller.actor, **scores)
    _close_when_reviewed(facts, out)


def _close_when_reviewed(facts: CaseFacts, out: Outcome) -> None:
    if enabled(facts, "reviews_complete"):
        fire(facts, "reviews_complete")
        _close(facts, "completed", out)


def _remind_reviewers(facts: CaseFacts, now: datetime, out: Outcome) -> None:
    """Remind whoever still owes a review; again after ``reminder_days`` within the window."""
    waiting = waiting_on(facts)
    out.event("reminder_sent", SYSTEM, reminder="review", to=[w.party for w in waiting])
    for w in waiting:
        notice = Notice(
            to=w.party,
            template="reminder",
            subject=f"Reminder: {w.what} of {facts.title}",
            context={"what": w.what, "due": w.due},
        )
        if w.link_action is not None:
            notice.link_action = w.link_action
            version = facts.draft.version if facts.draft else 0  # the link first sent
            notice.link_purpose = link_purpose(w.link_action, w.party, version)
        out.notices.append(notice)
    _schedule_review_reminder(facts, now)


def _close(facts: CaseFacts, outcome: str, out: Outcome) -> None:
    facts.outcome = outcome
    out.event("closed", SYSTEM, outcome=outcome)
    if facts.scenario == Scenario.co_development and facts.pilot and facts.pilot.success:
        out.effects.append(PublishService())
    for hub in hub_parties(facts):
        out.notify(hub, "state_changed", f"Case closed ({outcome}): {facts.title}")


# -- matchmaking -------------------------------------------------------------------------------
def _select(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, HubIds)
    known = {i.hub_id for i in facts.introductions if not i.settled or i.mutual}
    new = [h for h in dict.fromkeys(p.hub_ids) if h not in known]
    fire(facts, action)
    facts.introductions = [i for i in facts.introductions if i.hub_id not in new] + [
        Introduction(hub_id=h) for h in new
    ]
    facts.deadlines.setdefault("introductions", _later(now, facts.invitation_days))
    out.event("candidates_selected", caller.actor, hub_ids=new)
    for h in new:
        out.notify(h, "invitation", f"Introduction proposed: {facts.title}")
        out.effects.append(IssueLink("consent", LOCAL_PLAYER, subject=h))


def _consent(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    side = consent_side(facts, caller)
    assert side is not None
    hub_id, who = side
    intro = facts.introduction(hub_id)
    assert intro is not None
    fire(facts, action)
    answer: Literal["given", "declined"] = "given" if action == "consent" else "declined"
    if who == "hub":
        intro.hub_consent = answer
    else:
        intro.player_consent = answer
    out.event(f"consent_{answer}", caller.actor, hub_id=hub_id, side=who)
    if intro.mutual:
        out.notify(facts.lead_hub_id, "state_changed", f"Both sides agreed to meet: {hub_id}")
    if enabled(facts, "introductions_done"):  # every introduction answered on both sides
        _settle_introductions(facts, "introductions_done", out)


def _settle_introductions(facts: CaseFacts, event: str, out: Outcome) -> None:
    fire(facts, event)
    out.event("introductions_settled", SYSTEM, matched=facts.matched_hub_ids)


def _record_meeting(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, RecordMeeting)
    fire(facts, action)
    facts.meetings.append(Meeting(hub_id=p.hub_id, held_on=p.held_on.isoformat(), notes=p.notes))
    out.event("meeting_recorded", caller.actor, hub_id=p.hub_id, held_on=p.held_on.isoformat())


def _nda_choice(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    fire(facts, action)
    facts.nda_requested = action == "request_nda"
    out.event("nda_requested" if facts.nda_requested else "nda_skipped", caller.actor)
    if facts.nda_requested:
        out.effects.append(RenderDraft())


def _record_outcome(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, RecordOutcome)
    fire(facts, action)
    facts.result = p.result
    out.event("outcome_recorded", caller.actor, result=p.result)
    _open_review(facts, now, out, LOCAL_PLAYER)


# -- the back office -----------------------------------------------------------------------------
def _extend(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    assert isinstance(p, ExtendDeadline)
    fire(facts, action)
    current = datetime.fromisoformat(facts.deadlines[p.deadline])
    facts.deadlines[p.deadline] = _iso(max(current, now) + timedelta(days=p.days))
    kind, _, subject = p.deadline.partition(":")
    invitation = facts.invitation(subject) if kind == "invitation" else None
    if invitation is not None:
        invitation.deadline = facts.deadlines[p.deadline]
    out.event(
        "deadline_extended", caller.actor, deadline=p.deadline, until=facts.deadlines[p.deadline]
    )


def _nudge(
    facts: CaseFacts, action: str, caller: Caller, p: Any, now: datetime, out: Outcome
) -> None:
    """Remind whoever the case waits on: a hub by a reminder notice, an external party by its
    link sent again (the same token, its expiry renewed), each with the back office's note."""
    assert isinstance(p, Nudge)
    waiting = waiting_on(facts)
    fire(facts, action)
    for w in waiting:
        if w.party in EXTERNAL_PARTIES and w.link_action is not None:
            out.effects.append(
                IssueLink(w.link_action, w.party, w.subject, again=True, note=p.note)
            )
            continue
        context = {"what": w.what, "due": w.due}
        if p.note:
            context["note"] = p.note
        out.notices.append(
            Notice(
                to=w.party,
                template="reminder",
                subject=f"Reminder: {w.what} on {facts.title}",
                context=context,
            )
        )
    out.event("nudged", caller.actor, to=list(dict.fromkeys(w.party for w in waiting)))


def attach_external_copy(
    facts: CaseFacts, caller: Caller, document_id: str, sha256: str
) -> Outcome:
    """The executed copy signed elsewhere (checked by ``check_external_copy``) is attached: the
    case stays where it is, the timeline records the copy by id and hash."""
    facts.external_copy_sha256 = sha256
    out = Outcome()
    version = facts.draft.version if facts.draft else 0
    out.event(
        "executed_copy_attached",
        caller.actor,
        document_id=document_id,
        sha256=sha256,
        version=version,
    )
    out.notify(facts.lead_hub_id, "state_changed", f"Executed copy attached: {facts.title}")
    return out


_HANDLERS = {
    "invite_partners": _invite,
    "accept_invitation": _answer_invitation,
    "decline_invitation": _answer_invitation,
    "close_partnering": _close_partnering_action,
    "reject_request": _end,
    "cancel": _end,
    "revise_draft": _revise,
    "approve_draft": _approve,
    "request_changes": _request_changes,
    "sign": _sign,
    "decline_to_sign": _decline_to_sign,
    "submit_deliverable": _submit,
    "accept_deliverable": _decide,
    "reject_deliverable": _decide,
    "complete_pilot": _complete_pilot,
    "review": _review,
    "peer_review": _peer_review,
    "select_candidates": _select,
    "consent": _consent,
    "decline_consent": _consent,
    "record_meeting": _record_meeting,
    "request_nda": _nda_choice,
    "skip_nda": _nda_choice,
    "record_outcome": _record_outcome,
    "extend_deadline": _extend,
    "nudge": _nudge,
}


def _prune_deadlines(facts: CaseFacts) -> None:
    """Only the timers of the current state run; an ended case waits for nothing."""
    allowed = DEADLINES_BY_STATE.get(facts.state, ())
    for name in list(facts.deadlines):
        if not name.startswith(allowed) or not allowed:
            del facts.deadlines[name]


# -- timers ------------------------------------------------------------------------------------
def on_deadline(facts: CaseFacts, name: str, now: datetime) -> Outcome:
    """A deadline timer fired: lapse, remind, expire or close, as the deadline says."""
    out = Outcome()
    facts.deadlines.pop(name, None)
    kind, _, subject = name.partition(":")
    if kind == "partnering" and facts.state == "partnering":
        _lapse_pending_invitations(facts)
        fire(facts, "partnering_lapsed")  # the lifecycle decides: drafting with a partner
        if facts.state == "expired":
            out.event("expired", SYSTEM, reason="no partner confirmed by the partnering deadline")
            out.notify(facts.lead_hub_id, "deadline", f"Case expired: {facts.title}")
        else:
            _partnering_closed(facts, SYSTEM, out)
    elif kind == "invitation" and facts.state == "partnering":
        unanswered = facts.invitation(subject)
        if unanswered is not None and unanswered.status == "pending":
            unanswered.status = "lapsed"  # unanswered counts as declined
            out.event("invitation_lapsed", SYSTEM, hub_id=subject)
            out.notify(facts.lead_hub_id, "deadline", f"Invitation unanswered: {subject}")
            _maybe_partners_confirmed(facts, out)
    elif kind == "signing" and facts.state == "signing":
        fire(facts, "signing_lapsed")
        out.event("expired", SYSTEM, reason="the signing round ran out", unsigned=facts.unsigned)
        for hub in hub_parties(facts):
            out.notify(hub, "deadline", f"Signing round expired: {facts.title}")
    elif kind == "signing_reminder" and facts.state == "signing":
        _remind_signers(facts, now, out)
    elif kind == "deliverable" and facts.state in ("delivery", "development"):
        _remind_deliverable(facts, subject, now, out)
    elif kind == "introductions" and facts.state == "introducing":
        for intro in facts.introductions:
            if intro.hub_consent == "pending":
                intro.hub_consent = "declined"
            if intro.player_consent == "pending":
                intro.player_consent = "declined"
        _settle_introductions(facts, "introductions_lapsed", out)
        if facts.state == "expired":
            out.event("expired", SYSTEM, reason="no introduction was agreed by both sides")
    elif kind == "review_reminder" and facts.state == "review":
        _remind_reviewers(facts, now, out)
    elif kind == "review" and facts.state == "review":
        fire(facts, "review_window_closed")
        reviewed = facts.review is not None or bool(facts.peer_reviews or facts.hub_reviews)
        _close(facts, "completed" if reviewed else "no_review", out)
    _prune_deadlines(facts)
    return out


def _remind_signers(facts: CaseFacts, now: datetime, out: Outcome) -> None:
    """Remind whoever has not signed; the next reminder after ``reminder_days`` (counted from
    now, so reminders that fell due while the stack was down go out once)."""
    waiting = facts.unsigned
    out.event("reminder_sent", SYSTEM, reminder="signature", to=waiting)
    version = facts.draft.version if facts.draft else 0
    for party in waiting:
        notice = Notice(
            to=party,
            template="reminder",
            subject=f"Reminder: your signature on {facts.title}",
            context={"what": "your signature", "due": facts.deadlines.get("signing", "")},
        )
        if party in (CLIENT, LOCAL_PLAYER):
            notice.link_action = "sign"
            notice.link_purpose = link_purpose("sign", party, version)
        out.notices.append(notice)
    nxt = now + timedelta(days=facts.reminder_days)
    if nxt < datetime.fromisoformat(facts.deadlines["signing"]):
        facts.deadlines["signing_reminder"] = _iso(nxt)


def _remind_deliverable(facts: CaseFacts, deliverable_id: str, now: datetime, out: Outcome) -> None:
    d = facts.deliverable_by_id(deliverable_id)
    if d is None or d.status == "accepted":
        return
    facts.deadlines[f"deliverable:{d.id}"] = _later(now, facts.reminder_days)
    if d.status == "submitted":  # waiting on the lead's decision, not on the hub
        return
    d.reminders += 1
    out.event(
        "deliverable_overdue", SYSTEM, deliverable_id=d.id, hub_id=d.hub_id, reminder=d.reminders
    )
    out.notify(
        d.hub_id,
        "reminder",
        f"Overdue: {d.title or 'deliverable'} for {facts.title}",
        what=d.title or "your deliverable",
        due=d.due,
    )


def overdue_deliverables(facts: CaseFacts) -> list[str]:
    return [d.id for d in facts.deliverables if d.reminders and d.status != "accepted"]


def is_overdue(facts: CaseFacts, today: date | None = None) -> bool:
    """An open case with a deliverable past its due date and not accepted: known from the
    due timer having fired, or, given ``today``, from the date itself."""
    if not facts.is_open:
        return False
    if overdue_deliverables(facts):
        return True
    return today is not None and any(
        d.due and d.status != "accepted" and date.fromisoformat(d.due) < today
        for d in facts.deliverables
    )
